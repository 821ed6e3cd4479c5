"""Import SwanLab runs logged in offline or local mode (``swanlog/run-*``), read with SwanLab's
own reader of its ``.swanlab`` run log (``DataStoreReader``) and its ``Record`` protobuf.

- a run keeps its SwanLab experiment id as its id, its name, description (as notes), tags,
  group, job type and start time; its project is the SwanLab project (``--project``
  overrides);
- the config is ``files/config.yaml`` as SwanLab saved it (each key's ``value``);
- every scalar comes in with its step and timestamp, NaN and ±inf kept;
- the files under ``files/`` (``config.yaml``, ``requirements.txt``, ``swanlab-metadata.json``
  ...) and ``media/`` become run files, and the console lines ``output.log``;
- the run ends in SwanLab's final state (``FINISHED``, ``CRASHED``, ``ABORTED``) at its finish
  time; a log without a finish record (the process died) ends ``CRASHED`` at its last record.

Media (``swanlab.Image``, ``Audio``, ``Text``, ``Video``, ``Html``) become media items under
their key at their step, with their captions (several at one step are its gallery, in order),
read from the files SwanLab kept under ``media/`` (an image's PNG byte for byte); they are also
kept as run files. ECharts, 3D objects and molecules are kept as files only. A ``.swanlab`` file
that is truncated or corrupt is reported with its path; the records before the damage are imported.

Example:
    >>> from lablens.importers import swanlab
    >>> swanlab.import_("swanlog/", project="mnist")
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens.contract.media import FORMATS
from lablens.errors import UsageError
from lablens.importers._media import Stored, image_bytes, wav_audio
from lablens.importers._writer import (
    ImportReport,
    Point,
    Problem,
    SourceRun,
    find_log_runs,
    write_runs,
)
from lablens.sdk.media import Html, Media, Text

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["find_runs", "import_"]

DEFAULT_PROJECT = "swanlab"
STATES = {
    "RUN_STATE_FINISHED": "FINISHED",
    "RUN_STATE_CRASHED": "CRASHED",
    "RUN_STATE_ABORTED": "ABORTED",
    "RUN_STATE_RUNNING": "RUNNING",
}


def _reader() -> tuple[Any, Any]:
    try:
        from swanlab.proto.swanlab.record.v1 import record_pb2
        from swanlab.sdk.internal.core_python.store import DataStoreReader
    except ImportError as exc:
        raise UsageError(
            "importing SwanLab runs needs swanlab's reader of .swanlab files"
            " (swanlab.sdk.internal.core_python.store, swanlab 0.7 and later):"
            " pip install swanlab"
        ) from exc
    return DataStoreReader, record_pb2


def _records(path: Path, problems: list[Problem]) -> Iterator[Any]:
    """Every record of a ``.swanlab`` file; damage is reported and ends the reading.

    The reader's own iterator treats damage as the end of the file; ``scan()`` raises, so the
    importer can say so.
    """
    reader_cls, pb = _reader()
    reader = reader_cls()
    count = 0
    try:
        reader.open(str(path))
        while True:
            data = reader.scan()
            if data is None:
                break
            record = pb.Record()
            record.ParseFromString(data)
            count += 1
            yield record
    except Exception as exc:  # DataStoreError, the reader's asserts, protobuf's DecodeError
        problems.append(
            Problem(
                str(path),
                f"truncated, corrupt or unreadable after {count}"
                f" records ({type(exc).__name__}: {exc}); the records before"
                " it were imported",
            )
        )
    finally:
        with contextlib.suppress(AssertionError):  # never opened
            reader.close()


def _ts(stamp: Any) -> float:
    return stamp.seconds + stamp.nanos / 1e9


def _config(path: Path, problems: list[Problem]) -> dict[str, Any]:
    """SwanLab's ``config.yaml``: ``{key: {value, desc, sort}}`` -> ``{key: value}``."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        problems.append(Problem(str(path), f"not read: {exc}"))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(str(path), "not a mapping of config keys"))
        return {}
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in data.items()}


def _medium(content: bytes, medium: str, filename: str, caption: str | None) -> Media | None:
    """One SwanLab media file as a lablens media value (``None``: a kind lablens does not
    keep as media)."""
    if medium == "image":
        return image_bytes(content, caption)
    if medium == "audio":
        return wav_audio(content, caption)
    if medium == "text":
        return Text(content.decode("utf-8"), caption=caption)
    if medium == "html":
        return Html(content.decode("utf-8"), caption=caption)
    if medium == "video":
        suffix = Path(filename).suffix.lower().lstrip(".")
        if suffix in FORMATS["video"]:
            return Stored("video", suffix, content, {}, caption)
    return None


def _add_media(src: SourceRun, media: Any, run_dir: Path) -> None:
    """A media record: its items (files under ``media/<medium>/``, or bytes inline) added to
    the run's media under its key and step."""
    names = media.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_number
    medium = names[media.type].name.removeprefix("COLUMN_TYPE_").lower()
    ts = _ts(media.timestamp) if media.HasField("timestamp") else (src.created_at or 0.0)
    step = int(media.step)
    for index, item in enumerate(media.value.items):
        where = run_dir / "media" / medium / item.filename
        try:
            content = item.payload if item.HasField("payload") else where.read_bytes()
            value = _medium(content, medium, item.filename, item.caption or None)
        except Exception as exc:  # a missing or broken file: the rest of the run comes in
            src.problems.append(
                Problem(str(where), f"{media.key} at step {step} not imported: {exc}")
            )
            continue
        if value is not None:
            src.media.add(media.key, step, ts, value, index)


def _read(src: SourceRun, log: Path, run_dir: Path) -> Iterator[Point]:
    console: list[str] = []
    last = src.created_at
    state = None
    for record in _records(log, src.problems):
        if record.HasField("timestamp"):
            last = max(last or 0.0, _ts(record.timestamp))
        kind = record.WhichOneof("record_type")
        if kind == "scalar":
            scalar = record.scalar
            ts = _ts(scalar.timestamp)
            yield scalar.key, int(scalar.step), ts, float(scalar.value.number)
        elif kind == "media":
            _add_media(src, record.media, run_dir)
        elif kind == "log":
            console.append(record.log.line)
        elif kind == "finish":
            finish = record.finish
            names = finish.DESCRIPTOR.fields_by_name["state"].enum_type.values_by_number
            state = STATES.get(names[finish.state].name, "FINISHED")
            if finish.HasField("finished_at"):
                last = _ts(finish.finished_at)
    src.state = state or "CRASHED"
    src.finished_at = last
    files = run_dir / "files"
    if (files / "config.yaml").is_file():
        src.config = _config(files / "config.yaml", src.problems)
    for folder, prefix in ((files, ""), (run_dir / "media", "media/")):
        if folder.is_dir():
            src.files += [
                (prefix + p.relative_to(folder).as_posix(), p)
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            ]
    if console:
        src.blobs["output.log"] = "".join(line + "\n" for line in console).encode()


def _header(src: SourceRun, log: Path) -> None:
    """The start record (the first in the log) gives what creating the run needs."""
    for record in _records(log, []):
        if not record.HasField("start"):
            continue
        start = record.start
        src.source_id = start.id or src.source_id
        src.run_id = src.source_id
        src.project = start.project or None
        src.name = start.name or src.source_id
        src.notes = start.description or None
        src.tags = list(start.tags)
        src.group = start.group or None
        src.job_type = start.job_type or None
        if start.HasField("started_at"):
            src.created_at = _ts(start.started_at)
        elif record.HasField("timestamp"):
            src.created_at = _ts(record.timestamp)
        break
    # Hardware and runtime (Python, OS, host, command), as SwanLab recorded them.
    meta = log.parent / "files" / "swanlab-metadata.json"
    if meta.is_file():
        try:
            src.metadata["swanlab"] = json.loads(meta.read_text())
        except (OSError, ValueError) as exc:
            src.problems.append(Problem(str(meta), f"not read: {exc}"))
        else:
            runtime = src.metadata["swanlab"].get("runtime") or {}
            src.host = runtime.get("hostname") if isinstance(runtime, dict) else None


def find_runs(path: str | os.PathLike[str]) -> list[SourceRun]:
    """The SwanLab runs under ``path`` (a run directory, a ``swanlog/`` directory, or any directory
    above them), each with its header read, as ``find_log_runs`` finds them.

    Raises:
        UsageError: ``path`` is not a directory, or swanlab's reader is missing.
    """
    _reader()
    return find_log_runs(
        path,
        source="swanlab",
        what="a SwanLab run directory or a swanlog/ directory",
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
    """Import every SwanLab run directory under ``path``.

    Args:
        path: a run directory (``swanlog/run-...``), a ``swanlog/`` directory, or any
            directory above them.
        project: the project to import into; by default each run's SwanLab project.
        entity: the workspace to import into (default: the signed-in user's).
        api: the client to write through (default: ``lablens.Api()``).
        progress: show progress bars of runs and points on stderr.

    Returns:
        An ``ImportReport``.

    Raises:
        UsageError: ``path`` is not a directory, or swanlab is not installed.

    Example:
        >>> swanlab.import_("swanlog/", project="mnist").runs
    """
    return write_runs(
        api,
        find_runs(path),
        source="swanlab",
        project=project,
        entity=entity,
        default_project=DEFAULT_PROJECT,
        progress=progress,
    )
