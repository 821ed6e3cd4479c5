"""Import TensorBoard event files (from tensorboard, tensorboardX or ``torch.utils.tensorboard``).

Every directory under the root that holds event files (``*tfevents*``) becomes one run, as in
TensorBoard's own list of runs; its name is the directory's path under the root. The files are
read with the ``tensorboard`` package's own reader (``EventFileLoader``, with the compat layers
TensorBoard applies), in TensorBoard's order (by file name, then as written):

- scalars: one point per value, exactly as stored (a float32 stays that float32's value), with
  the event's step and wall time;
- hparams (``add_hparams``, ``hparams.api``): the session's hyperparameters become the config
  (whole numbers as ints);
- text: each value becomes the file ``text/<tag>/<step>.txt``;
- images (``add_image``, ``add_images``, ``tf.summary.image``): media items under the tag at the
  event's step, the PNG bytes kept as written (several images in one summary are the step's
  gallery, in order);
- histograms (``add_histogram``, ``tf.summary.histogram``): ``lablens.Histogram`` items with
  the bucket edges and counts TensorBoard shows;
- audio (``add_audio``): WAV clips as audio items;
- the run starts at its first event's wall time and ends at its last.

Graphs, embeddings and PR curves are not imported. A truncated or corrupt event file is
reported with its path; the events before the damage are imported.

Example:
    >>> from lablens.importers import tensorboard
    >>> report = tensorboard.import_("runs/", project="mnist")
    >>> api.runs("mnist")[0].history(samples=None)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens.errors import UsageError
from lablens.importers._media import image_bytes, wav_audio
from lablens.importers._writer import (
    ImportReport,
    Point,
    Problem,
    SourceRun,
    check_dir,
    short_hash,
    write_runs,
)

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["find_runs", "import_"]

DEFAULT_PROJECT = "tensorboard"


def _event_files(directory: str) -> list[str]:
    from tensorboard.backend.event_processing import io_wrapper

    return sorted(
        p for p in io_wrapper.ListDirectoryAbsolute(directory) if io_wrapper.IsSummaryEventsFile(p)
    )


def _hparam_value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None


def _text(array: Any) -> str:
    def one(item: Any) -> str:
        return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)

    if array.ndim == 0:
        return one(array.item())
    if array.ndim == 1:
        return "\n".join(one(x) for x in array)
    return "\n".join(" | ".join(one(x) for x in row) for row in array.reshape(array.shape[0], -1))


def _histo(histo: Any) -> tuple[list[float], list[float]] | None:
    """A histogram as written (``HistogramProto``: right edges and counts, the outer edges the
    values' min and max) as ``(counts, edges)``, empty outer buckets dropped as TensorBoard
    shows it; ``None`` when every bucket is empty."""
    counts = list(histo.bucket)
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    if not nonzero:
        return None
    start, end = nonzero[0], nonzero[-1]
    edges = [histo.min, *histo.bucket_limit[start:end], histo.max]
    return counts[start : end + 1], edges


def _media(
    src: SourceRun, plugin: str, tag: str, step: int, wall: float, array: Any, histo: Any
) -> None:
    """An image, histogram or audio summary (as TensorBoard's compat layer gives them: tensors;
    ``histo`` the histogram as written, when it was a ``HistogramProto``) added to the run's
    media."""
    import numpy as np

    from lablens.sdk.media import Histogram

    if plugin == "histograms" and histo is not None:
        found = _histo(histo)
        if found is not None:
            src.media.add(tag, step, wall, Histogram(np_histogram=found))
    elif plugin == "images":
        # [width, height, encoded image, encoded image, ...]
        for index, content in enumerate(array.reshape(-1)[2:]):
            src.media.add(tag, step, wall, image_bytes(bytes(content)), index)
    elif plugin == "histograms":
        # One row per bucket: left edge, right edge, count; buckets touch.
        buckets = np.asarray(array, dtype=np.float64).reshape(-1, 3)
        if len(buckets):
            edges = np.append(buckets[:, 0], buckets[-1, 1])
            src.media.add(tag, step, wall, Histogram(np_histogram=(buckets[:, 2], edges)))
    elif plugin == "audio":
        # One row per clip: encoded WAV, label.
        for index, row in enumerate(np.atleast_2d(array)):
            label = row[1] if len(row) > 1 else b""
            caption = label.decode("utf-8", "replace") if isinstance(label, bytes) else None
            src.media.add(tag, step, wall, wav_audio(bytes(row[0]), caption or None), index)


class _Loader:
    """``EventFileLoader`` for one file, remembering why it stopped early (if it did).

    TensorBoard's loader treats a damaged record as the end of the file (a writer may still
    complete it); an importer must say so, so the error is kept on the way through.
    """

    def __init__(self, path: str) -> None:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        from tensorboard.compat import tf

        self.error: Exception | None = None
        self.loader = EventFileLoader(path)
        inner = self.loader._iterator
        data_loss = tf.errors.DataLossError

        def records() -> Iterator[bytes]:
            while True:
                try:
                    yield next(inner)
                except StopIteration:
                    return
                except data_loss as exc:
                    self.error = exc
                    raise

        self.loader._iterator = records()
        #: The histograms of the event last given, as written (``HistogramProto`` by tag):
        #: TensorBoard's compat layer turns them into float32 tensors, which round the edges.
        self.histos: dict[str, Any] = {}

    def events(self) -> Iterator[Any]:
        from tensorboard import data_compat, dataclass_compat
        from tensorboard.backend.event_processing.event_file_loader import (
            LegacyEventFileLoader,
        )

        # EventFileLoader.Load(), keeping each raw event's histograms on the way.
        for raw in LegacyEventFileLoader.Load(self.loader):
            self.histos = {
                v.tag: v.histo for v in raw.summary.value if v.WhichOneof("value") == "histo"
            }
            event = data_compat.migrate_event(raw)
            yield from dataclass_compat.migrate_event(event, self.loader._initial_metadata)


def _first_wall_time(path: str) -> float | None:
    """The wall time of a file's first event (its writer's start), without reading the rest."""
    try:
        for event in _Loader(path).events():
            return float(event.wall_time)
    except Exception:  # reported when the file is read in full
        return None
    return None


def _read(src: SourceRun, files: list[str]) -> Iterator[Point]:
    """Every scalar of a run directory, filling in config, text files and times on the way."""
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util import tensor_util

    plugins: dict[str, str] = {}  # tag -> plugin name, from the tag's first metadata
    first: float | None = None
    last: float | None = None
    for path in files:
        count = 0
        try:
            loader = _Loader(path)
            for event in loader.events():
                count += 1
                wall = float(event.wall_time)
                first = wall if first is None or wall < first else first
                last = wall if last is None or wall > last else last
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    if value.metadata.plugin_data.plugin_name:
                        plugins.setdefault(value.tag, value.metadata.plugin_data.plugin_name)
                    plugin = plugins.get(value.tag)
                    if plugin == "scalars" and value.HasField("tensor"):
                        number = tensor_util.make_ndarray(value.tensor)
                        if number.size == 1:
                            yield value.tag, int(event.step), wall, float(number.reshape(()))
                    elif plugin == "hparams":
                        data = plugin_data_pb2.HParamsPluginData.FromString(
                            value.metadata.plugin_data.content
                        )
                        if data.HasField("session_start_info"):
                            for name, hp in data.session_start_info.hparams.items():
                                src.config[name] = _hparam_value(hp)
                    elif plugin == "text" and value.HasField("tensor"):
                        text = _text(tensor_util.make_ndarray(value.tensor))
                        src.blobs[f"text/{value.tag}/{event.step}.txt"] = text.encode()
                    elif plugin in ("images", "histograms", "audio") and value.HasField("tensor"):
                        array = tensor_util.make_ndarray(value.tensor)
                        try:
                            histo = loader.histos.get(value.tag)
                            step = int(event.step)
                            _media(src, plugin, value.tag, step, wall, array, histo)
                        except Exception as exc:  # a broken image or clip: the rest comes in
                            src.problems.append(
                                Problem(path, f"{plugin} {value.tag!r} at step {event.step}: {exc}")
                            )
        except Exception as exc:  # the reader's own errors: unreadable file, bad proto
            src.problems.append(
                Problem(
                    path,
                    f"cannot be read after {count} events ({exc}); the events before"
                    " it were imported",
                )
            )
            continue
        if loader.error is not None:
            src.problems.append(
                Problem(
                    path,
                    f"truncated or corrupt after {count} events ({loader.error});"
                    f" the {count} events before it were imported",
                )
            )
    if first is not None:
        src.created_at = min(first, src.created_at or first)
    src.finished_at = last


def find_runs(root_dir: str | os.PathLike[str], run_id: str | None = None) -> list[SourceRun]:
    """The runs under ``root_dir``: one per directory holding event files.

    Args:
        root_dir: the directory to search, recursively.
        run_id: the lablens id of the run when there is one run directory.

    Returns:
        A ``SourceRun`` per run directory, not read yet (reading happens while writing).

    Raises:
        UsageError: ``root_dir`` is not a directory, or ``run_id`` is given and there are
            several run directories.
    """
    from tensorboard.backend.event_processing import io_wrapper

    root = check_dir(root_dir, "a directory of TensorBoard event files")
    dirs = sorted(io_wrapper.GetLogdirSubdirectories(str(root)))
    if run_id is not None and len(dirs) > 1:
        listed = ", ".join(os.path.relpath(d, root) for d in dirs[:5])
        raise UsageError(
            f"{root_dir} holds {len(dirs)} run directories ({listed}, ...); run_id names one"
            " run: pass a directory holding one, or no run_id"
        )
    found = []
    for directory in dirs:
        files = _event_files(directory)
        if not files:
            continue
        rel = os.path.relpath(directory, root)
        name = Path(directory).name if rel == "." else rel
        # The first event file's name holds its writer's start time and host, and does not
        # change as the run grows; with the directory's own name it identifies the run.
        source_id = f"{Path(directory).name}/{Path(files[0]).name}"
        src = SourceRun(
            source="tensorboard",
            source_id=source_id,
            location=directory,
            run_id=run_id or f"tb-{short_hash(source_id)}",
            read_points=lambda: iter(()),
            name=name,
            created_at=_first_wall_time(files[0]),
        )
        src.read_points = lambda src=src, files=files: _read(src, files)
        found.append(src)
    return found


def import_(
    root_dir: str | os.PathLike[str],
    *,
    project: str | None = None,
    entity: str | None = None,
    run_id: str | None = None,
    api: Api | None = None,
    progress: bool = True,
) -> ImportReport:
    """Import every run of a TensorBoard log directory.

    Args:
        root_dir: the directory to search for event files, recursively.
        project: the project to import into (default ``tensorboard``).
        run_id: the id of the run, when ``root_dir`` holds one run directory; by default
            ``tb-`` and a hash of the directory's name and first event file.
        entity: the workspace to import into (default: the signed-in user's).
        api: the client to write through (default: ``lablens.Api()``).
        progress: show progress bars of runs and points on stderr.

    Returns:
        An ``ImportReport``.

    Raises:
        UsageError: ``root_dir`` is not a directory, or ``run_id`` names one run of several.

    Example:
        >>> tensorboard.import_("runs/", project="mnist").runs
    """
    return write_runs(
        api,
        find_runs(root_dir, run_id),
        source="tensorboard",
        project=project,
        entity=entity,
        default_project=DEFAULT_PROJECT,
        progress=progress,
    )
