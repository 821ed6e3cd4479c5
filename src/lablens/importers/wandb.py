"""Import W&B run directories written offline (``wandb/offline-run-*``; online ``run-*``
directories work too), read with wandb's own reader of its ``.wandb`` transaction log
(``wandb.sdk.internal.datastore``) and its ``Record`` protobuf.

- a run keeps its W&B run id as its id, and its name, notes, tags, group, job type, host and
  start time; its project is the W&B project (``--project`` overrides);
- the config is the run's config as last updated (W&B's own ``_wandb`` key left out);
- every history row comes in: each number (and bool) logged becomes a point at the row's
  ``_step`` and ``_timestamp``, nested keys joined with dots (``{"acc": {"top1": ..}}`` ->
  ``acc.top1``), NaN and ±inf kept; strings are not metrics and stay out;
- the media of each row (images and galleries with their captions, tables, histograms, WAV
  audio, HTML, plotly figures, videos) become media items under their key at the row's step,
  read from the files W&B kept under ``files/media/`` (an image's PNG byte for byte);
- the summary is the run's final summary (numbers, strings, lists; keys of W&B's own, starting
  with ``_``, left out);
- the files under ``files/`` (media, ``requirements.txt``, ``config.yaml`` ...) become run files,
  and the console output ``output.log`` when the directory has none;
- the run ends ``FINISHED`` (``CRASHED`` for a non-zero exit code, or when the log has no exit
  record: the process died) at its last recorded time.

System metrics are not imported. A ``.wandb`` file that is truncated or corrupt is reported
with its path; the records before the damage are imported.

wandb 0.30 removed its Python reader of ``.wandb`` files; this importer needs a wandb that has it
(``pip install 'wandb<0.30'``, or ``pip install 'lablens[import-test]'``). The runs it reads may
have been written by any wandb version.

Example:
    >>> from lablens.importers import wandb
    >>> wandb.import_("wandb/", project="mnist")
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens.errors import UsageError
from lablens.importers._wandb_media import media_of, references
from lablens.importers._writer import (
    ImportReport,
    Point,
    Problem,
    SourceRun,
    find_log_runs,
    write_runs,
)

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["find_runs", "import_"]

DEFAULT_PROJECT = "wandb"


def _reader() -> tuple[Any, Any]:
    try:
        from wandb.proto import wandb_internal_pb2
        from wandb.sdk.internal import datastore
    except ImportError as exc:
        raise UsageError(
            "importing W&B runs needs wandb's reader of .wandb files"
            " (wandb.sdk.internal.datastore), which wandb 0.30 removed:"
            " pip install 'wandb<0.30'"
        ) from exc
    return datastore, wandb_internal_pb2


def _records(path: Path, problems: list[Problem]) -> Iterator[Any]:
    """Every record of a ``.wandb`` file; damage is reported and ends the reading."""
    datastore, pb = _reader()
    store = datastore.DataStore()
    count = 0
    try:
        store.open_for_scan(str(path))
        while True:
            data = store.scan_data()
            if data is None:
                if store.get_offset() < path.stat().st_size:
                    raise ValueError("the last record is cut short")
                break
            record = pb.Record()
            record.ParseFromString(data)
            count += 1
            yield record
    except Exception as exc:  # the reader asserts on damage; protobuf raises DecodeError
        problems.append(
            Problem(
                str(path),
                f"truncated, corrupt or unreadable after {count}"
                f" records ({type(exc).__name__}: {exc}); the records before"
                " it were imported",
            )
        )
    finally:
        store.close()


def _set_nested(target: dict[str, Any], item: Any, value: Any) -> None:
    parts = list(item.nested_key) or [item.key]
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[parts[-1]] = value


def _remove_nested(target: dict[str, Any], item: Any) -> None:
    parts = list(item.nested_key) or [item.key]
    for part in parts[:-1]:
        target = target.get(part)
        if not isinstance(target, dict):
            return
    target.pop(parts[-1], None)


def _numbers(prefix: str, value: Any) -> Iterator[tuple[str, float]]:
    """The metric values in a history item: numbers and bools, dicts walked (not media)."""
    if isinstance(value, bool):
        yield prefix, float(value)
    elif isinstance(value, (int, float)):
        try:
            yield prefix, float(value)
        except OverflowError:  # an int beyond float64: keep its sign, as run.log() does
            yield prefix, math.copysign(math.inf, value)
    elif isinstance(value, dict) and "_type" not in value:
        for k, v in value.items():
            yield from _numbers(f"{prefix}.{k}", v)


def _plain(value: Any) -> bool:
    """A summary value worth keeping: not W&B media or a table (dicts with ``_type``)."""
    if isinstance(value, dict):
        return "_type" not in value and all(_plain(v) for v in value.values())
    return True


def _ts(stamp: Any) -> float:
    return stamp.seconds + stamp.nanos / 1e9


def _add_media(src: SourceRun, row: dict[str, Any], step: int, ts: float, files: Path) -> None:
    for key, ref in references(row):
        try:
            values = media_of(ref, files)
        except Exception as exc:  # a broken reference or file: the rest of the run comes in
            src.problems.append(Problem(str(files), f"{key} at step {step} not imported: {exc}"))
            continue
        for index, media in enumerate(values):
            src.media.add(key, step, ts, media, index)


def _read(src: SourceRun, log: Path, run_dir: Path) -> Iterator[Point]:
    config: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    console: list[str] = []
    last_time = src.created_at
    exit_code: int | None = None
    for record in _records(log, src.problems):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
            for item in run.config.update:
                _set_nested(config, item, json.loads(item.value_json))
            for item in run.summary.update:
                _set_nested(summary, item, json.loads(item.value_json))
        elif kind == "config":
            for item in record.config.update:
                _set_nested(config, item, json.loads(item.value_json))
            for item in record.config.remove:
                _remove_nested(config, item)
        elif kind == "history":
            # wandb spreads a nested value (a dict, or a media object) over items with a
            # nested_key; built back up, a media object is a dict with "_type" again.
            row: dict[str, Any] = {}
            for item in record.history.item:
                _set_nested(row, item, json.loads(item.value_json))
            step = row.get("_step")
            if not isinstance(step, int):
                step = int(record.history.step.num)
            ts = row.get("_timestamp")
            ts = float(ts) if isinstance(ts, (int, float)) else (last_time or 0.0)
            last_time = max(last_time or ts, ts)
            for key, value in row.items():
                if key.startswith("_"):
                    continue
                for name, number in _numbers(key, value):
                    yield name, step, ts, number
            _add_media(src, row, step, ts, run_dir / "files")
        elif kind == "summary":
            for item in record.summary.update:
                _set_nested(summary, item, json.loads(item.value_json))
            for item in record.summary.remove:
                _remove_nested(summary, item)
        elif kind == "exit":
            exit_code = int(record.exit.exit_code)
        elif kind == "output_raw":
            console.append(record.output_raw.line)
        elif kind == "output":
            console.append(record.output.line)
    config.pop("_wandb", None)
    src.config = config
    stamp = summary.get("_timestamp")
    if isinstance(stamp, (int, float)):
        last_time = max(last_time or stamp, float(stamp))
    src.summary = {k: v for k, v in summary.items() if not k.startswith("_") and _plain(v)}
    src.finished_at = last_time
    src.exit_code = exit_code
    src.state = "CRASHED" if exit_code is None or exit_code != 0 else "FINISHED"
    files = run_dir / "files"
    if files.is_dir():
        src.files = [
            (p.relative_to(files).as_posix(), p) for p in sorted(files.rglob("*")) if p.is_file()
        ]
    if console and not (files / "output.log").exists():
        src.blobs["output.log"] = "".join(console).encode()


def _header(src: SourceRun, log: Path) -> None:
    """The run record (the second in the log) gives what creating the run needs."""
    problems: list[Problem] = []
    for record in _records(log, problems):
        if record.WhichOneof("record_type") != "run":
            continue
        run = record.run
        src.source_id = run.run_id or src.source_id
        src.run_id = src.source_id
        src.project = run.project or None
        src.name = run.display_name or run.run_id
        src.notes = run.notes or None
        src.tags = list(run.tags)
        src.group = run.run_group or None
        src.job_type = run.job_type or None
        src.host = run.host or None
        if run.HasField("start_time"):
            src.created_at = _ts(run.start_time)
        src.metadata = {
            "wandb": {
                "project": run.project,
                "entity": run.entity,
                "run_id": run.run_id,
                "host": run.host,
            }
        }
        return


def find_runs(path: str | os.PathLike[str]) -> list[SourceRun]:
    """The W&B runs under ``path`` (a run directory, a ``wandb/`` directory, or any directory
    above them), each with its header read, as ``find_log_runs`` finds them.

    Raises:
        UsageError: ``path`` is not a directory, or wandb's reader is missing.
    """
    _reader()
    return find_log_runs(
        path,
        source="wandb",
        what="a W&B run directory or a wandb/ directory",
        read_header=_header,
        read=_read,
    )


def import_(
    path: str | os.PathLike[str],
    *,
    project: str | None = None,
    entity: str | None = None,
    api: Api | None = None,
    progress: bool = True,
) -> ImportReport:
    """Import every W&B run directory under ``path``.

    Args:
        path: a run directory (``wandb/offline-run-...``), a ``wandb/`` directory, or any
            directory above them.
        project: the project to import into; by default each run's W&B project.
        entity: the workspace to import into (default: the signed-in user's).
        api: the client to write through (default: ``lablens.Api()``).
        progress: show progress bars of runs and points on stderr.

    Returns:
        An ``ImportReport``.

    Raises:
        UsageError: ``path`` is not a directory, or the installed wandb has no reader of
            ``.wandb`` files (wandb 0.30 and later).

    Example:
        >>> wandb.import_("wandb/", project="mnist").runs
    """
    return write_runs(
        api,
        find_runs(path),
        source="wandb",
        project=project,
        entity=entity,
        default_project=DEFAULT_PROJECT,
        progress=progress,
    )
