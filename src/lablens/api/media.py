"""``MediaItem``: one image, table, histogram... a run logged, and reading media of one run or
of many runs in one request (``Run.media()``, ``Runs.media()``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lablens.contract.media import WANDB_TYPES, reference
from lablens.contract.routes import media_blob_route, project_media_route, run_media_route
from lablens.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from lablens.api.api import Api
    from lablens.api.run import Run

__all__ = ["MediaItem", "RunMedia", "fetch_media", "fetch_media_keys", "step_range"]


class MediaItem:
    """One media item a run logged: where it was logged, what it is, and its content.

    Attributes:
        key: the key it was logged under.
        step: the step it was logged at.
        index: its place in the step's gallery (0 for a single item).
        type: ``image``, ``table``, ``histogram``, ``audio``, ``text``, ``html``, ``plotly`` or
            ``video``.
        format: its file format (``png``, ``parquet``, ``json``, ``wav``...).
        caption: its caption, or ``None``.
        sha256: the sha256 of its content (the same content is stored once).
        size: the content's size in bytes.
        meta: what is known without reading it: ``width``, ``height``, ``channels`` of an
            image; ``rows``, ``columns`` of a table; ``bins`` and ``values`` of a histogram;
            ``sample_rate``, ``seconds`` of audio.
        timestamp: when it was logged, seconds since the epoch.
        run: the ``Run`` that logged it.
        run_id: that run's id.

    Example:
        >>> item = run.media("samples")[0]
        >>> item.step, item.caption, item.to_numpy().shape
    """

    def __init__(self, api: Api, entity: str, project: str, data: dict[str, Any], run: Any):
        self._api = api
        self._entity = entity
        self._project = project
        self._data = data
        self.key: str = data.get("key", "")
        self.step: int = data.get("step", 0)
        self.index: int = data.get("index", 0)
        self.type: str = data["type"]
        self.format: str = data["format"]
        self.caption: str | None = data.get("caption")
        self.sha256: str = data["sha256"]
        self.size: int = data.get("size", 0)
        self.meta: dict[str, Any] = dict(data.get("meta") or {})
        self.timestamp: float | None = data.get("timestamp")
        self.run: Run | None = run
        self.run_id: str | None = data.get("run_id") or getattr(run, "id", None)
        self._content: bytes | None = None

    @property
    def run_path(self) -> str:
        """The path of the run that logged it, ``entity/project/run_id``."""
        return f"{self._entity}/{self._project}/{self.run_id}"

    @property
    def path(self) -> str:
        """Where ``download()`` puts the file below its root, as W&B lays out a run's media:
        ``media/images/samples_10_0_<sha256 prefix>.png``."""
        return reference(self._data)["path"]

    def reference(self) -> dict[str, Any]:
        """The W&B-style reference a history row holds: ``{"_type": "image-file", "path",
        "sha256", "size", "caption", "width", "height", ...}``."""
        return reference(self._data)

    def content(self) -> bytes:
        """The item's bytes (read once, then kept)."""
        if self._content is None:
            route = media_blob_route(self._entity, self._project, self.sha256)
            self._content = self._api.client.request("GET", route).content
        return self._content

    def thumbnail(self, size: int = 256) -> bytes:
        """An image's PNG at most ``size`` pixels on its long side, made by the server."""
        if self.type != "image":
            raise UsageError(f"thumbnail() is for images, this is a {self.type}", field="type")
        route = media_blob_route(self._entity, self._project, self.sha256)
        return self._api.client.request("GET", route, params={"thumb": int(size)}).content

    def download(self, root: str | Path = ".", replace: bool = True) -> Path:
        """Write the content to ``root / self.path`` and return that path.

        Args:
            root: the directory to write under (made when missing).
            replace: write even when the file exists (``False`` keeps it).
        """
        target = Path(root) / self.path
        if replace or not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.content())
        return target

    def to_numpy(self) -> Any:
        """The content as numbers.

        Returns:
            An image's pixels, ``uint8`` ``HxWxC`` (``HxW`` for grayscale); a histogram's
            ``(counts, edges)``; audio's samples (floats from -1 to 1 when floats were logged,
            else ``int16``; ``N`` or ``N x channels``).

        Raises:
            UsageError: the item is of another type.
        """
        if self.type == "image":
            from PIL import Image

            with Image.open(io.BytesIO(self.content())) as im:
                return np.asarray(im).copy()
        if self.type == "histogram":
            data = json.loads(self.content())
            return np.asarray(data["counts"]), np.asarray(data["edges"], dtype=np.float64)
        if self.type == "audio":
            import wave

            with wave.open(io.BytesIO(self.content())) as w:
                channels = w.getnchannels()
                samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
            if channels > 1:
                samples = samples.reshape(-1, channels)
            if self.meta.get("dtype") == "float":
                return (samples / 32767.0).astype(np.float32)
            return samples.astype(np.int16)
        raise UsageError(f"to_numpy() reads images, histograms and audio, not a {self.type}")

    def to_pandas(self) -> pd.DataFrame:
        """A table as a DataFrame; its image cells are ``MediaItem`` objects.

        Raises:
            UsageError: the item is not a table.
        """
        if self.type != "table":
            raise UsageError(f"to_pandas() reads tables, not a {self.type}")
        import pyarrow.parquet as pq

        frame = pq.read_table(io.BytesIO(self.content())).to_pandas()
        for column in self.meta.get("media_columns") or {}:
            frame[column] = [self._cell(column, v) for v in frame[column]]
        return frame

    def _cell(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        ref = json.loads(value)
        kind = {v: k for k, v in WANDB_TYPES.items()}.get(ref.get("_type"), "image")
        data = {
            "key": f"{self.key}.{column}",
            "step": self.step,
            "type": kind,
            "format": ref.get("format", "png"),
            "sha256": ref["sha256"],
            "size": ref.get("size", 0),
            "caption": ref.get("caption"),
            "meta": {
                k: v
                for k, v in ref.items()
                if k not in ("_type", "sha256", "size", "caption", "format", "path")
            },
            "run_id": self.run_id,
        }
        return MediaItem(self._api, self._entity, self._project, data, self.run)

    def text(self) -> str:
        """The content of a text, html or plotly item as a string."""
        return self.content().decode("utf-8")

    def to_plotly(self) -> Any:
        """A plotly item as a ``plotly.graph_objects.Figure``."""
        if self.type != "plotly":
            raise UsageError(f"to_plotly() reads plotly figures, not a {self.type}")
        import plotly.io as pio

        return pio.from_json(self.text())

    def __repr__(self) -> str:
        caption = f" {self.caption!r}" if self.caption else ""
        return (
            f"<MediaItem {self.type} {self.key!r} step {self.step}"
            f"{f' [{self.index}]' if self.index else ''}{caption}>"
        )


def step_range(steps: Any) -> tuple[int | None, int | None, set[int] | None]:
    """``steps`` as the server's inclusive range and the exact steps to keep (None: all).

    ``None``: every step; an int: that step; a ``range`` or any iterable of ints: those steps.
    """
    if steps is None:
        return None, None, None
    if isinstance(steps, bool):
        raise UsageError("steps must be an int, a range or a list of ints", field="steps")
    if isinstance(steps, int):
        return steps, steps, {steps}
    if isinstance(steps, range) and steps.step == 1:
        if not steps:
            return 0, -1, set()
        return steps.start, steps.stop - 1, None
    if isinstance(steps, Iterable) and not isinstance(steps, (str, bytes)):
        wanted = set()
        for s in steps:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
                raise UsageError(f"steps must hold ints, not {type(s).__name__}", field="steps")
            wanted.add(int(s))
        if not wanted:
            return 0, -1, set()
        return min(wanted), max(wanted), wanted
    raise UsageError(
        f"steps must be an int, a range or a list of ints, not {type(steps).__name__}",
        field="steps",
    )


def fetch_media(
    api: Api,
    entity: str,
    project: str,
    run_ids: Sequence[str],
    key: str | Sequence[str] | None,
    steps: Any = None,
    runs: dict[str, Any] | None = None,
) -> list[MediaItem]:
    """The media items of ``run_ids`` under ``key`` (a list for several; ``None``: every key),
    in one request."""
    if key is not None and not isinstance(key, str):
        if not isinstance(key, Sequence) or not all(isinstance(k, str) for k in key):
            raise UsageError(f"key must be a str, not {type(key).__name__}", field="key")
        if not key:
            return []
        key = list(key)
    lo, hi, wanted = step_range(steps)
    if wanted is not None and not wanted:
        return []
    params: dict[str, Any] = {}
    if key is not None:
        params["key"] = key
    if lo is not None:
        params["min_step"] = lo
    if hi is not None:
        params["max_step"] = hi
    if not run_ids:
        return []
    if len(run_ids) == 1:
        route = run_media_route(entity, project, run_ids[0])
    else:
        route = project_media_route(entity, project)
        params["runs"] = ",".join(run_ids)
    items = api.client.get_json(route, params=params)["items"]
    out = []
    for data in items:
        if wanted is not None and data["step"] not in wanted:
            continue
        run_id = data.get("run_id") or run_ids[0]
        data["run_id"] = run_id
        out.append(MediaItem(api, entity, project, data, (runs or {}).get(run_id)))
    return out


def fetch_media_keys(
    api: Api, entity: str, project: str, runs: dict[str, Any]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The media keys of ``runs`` (``{run id: Run}``) in one request, by run path."""
    if not runs:
        return {}
    route = project_media_route(entity, project) + "/keys"
    found = api.client.get_json(route, params={"runs": ",".join(runs)})["runs"]
    return {run.path: found.get(rid, {}) for rid, run in runs.items()}


def media_cells(items: Iterable[MediaItem]) -> dict[tuple[str | None, int], dict[str, Any]]:
    """What history rows hold of these items: ``{(run_id, step): {key: reference}}``, a
    gallery's references as a list in index order."""
    out: dict[tuple[str | None, int], dict[str, Any]] = {}
    for item in sorted(items, key=lambda i: i.index):
        cells = out.setdefault((item.run_id, item.step), {})
        ref = item.reference()
        if item.key not in cells:
            cells[item.key] = ref
        elif isinstance(cells[item.key], list):
            cells[item.key].append(ref)
        else:
            cells[item.key] = [cells[item.key], ref]
    return out


def _times(items: Iterable[MediaItem]) -> dict[tuple[str | None, int], float]:
    out: dict[tuple[str | None, int], float] = {}
    for item in items:
        if item.timestamp is not None:
            at = (item.run_id, item.step)
            out[at] = min(out.get(at, item.timestamp), item.timestamp)
    return out


def merge_records(
    rows: list[dict[str, Any]],
    items: Sequence[MediaItem],
    created: dict[str, float | None],
    *,
    with_run_id: bool = False,
) -> list[dict[str, Any]]:
    """History rows (dicts) with the media references at their steps; a step that has media
    and no number gets a row of its own. Rows stay ordered by run, then step."""
    if not items:
        return rows
    cells, times = media_cells(items), _times(items)
    single = None if with_run_id else items[0].run_id
    index = {(row.get("run_id", single), row["_step"]): row for row in rows}
    for (run_id, step), values in cells.items():
        row = index.get((run_id, step))
        if row is None:
            ts = times.get((run_id, step))
            start = created.get(run_id or "")
            row = {"_step": step, "_timestamp": ts, "_runtime": _runtime(ts, start)}
            if with_run_id:
                row = {"run_id": run_id, **row}
            rows.append(row)
            index[(run_id, step)] = row
        row.update(values)
    order = {rid: i for i, rid in enumerate(dict.fromkeys(r.get("run_id") for r in rows))}
    rows.sort(key=lambda r: (order[r.get("run_id")], r["_step"]))
    return rows


def _runtime(ts: float | None, start: float | None) -> float | None:
    return None if ts is None or start is None else ts - start


def merge_frame(frame: pd.DataFrame, items: Sequence[MediaItem], start: float | None) -> Any:
    """A one-run ``history()`` DataFrame with a column of references per media key."""
    if not items:
        return frame
    import pandas as pd

    cells, times = media_cells(items), _times(items)
    have = set(frame["_step"].tolist()) if "_step" in frame else set()
    extra = sorted({step for (_, step) in cells if step not in have})
    if extra:
        stamps = [times.get((items[0].run_id, s)) for s in extra]
        added = pd.DataFrame(
            {
                "_step": extra,
                "_timestamp": stamps,
                "_runtime": [_runtime(t, start) for t in stamps],
            }
        )
        frame = frame if len(frame) else frame.astype({"_step": "int64"}, errors="ignore")
        frame = pd.concat([frame, added], ignore_index=True) if len(frame) else added
        frame = frame.sort_values("_step", kind="stable").reset_index(drop=True)
    by_step = {step: values for (_, step), values in cells.items()}
    for key in dict.fromkeys(i.key for i in items):
        frame[key] = [by_step.get(s, {}).get(key) for s in frame["_step"].tolist()]
    return frame


class RunMedia:
    """The media methods of ``Run``. A mixin, so ``run.py`` stays one resource's size."""

    if TYPE_CHECKING:
        _api: Api
        id: str
        entity: str
        project: str

    def media(self, key: str | None = None, steps: Any = None) -> list[MediaItem]:
        """The media the run logged under ``key``: images, tables, histograms, audio...

        Args:
            key: the key they were logged under; ``None`` for every media key.
            steps: ``None`` for every step, an int for one, a ``range`` or a list of ints for
                those.

        Returns:
            ``MediaItem`` objects by key, step and index (a gallery's items in order).

        Example:
            >>> images = run.media("samples", steps=range(0, 100))
            >>> pixels = images[0].to_numpy()
        """
        return fetch_media(
            self._api, self.entity, self.project, [self.id], key, steps, {self.id: self}
        )

    def media_keys(self) -> dict[str, dict[str, Any]]:
        """The run's media keys: ``{key: {"type", "count", "first_step", "last_step"}}``.

        Example:
            >>> run.media_keys()
            {'samples': {'type': 'image', 'count': 40, 'first_step': 0, 'last_step': 390}}
        """
        route = run_media_route(self.entity, self.project, self.id) + "/keys"
        return self._api.client.get_json(route)
