"""The custom chart methods of ``Api``: ``create_custom_chart()``, ``custom_charts()`` and
``custom_chart()``. A part of ``Api`` (see ``_api_part.py``); each returns a resource from
``custom_charts.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lablens.api._api_part import ApiPart
from lablens.api.custom_charts import CustomChart, CustomCharts
from lablens.contract.routes import chart_route
from lablens.errors import UsageError


class ApiCharts(ApiPart):
    """``Api.create_custom_chart()``, ``custom_charts()`` and ``custom_chart()``."""

    def create_custom_chart(
        self,
        entity: str | None,
        name: str,
        display_name: str | None = None,
        spec_type: str = "vega2",
        access: str = "private",
        spec: str | Mapping[str, Any] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
    ) -> CustomChart:
        """Create a custom chart preset: a Vega-Lite spec the entity's charts can reuse.

        Args:
            entity: the entity (user or team) that owns the chart; ``None`` for the default
                entity.
            name: unique identifier for the chart preset (in its entity).
            display_name: human-readable name shown in the UI; by default ``name``.
            spec_type: type of specification: ``vega2`` (W&B's name for a Vega-Lite spec) or
                ``vega-lite``.
            access: access level for the chart: ``private`` (only members of the entity that
                created it) or ``public`` (every signed-in user).
            spec: the Vega-Lite specification as a dictionary or JSON string; it needs a
                ``$schema`` naming Vega-Lite and a ``mark`` (or a composition of views).
            query: what the chart draws (lablens): ``keys`` (history keys), ``fields``
                (run columns, a list or ``{name: column}``), ``x_axis``, ``samples``,
                ``filters``, ``order``, ``project``. See ``CustomChart.data()``.

        Returns:
            The saved ``CustomChart``.

        Raises:
            BadRequest: the spec is not JSON or not Vega-Lite, or the query is invalid
                (``.field`` names the part: ``spec.$schema``, ``spec.mark``, ``query.keys``).
            Conflict: the entity already has a chart of that name.
            PermissionDenied: you are not a member of the entity.

        Example:
            >>> chart = api.create_custom_chart(
            ...     "alice", "loss-curve", "Loss by step", "vega2", "private",
            ...     {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            ...      "mark": "line",
            ...      "encoding": {"x": {"field": "_step", "type": "quantitative"},
            ...                   "y": {"field": "loss", "type": "quantitative"},
            ...                   "color": {"field": "name", "type": "nominal"}}},
            ...     query={"keys": ["loss"]})
        """
        if spec is None:
            raise UsageError("spec is required: a Vega-Lite spec as a dict or JSON text")
        ws = self._workspace_arg(None, entity)
        body: dict[str, Any] = {
            "name": name,
            "display_name": display_name,
            "spec_type": spec_type,
            "access": access,
            "spec": spec if isinstance(spec, str) else dict(spec),
        }
        if query is not None:
            body["query"] = dict(query)
        data = self._transport.post_json(chart_route(ws), body)
        return CustomChart.from_json(self._api, data)

    def custom_charts(self, entity: str | None = None, per_page: int = 50) -> CustomCharts:
        """The custom chart presets of an entity, by name (outside it: its public ones).

        Example:
            >>> [c.name for c in api.custom_charts("alice")]
        """
        return CustomCharts(self._api, self._workspace_arg(None, entity), per_page=per_page)

    def custom_chart(self, path: str) -> CustomChart:
        """One custom chart preset, by ``entity/name`` (or ``name`` in the default entity).

        Raises:
            NotFound: no such chart, or a private one of an entity you are not in.

        Example:
            >>> chart = api.custom_chart("alice/loss-curve")
        """
        entity, _, name = path.rpartition("/")
        if not name:
            raise UsageError(f"a custom chart path is 'entity/name', not {path!r}")
        ws = self._workspace_arg(None, entity or None)
        data = self._transport.get_json(chart_route(ws, name))
        return CustomChart.from_json(self._api, data)
