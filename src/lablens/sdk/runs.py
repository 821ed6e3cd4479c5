"""``Run``: one run being logged from this process."""

from __future__ import annotations

import datetime as dt
import numbers
import os
import threading
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lablens import errors as E
from lablens.contract.routes import run_route
from lablens.sdk import connections
from lablens.sdk._flatten import PLAIN_TYPES, flatten_metrics
from lablens.sdk.config import Config, Summary
from lablens.sdk.console import ConsoleCapture
from lablens.sdk.metric_defs import MetricDefinition, MetricDefinitions, parse_definition
from lablens.sdk.run_artifacts import RunArtifactLogging
from lablens.sdk.run_end import RunEnding
from lablens.sdk.sender import Sender
from lablens.sdk.settings import Settings
from lablens.sdk.system import SystemMonitor
from lablens.sdk.wal import FILE_NAME, WriteAheadLog
from lablens.transport import Transport, decode_floats

# The steps the server stores: from 0 to 2**53 - 1, the largest integer a float64 (and so every
# chart and JSON reader) holds exactly.
MAX_STEP = 2**53 - 1


class Run(RunEnding, RunArtifactLogging):
    """A run being logged: made by ``lablens.init()``, ended by ``run.finish()``.

    Attributes:
        id: the run's id, unique in its project (8 lowercase letters and digits by default).
        name: its display name; setting it saves it.
        notes: its description; setting it saves it.
        tags: its labels, a tuple; setting it saves it.
        group: the group it belongs to.
        job_type: the kind of run it is.
        entity: the workspace (user or team) it belongs to.
        project: its project.
        path: ``"entity/project/id"``, what ``Api().run()`` takes.
        url: the run's address in a browser, ``{host}/{entity}/{project}/runs/{id}`` (as
            ``lablens.Api().run(path).url``); ``None`` for an offline run.
        config: the hyperparameters, a dict with attribute access; changes are saved.
        summary: the last value of each logged key, plus what you set; changes are saved.
        step: the step the next ``log()`` without ``step=`` records at.
        dir: the local directory of the run's files: its log ``run.wal`` (every record, for
            ``lablens sync``) and the console copy ``output.log``.
        host: the server's address (``None`` for an offline run that was given none).
        offline: whether the run only writes its log, for ``lablens sync`` to upload later.

    Example:
        >>> with lablens.init(project="mnist", config={"lr": 0.01}) as run:
        ...     for step in range(100):
        ...         run.log({"loss": 1 / (step + 1), "train": {"acc": step / 100}})
    """

    def __init__(
        self,
        data: dict[str, Any],
        *,
        host: str | None,
        api_key: str | None,
        settings: Settings,
        root_dir: Path,
        offline: bool = False,
        create: dict[str, Any] | None = None,
        heartbeat_interval: float | None = None,
        pending: bool = False,
        own_id: bool = False,
    ) -> None:
        data = decode_floats(data)
        self._data = data
        self.id: str = data["id"]
        self.entity: str | None = data.get("entity")
        self.project: str = data["project"]
        self._name: str = data.get("name") or self.id
        self._notes: str | None = data.get("notes")
        self._tags: tuple[str, ...] = tuple(data.get("tags") or ())
        self.group: str | None = data.get("group")
        self.job_type: str | None = data.get("job_type")
        self.host = host
        self.offline = offline
        self.path = f"{self.entity or '-'}/{self.project}/{self.id}"
        self._api_path = run_route(self.entity or "-", self.project, self.id)
        self.url: str | None = (
            None if offline or not host else f"{host}/{self.entity}/{self.project}/runs/{self.id}"
        )
        self.settings = settings
        self._state = "running"
        self._closed = False
        self._finish_lock = threading.Lock()
        self._pid = os.getpid()
        self.start_time = time.time()
        last = data.get("last_history_step")
        self._step = last + 1 if isinstance(last, int) and last >= 0 else 0
        self._known: set[str] = set()
        # What run.define_metric() asked for; None until it is first called, so log() pays
        # nothing for it otherwise.
        self._metrics: MetricDefinitions | None = None
        self._metadata: dict[str, Any] = dict(
            data.get("metadata") or (create or {}).get("metadata") or {}
        )
        # The notebook card's observe(), set by init() in a notebook.
        self._observe: Any = None
        self._card: Any = None

        stamp = time.strftime("%Y%m%d_%H%M%S")
        self.dir = root_dir / f"run-{stamp}-{self.id}"
        # retries=0: finish() retries by itself, within its own deadline.
        self._transport = Transport(host or "http://offline.invalid", api_key, retries=0)
        self._wal = WriteAheadLog(self.dir / FILE_NAME)
        self._wal.add_run(
            {
                "host": host,
                "entity": self.entity,
                "project": self.project,
                "id": self.id,
                "offline": offline,
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "create": create or {"id": self.id},
            }
        )
        self._console: ConsoleCapture | None = None
        if settings.console:
            self._console = ConsoleCapture(self.dir / "output.log")
        # The sender's own session: requests sessions are not meant to be shared across threads,
        # and it retries by itself (same batch id), so the transport must not retry underneath.
        self._sender = Sender(
            None if offline else connections.sender_transport(host or "", api_key),
            self._api_path,
            self._wal,
            flush_interval=settings.flush_interval,
            batch_points=settings.batch_points,
            max_buffered_points=settings.max_buffered_points,
            heartbeat_interval=heartbeat_interval or settings.heartbeat_interval,
            console=self._console.take if self._console else None,
            # pending: the server does not have the run yet; it is made with its first records.
            create=create if pending else None,
            own_id=own_id,
        )
        self.config = Config(data.get("config") or {}, on_change=self._sender.set_config)
        self.summary = Summary(data.get("summary") or {}, on_update=self._sender.update_summary)
        self._last = self.summary._values
        self._system: SystemMonitor | None = None
        if settings.system_interval and settings.system_interval > 0:
            self._system = SystemMonitor(
                settings.system_interval, self._log_system, disk_path=root_dir.anchor or "/"
            )

    def _on_server(self) -> None:
        """Have the server make the run now if it has not yet, for code that reads it back at
        once (an artifact's route, ``%lablens``): ``init()`` does not wait for a new run's
        creation. Raises the server's refusal, or ``ConnectionFailed`` after
        ``settings.flush_timeout`` seconds."""
        self._sender.wait_created(self.settings.flush_timeout)

    def _start(self) -> None:
        self._sender.start()
        if self._console is not None:
            self._console.start()
        if self._system is not None:
            self._system.start()

    @property
    def name(self) -> str:
        """The run's display name; setting it saves it on the server."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)
        self._sender.set_fields({"name": self._name})

    @property
    def notes(self) -> str | None:
        """The run's description; setting it saves it on the server."""
        return self._notes

    @notes.setter
    def notes(self, value: str | None) -> None:
        self._notes = value
        self._sender.set_fields({"notes": value})

    @property
    def tags(self) -> tuple[str, ...]:
        """The run's labels; setting them (to any sequence of str) saves them on the server."""
        return self._tags

    @tags.setter
    def tags(self, value: Any) -> None:
        self._tags = (value,) if isinstance(value, str) else tuple(str(t) for t in value)
        self._sender.set_fields({"tags": list(self._tags)})

    # -- logging -------------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """The step the next ``log()`` without ``step=`` records at."""
        return self._step

    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None
    ) -> None:
        """Log metrics and media: each number becomes one point ``(key, step, time, value)``,
        each media value (``lablens.Image``, ``Table``, ``Histogram``...) one item at the step.

        Never waits for the network: points are queued and sent by a background thread (it
        waits only when millions of points are queued because the server is slow or away; see
        ``Settings.max_buffered_points``).

        Args:
            data: ``{name: number}``; nested dicts are flattened with dots
                (``{"train": {"loss": 1}}`` logs ``train.loss``). A number is an ``int``,
                ``float``, ``bool``, numpy number, 0-d numpy array, or a scalar tensor (anything
                whose ``.item()`` gives a number). NaN and ±inf are kept. A value may also be
                media: ``lablens.Image``, ``Table``, ``Histogram``, ``Audio``, ``Text``,
                ``Html``, ``Video``, a plotly figure, or a list of them (a gallery: one item
                each, at indices 0, 1, ...). As in W&B, a str is logged as ``Text``, a pandas
                DataFrame as ``Table`` and a list or array of numbers as a ``Histogram``.
                Media are encoded and uploaded in the background.
            step: the step to record at, an integer from 0 to 2**53 - 1. By default the run's own
                counter, which goes up by one with every ``log()`` call. Steps must not go
                backwards: a step lower than the current one is ignored with a warning, as in
                W&B.
            commit: whether this call ends the step, so that the next call without ``step=``
                records at the next one. Defaults to ``True`` without ``step=`` and to ``False``
                with it (so several calls with the same ``step=`` are fine); ``commit=False``
                keeps adding to the current step.

        Raises:
            TypeError: a value is neither a number nor media; the message and ``.field`` name
                its key, and nothing of the call is logged. (The class is ``InvalidValue``, a
                ``lablens.errors.UsageError`` too.)
            lablens.errors.UsageError: the run is finished, or ``step`` is not an integer from 0
                to 2**53 - 1 (``.field`` is ``"step"``); nothing of the call is logged.
            lablens.errors.ApiError: the server refused the run when it got its first records
                (``NotFound``, ``PermissionDenied``, ``Conflict``, ``Unauthorized``, naming
                the workspace, project or run); every later call raises it too.

        Example:
            >>> run.log({"loss": 0.5, "val": {"acc": 0.9}})
            >>> run.log({"lr": 1e-3}, step=100)
        """
        if self._closed:
            raise E.UsageError(f"run.log: run {self.path} is finished; start a new one with init()")
        if self._sender.fatal is not None:  # the server refused the run (init() did not wait)
            raise self._sender.fatal
        # The common case in two C-level checks: a flat dict of plain numbers with known keys.
        media: dict[str, list[Any]] = {}
        if not (
            type(data) is dict
            and PLAIN_TYPES.issuperset(map(type, data.values()))
            and self._known.issuperset(data)
        ):
            data = flatten_metrics(data, media=media)
            self._known.update(data)
        if step is None:
            step = self._step
            if step > MAX_STEP:
                raise E.UsageError(
                    f"run.log: the run's step counter is at {step}, past the largest step "
                    "2**53 - 1",
                    field="step",
                )
            if commit is not False:
                self._step = step + 1
        else:
            if type(step) is not int:
                if isinstance(step, bool) or not isinstance(step, numbers.Integral):
                    raise E.UsageError(
                        f"run.log: step must be an int, not {type(step).__name__}", field="step"
                    )
                step = int(step)
            if not 0 <= step <= MAX_STEP:
                # The server keeps steps up to 2**53 - 1: a step past it could never be stored,
                # and the counter would carry every later step past it too.
                raise E.UsageError(
                    f"run.log: step must be from 0 to 2**53 - 1, not {step}", field="step"
                )
            if step < self._step:
                warnings.warn(
                    f"lablens: run.log: step {step} is lower than the current step "
                    f"{self._step}; steps must not go backwards, so this data is ignored",
                    UserWarning,
                    stacklevel=2,
                )
                return
            self._step = step + 1 if commit else step
        if media:
            ts = time.time()
            self._sender.add_media(
                [
                    (key, index, value, step, ts)
                    for key, values in media.items()
                    for index, value in enumerate(values)
                ]
            )
        if data:
            if self._metrics is not None:
                data, aggregates = self._metrics.observe(data, self._last)
                if aggregates:
                    self.summary._observe(aggregates)
                    self._sender.update_summary(aggregates)
            self._last.update(data)
            self._sender.add(data, step, time.time())
            if self._observe is not None:
                self._observe(data, step)

    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
    ) -> MetricDefinition:
        """Say how a metric is summarized and which metric is its x axis, as W&B's.

        Args:
            name: the metric's key, or a glob naming many (``"val/*"``).
            step_metric: the metric to plot this one against (e.g. ``"epoch"``); recorded in
                the run's metadata under ``"metrics"``.
            step_sync: with ``step_metric``, add its last value to each ``log()`` of this
                metric that lacks it, so both share steps. Default ``True``.
            hidden: mark the metric for readers to leave out of default views.
            summary: the aggregates to keep in the summary, one of ``"min"``, ``"max"``,
                ``"mean"``, ``"first"``, ``"last"`` or several comma-separated; each is kept
                under ``<key>.<aggregate>`` (``val/acc.max``), the plain key keeping the last
                value.
            goal: ``"minimize"`` or ``"maximize"``, recorded for readers.

        Returns:
            The ``MetricDefinition``.

        Raises:
            lablens.errors.UsageError: a bad argument (``.field`` names it), or the run is
                finished.

        Example:
            >>> run.define_metric("epoch")
            >>> run.define_metric("val/*", step_metric="epoch", summary="max")
            >>> run.log({"epoch": 1, "val/acc": 0.91})
        """
        if self._closed:
            raise E.UsageError(
                f"run.define_metric: run {self.path} is finished; start a new one with init()"
            )
        definition = parse_definition(name, step_metric, step_sync, summary, goal, hidden)
        if self._metrics is None:
            self._metrics = MetricDefinitions()
        self._metrics.add(definition)
        # The metadata is replaced whole on the server: send all of it.
        self._metadata["metrics"] = self._metrics.as_json()
        self._sender.set_fields({"metadata": dict(self._metadata)})
        return definition

    def _log_system(self, metrics: dict[str, float], step: int, ts: float) -> None:
        self._sender.add_stream("system", metrics, step, ts)

    def __repr__(self) -> str:
        return f"<Run {self.path} {self._state}>"
