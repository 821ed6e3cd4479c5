"""A sweep as the engines store it, the same for each: a new sweep's columns, the changes it
takes, its ``SELECT`` and JSON, and the next trial it hands out (``sweeps.py`` checks the
configurations and makes the trials)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lablens.store import _json
from lablens.store.errors import Conflict, InvalidInput
from lablens.store.sweeps import SWEEP_STATES, PastTrial, plan, trial_params

__all__ = [
    "Trial",
    "check_state_change",
    "checked_sweep_changes",
    "needs_past",
    "new_sweep",
    "next_trial",
    "past_trial",
    "sweep_out",
    "sweep_select",
]


def checked_sweep_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """What ``Store.update_sweep`` is given, checked: the new values of the ``sweeps`` columns
    it sets (a canceled sweep staying canceled is the engine's check: it needs the stored
    state)."""
    columns: dict[str, Any] = {}
    if "state" in changes:
        state = str(changes["state"] or "").upper()
        if state not in SWEEP_STATES:
            raise InvalidInput(f"state must be one of {', '.join(SWEEP_STATES)}", field="state")
        columns["state"] = state
    for field in ("name", "description"):
        if field in changes:
            if changes[field] is not None and not isinstance(changes[field], str):
                raise InvalidInput(f"{field} must be a string", field=field)
            columns[field] = changes[field]
    return columns


def sweep_out(row: dict[str, Any]) -> dict[str, Any]:
    """A sweep's row (the schema's columns, with its counts of runs) as its JSON."""
    state = row["state"]
    expected = row["expected_run_count"]
    # Every trial handed out and none still running: the sweep is over.
    if (
        state == "RUNNING"
        and expected is not None
        and row["claimed"] >= expected
        and not row["running"]
    ):
        state = "FINISHED"
    return {
        "id": row["id"],
        "entity": row["entity"],
        "project": row["project"],
        "path": f"{row['entity']}/{row['project']}/{row['id']}",
        "name": row["name"] or row["id"],
        "description": row["description"],
        "method": row["method"],
        "config": _json.loads(row["config"]) or {},
        "state": state,
        "expected_run_count": expected,
        "claimed": row["claimed"],
        "run_count": row["run_count"],
        "username": row["username"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def sweep_select(iso: Callable[[str], str]) -> str:
    """The ``SELECT`` of sweeps (``s``) joined to their project (``p``) and workspace (``w``),
    with the counts of their runs and running runs: what :func:`sweep_out` reads. ``iso`` is
    the engine's SQL rendering a time column as an ISO string."""
    return (
        "SELECT s.pk, s.id, w.username AS entity, p.name AS project, s.name, s.description,"
        " s.method, s.config, s.state, s.expected_run_count, s.claimed, s.username,"
        f" {iso('s.created_at')} AS created_at, {iso('s.updated_at')} AS updated_at,"
        " (SELECT count(*) FROM runs r WHERE r.project_id = s.project_id AND r.sweep = s.id)"
        " AS run_count,"
        " (SELECT count(*) FROM runs r WHERE r.project_id = s.project_id AND r.sweep = s.id"
        "  AND r.state = 'RUNNING') AS running"
        " FROM sweeps s JOIN projects p ON p.id = s.project_id"
        " JOIN workspaces w ON w.id = p.workspace_id"
    )


def new_sweep(
    config: Mapping[str, Any], *, username: str, name: str | None = None
) -> dict[str, Any]:
    """The ``sweeps`` columns of a new sweep made from ``config`` (checked here), but its
    project, id and times: RUNNING, nothing claimed, a fresh seed for its random trials.

    Raises:
        InvalidInput: a part of the configuration is wrong; ``field`` names it.
    """
    sweep_plan = plan(config)
    return {
        "name": name or config.get("name"),
        "description": config.get("description"),
        "method": sweep_plan.method,
        "config": _json.dumps(dict(config)),
        "state": "RUNNING",
        # A seed in the configuration replays the same trials (for tests and comparisons).
        "seed": config["seed"] if config.get("seed") is not None else secrets.randbits(62),
        "expected_run_count": sweep_plan.expected_run_count,
        "claimed": 0,
        "username": username,
    }


def check_state_change(current: str, columns: Mapping[str, Any], what: str) -> None:
    """Refuse to move a canceled sweep (``what``, its path) out of CANCELED: ``Conflict``.
    ``columns`` are the changes :func:`checked_sweep_changes` returned."""
    if "state" in columns and current == "CANCELED" and columns["state"] != "CANCELED":
        raise Conflict(f"sweep {what} is canceled for good; make a new one")


@dataclass(frozen=True)
class Trial:
    """The next trial of a sweep: its index, its parameters and the name of its run."""

    index: int
    params: dict[str, Any]
    run_name: str


def needs_past(row: Mapping[str, Any]) -> bool:
    """Whether the next trial of a sweep's row depends on the trials before it (bayes)."""
    return row["method"] == "bayes"


def past_trial(params: Any, state: str, summary: Any, metric: str) -> PastTrial:
    """A trial handed out before, from its ``sweep_trials.params`` and its run's state and
    (flat) summary JSON: what a bayes sweep learns from."""
    value = (_json.loads(summary) or {}).get(metric) if summary else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        value = None
    return PastTrial(_json.loads(params) or {}, state, value)


def next_trial(
    row: Mapping[str, Any], sweep_id: str, past: list[PastTrial] | None = None
) -> Trial | None:
    """The trial a sweep's row (``name method config state seed expected_run_count claimed``)
    hands out next, or ``None`` when it is not RUNNING or every trial is handed out. ``past``
    are its trials so far (a bayes sweep's suggestions depend on them). The engine reads the
    row (and the past trials) and moves ``claimed`` on as one step (its lock), so no trial
    goes twice."""
    index = row["claimed"]
    expected = row["expected_run_count"]
    if row["state"] != "RUNNING" or (expected is not None and index >= expected):
        return None
    params = trial_params(plan(_json.loads(row["config"])), index, row["seed"], past)
    return Trial(index, params, f"{row['name'] or sweep_id}-{index}")
