"""Sweeps from training code: ``lablens.sweep()`` makes one, ``lablens.agent()`` runs its trials.

The server holds the sweep and hands out its trials one by one (``POST .../sweeps/{id}/claim``),
making the run of each trial as it hands it out, under its write lock: any number of agents, in
threads, processes or on other machines, share one sweep and never run a trial twice.

Inside the function an agent calls, ``lablens.init()`` joins the trial's run: the trial's
parameters are laid over the config given to ``init()`` (they win), and the project is the
sweep's. The agent finishes the run when the function returns (``CRASHED`` if it raised).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lablens import errors as E
from lablens._settings import resolve_api_key, resolve_host
from lablens.contract.paths import RunPath, parse_sweep_path
from lablens.contract.routes import VIEWER, project_route, run_route, sweep_route
from lablens.transport import Transport

__all__ = ["agent", "sweep"]

_local = threading.local()


@dataclass
class Trial:
    """A trial handed to this thread's agent, waiting for ``init()`` to join its run."""

    entity: str
    project: str
    run_id: str
    params: dict[str, Any]
    host: str
    api_key: str | None
    index: int
    run: Any = field(default=None)
    sweep_id: str = ""


def current_trial() -> Trial | None:
    """The trial this thread's agent is running, if any."""
    return getattr(_local, "trial", None)


def pending_trial() -> Trial | None:
    """The trial this thread's agent is running whose run ``init()`` has not joined yet."""
    trial = getattr(_local, "trial", None)
    return trial if trial is not None and trial.run is None else None


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, nested dicts merged key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _sweep_path(path: str, entity: Callable[[], str], project: str | None) -> RunPath:
    """``entity/project/id``, ``entity/project/sweeps/id``, ``project/id`` or ``id`` (with
    ``project``), parsed by the client contract as the ``Api`` parses it."""
    if not project and isinstance(path, str) and "/" not in path.strip().strip("/"):
        raise E.UsageError(
            f"malformed sweep path {path!r}: expected 'entity/project/sweep_id'"
            " (what lablens.sweep() returns), or a bare id with project="
        )
    return parse_sweep_path(path, entity, project)


def _client(host: str | None, api_key: str | None) -> tuple[str, Transport]:
    server = resolve_host(host)
    return server, Transport(server, resolve_api_key(server, api_key))


def sweep(
    sweep: Mapping[str, Any],  # noqa: A002 - W&B's name
    entity: str | None = None,
    project: str | None = None,
    *,
    host: str | None = None,
    api_key: str | None = None,
) -> str:
    """Create a sweep on the server and return its path, as W&B's ``wandb.sweep()``.

    Args:
        sweep: the sweep configuration: ``method`` (``grid``, ``random`` or ``bayes``),
            ``parameters`` (each ``{"value"}``, ``{"values"}``, ``{"min", "max"}``
            or ``{"distribution", ...}``, nested with ``{"parameters": {...}}``), and optionally
            ``metric`` (``{"name", "goal": "minimize"|"maximize"}``: what ``bayes`` optimizes,
            ``best_run()`` sorts by and ``early_terminate`` judges), ``early_terminate``
            (``{"type": "hyperband", "min_iter", "eta"}``; see ``lablens.should_stop()``),
            ``run_cap``, ``seed``, ``name``, ``description``.
        entity: the workspace; by default the signed-in user's.
        project: the project; made if missing. Default ``"uncategorized"``.
        host: the server; by default ``LABLENS_HOST``, else the local server.
        api_key: the key; by default ``LABLENS_API_KEY``, else the one stored for the host.

    Returns:
        The sweep's path ``entity/project/sweep_id``, which ``lablens.agent()`` and
        ``Api().sweep()`` take.

    Raises:
        BadRequest: the configuration is invalid; ``.field`` names the bad part
            (``config.parameters.lr.values``).

    Example:
        >>> import lablens
        >>> sweep_id = lablens.sweep({
        ...     "method": "grid",
        ...     "metric": {"name": "val/acc", "goal": "maximize"},
        ...     "parameters": {"lr": {"values": [0.001, 0.01, 0.1]},
        ...                    "hidden": {"values": [32, 64]}},
        ... }, project="mnist")
    """
    if not isinstance(sweep, Mapping):
        raise E.UsageError(f"sweep() takes a configuration dict, not {type(sweep).__name__}")
    _, transport = _client(host, api_key)
    if entity is None:
        entity = transport.get_json(VIEWER)["default_entity"]
    project = project or "uncategorized"
    if "/" in project:
        raise E.UsageError(f"project must be a name without '/', not {project!r}")
    ws, proj = entity, project
    data = transport.post_json(
        f"{project_route(ws, proj)}/sweeps",
        {"config": dict(sweep)},
    )
    return data["path"]


def agent(
    sweep_id: str,
    function: Callable[[], Any] | None = None,
    entity: str | None = None,
    project: str | None = None,
    count: int | None = None,
    *,
    host: str | None = None,
    api_key: str | None = None,
) -> int:
    """Run a sweep's trials in this process, one after another, as W&B's ``wandb.agent()``.

    Each trial is claimed from the server (so agents running at the same time never share one),
    then ``function()`` is called; inside it, ``lablens.init()`` returns the trial's run, whose
    ``config`` holds the trial's parameters. When ``function`` returns the run is finished; if it
    raises, the run is marked ``CRASHED``, the error printed, and the agent goes on.

    Args:
        sweep_id: the sweep's path ``entity/project/sweep_id`` (what ``lablens.sweep()``
            returns), or its id with ``entity`` and ``project``.
        function: the training function, called without arguments once per trial.
        entity: the sweep's workspace, when ``sweep_id`` is a bare id; default: yours.
        project: the sweep's project, when ``sweep_id`` is a bare id.
        count: run at most this many trials; by default until the sweep has none left.
        host: the server; by default ``LABLENS_HOST``, else the local server.
        api_key: the key; by default ``LABLENS_API_KEY``, else the one stored for the host.

    Returns:
        How many trials this agent ran.

    Raises:
        SweepNotFound: there is no such sweep.
        UsageError: ``function`` is missing, or ``count`` is not a positive integer.

    Example:
        >>> def train():
        ...     with lablens.init() as run:
        ...         acc = fit(lr=run.config["lr"], hidden=run.config["hidden"])
        ...         run.log({"val/acc": acc})
        >>> lablens.agent(sweep_id, function=train, count=3)
        3
    """
    if function is None or not callable(function):
        raise E.UsageError("agent() needs the training function: agent(sweep_id, function=...)")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise E.UsageError(f"count must be a positive integer, not {count!r}")
    server, transport = _client(host, api_key)

    def default_entity() -> str:
        return entity or transport.get_json(VIEWER)["default_entity"]

    ws, proj, sid = _sweep_path(sweep_id, default_entity, project)
    route = f"{sweep_route(ws, proj, sid)}/claim"
    name = f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"
    done = 0
    while count is None or done < count:
        trial_data = transport.post_json(route, {"agent": name})["trial"]
        if trial_data is None:
            break
        run = trial_data["run"]
        trial = Trial(
            ws,
            proj,
            run["id"],
            trial_data["params"],
            server,
            transport.api_key,
            trial_data["index"],
            sweep_id=sid,
        )
        _local.trial = trial
        state = "FINISHED"
        try:
            function()
        except KeyboardInterrupt:
            state = "ABORTED"
            raise
        except Exception:  # a failed trial must not stop the sweep, as in W&B
            state = "CRASHED"
            print(
                f"lablens: trial {trial.index} of sweep {ws}/{proj}/{sid} failed:", file=sys.stderr
            )
            traceback.print_exc()
        finally:
            _local.trial = None
            _end_trial(trial, transport, state)
        done += 1
    return done


def _end_trial(trial: Trial, transport: Transport, state: str) -> None:
    if trial.run is not None:
        trial.run._finish(state, None)  # does nothing if the function finished it already
        return
    # The function never called init(): close the run the server made for the trial.
    with contextlib.suppress(E.ApiError, E.ConnectionFailed):
        transport.patch_json(
            run_route(trial.entity, trial.project, trial.run_id),
            {"state": state},
        )
