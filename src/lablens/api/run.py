"""``Run``: one training run, its metadata, config and summary, and what it reads and writes.

The reading and writing of a run's data come from parts in their own modules: metric history
(``history.py``), files (``files.py``), points and finishing (``run_writes.py``), artifacts
(``run_artifacts.py``). The lazy collection of runs a query returns is ``Runs`` in ``runs.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.files import RunFiles
from lablens.api.history import RunHistory
from lablens.api.media import RunMedia
from lablens.api.run_artifacts import RunArtifactMethods
from lablens.api.run_fields import Profile, RunState, Summary
from lablens.api.run_writes import _STATES, RunWrites
from lablens.contract.routes import run_route
from lablens.errors import UsageError
from lablens.transport import decode_floats

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.sweeps import Sweep

__all__ = ["Run"]

# Keys a run answer may leave out in a list (a "lazy" listing); reading one loads the whole run.
_HEAVY = ("config", "summary", "system_metrics", "metadata", "requirements", "conda")


class Run(RunHistory, RunMedia, RunFiles, RunWrites, RunArtifactMethods, Attrs):
    """A single run: its metadata, config, summary, metric history and files.

    Get one with ``api.run("alice/mnist/3f2a9c1b")`` or by iterating ``api.runs()``.
    Attributes cover both seeds: SwanLab's (``description``, ``labels``, ``profile``, ``show``,
    ``user``, ``metrics()``) and W&B's (``notes``, ``tags``, ``summary``, ``history()``,
    ``scan_history()``, ``update()``), and ``log_points()``/``finish()`` to write data that
    exists elsewhere with its own steps and times.

    ``path`` is the string ``entity/project/run_id`` (SwanLab), not W&B's list: a string is what
    every path argument takes. ``path_parts`` gives the list.

    Example:
        >>> run = api.run("alice/mnist/3f2a9c1b")
        >>> run.name, run.state, run.config["lr"], run.summary["loss"]
        >>> run.tags.append("best")
        >>> run.update()
        >>> run.metrics(keys=["loss", "acc"])
        >>> run.history(keys=["loss"], samples=None)
    """

    id: str
    """The run id (SwanLab's experiment id), unique in its project."""
    entity: str
    """The workspace (entity) of the run's project."""
    project: str
    """The name of the run's project."""
    name: str | None
    """The run's display name; set it and call ``update()`` to rename."""
    notes: str
    """Notes about the run (SwanLab: ``description``); editable."""
    state: RunState
    """``FINISHED``, ``RUNNING``, ``CRASHED`` or ``ABORTED``; also equal to the lowercase form."""
    group: str | None
    """The run's group (a string; SwanLab's list form is not used); editable."""
    job_type: str | None
    """The job type, e.g. ``train``; editable."""
    tags: list[str]
    """The run's tags (SwanLab: ``labels``); editable."""
    created_at: str | None
    """When the run started, ISO 8601 UTC, e.g. ``2025-12-09T17:57:38.224Z``."""
    finished_at: str | None
    """When the run ended, ISO 8601 UTC; ``None`` while it runs."""
    heartbeat_at: str | None
    """The last sign of life from the training process, ISO 8601 UTC."""
    show: bool
    """Whether the run shows in comparison charts."""
    history_keys: dict[str, Any]
    """Each logged metric: ``{"loss": {"count": 100, "last_step": 99}}``."""

    def _load(self, data: dict[str, Any]) -> None:
        path = data.get("path") or ""
        parts = path.split("/") if path.count("/") == 2 else [None, None, None]
        self.id = data.get("id") or parts[2] or ""
        self.entity = data.get("entity") or parts[0] or ""
        self.project = data.get("project") or parts[1] or ""
        self.name = data.get("name")
        self.notes = data.get("notes") or ""
        self.state = RunState(data.get("state") or "RUNNING")
        self.group = data.get("group")
        self.job_type = data.get("job_type")
        self.tags = list(data.get("tags") or [])
        self.created_at = data.get("created_at")
        self.finished_at = data.get("finished_at")
        self.heartbeat_at = data.get("heartbeat_at")
        self.show = bool(data.get("show", True))
        self.history_keys = dict(data.get("history_keys") or {})
        self._full = all(k in data for k in _HEAVY)
        self._read_only: bool | None = getattr(self, "_read_only", None)
        self._config = decode_floats(data["config"]) if "config" in data else None
        # Refresh the Summary in place: code holding ``run.summary`` sees the server's answer.
        summary = getattr(self, "_summary", None)
        if summary is not None and "summary" in data:
            summary._replace(data["summary"])
        else:
            self._summary = Summary(self, data["summary"]) if "summary" in data else None

    @classmethod
    def create(
        cls,
        api: Api,
        run_id: str | None = None,
        project: str | None = None,
        entity: str | None = None,
        state: str = "running",
    ) -> Run:
        """Create a run for the given project, as W&B's ``Run.create`` (``api.create_run``).

        Args:
            api: the client to create it with.
            run_id: the id to give it; by default a random one.
            project: its project (made if missing); by default ``uncategorized``.
            entity: the project's workspace; by default the default entity.
            state: ``running`` (the default), or a state it ends in at once: ``finished``,
                ``crashed`` or ``aborted`` (either case).

        Returns:
            The new ``Run``, as the server holds it.

        Raises:
            Conflict: the project already has a run with this id.
            UsageError: ``state`` is not one of those.

        Example:
            >>> run = Run.create(api, project="mnist", state="finished")
        """
        upper = str(state).upper()
        if upper not in _STATES:
            raise UsageError(f"state must be one of {', '.join(_STATES)}, not {state!r}")
        run = api.create_run(run_id=run_id, project=project, entity=entity)
        if upper != "RUNNING":
            run.finish(upper)
        return run

    @property
    def read_only(self) -> bool:
        """Whether the signed-in user may not change this run: ``False`` for members of its
        workspace and admins (who may write it), ``True`` for a reader of a public project.

        Read from the server once (the viewer and its role in the run's workspace), then kept.
        """
        if self._read_only is None:
            api = self._api
            writable = api.viewer.is_admin or api.workspace(self.entity).role is not None
            self._read_only = not writable
        return self._read_only

    def _heavy(self, key: str) -> Any:
        if key not in self._attrs and not self._full:
            self.load(force=True)
        return self._attrs.get(key)

    # -- identity -------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """``entity/project/run_id``, SwanLab's ``username/project_name/experiment_id``."""
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def path_parts(self) -> list[str]:
        """``[entity, project, run_id]``: W&B's list form of ``path``."""
        return [self.entity, self.project, self.id]

    @property
    def url(self) -> str:
        """The run's address in a browser: ``{host}/{entity}/{project}/runs/{id}``."""
        return f"{self._api.host}/{self.entity}/{self.project}/runs/{self.id}"

    @property
    def sweep(self) -> Sweep | None:
        """The sweep that made this run (W&B's ``run.sweep``), or ``None``; read when first
        asked."""
        sweep_id = self._attrs.get("sweep")
        if not sweep_id:
            return None
        cached = self.__dict__.get("_sweep")
        if cached is None or cached.id != sweep_id:
            cached = self._api.sweep(f"{self.entity}/{self.project}/{sweep_id}")
            self.__dict__["_sweep"] = cached
        return cached

    @property
    def sweep_id(self) -> str | None:
        """The id of the sweep that made this run, or ``None``."""
        return self._attrs.get("sweep")

    # -- SwanLab and W&B names for the same thing -----------------------------------------

    @property
    def description(self) -> str:
        """The run's notes under SwanLab's name; editable."""
        return self.notes

    @description.setter
    def description(self, value: str) -> None:
        self.notes = value

    @property
    def labels(self) -> list[str]:
        """The run's tags under SwanLab's name; editable."""
        return self.tags

    @labels.setter
    def labels(self, value: Sequence[str]) -> None:
        self.tags = list(value)

    @property
    def display_name(self) -> str | None:
        """The run's name under W&B's other name; editable."""
        return self.name

    @display_name.setter
    def display_name(self, value: str | None) -> None:
        self.name = value

    @property
    def user(self) -> dict[str, Any]:
        """Who made the run: ``{'is_self': True, 'username': 'alice'}``."""
        username = self._attrs.get("username")
        return {
            "is_self": bool(username) and username == self._api.viewer.username,
            "username": username,
        }

    # -- config, summary, environment ----------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """The run's hyperparameters as given (nested); change it and call ``update()``."""
        if self._config is None:
            self._config = decode_floats(self._heavy("config") or {})
        return self._config

    @config.setter
    def config(self, value: Mapping[str, Any]) -> None:
        self._config = dict(value)

    @property
    def summary(self) -> Summary:
        """The last value of each metric plus what was set (W&B); see ``Summary``."""
        if self._summary is None:
            self._summary = Summary(self, self._heavy("summary") or {})
        return self._summary

    @property
    def summary_metrics(self) -> dict[str, Any]:
        """The summary as a plain ``dict`` (W&B's name, also the filter prefix)."""
        return dict(self.summary)

    @property
    def system_metrics(self) -> dict[str, Any]:
        """The latest system metrics, e.g. ``{"system.cpu": 12.5}``."""
        return decode_floats(dict(self._heavy("system_metrics") or {}))

    @property
    def metadata(self) -> dict[str, Any]:
        """Where and how the run ran: Python version, host, hardware, command."""
        return dict(self._heavy("metadata") or {})

    @property
    def profile(self) -> Profile:
        """SwanLab's ``run.profile``: ``config``, ``metadata``, ``requirements``, ``conda``."""
        return Profile(
            config=self.config,
            metadata=self.metadata,
            requirements=self._heavy("requirements"),
            conda=self._heavy("conda"),
        )

    @property
    def last_history_step(self) -> int:
        """The last step with a logged metric; ``-1`` before the first, as in W&B."""
        step = self._attrs.get("last_history_step")
        return -1 if step is None else int(step)

    @property
    def lastHistoryStep(self) -> int:  # noqa: N802 - W&B's name
        """``last_history_step`` under W&B's name."""
        return self.last_history_step

    # -- reading and writing the run -----------------------------------------------------

    def _route(self) -> str:
        return run_route(self.entity, self.project, self.id)

    def _reload(self, data: dict[str, Any]) -> None:
        self._attrs = dict(data)
        self._load(self._attrs)

    def load(self, force: bool = False) -> Run:
        """Read the run from the server again.

        Args:
            force: read even when every field is already here.

        Returns:
            The run itself, refreshed.

        Raises:
            RunNotFound: the run was deleted.

        Example:
            >>> run.load(force=True).state
        """
        if force or not self._full:
            self._reload(self._api.client.get_json(self._route()))
        return self

    def _patch(self, body: dict[str, Any]) -> None:
        if body:
            self._reload(self._api.client.patch_json(self._route(), body))

    def update(self) -> Run:
        """Write the changes made here to the server: name, notes/description, tags/labels,
        group, job type, config and summary.

        Returns:
            The run, as the server now holds it.

        Raises:
            ApiError: the server refused the change.

        Example:
            >>> run = api.run("alice/mnist/3f2a9c1b")
            >>> run.name, run.notes = "baseline", "lr sweep winner"
            >>> run.tags.append("best")
            >>> run.config["seed"] = 1
            >>> run.update()
        """
        body: dict[str, Any] = {
            "name": self.name,
            "notes": self.notes,
            "tags": list(self.tags),
            "group": self.group,
            "job_type": self.job_type,
        }
        if self._config is not None:
            body["config"] = self._config
        if self._summary is not None:
            body.update(self._summary._patch_body())
        self._patch(body)
        return self

    def delete(self) -> None:
        """Delete the run, its metrics and its files from the server.

        Raises:
            RunNotFound: the run is already gone.

        Example:
            >>> api.run("alice/mnist/3f2a9c1b").delete()
        """
        self._api.client.delete(self._route())

    # -- display --------------------------------------------------------------------------

    def __repr__(self) -> str:
        # A run without a name of its own is named by its id, already in the path.
        named = self.name and self.name != self.id
        name = ' "' + self.name.replace('"', '\\"') + '"' if named else ""
        return f"<Run {self.path}{name} {str(self.state).lower()}>"

    def _summary_read(self) -> dict[str, Any]:
        """The summary as far as it was read (no request: a listing may have left it out)."""
        if self._summary is not None:
            return dict(self._summary)
        return dict(decode_floats(self._attrs.get("summary") or {}))

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        # IPython in a terminal: the one-line repr, then the summary as a small table.
        p.text(repr(self))
        if cycle:
            return
        rows = _summary_rows(self._summary_read())
        width = max((len(k) for k, _ in rows), default=0)
        for key, value in rows:
            p.break_()
            p.text(f"  {key.ljust(width)}  {value}")

    def _repr_html_(self) -> str:
        summary = self._summary_read()
        return html_table(
            [
                ("name", self.name),
                ("state", self.state),
                ("created_at", self.created_at),
                ("finished_at", self.finished_at),
                ("tags", ", ".join(self.tags)),
                ("group", self.group),
                ("job_type", self.job_type),
                ("notes", self.notes),
                ("config", self._config if self._config is not None else self._attrs.get("config")),
                ("url", self.url),
            ],
            title=f"Run {self.path}",
        ) + (html_table(_summary_rows(summary), title="summary") if summary else "")


# Rows of the summary shown in a run's repr; the rest are counted.
_SUMMARY_SHOWN = 20


def _summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A run's summary as (key, value) rows for display: numbers short, keys by name, system
    metrics last, at most 20 (then a count of the rest)."""
    keys = sorted(summary, key=lambda k: (k.startswith("system."), k))
    rows = [(k, _short_value(summary[k])) for k in keys[:_SUMMARY_SHOWN]]
    if len(keys) > _SUMMARY_SHOWN:
        rows.append(("…", f"{len(keys) - _SUMMARY_SHOWN} more"))
    return rows


def _short_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"
