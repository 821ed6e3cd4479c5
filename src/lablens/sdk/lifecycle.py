"""Starting and ending runs: ``init()``, ``finish()``, the current run, and the exit hooks.

Runs still open when the interpreter exits are finished by an ``atexit`` handler: ``CRASHED`` if
it exits because of an uncaught exception, ``ABORTED`` after ``KeyboardInterrupt`` (Ctrl-C), else
``FINISHED``. A chained ``sys.excepthook`` tells which, since ``atexit`` alone cannot.
"""

from __future__ import annotations

import atexit
import os
import secrets
import string
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from lablens import errors as E
from lablens._settings import resolve_api_key, resolve_host
from lablens.sdk import metadata, sweeps
from lablens.sdk.config import _as_mapping, to_json
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

_lock = threading.Lock()
_open: list[Run] = []
_exit_state: str | None = None
_hooks_installed = False


def new_run_id() -> str:
    """8 random lowercase letters and digits: made here, so a retried create is the same run."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def current_run() -> Run | None:
    """The run started last by ``init()`` and not finished yet, or ``None``."""
    with _lock:
        return _open[-1] if _open else None


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
    host: str | None = None,
    api_key: str | None = None,
    settings: Settings | dict[str, Any] | None = None,
) -> Run:
    """Start a new run (or resume one) and return it; it becomes the current run.

    Args:
        project: the project to log to; created if missing. Default ``"uncategorized"``.
        name: a short display name for the run.
        config: the run's hyperparameters, a dict (or an ``argparse.Namespace``).
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
        dir: where local files go (the console copy ``output.log``, the offline spool): a
            ``run-<time>-<id>`` directory in it. Default ``./lablens`` (or ``LABLENS_DIR``).
        host: the server's address. Default ``LABLENS_HOST``, else the local server (started
            if none runs).
        api_key: the API key. Default ``LABLENS_API_KEY``, else the one stored for ``host``.
        settings: a ``Settings`` (or a dict of its fields): system metrics interval, console
            copy, batching, flush timeout.

    Returns:
        The ``Run``; use it as a context manager to finish it, or call ``run.finish()``.

    Raises:
        lablens.errors.ConnectionFailed: the server cannot be reached.
        lablens.errors.Conflict: a run with this ``id`` exists and ``resume`` is ``"never"``.
        lablens.errors.RunNotFound: ``resume="must"`` and there is no such run.

    Example:
        >>> import lablens
        >>> with lablens.init(project="mnist", config={"lr": 0.01}) as run:
        ...     run.log({"loss": 0.5})
    """
    resolved = Settings.resolve(settings)
    trial = sweeps.pending_trial()
    if trial is not None:
        # Called by a sweep agent's function: join the run the server made for the trial.
        entity, project, id, resume = trial.entity, trial.project, trial.run_id, "must"
        host, api_key = host or trial.host, api_key or trial.api_key
    if resume not in _RESUME:
        raise E.UsageError(
            f"init: resume must be one of 'allow', 'must', 'never', True, False or None, "
            f"not {resume!r}",
            field="resume",
        )
    mode = _RESUME[resume]
    if mode == "must" and not id:
        raise E.UsageError("init: resume='must' needs the id of the run to resume", field="id")
    server = resolve_host(host)
    transport = Transport(server, resolve_api_key(server, api_key))
    if entity is None:
        entity = transport.get_json("/api/v1/viewer")["default_entity"]
    project = project or "uncategorized"
    given_config = to_json(dict(_as_mapping(config, "init: config")))
    if trial is not None:
        # The trial's parameters win over the defaults the function passes, as in W&B.
        given_config = sweeps.deep_merge(given_config, trial.params)
    if isinstance(tags, str):
        tags = [tags]
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
        "resume": mode,
    }
    body = {k: v for k, v in body.items() if v is not None}
    runs = f"/api/v1/projects/{entity}/{project}/runs"
    try:
        data = transport.post_json(runs, body)
    except E.Conflict:
        if id:
            raise
        # Our own fresh random id can only exist because the transport retried a create whose
        # answer was lost: that run is this one.
        data = transport.get_json(f"{runs}/{body['id']}")
    root = Path(dir or os.environ.get("LABLENS_DIR") or "lablens").absolute()
    run = Run(data, host=server, api_key=transport.api_key, settings=resolved, root_dir=root)
    # A resumed run keeps its stored config; what init() was given is laid over it.
    merged = {**run.config.as_dict(), **given_config}
    if merged != run.config.as_dict():
        run.config.update(given_config)
    if trial is not None:
        trial.run = run
    _register(run)
    run._start()
    threading.Thread(target=_send_conda, args=(run,), name="lablens-conda", daemon=True).start()
    return run


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


def _register(run: Run) -> None:
    global _hooks_installed
    with _lock:
        _open.append(run)
        if not _hooks_installed:
            _hooks_installed = True
            _previous = sys.excepthook

            def excepthook(
                exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
            ) -> None:
                global _exit_state
                _exit_state = "ABORTED" if issubclass(exc_type, KeyboardInterrupt) else "CRASHED"
                _previous(exc_type, exc, tb)

            sys.excepthook = excepthook
            atexit.register(_at_exit)


def _forget(run: Run) -> None:
    with _lock:
        if run in _open:
            _open.remove(run)


def _at_exit() -> None:
    state = _exit_state or "FINISHED"
    with _lock:
        runs = [r for r in reversed(_open) if r._pid == os.getpid()]  # not a fork's parent runs
    for run in runs:
        try:
            run._finish(state, None)
        except Exception as exc:  # the next run must still be finished
            print(f"lablens: could not finish run {run.path}: {exc}", file=sys.stderr)
