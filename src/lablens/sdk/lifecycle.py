"""Starting and ending runs: ``init()``, ``finish()`` and the current run.

The runs not finished yet, and the exit hooks that finish them, are in ``live_runs.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import string
import threading
import time
from pathlib import Path
from typing import Any

from lablens import errors as E
from lablens._settings import normalize_host, resolve_api_key, resolve_host
from lablens.contract.routes import VIEWER, project_route
from lablens.sdk import live_runs, metadata, run_card, sweeps
from lablens.sdk.config import _as_mapping, to_json
from lablens.sdk.disabled import DisabledRun
from lablens.sdk.queued import queued_env
from lablens.sdk.runs import Run
from lablens.sdk.settings import Settings
from lablens.transport import Transport

_ID_ALPHABET = string.ascii_lowercase + string.digits
_RESUME = {
    None: "never",
    False: "never",
    True: "allow",
    "never": "never",
    "allow": "allow",
    "must": "must",
}


#: What ``init(mode=...)`` (or ``LABLENS_MODE``) may be.
MODES = ("online", "offline", "disabled")


def new_run_id() -> str:
    """8 random lowercase letters and digits: made here, so a retried create is the same run."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def current_run() -> Run | None:
    """The run started last by ``init()`` and not finished yet, or ``None``."""
    return live_runs.current_run()


def init(
    project: str | None = None,
    name: str | None = None,
    config: Any = None,
    tags: list[str] | tuple[str, ...] | None = None,
    group: str | None = None,
    job_type: str | None = None,
    notes: str | None = None,
    entity: str | None = None,
    id: str | None = None,  # noqa: A002 - W&B's name
    resume: bool | str | None = None,
    dir: str | os.PathLike[str] | None = None,  # noqa: A002 - W&B's name
    *,
    mode: str | None = None,
    host: str | None = None,
    api_key: str | None = None,
    settings: Settings | dict[str, Any] | None = None,
) -> Run:
    """Start a new run (or resume one) and return it; it becomes the current run.

    Args:
        project: the project to log to; created if missing. Default ``"uncategorized"``.
        name: a short display name for the run.
        config: the run's hyperparameters, a dict (or an ``argparse.Namespace``), nested at most
            32 levels deep.
        tags: labels to find the run by.
        group: the group the run belongs to (e.g. one distributed training).
        job_type: the kind of run, e.g. ``"train"`` or ``"eval"``.
        notes: a longer description.
        entity: the user or team that owns the run. Default: the signed-in user's default
            entity (``GET /api/v1/viewer``).
        id: the run's id, unique in its project; needed to resume. Default: 8 random lowercase
            letters and digits.
        resume: ``"allow"`` (or ``True``): continue the run ``id`` if it exists, else create it;
            ``"must"``: continue it, fail if it does not exist; ``"never"`` (or ``None``): fail
            if it exists. A resumed run's step goes on after its last logged step.
        dir: where local files go (the run's log ``run.wal``, the console copy ``output.log``):
            a ``run-<time>-<id>`` directory in it. Default ``./lablens`` (or ``LABLENS_DIR``).
        mode: ``"online"`` (the default, or ``LABLENS_MODE``) sends to the server as the run
            goes; ``"offline"`` needs no server: everything goes to the run's log, and
            ``lablens sync <run dir>`` uploads it later; ``"disabled"`` needs no server and
            writes nothing: the run's calls do nothing (a ``DisabledRun``).
        host: the server's address. Default ``LABLENS_HOST``, else the local server (started
            if none runs).
        api_key: the API key. Default ``LABLENS_API_KEY``, else the one stored for ``host``.
        settings: a ``Settings`` (or a dict of its fields): system metrics interval, console
            copy, batching, flush and init timeouts, ``silent``.

    Returns:
        The ``Run``; use it as a context manager to finish it, or call ``run.finish()``.
        In a notebook, ``init()`` shows the run's card (a link to it, and a sparkline per
        logged metric, redrawn as it logs); in a terminal it prints one line, ``lablens: run
        NAME (ID) → URL``. ``settings={"silent": True}`` (or ``LABLENS_SILENT=true``) shows
        nothing.

        A new run (``resume="never"``, the default) does not wait for the server: it is
        created with its first records, sent in the background ``flush_interval`` (0.25 s)
        after ``init()``, or by ``finish()`` if that comes first, so a short run costs one
        request. The server's refusal of it (a missing workspace, one the key may not write,
        an ``id`` taken) is raised by the next ``run.log()`` and at the latest by
        ``finish()``. The only request ``init()`` may wait for is the first run's of a process
        without ``entity``, which asks the server for the default entity (once per server and
        key). Resuming (``resume="allow"`` or ``"must"``) waits for the server, which answers
        the run's last step and stored config.

    Raises:
        lablens.errors.ConnectionFailed: the server did not answer within
            ``settings.init_timeout`` seconds (90, or ``LABLENS_INIT_TIMEOUT``) when asked for
            the default entity or to resume a run; ``init()`` retries with backoff until then.
        lablens.errors.Conflict: a run with this ``id`` exists and ``resume`` is ``"never"``
            (raised by ``run.log()`` or ``finish()``, as the creation is not waited for).
        lablens.errors.RunNotFound: ``resume="must"`` and there is no such run.
        lablens.errors.UsageError: a bad argument (``.field`` names it), e.g. a config nested
            too deep.

    Example:
        >>> import lablens
        >>> with lablens.init(project="mnist", config={"lr": 0.01}) as run:
        ...     run.log({"loss": 0.5})
    """
    resolved = Settings.resolve(settings)
    chosen = _mode(mode)
    offline = chosen == "offline"
    trial = sweeps.pending_trial()
    if trial is not None:
        if chosen != "online":
            raise E.UsageError(
                f"init: a sweep's trial needs a server, not mode={chosen!r}", field="mode"
            )
        # Called by a sweep agent's function: join the run the server made for the trial.
        entity, project, id, resume = trial.entity, trial.project, trial.run_id, "must"
        host, api_key = host or trial.host, api_key or trial.api_key
    queued = queued_env() if trial is None and chosen == "online" else None
    if queued is not None:
        # Run by `lablens agent`: join the run the queue's claim made (sdk/queued.py).
        entity, project, id, resume = queued.entity, queued.project, queued.run_id, "must"
    if resume not in _RESUME:
        raise E.UsageError(
            f"init: resume must be one of 'allow', 'must', 'never', True, False or None, "
            f"not {resume!r}",
            field="resume",
        )
    resume_mode = _RESUME[resume]
    if resume_mode == "must" and not id:
        raise E.UsageError("init: resume='must' needs the id of the run to resume", field="id")
    project = project or "uncategorized"
    given_config = to_json(dict(_as_mapping(config, "init: config")), path="config")
    if trial is not None:
        # The trial's parameters win over the defaults the function passes, as in W&B.
        given_config = sweeps.deep_merge(given_config, trial.params)
    if queued is not None:
        given_config = sweeps.deep_merge(given_config, queued.config)
    if isinstance(tags, str):
        tags = [tags]
    if chosen == "disabled":
        disabled = DisabledRun(
            id=id or new_run_id(),
            project=project,
            name=name,
            entity=entity,
            config=given_config,
            tags=tuple(tags or ()),
            group=group,
            job_type=job_type,
            notes=notes,
        )
        live_runs.register(disabled)
        return disabled  # type: ignore[return-value]  # a Run whose calls do nothing, as W&B's
    meta = metadata.collect()
    body = {
        "id": id or new_run_id(),
        "name": name,
        "notes": notes,
        "config": given_config,
        "tags": list(tags) if tags is not None else None,
        "group": group,
        "job_type": job_type,
        "host": meta["host"],
        "metadata": meta,
        "requirements": metadata.requirements(),
        "conda": None,
        "resume": resume_mode,
        # A new run starts now, on this clock: its creation reaches the server with its first
        # records (or from `lablens sync`), and a point's _runtime (its time minus the start)
        # must not go below 0.
        "created_at": _now_iso() if resume_mode == "never" else None,
    }
    body = {k: v for k, v in body.items() if v is not None}
    root = Path(dir or os.environ.get("LABLENS_DIR") or "lablens").absolute()
    if offline:
        # No server is asked anything, not even to start: the host (if known) is only a default
        # for `lablens sync`.
        where = host or os.environ.get("LABLENS_HOST")
        data = {k: body.get(k) for k in ("id", "name", "notes", "config", "tags", "group")}
        data.update(entity=entity, project=project, job_type=job_type)
        run = Run(
            data,
            host=normalize_host(where) if where else None,
            api_key=None,
            settings=resolved,
            root_dir=root,
            offline=True,
            create=body,
        )
    else:
        run = _init_online(
            body, project, entity, host, api_key, resolved, root, given_config, explicit_id=id
        )
    if trial is not None:
        trial.run = run
        # The server made the trial's run before the function ran; as in W&B, what init()
        # names (name, notes, tags, group, job type) applies to it.
        named = ("name", "notes", "tags", "group", "job_type")
        given = {k: body[k] for k in named if body.get(k) is not None}
        if given:
            run._sender.set_fields(given)
            run._name = given.get("name", run._name)
            run._notes = given.get("notes", run._notes)
            run._tags = tuple(given.get("tags", run._tags))
            run.group = given.get("group", run.group)
            run.job_type = given.get("job_type", run.job_type)
    live_runs.register(run)
    # Before the console copy starts: the card's line is lablens's, not the script's output.
    card = run_card.start_card(run, silent=resolved.silent)
    if card is not None:
        run._card = card
        if card.notebook:
            run._observe = card.observe
    run._start()
    if not offline and metadata.in_conda():
        threading.Thread(target=_send_conda, args=(run,), name="lablens-conda", daemon=True).start()
    return run


def _mode(mode: str | None) -> str:
    value = mode if mode is not None else (os.environ.get("LABLENS_MODE") or "online")
    if value not in MODES:
        where = "init: mode" if mode is not None else "LABLENS_MODE"
        raise E.UsageError(
            f"{where} must be 'online', 'offline' or 'disabled', not {value!r}", field="mode"
        )
    return value


#: The default entity of each (server, key) asked this process: asked once, not at every run.
_DEFAULT_ENTITY: dict[tuple[str, str | None], str] = {}


def _now_iso() -> str:
    """Now, as an ISO 8601 time in UTC."""
    return dt.datetime.now(dt.UTC).isoformat()


def _init_online(
    body: dict[str, Any],
    project: str,
    entity: str | None,
    host: str | None,
    api_key: str | None,
    settings: Settings,
    root: Path,
    given_config: dict[str, Any],
    *,
    explicit_id: str | None,
) -> Run:
    server = resolve_host(host)
    deadline = time.monotonic() + settings.init_timeout
    # retries=0: the waiting is done here, with backoff, up to init_timeout.
    transport = Transport(server, resolve_api_key(server, api_key), retries=0)
    if entity is None:
        known = (server, transport.api_key)
        if known not in _DEFAULT_ENTITY:
            viewer = _retrying(
                transport, deadline, settings.init_timeout, lambda: transport.get_json(VIEWER)
            )
            _DEFAULT_ENTITY[known] = viewer["default_entity"]
        entity = _DEFAULT_ENTITY[known]
    if body["resume"] == "never":
        # A new run: nothing to wait for. It is created with its first records (the sender's
        # first request, flush_interval from now, or finish()'s), and a refusal is raised by
        # run.log() or finish().
        data = {k: body.get(k) for k in ("id", "name", "notes", "config", "tags", "group")}
        data.update(entity=entity, project=project, job_type=body.get("job_type"))
        return Run(
            data,
            host=server,
            api_key=transport.api_key,
            settings=settings,
            root_dir=root,
            create=body,
            pending=True,
            own_id=explicit_id is None,
        )
    # Resuming: the run's last step and stored config are needed before the first log().
    health = _retrying(transport, deadline, settings.init_timeout, lambda: _health(transport))
    # A heartbeat well within the server's timeout: missing one must not make the run CRASHED.
    heartbeat = settings.heartbeat_interval
    timeout = health.get("heartbeat_timeout") if isinstance(health, dict) else None
    if isinstance(timeout, (int, float)) and timeout > 0:
        heartbeat = min(heartbeat, timeout / 4)
    runs = f"{project_route(entity, project)}/runs"
    data = _retrying(
        transport, deadline, settings.init_timeout, lambda: transport.post_json(runs, body)
    )
    run = Run(
        data,
        host=server,
        api_key=transport.api_key,
        settings=settings,
        root_dir=root,
        create=body,
        heartbeat_interval=heartbeat,
    )
    # A resumed run keeps its stored config; what init() was given is laid over it.
    merged = {**run.config.as_dict(), **given_config}
    if merged != run.config.as_dict():
        run.config.update(given_config)
    return run


def _health(transport: Transport) -> Any:
    return transport.request("GET", "/health", timeout=10).json()


def _retrying(transport: Transport, deadline: float, timeout: float, call: Any) -> Any:
    """``call()``, again with backoff while the server is unreachable or answers 5xx/408/429."""
    delay = 0.5
    while True:
        try:
            return call()
        except (E.ConnectionFailed, E.ApiError) as exc:
            if isinstance(exc, E.ApiError) and not (
                exc.status is None or exc.status >= 500 or exc.status in (408, 429)
            ):
                raise
            if time.monotonic() + delay > deadline:
                raise E.ConnectionFailed(
                    f"init: no answer from the lablens server at {transport.base_url} within "
                    f"{timeout:g}s ({exc}). Start the server, wait longer (Settings.init_timeout,"
                    " LABLENS_INIT_TIMEOUT), or log without it: init(mode='offline'), then "
                    "`lablens sync <run dir>`"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 8.0)


def _send_conda(run: Run) -> None:
    # `conda env export` takes seconds: never in init()'s way; sent as an update when ready.
    env = metadata.conda()
    if env and not run._closed:
        run._sender.set_fields({"conda": env})


def finish(exit_code: int | None = None, *, timeout: float | None = None) -> None:
    """Finish the current run (see ``Run.finish``); does nothing when there is none."""
    run = current_run()
    if run is not None:
        run.finish(exit_code, timeout=timeout)
