"""The client's HTTP session reads proxies from the environment once, when it is made, with the
rules requests applies per request (``HTTP_PROXY``, ``NO_PROXY``): a real forward proxy on
loopback sees the requests it should, and only those."""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from lablens.transport import Transport


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy for plain HTTP GETs: it records the URL asked for and relays it."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.seen.append(self.path)
        request = urllib.request.Request(self.path, headers=dict(self.headers))
        # The relay itself must not go through a proxy.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as answer:
            body = answer.read()
            self.send_response(answer.status)
            for name in ("Content-Type",):
                self.send_header(name, answer.headers[name])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    _Proxy.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Proxy.seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_proxy_in_the_environment_carries_the_requests(server, proxy, clean_env):
    url, seen = proxy
    clean_env.setenv("HTTP_PROXY", url)
    t = Transport(server.url, server.api_key)
    assert t.get_json("/health")["status"] == "ok"
    me = t.get_json("/api/v1/viewer")
    assert me["username"] == server.username
    assert seen == [f"{server.url}/health", f"{server.url}/api/v1/viewer"]


def test_no_proxy_sends_the_server_directly(server, proxy, clean_env):
    url, seen = proxy
    clean_env.setenv("HTTP_PROXY", url)
    clean_env.setenv("NO_PROXY", "127.0.0.1,localhost")
    t = Transport(server.url, server.api_key)
    assert t.get_json("/health")["status"] == "ok"
    assert seen == []


def test_no_proxy_in_the_environment_means_none(server, proxy, clean_env):
    _, seen = proxy
    t = Transport(server.url, server.api_key)
    assert t.session.proxies == {}
    assert t.get_json("/health")["status"] == "ok"
    assert seen == []
