"""Import runs from an MLflow tracking store: a ``sqlite:///`` (or other database) URI, a file
store path, or an ``http://`` tracking server, read with MLflow's own ``MlflowClient``.

- each experiment becomes a project of the same name (``/`` replaced by ``-``; ``--project``
  puts every run in one project);
- a run keeps its MLflow run id as its id, its name, its start and end time and its state
  (``FINISHED``; ``FAILED`` becomes ``CRASHED``, ``KILLED`` ``ABORTED``);
- params become the config, numbers and booleans parsed back from the strings MLflow keeps
  (``"0.01"`` -> ``0.01``, ``"64"`` -> ``64``, ``"True"`` -> ``True``; anything else stays a
  string);
- tags become tags (``key=value``; ``mlflow.*`` tags stay in ``metadata["mlflow"]["tags"]``),
  the note (``mlflow.note.content``) the notes, the parent run (``mlflow.parentRunId``) the group;
- every metric point comes in with its step and timestamp (milliseconds -> seconds);
- artifacts become run files under their artifact path.

A file store (`mlruns/`) is read even where MLflow 3 keeps it in maintenance mode.

Deleted experiments and runs are left out. A run, metric or artifact MLflow cannot read is
reported and skipped.

Example:
    >>> from lablens.importers import mlflow
    >>> mlflow.import_("sqlite:///mlflow.db")
    >>> mlflow.import_("http://127.0.0.1:5000", project="from-mlflow")
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens.errors import UsageError
from lablens.importers._writer import (
    ImportReport,
    Point,
    Problem,
    SourceRun,
    report_problem,
    write_runs,
)

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["import_", "parse_param", "tracking_uri"]

DEFAULT_PROJECT = "mlflow"
STATES = {
    "FINISHED": "FINISHED",
    "FAILED": "CRASHED",
    "KILLED": "ABORTED",
    "RUNNING": "RUNNING",
    "SCHEDULED": "RUNNING",
}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
# No leading zeros: "007" is an id, not the number 7.
_FLOAT = re.compile(r"[-+]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")
_SPECIAL = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "infinity": math.inf,
    "-infinity": -math.inf,
}


def parse_param(text: str) -> Any:
    """An MLflow param (always a string) as the value it was logged as, where that is clear.

    Args:
        text: the param's value as MLflow keeps it.

    Returns:
        An ``int`` (``"64"``), a ``float`` (``"0.01"``, ``"1e-3"``, ``"nan"``), a ``bool``
        (``"True"``, ``"False"``), ``None`` (``"None"``), or the string itself.

    Example:
        >>> parse_param("0.01"), parse_param("64"), parse_param("adam")
        (0.01, 64, 'adam')
    """
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text.lower() in _SPECIAL:
        return _SPECIAL[text.lower()]
    if text in ("True", "False", "true", "false"):
        return text in ("True", "true")
    if text == "None":
        return None
    return text


def tracking_uri(path: str | os.PathLike[str]) -> str:
    """The tracking URI for what the user gave: a URI as is, a directory as a file store, a
    ``.db``/``.sqlite`` file as a sqlite store.

    Raises:
        UsageError: a local path that does not exist.
    """
    text = os.fspath(path)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) or text.startswith("databricks"):
        return text
    local = Path(text).expanduser()
    if local.is_dir():
        return local.resolve().as_uri()
    if local.is_file():
        return f"sqlite:///{local.resolve()}"
    raise UsageError(f"{text} is neither a tracking URI nor an existing MLflow store path")


def _points(client: Any, src: SourceRun, keys: list[str]) -> Iterator[Point]:
    for key in sorted(keys):
        try:
            history = client.get_metric_history(src.source_id, key)
        except Exception as exc:  # MLflow's client raises its own MlflowException and others
            src.problems.append(Problem(f"{src.location}/metrics/{key}", f"not read: {exc}"))
            continue
        # A stable order on every import: by time, then step, then value.
        ordered = sorted(history, key=lambda m: (m.timestamp, m.step, math.isnan(m.value), m.value))
        for m in ordered:
            yield key, int(m.step), m.timestamp / 1000.0, float(m.value)


def _artifacts(client: Any, src: SourceRun, path: str | None = None) -> None:
    try:
        entries = client.list_artifacts(src.source_id, path)
    except Exception as exc:
        src.problems.append(Problem(f"{src.location}/artifacts/{path or ''}", f"not listed: {exc}"))
        return
    for entry in entries:
        if entry.is_dir:
            _artifacts(client, src, entry.path)
            continue

        def fetch(dst: Path, name: str = entry.path) -> Path:
            dst.mkdir(parents=True, exist_ok=True)
            return Path(client.download_artifacts(src.source_id, name, str(dst)))

        src.remote_files[entry.path] = (entry.file_size, fetch)


def _source_run(client: Any, run: Any, experiment: Any, uri: str) -> SourceRun:
    info, data = run.info, run.data
    tags = dict(data.tags)
    user_tags = sorted((k, v) for k, v in tags.items() if not k.startswith("mlflow."))
    src = SourceRun(
        source="mlflow",
        source_id=info.run_id,
        location=f"{uri}#{experiment.experiment_id}/{info.run_id}",
        run_id=info.run_id,
        read_points=lambda: iter(()),
        project=experiment.name,
        name=info.run_name or tags.get("mlflow.runName") or info.run_id,
        notes=tags.get("mlflow.note.content"),
        tags=[k if v == "" else f"{k}={v}" for k, v in user_tags],
        group=tags.get("mlflow.parentRunId"),
        host=tags.get("mlflow.source.host"),
        config={k: parse_param(v) for k, v in sorted(data.params.items())},
        metadata={
            "mlflow": {
                "experiment_id": experiment.experiment_id,
                "experiment": experiment.name,
                "user_id": info.user_id,
                "artifact_uri": info.artifact_uri,
                "status": info.status,
                "tags": tags,
                "params": dict(data.params),
            }
        },
        created_at=info.start_time / 1000.0 if info.start_time else None,
        finished_at=info.end_time / 1000.0 if info.end_time else None,
        state=STATES.get(info.status, "FINISHED"),
    )
    keys = list(data.metrics)
    src.read_points = lambda: _points(client, src, keys)
    _artifacts(client, src)
    return src


def _find_runs(client: Any, uri: str, report: ImportReport, progress: bool) -> Iterator[SourceRun]:
    from mlflow.entities import ViewType

    token = None
    experiments = []
    while True:
        page = client.search_experiments(
            view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=token
        )
        experiments += list(page)
        token = page.token
        if not token:
            break
    for experiment in experiments:
        token = None
        while True:
            try:
                page = client.search_runs(
                    [experiment.experiment_id],
                    run_view_type=ViewType.ACTIVE_ONLY,
                    max_results=1000,
                    order_by=["attributes.start_time ASC"],
                    page_token=token,
                )
            except Exception as exc:
                report_problem(
                    report,
                    Problem(f"{uri}#{experiment.experiment_id}", f"runs not listed: {exc}"),
                    progress,
                )
                break
            for run in page:
                yield _source_run(client, run, experiment, uri)
            token = page.token
            if not token:
                break


def import_(
    path: str | os.PathLike[str],
    *,
    project: str | None = None,
    entity: str | None = None,
    api: Api | None = None,
    progress: bool = True,
) -> ImportReport:
    """Import every active run of every active experiment of an MLflow tracking store.

    Args:
        path: a tracking URI (``sqlite:///mlflow.db``, ``http://host:5000``, ``file:///...``),
            a file store directory (``mlruns/``), or a sqlite file.
        project: the project to put every run in; by default each experiment's own name.
        entity: the workspace to import into (default: the signed-in user's).
        api: the client to write through (default: ``lablens.Api()``).
        progress: show progress bars of runs and points on stderr.

    Returns:
        An ``ImportReport``.

    Raises:
        UsageError: ``path`` is no URI and no existing path.

    Example:
        >>> mlflow.import_("sqlite:///mlflow.db", project="from-mlflow").runs
    """
    from mlflow import MlflowClient

    uri = tracking_uri(path)
    with _file_store_allowed(uri):
        client = MlflowClient(tracking_uri=uri)
        report = ImportReport("mlflow")
        runs = _find_runs(client, uri, report, progress)
        return write_runs(
            api,
            runs,
            source="mlflow",
            project=project,
            entity=entity,
            default_project=DEFAULT_PROJECT,
            progress=progress,
            report=report,
        )


@contextlib.contextmanager
def _file_store_allowed(uri: str) -> Iterator[None]:
    """MLflow 3 opens its file store (``mlruns/``) only with ``MLFLOW_ALLOW_FILE_STORE``; the
    import only reads it, so it is allowed while the import runs."""
    name = "MLFLOW_ALLOW_FILE_STORE"
    before = os.environ.get(name)
    if uri.startswith("file:") and before is None:
        os.environ[name] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
