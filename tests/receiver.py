"""A webhook receiver for the automation tests: ``http.server`` on 127.0.0.1 in a thread,
recording what lablens servers POST, and the signature check a receiver makes."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid
from typing import Any

SECRET = "s3cret-" + uuid.uuid4().hex
#: How long a test waits for a delivery: a bound on a hang, not a timing being tested.
PATIENCE = 90.0


class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST; answers ``statuses`` in turn, then
    200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        self.changed = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.changed:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, count: int) -> list[dict[str, Any]]:
        """The first ``count`` requests, once they came."""
        deadline = time.monotonic() + PATIENCE
        with self.changed:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.requests)} of {count} webhook requests came"
                self.changed.wait(left)
            return list(self.requests[:count])

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def verified(request: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """The JSON body of a received request, once its signature is checked as a receiver
    would (docs/automations.md)."""
    sent = request["headers"]["X-Lablens-Signature"]
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sent, expected)
    return json.loads(request["body"])
