"""The small vocabularies client and server share: x axes, point streams, console streams.

They are ``Literal`` types so the server's pydantic models list the choices in OpenAPI and a
type checker catches a misspelt one in the client.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "BUILTIN_X",
    "CONSOLE_STREAMS",
    "POINT_STREAMS",
    "ROUTE_X",
    "WIRE_X_AXES",
    "ConsoleStream",
    "PointStream",
    "WireXAxis",
    "XAxis",
]

#: The x axes every history row has, in W&B's names; any other x axis is a metric's name.
XAxis = Literal["_step", "_timestamp", "_runtime"]
BUILTIN_X: tuple[str, ...] = get_args(XAxis)

#: The x axes of the history route: ``metric`` reads the x values from the key ``x_key``.
WireXAxis = Literal["step", "timestamp", "runtime", "metric"]
WIRE_X_AXES: tuple[str, ...] = get_args(WireXAxis)

#: W&B's x axis name -> the history route's name for it.
ROUTE_X: dict[str, str] = {"_step": "step", "_timestamp": "timestamp", "_runtime": "runtime"}

#: The series a run's points belong to: logged metrics, or system metrics the SDK samples.
PointStream = Literal["default", "system"]
POINT_STREAMS: tuple[str, ...] = get_args(PointStream)

#: The streams a console line comes from.
ConsoleStream = Literal["stdout", "stderr"]
CONSOLE_STREAMS: tuple[str, ...] = get_args(ConsoleStream)
