"""``lablens sync``: upload runs from their logs (``run.wal``), as often as you like.

A run's log holds every record the run made (``wal.py``). Syncing one:

1. finds the run on the server, or creates it from the log's ``run`` record (an offline run, a
   server that lost it), with its id, config, tags and start time;
2. sends the records in the order they were made: each points batch with its batch id and each
   console chunk with its id (the server stores an id once), each run update, and each media
   record (its blobs the server lacks, then its items, with their batch id). When the run was
   already on the server, records the log marks as acknowledged are skipped: the server has them;
3. sends the final state when the log has one. A killed process's log has none: a run that was on
   the server keeps its state (the server marks a silent run ``CRASHED``); a run created by the
   sync is marked ``CRASHED``, since its process is gone.

What the sync sends is acknowledged in the log too, so a second sync sends nothing new, and a
sync cut short can simply be run again. Sync a run only after its process has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lablens import errors as E
from lablens._settings import resolve_api_key, resolve_host
from lablens.contract.routes import VIEWER, project_route, run_route
from lablens.sdk.media_upload import send_media, unpack_blobs
from lablens.sdk.wal import FILE_NAME, Record, WriteAheadLog, read_log
from lablens.transport import ARROW, Transport


@dataclass
class SyncResult:
    """What one run's sync did."""

    dir: Path
    path: str
    created: bool = False
    batches: int = 0
    points_sent: int = 0
    points_stored: int = 0
    points_refused: int = 0
    updates: int = 0
    console_chunks: int = 0
    media_items: int = 0
    skipped: int = 0
    state: str | None = None
    torn_bytes: int = 0

    def describe(self) -> str:
        """One line for the terminal."""
        parts = [
            f"{self.path}: {'created, ' if self.created else ''}"
            f"{self.points_sent:,} points sent in {self.batches} batches"
            f" ({self.points_stored:,} new)",
        ]
        if self.points_refused:
            parts.append(f"{self.points_refused:,} points refused by the server")
        if self.updates:
            parts.append(f"{self.updates} updates")
        if self.console_chunks:
            parts.append(f"{self.console_chunks} console chunks")
        if self.media_items:
            parts.append(f"{self.media_items} media items")
        if self.skipped:
            parts.append(f"{self.skipped} records already on the server")
        if self.state:
            parts.append(f"state {self.state}")
        else:
            parts.append("the log has no end (the process died), the state is left as it is")
        if self.torn_bytes:
            parts.append(f"a torn last record of {self.torn_bytes} bytes skipped")
        return "; ".join(parts)


def run_dirs(path: Path | str) -> list[Path]:
    """The run directories under ``path``: itself when it holds a log, else its ``run-*``
    subdirectories (and their own subdirectories, as ``dir=`` makes them) that do."""
    path = Path(path)
    if path.is_file() and path.name == FILE_NAME:
        return [path.parent]
    if (path / FILE_NAME).is_file():
        return [path]
    if not path.is_dir():
        raise E.UsageError(f"sync: {path} is neither a run directory nor a folder of them")
    found = sorted(p.parent for p in path.rglob(FILE_NAME) if p.is_file())
    if not found:
        raise E.UsageError(f"sync: no run log ({FILE_NAME}) under {path}")
    return found


def sync(
    path: Path | str,
    *,
    host: str | None = None,
    api_key: str | None = None,
    entity: str | None = None,
    project: str | None = None,
) -> list[SyncResult]:
    """Upload every run under ``path`` (a run directory, or a folder of them).

    Args:
        path: a ``run-<time>-<id>`` directory, or a folder holding some (``./lablens``).
        host: the server; default the one the run was logged to, else ``LABLENS_HOST``, else
            the local server.
        api_key: default ``LABLENS_API_KEY``, else the key stored for the server.
        entity: the workspace; default the run's own, else your default one.
        project: the project; default the run's own.

    Returns:
        One ``SyncResult`` per run.
    """
    return [
        sync_run(d, host=host, api_key=api_key, entity=entity, project=project)
        for d in run_dirs(path)
    ]


def sync_run(
    run_dir: Path | str,
    *,
    host: str | None = None,
    api_key: str | None = None,
    entity: str | None = None,
    project: str | None = None,
) -> SyncResult:
    """Upload one run from its log; see the module's docstring for what is sent."""
    run_dir = Path(run_dir)
    log = read_log(run_dir)
    info = log.run
    if info is None:
        raise E.UsageError(f"sync: {log.path} has no run record")
    server = resolve_host(host or info.get("host"))
    transport = Transport(server, resolve_api_key(server, api_key))
    if not entity:
        entity = info.get("entity") or transport.get_json(VIEWER)["default_entity"]
    project = project or info["project"]
    runs = f"{project_route(entity, project)}/runs"
    run_path = run_route(entity, project, info["id"])
    result = SyncResult(run_dir, f"{entity}/{project}/{info['id']}", torn_bytes=log.torn_bytes)
    try:
        transport.get_json(run_path)
        existed = True
    except E.NotFound:
        existed = False
    if not existed:
        body = {**info.get("create", {}), "id": info["id"], "resume": "allow"}
        if info.get("created_at"):
            body["created_at"] = info["created_at"]
        transport.post_json(runs, body)
        result.created = True
    # Acknowledgements name a server that had the run; one without it needs every record.
    done = log.acked if existed else set()
    wal = WriteAheadLog(log.path)
    try:
        for record in log.records:
            if record.id in done:
                result.skipped += 1
                continue
            _send(transport, run_path, record, result)
            if record.id:
                wal.add_ack(record.id)
        if log.finish is not None and result.state is None:  # its end was on the server already
            result.state = log.finish.header["state"]
        if log.finish is None and result.created:
            # The process died before finishing, and no server saw it run: it crashed.
            transport.patch_json(run_path, {"state": "CRASHED"})
            result.state = "CRASHED"
    finally:
        wal.close()
    return result


def _send(transport: Transport, run_path: str, record: Record, result: SyncResult) -> None:
    kind, header = record.kind, record.header
    if kind == "points":
        result.batches += 1
        result.points_sent += header.get("n", 0)
        try:
            answer = transport.request(
                "POST",
                run_path + "/points",
                params={"stream": header.get("stream", "default")},
                data=record.body,
                headers={"Content-Type": ARROW, "X-Lablens-Batch-Id": header["id"]},
            ).json()
        except E.ApiError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                result.points_refused += header.get("n", 0)
                return
            raise
        result.points_stored += int(answer.get("stored", 0)) if isinstance(answer, dict) else 0
    elif kind == "patch":
        transport.patch_json(run_path, header["body"])
        result.updates += 1
    elif kind == "console":
        transport.request(
            "POST",
            run_path + "/console",
            json_body={"lines": header["lines"]},
            headers={"X-Lablens-Batch-Id": header["id"]},
        )
        result.console_chunks += 1
    elif kind == "media":
        blobs = unpack_blobs(header.get("blobs", []), record.body)
        send_media(transport, run_path, header["id"], header["items"], blobs)
        result.media_items += len(header["items"])
    elif kind == "finish":
        body: dict[str, Any] = {"state": header["state"], "exit_code": header.get("exit_code")}
        if header.get("finished_at"):
            body["finished_at"] = header["finished_at"]
        transport.patch_json(run_path, body)
        result.state = header["state"]
