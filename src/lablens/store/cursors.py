"""Keyset cursors, the same for every engine: a page's last row, encoded for the next request.

Lists page by keyset, not offset: an engine selects each order term next to the row, puts the last
row's values in the page's cursor (:func:`encode_cursor`, or :func:`cut_page` on rows read one
past the page) and selects the next page after the decoded values (:func:`decode_cursor`), so
rows created or deleted between pages never make a page skip or repeat another row. How the
values are compared is the engine's SQL (DuckDB's: ``lablens.store.embedded._order_sql``).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from lablens.store.errors import InvalidInput

__all__ = ["cut_page", "decode_cursor", "decode_int_cursor", "encode_cursor"]


# --- cursors -------------------------------------------------------------------------------------
# A cursor is url-safe base64 (no padding) of a JSON list. JSON has no datetimes and no NaN or
# infinities, so those travel tagged: {"t": iso datetime}, {"d": iso date}, {"f": "NaN"}.

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_cursor(values: Sequence[Any]) -> str:
    """Encode a row's order values (None, bool, int, float, str, datetime, date) as a cursor."""
    payload = json.dumps([_encode(v) for v in values], separators=(",", ":"), allow_nan=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def cut_page(
    rows: list[dict[str, Any]], limit: int, *keys: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Rows read with ``LIMIT limit + 1`` cut to the page, and the cursor of the next page (the
    last row's ``keys``), or None when no row is past the page."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([rows[-1][k] for k in keys])


def decode_cursor(cursor: str) -> list[Any]:
    """Decode :func:`encode_cursor`'s output; raises ``InvalidInput("malformed cursor")``."""
    try:
        if not isinstance(cursor, str):
            raise ValueError("not a string")
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw.decode(), parse_constant=_reject_constant)
        if not isinstance(data, list) or not data:
            raise ValueError("not a list")
        return [_decode(v) for v in data]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise InvalidInput("malformed cursor", field="cursor") from None


def decode_int_cursor(cursor: str) -> int:
    """Decode a cursor of one integer (a version or a pk); raises ``InvalidInput("malformed
    cursor")`` when its value is not an integer."""
    (last,) = decode_cursor(cursor)
    if isinstance(last, bool) or not isinstance(last, int):
        raise InvalidInput("malformed cursor", field="cursor")
    return last


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {"f": "NaN"}
        if math.isinf(value):
            return {"f": "Infinity" if value > 0 else "-Infinity"}
        return value
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


def _decode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if isinstance(text, str):
            if tag == "f" and text in _NONFINITE:
                return _NONFINITE[text]
            if tag == "t":
                return datetime.fromisoformat(text)
            if tag == "d":
                return date.fromisoformat(text)
    raise ValueError("bad cursor value")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"bare {name} in a cursor")
