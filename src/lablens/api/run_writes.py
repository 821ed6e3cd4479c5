"""Writing to a run from the ``Api``: metric points in bulk and the run's end.

``lablens.init()`` is the way to log a run from training code. These methods are for data that
already exists elsewhere (the importers, a backfill): points keep the step and time they were
logged at, and the run keeps the time it ended at.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from lablens.contract.routes import run_route
from lablens.errors import UsageError
from lablens.transport import ARROW, table_to_ipc

if TYPE_CHECKING:
    from lablens.api.api import Api

__all__ = ["POINT_SCHEMA", "RunWrites"]

#: The columns of a batch of points, as the points route takes them.
POINT_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("step", pa.int64()),
        ("timestamp", pa.float64()),
        ("value", pa.float64()),
    ]
)

_STATES = ("RUNNING", "FINISHED", "CRASHED", "ABORTED")


def _points_table(points: Any) -> pa.Table:
    if isinstance(points, pd.DataFrame):
        points = pa.Table.from_pandas(points, preserve_index=False)
    elif isinstance(points, dict):
        points = pa.table(points)
    if not isinstance(points, pa.Table):
        raise UsageError(
            "points must be an Arrow table, a pandas DataFrame or a dict of columns"
            f" (key, step, timestamp, value), not {type(points).__name__}"
        )
    missing = [n for n in POINT_SCHEMA.names if n not in points.column_names]
    if missing:
        raise UsageError(f"points need the columns key, step, timestamp, value; missing {missing}")
    try:
        return points.select(POINT_SCHEMA.names).cast(POINT_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise UsageError(f"points cannot be read as {POINT_SCHEMA}: {exc}") from exc


def to_iso(value: dt.datetime | float | str | None, name: str) -> str | None:
    """A time given as a datetime, seconds since the epoch or ISO 8601, as ISO 8601 UTC."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise UsageError(f"{name} must be a datetime, seconds since the epoch or ISO 8601")
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.UTC)
    if not isinstance(value, dt.datetime):
        raise UsageError(f"{name} must be a datetime, seconds since the epoch or ISO 8601")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class RunWrites:
    """The write methods of ``Run``: ``log_points()`` and ``finish()``. A mixin, so ``run.py``
    stays one resource's size."""

    if TYPE_CHECKING:
        _api: Api
        entity: str
        project: str
        id: str

        def _patch(self, body: dict[str, Any]) -> None: ...

    def log_points(
        self,
        points: pa.Table | pd.DataFrame | dict[str, Any],
        *,
        batch_id: str | None = None,
        stream: str = "default",
    ) -> dict[str, Any]:
        """Write metric points as they are: each keeps its own step, time and value.

        Unlike ``run.log()`` of a run being logged, nothing is counted or stamped here, so data
        from another tool comes in exactly as it was recorded. The server stores a batch id once:
        sending a batch again with the same id stores nothing, which makes a retried or
        repeated import safe.

        Args:
            points: the columns ``key`` (str), ``step`` (int), ``timestamp`` (seconds since the
                epoch) and ``value`` (float; NaN and ±inf are kept), as an Arrow table, a
                pandas DataFrame or a dict of lists.
            batch_id: names this batch; a batch id the run already has stores nothing. By
                default a new random one.
            stream: ``default`` for metrics, ``system`` for machine metrics.

        Returns:
            ``{"stored": N, "duplicate": bool}``: how many points were stored, and whether
            the batch id had been stored before.

        Raises:
            UsageError: the points lack a column or cannot be converted.
            BadRequest: the server refused the batch (``.field`` names the column).

        Example:
            >>> run = api.create_run(project="mnist")
            >>> run.log_points({"key": ["loss", "loss"], "step": [0, 1],
            ...                 "timestamp": [1.7e9, 1.7e9 + 1], "value": [0.9, 0.5]},
            ...                batch_id="loss-0")
            {'stored': 2, 'duplicate': False}
        """
        table = _points_table(points)
        if stream not in ("default", "system"):
            raise UsageError(f"stream must be 'default' or 'system', not {stream!r}")
        return self._api.client.request(
            "POST",
            f"{run_route(self.entity, self.project, self.id)}/points",
            params={"stream": stream},
            data=table_to_ipc(table),
            headers={"Content-Type": ARROW, "X-Lablens-Batch-Id": batch_id or uuid.uuid4().hex},
        ).json()

    def finish(
        self,
        state: str = "FINISHED",
        *,
        finished_at: dt.datetime | float | str | None = None,
        exit_code: int | None = None,
    ) -> Any:
        """Mark the run as ended (or running again), at a given time.

        Args:
            state: ``FINISHED``, ``CRASHED``, ``ABORTED`` or ``RUNNING`` (either case).
            finished_at: when it ended: a datetime, seconds since the epoch, or ISO 8601; by
                default now. It is also the run's last heartbeat.
            exit_code: the exit code of the process that ran it.

        Returns:
            The run, as the server now holds it.

        Raises:
            UsageError: the state or time is not one of those.

        Example:
            >>> run.finish("FINISHED", finished_at=1.7e9 + 3600, exit_code=0)
        """
        upper = str(state).upper()
        if upper not in _STATES:
            raise UsageError(f"state must be one of {', '.join(_STATES)}, not {state!r}")
        body: dict[str, Any] = {"state": upper}
        when = to_iso(finished_at, "finished_at")
        if when is not None:
            body["finished_at"] = when
        if exit_code is not None:
            body["exit_code"] = int(exit_code)
        self._patch(body)
        return self
