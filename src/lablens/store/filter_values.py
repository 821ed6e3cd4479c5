"""The values a run filter compares with, checked and coerced for :mod:`lablens.store.filter_parse`.

Times become aware datetimes (naive means UTC), numbers floats, and a string that reads as a
number a :class:`~lablens.store.filter_tree.NumericText`; anything else raises
:class:`~lablens.store.errors.InvalidFilter` naming the path of the value and what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from lablens.store.errors import InvalidFilter
from lablens.store.filter_tree import Field, JsonValue, NumericText

__all__ = [
    "WIRE_NONFINITE",
    "describe",
    "float_value",
    "json_value",
    "text_value",
    "time_value",
]

#: How a non-finite float travels in JSON (the client's transport) and rests in a stored value.
WIRE_NONFINITE: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# A string that reads as a number (SwanLab sends '64' for 64); Python's float() also takes
# '1_000' and ' 64', which are not numbers to a person, so match the plain forms only.
_NUMERIC_STRING = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE
)


def describe(value: Any) -> str:
    """How an error message names a value the user gave: ``the number 3``, ``a list`` ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the bool {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def json_value(value: Any, path: str) -> JsonValue:
    """A value to compare with a JSON value for equality."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float_value(value, path)
    if isinstance(value, str):
        number = _parse_number(value)
        return value if number is None else NumericText(value, number)
    if isinstance(value, Mapping):
        raise InvalidFilter(
            "objects are not values; config keys are flattened, so compare "
            "config.data.bs rather than config.data",
            field=path,
        )
    raise InvalidFilter(
        f"expected a number, string, bool or null, got {describe(value)}", field=path
    )


def text_value(value: Any, path: str, field: Field, what: str | None = None) -> str:
    if isinstance(value, str):
        return value
    raise InvalidFilter(
        f"{what or field.name} compares with a string, got {describe(value)}", field=path
    )


def float_value(value: int | float, path: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise InvalidFilter(f"the number {value} is too large", field=path) from None


def _parse_number(text: str) -> float | None:
    if not _NUMERIC_STRING.fullmatch(text):
        return None
    return float(text)


def time_value(value: Any, path: str) -> datetime:
    """An aware datetime from an ISO 8601 string, a datetime or a date; naive means UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidFilter(
                f"expected an ISO 8601 time like '2025-12-09T17:57:38Z', got {value!r}",
                field=path,
            ) from None
    else:
        raise InvalidFilter(
            f"expected an ISO 8601 time like '2025-12-09T17:57:38Z', got {describe(value)}",
            field=path,
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
