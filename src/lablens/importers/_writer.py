"""What every importer shares: the run read from a source, the report, and writing it through the
``Api`` the way logged data travels (HTTP, Arrow batches with ids). ``ImportReport`` and
``Problem`` are defined in ``lablens.api.import_report``, since ``Api.sync_tensorboard()``
returns them.

Re-importing is idempotent and resumable without any bookkeeping of our own: a source gives each
metric's points in the same order every time, and the server knows how many points of each
metric a run already holds (``run.history_keys``), so an import skips that many and sends the
rest. Each batch id names the exact points it carries (metric, first index, count), so a batch
retried after a lost answer, or sent again by an import interrupted before it heard back, is
stored once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from lablens._version import __version__
from lablens.api.import_report import ImportReport, Problem
from lablens.errors import Conflict, NotFound, UsageError
from lablens.importers._media import MediaSink

if TYPE_CHECKING:
    from lablens.api import Api, Run

__all__ = ["ImportReport", "Problem", "SourceRun", "write_runs"]

log = logging.getLogger("lablens.importers")

#: Points per request: large enough that a million points take a few dozen requests.
CHUNK_POINTS = 100_000

Point = tuple[str, int, float, float]


@dataclass
class SourceRun:
    """One run as a source holds it, ready to be written.

    ``read_points`` yields ``(key, step, timestamp, value)`` in the source's own order, the same
    order on every import; reading may fill in more fields (config, files, the end time) that
    are only known once the source has been read to its end.
    """

    source: str
    source_id: str
    location: str
    run_id: str
    read_points: Callable[[], Iterable[Point]]
    project: str | None = None
    entity: str | None = None
    name: str | None = None
    notes: str | None = None
    tags: list[str] = field(default_factory=list)
    group: str | None = None
    job_type: str | None = None
    host: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: float | None = None
    finished_at: float | None = None
    state: str = "FINISHED"
    exit_code: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    #: Files to upload: (name in the run, local path).
    files: list[tuple[str, Path]] = field(default_factory=list)
    #: Files made from the source's data: name in the run -> content.
    blobs: dict[str, bytes] = field(default_factory=dict)
    #: Callables that fetch a file only when it is needed: name -> (size or None, fetch).
    remote_files: dict[str, tuple[int | None, Callable[[Path], Path]]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Images, histograms, tables... met while the points are read (``_media.py``).
    media: MediaSink = field(default_factory=MediaSink)

    def source_info(self) -> dict[str, Any]:
        """What goes under ``metadata["source"]``: where the run came from."""
        return {
            "type": self.source,
            "id": self.source_id,
            "path": self.location,
            "importer": f"lablens {__version__}",
        }


def sanitize_project(name: str) -> str:
    """A source's project or experiment name as a lablens project name (no ``/``)."""
    cleaned = name.strip().strip("/").replace("/", "-")
    return cleaned or "uncategorized"


def _bars(progress: bool, total: int | None, source: str) -> tuple[Any, Any]:
    from tqdm.auto import tqdm

    runs = tqdm(
        total=total,
        desc=f"{source} runs",
        unit="run",
        disable=not progress,
        position=0,
        file=sys.stderr,
    )
    points = tqdm(
        desc="points", unit="pt", unit_scale=True, disable=not progress, position=1, file=sys.stderr
    )
    return runs, points


def report_problem(report: ImportReport, problem: Problem, progress: bool) -> None:
    """Keep a problem in the report, and say it at once (above the progress bars)."""
    report.problems.append(problem)
    log.warning("lablens import: %s", problem)
    if progress:
        from tqdm.auto import tqdm

        tqdm.write(f"lablens import: skipped {problem}", file=sys.stderr)


def write_runs(
    api: Api | None,
    runs: Iterable[SourceRun],
    *,
    source: str,
    project: str | None,
    entity: str | None,
    default_project: str,
    progress: bool,
    total: int | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Write each source run through ``api`` and say what was done.

    Args:
        api: the client to write through; ``None`` for ``lablens.Api()``.
        runs: the runs read from the source (read lazily, one at a time).
        source: the source's name, for the report and the progress bars.
        project: the project to write into; by default each run's own, else
            ``default_project``.
        entity: the workspace; by default the api's default entity.
        default_project: the project of runs whose source names none.
        progress: show progress bars (runs and points) on stderr.
        total: how many runs there are, for the progress bar; by default ``len(runs)`` for a
            list.
        report: a report to add to (problems found while finding the runs are in it).

    Returns:
        The ``ImportReport``.
    """
    if api is None:
        from lablens.api import Api

        api = Api()
    if total is None and isinstance(runs, list):
        total = len(runs)
    report = report or ImportReport(source)
    for problem in report.problems:
        log.warning("lablens import: %s", problem)
    run_bar, point_bar = _bars(progress, total, source)
    workspace = entity or api.default_entity
    try:
        for src in runs:
            proj = project or sanitize_project(src.project or default_project)
            try:
                path = _write_run(api, src, workspace, proj, report, point_bar)
            except _SkipRun as exc:
                report_problem(report, Problem(src.location, str(exc)), progress)
            else:
                report.runs.append(path)
            for problem in src.problems:
                report_problem(report, problem, progress)
            run_bar.update(1)
    finally:
        point_bar.close()
        run_bar.close()
    return report


class _SkipRun(Exception):
    """The run cannot be written (its id is taken by a run from elsewhere)."""


def _open_run(api: Api, src: SourceRun, workspace: str, project: str) -> Run:
    path = f"{workspace}/{project}/{src.run_id}"
    try:
        run = api.run(path)
    except NotFound:  # the run, or its whole project
        try:
            return api.create_run(
                src.run_id,
                project,
                workspace,
                name=src.name,
                config=src.config,
                tags=src.tags,
                notes=src.notes,
                group=src.group,
                job_type=src.job_type,
                host=src.host,
                metadata={**src.metadata, "source": src.source_info()},
                created_at=src.created_at,
            )
        except Conflict:  # made meanwhile by another import of the same source
            run = api.run(path)
    known = (run.metadata.get("source") or {}) if isinstance(run.metadata, dict) else {}
    if known.get("type") != src.source or known.get("id") != src.source_id:
        raise _SkipRun(
            f"run {path} exists and was not imported from this {src.source} run"
            f" ({src.source_id}); not writing into it"
        )
    return run


def _write_run(
    api: Api, src: SourceRun, workspace: str, project: str, report: ImportReport, bar: Any
) -> str:
    run = _open_run(api, src, workspace, project)
    stored = {k: int(v.get("count") or 0) for k, v in (run.history_keys or {}).items()}
    src.media.open(run, f"import:{src.source}:{src.source_id}")
    report.points += _send_points(run, src, stored, bar)
    src.media.close()
    # Read to its end, the source has filled in what it learned on the way.
    run.name = src.name or run.name
    run.notes = src.notes or ""
    run.tags = list(src.tags)
    run.group = src.group
    run.job_type = src.job_type
    run.config = src.config
    for key, value in src.summary.items():
        run.summary[key] = value
    run.update()
    report.files += _send_files(run, src)
    if src.state == "RUNNING":
        run.finish("RUNNING")
    else:
        run.finish(
            src.state, finished_at=src.finished_at or src.created_at, exit_code=src.exit_code
        )
    return run.path


class _Chunk:
    __slots__ = ("keys", "steps", "times", "values", "spans")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.steps: list[int] = []
        self.times: list[float] = []
        self.values: list[float] = []
        self.spans: dict[str, list[int]] = {}  # key -> [first index, count]

    def table(self) -> pa.Table:
        return pa.table(
            {
                "key": pa.array(self.keys, pa.string()),
                "step": pa.array(np.asarray(self.steps, dtype=np.int64)),
                "timestamp": pa.array(np.asarray(self.times, dtype=np.float64)),
                "value": pa.array(np.asarray(self.values, dtype=np.float64)),
            }
        )

    def batch_id(self, src: SourceRun) -> str:
        spans = sorted((k, s[0], s[1]) for k, s in self.spans.items())
        digest = hashlib.sha256(repr(spans).encode()).hexdigest()[:24]
        return f"import:{src.source}:{src.source_id}:{digest}"


def _send_points(run: Run, src: SourceRun, stored: dict[str, int], bar: Any) -> int:
    seen: dict[str, int] = {}
    chunk = _Chunk()
    sent = 0

    def flush() -> int:
        nonlocal chunk
        if not chunk.keys:
            return 0
        answer = run.log_points(chunk.table(), batch_id=chunk.batch_id(src))
        n = len(chunk.keys)
        bar.update(n)
        chunk = _Chunk()
        return int(answer.get("stored") or 0)

    for key, step, ts, value in src.read_points():
        index = seen.get(key, 0)
        seen[key] = index + 1
        if index < stored.get(key, 0):
            continue  # stored by an earlier import
        chunk.keys.append(key)
        chunk.steps.append(step)
        chunk.times.append(ts)
        chunk.values.append(value)
        span = chunk.spans.get(key)
        if span is None:
            chunk.spans[key] = [index, 1]
        else:
            span[1] += 1
        if len(chunk.keys) >= CHUNK_POINTS:
            sent += flush()
    sent += flush()
    return sent


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _send_files(run: Run, src: SourceRun) -> int:
    if not (src.files or src.blobs or src.remote_files):
        return 0
    have = {f.name: f for f in run.files(per_page=1000)}
    sent = 0
    with tempfile.TemporaryDirectory(prefix="lablens-import-") as tmp:
        root = Path(tmp)
        uploads: list[tuple[str, Path]] = []
        for name, content in src.blobs.items():
            local = root / "blobs" / name
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content)
            uploads.append((name, local))
        uploads += src.files
        for name, (size, fetch) in src.remote_files.items():
            known = have.get(name)
            if known is not None and size is not None and known.size == size:
                continue  # fetched and stored by an earlier import
            try:
                uploads.append((name, fetch(root / "remote")))
            except Exception as exc:  # any failure of the source's own client
                src.problems.append(Problem(f"{src.location}/{name}", f"not fetched: {exc}"))
        for name, local in uploads:
            try:
                known = have.get(name)
                if known is not None and known.md5 == _md5(local):
                    continue
                sent += _upload(run, name, local, root)
            except OSError as exc:
                src.problems.append(Problem(str(local), f"not read: {exc}"))
    return sent


def _upload(run: Run, name: str, local: Path, tmp: Path) -> int:
    """Upload ``local`` as the run file ``name`` (which need not be its path)."""
    staged = tmp / "stage" / name
    staged.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    try:
        staged.hardlink_to(local)
    except OSError:
        staged.write_bytes(local.read_bytes())
    run.upload_file(staged, root=tmp / "stage")
    staged.unlink()
    return 1


def find_log_runs(
    path: str | os.PathLike[str],
    *,
    source: str,
    what: str,
    read_header: Callable[[SourceRun, Path], None],
    read: Callable[[SourceRun, Path, Path], Iterable[Point]],
) -> list[SourceRun]:
    """The runs under ``path`` of a source that keeps one ``run-<id>.<source>`` log per run
    directory (W&B's ``.wandb``, SwanLab's ``.swanlab``), in path order.

    Args:
        path: a run directory, the source's log directory, or any directory above them.
        source: the source's name, which is also the log files' extension.
        what: how an error names the directory expected.
        read_header: reads what a run's log says up front into its ``SourceRun``.
        read: reads the points of a run as ``read(src, log, run_dir)``, once writing starts.

    Raises:
        UsageError: ``path`` is not a directory.
    """
    root = check_dir(path, what)
    found = []
    for log in sorted(root.rglob(f"run-*.{source}")):
        run_dir = log.parent
        source_id = log.stem.removeprefix("run-")
        src = SourceRun(
            source=source,
            source_id=source_id,
            location=str(run_dir),
            run_id=source_id,
            read_points=lambda: iter(()),
        )
        read_header(src, log)
        src.read_points = lambda src=src, log=log, run_dir=run_dir: read(src, log, run_dir)
        found.append(src)
    return found


def check_dir(path: Any, what: str) -> Path:
    """``path`` as an existing directory, or a ``UsageError`` saying what was expected."""
    p = Path(path).expanduser()
    if not p.is_dir():
        raise UsageError(f"{path} is not a directory; expected {what}")
    return p.resolve()


def short_hash(text: str, n: int = 12) -> str:
    """A stable short hex digest of ``text``, for run ids derived from a source."""
    return hashlib.sha1(text.encode()).hexdigest()[:n]
