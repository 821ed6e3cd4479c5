"""``Sweep`` and ``Sweeps``: a hyperparameter search and the runs it made."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.paging import Paginator
from lablens.contract.routes import project_route, quote_segment
from lablens.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import plotly.graph_objects as go

    from lablens.api.api import Api
    from lablens.api.run import Run
    from lablens.api.runs import Runs

__all__ = ["Sweep", "Sweeps"]

# The lowest finite float: a bound that keeps NaN (and -inf) out of a "best" run.
_LOWEST = -sys.float_info.max


class Sweep(Attrs):
    """A sweep: a set of runs exploring hyperparameters, made by ``lablens.sweep()`` and run by
    ``lablens.agent()`` (W&B's ``Sweep``).

    Get one with ``api.sweep("alice/mnist/x1y2z3w4")``; list a project's with
    ``project.sweeps()``.

    Example:
        >>> sweep = api.sweep("alice/mnist/x1y2z3w4")
        >>> sweep.method, sweep.state, sweep.expected_run_count, len(sweep.runs)
        ('grid', 'FINISHED', 6, 6)
        >>> sweep.best_run().summary["val/acc"]
    """

    id: str
    """The sweep id, unique in its project."""
    name: str
    """The sweep's name (its id when it was given none)."""
    entity: str
    """The workspace (entity) of the sweep's project."""
    project: str
    """The name of the sweep's project."""
    config: dict[str, Any]
    """The sweep configuration as given: ``method``, ``metric``, ``parameters`` ..."""
    method: str
    """``grid`` or ``random``."""
    state: str
    """``RUNNING``, ``PAUSED``, ``CANCELED``, or ``FINISHED`` once every trial is done."""
    expected_run_count: int | None
    """How many runs the sweep will make (grid size or ``run_cap``); ``None`` if unbounded."""
    run_count: int
    """How many runs the sweep has made so far."""
    description: str | None
    """What the sweep is about."""
    created_at: str | None
    """When the sweep was made, ISO 8601 UTC."""
    updated_at: str | None
    """When a trial was last handed out or the sweep last changed, ISO 8601 UTC."""

    def _load(self, data: dict[str, Any]) -> None:
        self.id = data.get("id") or ""
        self.name = data.get("name") or self.id
        self.entity = data.get("entity") or ""
        self.project = data.get("project") or ""
        self.config = dict(data.get("config") or {})
        self.method = data.get("method") or self.config.get("method") or ""
        self.state = data.get("state") or "RUNNING"
        self.expected_run_count = data.get("expected_run_count")
        self.run_count = int(data.get("run_count") or 0)
        self.description = data.get("description")
        self.created_at = data.get("created_at")
        self.updated_at = data.get("updated_at")

    @property
    def path(self) -> str:
        """``entity/project/sweep_id``, what ``api.sweep()`` takes."""
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def url(self) -> str:
        """The sweep's address in a browser: ``{host}/{entity}/{project}/sweeps/{id}``."""
        return f"{self._api.host}/{self.entity}/{self.project}/sweeps/{self.id}"

    @property
    def order(self) -> str | None:
        """The order of the sweep's metric, best first (``-summary_metrics.acc`` to maximize);
        ``None`` when the configuration names no metric."""
        metric = self.config.get("metric") or {}
        if not metric.get("name"):
            return None
        sign = "-" if metric.get("goal") == "maximize" else "+"
        return f"{sign}summary_metrics.{metric['name']}"

    @property
    def runs(self) -> Runs:
        """The sweep's runs (a lazy ``Runs``), oldest first."""
        return self._api.runs(f"{self.entity}/{self.project}", filters={"sweep": self.id})

    def best_run(self, order: str | None = None) -> Run | None:
        """The best run: the first by ``order``, else by the metric of the configuration.

        Runs without a value (or with NaN) for the ordering metric are never the best.

        Args:
            order: ``+`` or ``-`` and a field, e.g. ``-summary_metrics.val/acc``; by default
                the configuration's ``metric`` (``goal`` maximize or minimize).

        Returns:
            The best ``Run``, or ``None`` when no run qualifies.

        Raises:
            UsageError: no order is given and the configuration names no metric.

        Example:
            >>> api.sweep("alice/mnist/x1y2z3w4").best_run().config
            >>> sweep.best_run(order="+summary_metrics.loss")
        """
        order = order or self.order
        if not order:
            raise UsageError(f"sweep {self.path} names no metric: pass best_run(order=...)")
        filters: dict[str, Any] = {"sweep": self.id}
        key = order.lstrip("+-")
        if key.startswith(("summary_metrics.", "summary.", "config.")):
            filters[key] = {"$gte": _LOWEST}
        runs = self._api.runs(
            f"{self.entity}/{self.project}", filters=filters, order=order, per_page=1
        )
        return runs[0] if len(runs) else None

    @property
    def parameters(self) -> list[str]:
        """The swept parameters as run table columns (``config.optim.lr``), in the order of the
        configuration, nested parameters dotted."""
        out: list[str] = []

        def walk(params: Any, prefix: str) -> None:
            for name, spec in (params or {}).items() if isinstance(params, dict) else ():
                if isinstance(spec, dict) and "parameters" in spec:
                    walk(spec["parameters"], f"{prefix}{name}.")
                else:
                    out.append(f"config.{prefix}{name}")

        walk(self.config.get("parameters"), "")
        return out

    @property
    def metric(self) -> str | None:
        """The sweep's metric as a run table column (``summary.val/acc``); ``None`` when the
        configuration names none."""
        name = (self.config.get("metric") or {}).get("name")
        return f"summary.{name}" if name else None

    def parallel_coordinates(
        self, params: Sequence[str] | None = None, metric: str | None = None
    ) -> go.Figure:
        """The sweep's runs as a parallel coordinates plot: an axis per parameter, a line per
        run coloured by the metric (``Runs.parallel_coordinates`` on ``sweep.runs``).

        Args:
            params: the axes; by default the sweep's ``parameters``.
            metric: the colour and last axis; by default the sweep's ``metric``.

        Returns:
            A plotly ``Figure``.

        Example:
            >>> api.sweep("alice/mnist/x1y2z3w4").parallel_coordinates().show()
        """
        return self.runs.parallel_coordinates(
            params=list(params) if params is not None else self.parameters or None,
            metric=metric or self.metric,
            title=f"sweep {self.name}",
        )

    def scatter(
        self,
        x: str | None = None,
        y: str | None = None,
        *,
        log_x: bool | None = None,
        log_y: bool | None = None,
    ) -> go.Figure:
        """The sweep's runs as a scatter plot, a dot per run (``Runs.scatter`` on
        ``sweep.runs``).

        Args:
            x: the x axis; by default the first of the sweep's parameters whose values differ
                between its runs.
            y: the y axis; by default the sweep's ``metric``.
            log_x: a log x axis; by default when the values span two decades or more.
            log_y: a log y axis; the same.

        Returns:
            A plotly ``Figure``.

        Raises:
            UsageError: ``y`` is not given and the configuration names no metric.

        Example:
            >>> api.sweep("alice/mnist/x1y2z3w4").scatter("optim.lr")
        """
        y = y or self.metric
        if not y:
            raise UsageError(f"sweep {self.path} names no metric: pass scatter(y=...)", field="y")
        return self.runs.scatter(
            x, y, log_x=log_x, log_y=log_y, among=None if x else self.parameters or None
        )

    def _route(self) -> str:
        return f"{project_route(self.entity, self.project)}/sweeps/{quote_segment(self.id)}"

    def load(self, force: bool = False) -> Sweep:
        """Read the sweep from the server again (its state and run count change as it runs).

        Returns:
            The sweep itself, refreshed.
        """
        self._attrs = self._api.client.get_json(self._route())
        self._load(self._attrs)
        return self

    def _set_state(self, state: str) -> Sweep:
        self._attrs = self._api.client.patch_json(self._route(), {"state": state})
        self._load(self._attrs)
        return self

    def pause(self) -> Sweep:
        """Stop handing out trials until ``resume()``; running trials go on."""
        return self._set_state("PAUSED")

    def resume(self) -> Sweep:
        """Hand out trials again after ``pause()``."""
        return self._set_state("RUNNING")

    def cancel(self) -> Sweep:
        """Hand out no more trials, for good."""
        return self._set_state("CANCELED")

    def __repr__(self) -> str:
        return f"<Sweep {self.path} {self.state}>"

    def _repr_html_(self) -> str:
        return html_table(
            [
                ("method", self.method),
                ("state", self.state),
                ("runs", f"{self.run_count} / {self.expected_run_count or '∞'}"),
                ("metric", self.config.get("metric")),
                ("parameters", self.config.get("parameters")),
                ("url", self.url),
            ],
            title=f"Sweep {self.path}",
        )


class Sweeps(Paginator[Sweep]):
    """The sweeps of one project, newest first, read lazily.

    Example:
        >>> [s.id for s in api.project("alice/mnist").sweeps()]
    """

    def __init__(self, api: Api, entity: str, project: str, per_page: int = 50) -> None:
        super().__init__(api, per_page)
        self.entity = entity
        self.project = project

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        return self._get_page(f"{project_route(self.entity, self.project)}/sweeps", cursor, limit)

    def _convert(self, item: dict[str, Any]) -> Sweep:
        return Sweep.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<Sweeps {self.entity}/{self.project}>"
