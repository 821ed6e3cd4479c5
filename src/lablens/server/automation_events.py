"""Automation events: the routes that commit a version, add an alias, change a run's state or
take metric points tell this object, which finds the automations watching and hands each
firing to the delivery worker (``server/webhook_delivery.py``). A route never waits for a
receiver, nor for the delivery's row to be written.

The automations to match are held in memory: the worker thread reads them from the store
again every ``TTL`` seconds, and a route that changes one reads them at once. A route never
reads them itself (the metric hook runs on the event loop, which must not wait for the store):
a project without automations pays one dict lookup, so the ingest of metric points is not
slowed. Another server's new automation is seen within ``TTL`` seconds (and a poll).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lablens.server.webhook_delivery import DeliveryWorker
from lablens.store.automation_values import alias_matches, first_crossing
from lablens.store.base import Store

#: Seconds the automations are kept in memory before they are read again.
TTL = 5.0
#: Metric firings remembered, so a run past its threshold does not write at every batch.
_FIRED_MEMORY = 100_000


class AutomationEvents:
    """What the routes call when something happens; matches automations, fires them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.worker = DeliveryWorker(store, self.active)
        self._lock = threading.Lock()
        self._index: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._read_at = -TTL
        self._fired: set[tuple[int, str]] = set()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> AutomationEvents:
        """Start the delivery worker (it sends what earlier runs of the server left due)."""
        self.worker.start()
        return self

    def stop(self) -> None:
        """Stop the delivery worker (an attempt under way finishes first)."""
        self.worker.stop()

    def active(self) -> bool:
        """Whether any automation is enabled, the automations read again when ``TTL`` seconds
        old (the worker thread calls this between its looks for due deliveries)."""
        if time.monotonic() - self._read_at > TTL:
            self.refresh()
        return bool(self._index)

    def changed(self) -> None:
        """An automation was made, changed or deleted here: read them again now."""
        self.refresh()

    def refresh(self) -> None:
        """Read the enabled automations from the store."""
        with self._lock:
            index: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for a in self.store.enabled_automations():
                index.setdefault((a["entity"], a["project"]), []).append(a)
            self._index, self._read_at = index, time.monotonic()

    # -- the hooks of the routes -------------------------------------------------------------
    def artifact_committed(
        self, ws: str, project: str, artifact: Mapping[str, Any], author: str
    ) -> None:
        """A new version was committed (with the aliases it was given)."""
        base = _artifact_values(ws, project, artifact, author)
        for automation in self._watching(ws, project, "CREATE_ARTIFACT", artifact):
            self._fire(automation, {**base, "event_type": "CREATE_ARTIFACT"}, None)
        self.aliases_added(ws, project, artifact, artifact.get("aliases") or [], author)

    def aliases_added(
        self,
        ws: str,
        project: str,
        artifact: Mapping[str, Any],
        aliases: Iterable[str],
        author: str,
    ) -> None:
        """``aliases`` were added to a version (``artifact``, as it is now)."""
        watching = self._watching(ws, project, "ADD_ARTIFACT_ALIAS", artifact)
        if not watching:
            return
        base = _artifact_values(ws, project, artifact, author)
        for alias in aliases:
            for automation in watching:
                if alias_matches(automation["event"]["filter"], alias):
                    values = {**base, "event_type": "ADD_ARTIFACT_ALIAS", "alias": alias}
                    self._fire(automation, values, None)

    def state_before(self, ws: str, project: str, run_id: str, changes: Mapping[str, Any]) -> Any:
        """The run's state before a change that sets one, when an automation watches run states
        in the project (else ``None``: nothing to compare, nothing read)."""
        if changes.get("state") is None or not self._watching(ws, project, "RUN_STATE"):
            return None
        return self.store.get_run(ws, project, run_id)["state"]

    def run_changed(
        self, ws: str, project: str, before: Any, run: Mapping[str, Any], author: str
    ) -> None:
        """A run was changed; ``before`` is what :meth:`state_before` answered."""
        if before is None or run["state"] == before:
            return
        values = {**_run_values(ws, project, run, author), "event_type": "RUN_STATE"}
        for automation in self._watching(ws, project, "RUN_STATE"):
            if run["state"] in automation["event"]["filter"]["states"]:
                self._fire(automation, values, None)

    def points_logged(
        self, ws: str, project: str, run_id: str, table: pa.Table, stream: str, author: str
    ) -> None:
        """A batch of metric points (``key step timestamp value``) was stored for a run."""
        watching = self._watching(ws, project, "RUN_METRIC")
        if not watching or stream != "default" or "key" not in table.column_names:
            return
        for automation in watching:
            flt = automation["event"]["filter"]
            key = f"metric:{run_id}:{flt['name']}"
            if (automation["pk"], key) in self._fired:
                continue  # fired for this run already: once per run
            rows = table.filter(pc.equal(table.column("key"), flt["name"]))
            if rows.num_rows == 0:
                continue
            i = first_crossing(flt, rows.column("value").to_numpy(zero_copy_only=False))
            if i is None:
                continue
            values = {
                "event_type": "RUN_METRIC",
                "event_author": author,
                "entity_name": ws,
                "project_name": project,
                "run_id": run_id,
                "metric_name": flt["name"],
                "metric_value": rows.column("value")[i].as_py(),
                "metric_step": rows.column("step")[i].as_py(),
            }
            if len(self._fired) > _FIRED_MEMORY:
                self._fired.clear()
            self._fired.add((automation["pk"], key))
            self._fire(automation, values, key)

    # -- matching -------------------------------------------------------------------------
    def _watching(
        self, ws: str, project: str, event_type: str, artifact: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        found = [
            a for a in self._automations(ws, project) if a["event"]["event_type"] == event_type
        ]
        if artifact is not None:
            collection = (artifact.get("collection") or {}).get("name")
            found = [a for a in found if a["collection"] in (None, collection)]
        return found

    def _automations(self, ws: str, project: str) -> list[dict[str, Any]]:
        self.worker.start()  # it keeps the automations read (a no-op once started)
        return self._index.get((ws, project), [])

    def _fire(self, automation: Mapping[str, Any], values: dict[str, Any], key: str | None) -> None:
        values.setdefault("timestamp", dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"))
        values["automation_name"] = automation["name"]
        self.worker.fire(automation, values, key or f"{values['event_type']}:{uuid.uuid4().hex}")


def _artifact_values(
    ws: str, project: str, artifact: Mapping[str, Any], author: str
) -> dict[str, Any]:
    collection = (artifact.get("collection") or {}).get("name")
    return {
        "event_author": author,
        "entity_name": ws,
        "project_name": project,
        "artifact_id": artifact.get("id"),
        "artifact_collection_name": collection,
        "artifact_type": artifact.get("type"),
        "artifact_version": artifact.get("version"),
        "artifact_version_string": artifact.get("qualified_name"),
    }


def _run_values(ws: str, project: str, run: Mapping[str, Any], author: str) -> dict[str, Any]:
    return {
        "event_author": author,
        "entity_name": ws,
        "project_name": project,
        "run_id": run["id"],
        "run_name": run.get("name"),
        "run_state": run.get("state"),
    }
