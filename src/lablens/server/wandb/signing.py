"""Signed URLs: W&B's client PUTs run files and GETs artifact files without its key (W&B's URLs
are presigned storage URLs), so each URL the server hands out carries who may do what until when,
signed with HMAC-SHA256.

The secret is ``LABLENS_UPLOAD_SECRET``, or a random one per server process; several servers
behind one address need the variable set alike, else a URL made by one fails at another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time

from lablens.server.problems import Problem

#: How long a signed URL works: a client uses it at once, and retries for a while.
URL_LIFETIME = 24 * 3600
_SECRET = os.environ.get("LABLENS_UPLOAD_SECRET", "").encode() or secrets.token_bytes(32)


def signature(parts: tuple[str, ...], expires: int) -> str:
    """The signature of ``parts`` valid until ``expires`` (seconds since the epoch)."""
    message = "\n".join([*parts, str(expires)]).encode("utf-8", "surrogatepass")
    digest = hmac.new(_SECRET, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signed_query(parts: tuple[str, ...]) -> str:
    """``expires=...&signature=...`` for a URL naming ``parts``, valid ``URL_LIFETIME`` seconds."""
    expires = int(time.time()) + URL_LIFETIME
    return f"expires={expires}&signature={signature(parts, expires)}"


def check(parts: tuple[str, ...], expires: str, sig: str, *, what: str) -> None:
    """Refuse (403, naming ``what``) a URL not signed here for ``parts``, or expired."""
    try:
        until = int(expires)
    except ValueError:
        until = 0
    if not hmac.compare_digest(signature(parts, until), sig):
        raise Problem(403, "permission_denied", f"the {what} URL is not valid for this file")
    if until < time.time():
        raise Problem(403, "permission_denied", f"the {what} URL has expired: ask for a new one")
