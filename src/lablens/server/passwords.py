"""Password hashing with scrypt (a memory-hard KDF from the standard library).

A hash is stored as ``scrypt$<n>$<r>$<p>$<salt>$<digest>`` (salt and digest in base64), so the cost
can be raised later while old hashes still verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# n = 2**14, r = 8: 16 MiB and some 50 ms per hash, the interactive-login setting.
N, R, P = 2**14, 8, 1
MIN_LENGTH = 8
_DUMMY = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    """A new salted scrypt hash of ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the stored hash; ``False`` for a user without one.

    A user without a password costs the same hashing time as one with, so the answer's timing
    does not tell which usernames exist.
    """
    global _DUMMY
    if not stored:
        _DUMMY = _DUMMY or hash_password(secrets.token_hex(8))
        stored, password = _DUMMY, password + "\x00never"
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))
