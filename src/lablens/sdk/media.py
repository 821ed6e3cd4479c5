"""Media a run logs beside its numbers, with W&B's names and arguments: ``lablens.Image``,
``Histogram``, ``Audio``, ``Text``, ``Html``, ``Plotly``, ``Video`` (``Table`` is in
``media_table.py``).

Building one only copies what it is given (``run.log()`` must not wait); encoding (PNG, WAV,
JSON...) happens on the run's background thread, in ``_encode``, which returns the bytes and the
item's ``meta``. The bytes become a content-addressed blob (``lablens.contract.media``).
"""

from __future__ import annotations

import io
import json
import math
import os
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lablens.errors import UsageError

__all__ = [
    "Audio",
    "Encoded",
    "Histogram",
    "Html",
    "Image",
    "Media",
    "Plotly",
    "Text",
    "Video",
    "as_media",
    "held_bytes",
]


@dataclass
class Encoded:
    """A media value encoded: its type, format, bytes, ``meta``, and the digests of further
    blobs it points to (``refs``, whose bytes went into the ``blobs`` dict given to
    ``_encode``)."""

    type: str
    format: str
    content: bytes
    meta: dict[str, Any]
    refs: list[str] = field(default_factory=list)


class Media:
    """The base of every media type: what ``run.log()`` recognises as media.

    Attributes:
        caption: the text shown under the item, or ``None``.
    """

    _type = "media"
    caption: str | None = None

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        raise NotImplementedError

    def __repr__(self) -> str:
        caption = f" {self.caption!r}" if self.caption else ""
        return f"<{type(self).__name__}{caption}>"


def _caption(caption: Any) -> str | None:
    if caption is None:
        return None
    if not isinstance(caption, str):
        raise UsageError(f"caption must be a str, not {type(caption).__name__}", field="caption")
    return caption


def _to_numpy(data: Any) -> Any:
    """A torch/jax/tf tensor as a numpy array; anything else unchanged."""
    detach = getattr(data, "detach", None)
    if callable(detach):  # torch
        data = detach().cpu().numpy()
    elif not isinstance(data, np.ndarray) and callable(getattr(data, "numpy", None)):
        data = data.numpy()
    return data


def _copied(data: Any) -> np.ndarray:
    """A copy of ``data`` as a numpy array, made holding the GIL when ``data`` is a contiguous
    array. numpy releases the GIL while it copies more than a few hundred elements, and taking
    it back waits for the run's sender thread (encoding the last image) to let go: about 0.2 ms
    a call in the training loop, several times the copy. ``tobytes`` is one memcpy that keeps it.
    """
    if isinstance(data, np.ndarray) and data.flags.c_contiguous and not data.dtype.hasobject:
        return np.frombuffer(data.tobytes(), dtype=data.dtype).reshape(data.shape)
    return np.array(data, copy=True)


def _read_path(data: Any, what: str) -> tuple[bytes, str] | None:
    """The bytes and suffix of a file named by ``data`` (a str or a Path), read now: a script
    often rewrites the same file each step."""
    if not isinstance(data, (str, os.PathLike)):
        return None
    path = Path(data)
    if not path.is_file():
        raise UsageError(f"{what}: no such file: {path}", field="data_or_path")
    return path.read_bytes(), path.suffix.lower().lstrip(".")


class Image(Media):
    """An image, stored losslessly as PNG, as W&B's ``wandb.Image``.

    Args:
        data_or_path: a numpy array (or tensor) ``HxW`` (grayscale), ``HxWx1``, ``HxWx3`` (RGB)
            or ``HxWx4`` (RGBA), also channels first (``3xHxW``, as torch holds images); of
            ``uint8``, or of floats from 0 to 1 (scaled to 0..255 and rounded); a PIL image; or
            the path of an image file (read when the ``Image`` is made).
        mode: the PIL mode to convert to (``"L"``, ``"RGB"``, ``"RGBA"``), as W&B's.
        caption: the text shown under the image.
        file_type: only ``"png"`` (images are stored losslessly).

    Example:
        >>> run.log({"sample": lablens.Image(array, caption="epoch 3")})
        >>> run.log({"batch": [lablens.Image(a) for a in arrays]})  # a gallery at one step
    """

    _type = "image"

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        file_type: str | None = None,
    ) -> None:
        self.caption = _caption(caption)
        if file_type not in (None, "png"):
            raise UsageError(
                f"Image: file_type must be 'png' (images are stored losslessly), not {file_type!r}",
                field="file_type",
            )
        self._mode = mode
        self._array: np.ndarray | None = None
        self._pil: Any = None
        self._bytes: bytes | None = None
        read = _read_path(data_or_path, "Image")
        if read is not None:
            self._bytes = read[0]
            return
        if type(data_or_path).__module__.startswith("PIL."):
            self._pil = data_or_path.copy()
            return
        data = _to_numpy(data_or_path)
        try:
            array = _copied(data)
        except Exception as exc:
            raise UsageError(
                f"Image: cannot read {type(data_or_path).__name__} as an image: {exc}",
                field="data_or_path",
            ) from exc
        self._array = _check_pixels(array)

    def _pixels(self) -> np.ndarray:
        """The image as ``uint8`` ``HxW`` or ``HxWxC``."""
        array = self._array
        assert array is not None
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[2] not in (1, 3, 4):
            array = np.moveaxis(array, 0, -1)  # channels first
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.dtype != np.uint8:
            if np.issubdtype(array.dtype, np.floating):
                array = np.nan_to_num(array, nan=0.0)
                if array.size and float(array.max()) <= 1.0:
                    array = array * 255.0
                array = np.rint(np.clip(array, 0, 255)).astype(np.uint8)
            else:
                array = np.clip(array, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(array)

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        from PIL import Image as PILImage

        if self._bytes is not None and self._bytes.startswith(b"\x89PNG") and self._mode is None:
            with PILImage.open(io.BytesIO(self._bytes)) as im:
                return Encoded("image", "png", self._bytes, _image_meta(im))
        if self._bytes is not None:
            with PILImage.open(io.BytesIO(self._bytes)) as opened:
                im = opened.copy()
        elif self._pil is not None:
            im = self._pil
        else:
            im = PILImage.fromarray(self._pixels())
        if self._mode is not None and im.mode != self._mode:
            im = im.convert(self._mode)
        elif im.mode not in ("L", "LA", "RGB", "RGBA", "I;16", "1", "P"):
            im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
        out = io.BytesIO()
        im.save(out, format="PNG")
        return Encoded("image", "png", out.getvalue(), _image_meta(im))


def _check_pixels(array: np.ndarray) -> np.ndarray:
    ok_dtype = array.dtype == bool or np.issubdtype(array.dtype, np.number)
    shape = array.shape
    ok_shape = array.ndim == 2 or (
        array.ndim == 3 and (shape[2] in (1, 3, 4) or shape[0] in (1, 3, 4))
    )
    if not ok_dtype or not ok_shape or 0 in shape:
        raise UsageError(
            f"Image: expected an array HxW, HxWx1, HxWx3 or HxWx4 of numbers, got shape "
            f"{shape} and dtype {array.dtype}",
            field="data_or_path",
        )
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    return array


def _image_meta(im: Any) -> dict[str, Any]:
    return {"width": im.width, "height": im.height, "channels": len(im.getbands())}


class Histogram(Media):
    """A histogram of values, stored as its counts and bin edges, as W&B's ``wandb.Histogram``.

    Args:
        sequence: the values (a list, numpy array or tensor, of any shape); NaN and ±inf are
            left out.
        np_histogram: ``(counts, edges)`` as ``numpy.histogram`` returns them, instead of
            ``sequence``.
        num_bins: how many bins to cut ``sequence`` into (1 to 512), 64 by default.

    Example:
        >>> run.log({"weights": lablens.Histogram(layer.weight)})
        >>> run.log({"scores": lablens.Histogram(np_histogram=np.histogram(scores, bins=20))})
    """

    _type = "histogram"

    def __init__(
        self,
        sequence: Any = None,
        np_histogram: tuple[Any, Any] | None = None,
        num_bins: int = 64,
    ) -> None:
        if isinstance(num_bins, bool) or not isinstance(num_bins, int) or not 1 <= num_bins <= 512:
            raise UsageError(
                f"Histogram: num_bins must be an int from 1 to 512, not {num_bins!r}",
                field="num_bins",
            )
        self.num_bins = num_bins
        self._values: np.ndarray | None = None
        self._hist: tuple[np.ndarray, np.ndarray] | None = None
        if (sequence is None) == (np_histogram is None):
            raise UsageError("Histogram: give either sequence or np_histogram", field="sequence")
        if np_histogram is not None:
            try:
                counts, edges = np_histogram
                counts = np.array(counts, dtype=np.float64, copy=True).ravel()
                edges = np.array(edges, dtype=np.float64, copy=True).ravel()
            except (TypeError, ValueError) as exc:
                raise UsageError(
                    "Histogram: np_histogram must be (counts, edges)", field="np_histogram"
                ) from exc
            if len(edges) != len(counts) + 1:
                raise UsageError(
                    f"Histogram: np_histogram has {len(counts)} counts and {len(edges)} edges; "
                    "edges must be one more than counts",
                    field="np_histogram",
                )
            self._hist = (counts, edges)
        else:
            try:
                self._values = np.array(_to_numpy(sequence), dtype=np.float64, copy=True).ravel()
            except (TypeError, ValueError) as exc:
                raise UsageError(
                    f"Histogram: sequence must hold numbers ({exc})", field="sequence"
                ) from exc

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        if self._hist is not None:
            counts, edges = self._hist
        else:
            assert self._values is not None
            values = self._values[np.isfinite(self._values)]
            counts, edges = np.histogram(values, bins=self.num_bins)
        counts_list = [int(c) if float(c).is_integer() else float(c) for c in counts]
        edges_list = [float(e) for e in edges]
        content = json.dumps({"counts": counts_list, "edges": edges_list}).encode()
        meta = {
            "num_bins": len(counts_list),
            "values": counts_list,
            "bins": edges_list,
            "count": sum(counts_list),
        }
        return Encoded("histogram", "json", content, meta)


class Audio(Media):
    """A sound clip, stored as a WAV file, as W&B's ``wandb.Audio``.

    Args:
        data_or_path: samples as a numpy array ``N`` (mono) or ``N x channels``: floats from
            -1 to 1, or ``int16``; or the path of a ``.wav`` file.
        sample_rate: samples per second; needed with an array.
        caption: the text shown with the clip.

    Example:
        >>> run.log({"speech": lablens.Audio(waveform, sample_rate=16000, caption="sample 3")})
    """

    _type = "audio"

    def __init__(
        self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None
    ) -> None:
        self.caption = _caption(caption)
        self._bytes: bytes | None = None
        self._samples: np.ndarray | None = None
        self.sample_rate = sample_rate
        read = _read_path(data_or_path, "Audio")
        if read is not None:
            if read[1] != "wav":
                raise UsageError(
                    f"Audio: only .wav files can be logged, not .{read[1]}", field="data_or_path"
                )
            self._bytes = read[0]
            return
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1:
            raise UsageError(
                "Audio: sample_rate (a positive int) is needed with an array of samples",
                field="sample_rate",
            )
        samples = np.array(_to_numpy(data_or_path), copy=True)
        if samples.ndim not in (1, 2) or not np.issubdtype(samples.dtype, np.number):
            raise UsageError(
                f"Audio: expected samples N or N x channels, got shape {samples.shape} and "
                f"dtype {samples.dtype}",
                field="data_or_path",
            )
        self._samples = samples

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        if self._bytes is not None:
            with wave.open(io.BytesIO(self._bytes)) as w:
                rate, frames, channels = w.getframerate(), w.getnframes(), w.getnchannels()
            meta = {"sample_rate": rate, "seconds": frames / rate, "channels": channels}
            return Encoded("audio", "wav", self._bytes, meta)
        samples = self._samples
        assert samples is not None and self.sample_rate is not None
        dtype = "int16" if samples.dtype == np.int16 else "float"
        if samples.dtype != np.int16:
            scaled = np.clip(np.nan_to_num(samples.astype(np.float64)), -1.0, 1.0) * 32767.0
            samples = np.rint(scaled).astype(np.int16)
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(np.ascontiguousarray(samples).astype("<i2").tobytes())
        meta = {
            "sample_rate": self.sample_rate,
            "seconds": len(samples) / self.sample_rate,
            "channels": channels,
            "dtype": dtype,
        }
        return Encoded("audio", "wav", out.getvalue(), meta)


class Text(Media):
    """A piece of text (a generated sample, a prompt), stored as a UTF-8 ``.txt`` file.

    Args:
        data: the text.
        caption: the text shown with it.

    Example:
        >>> run.log({"generated": lablens.Text(model.sample())})
    """

    _type = "text"

    def __init__(self, data: str, caption: str | None = None) -> None:
        if not isinstance(data, str):
            raise UsageError(f"Text: data must be a str, not {type(data).__name__}", field="data")
        self.data = data
        self.caption = _caption(caption)

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        content = self.data.encode("utf-8", "surrogatepass")
        return Encoded("text", "txt", content, {"chars": len(self.data)})


class Html(Media):
    """An HTML page or fragment, stored as an ``.html`` file, as W&B's ``wandb.Html``.

    Args:
        data: the HTML, or the path of an ``.html`` file, or a file object to read it from.
        inject: accepted for W&B's signature; the page is stored as given.
        caption: the text shown with it.

    Example:
        >>> run.log({"report": lablens.Html("<h1>Epoch 3</h1><p>loss 0.12</p>")})
    """

    _type = "html"

    def __init__(self, data: Any, inject: bool = True, caption: str | None = None) -> None:
        if hasattr(data, "read"):
            data = data.read()
        elif isinstance(data, os.PathLike) or (
            isinstance(data, str) and data.lower().endswith((".html", ".htm")) and "<" not in data
        ):
            data = Path(data).read_text(encoding="utf-8")
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        if not isinstance(data, str):
            raise UsageError(f"Html: data must be a str, not {type(data).__name__}", field="data")
        self.data = data
        self.caption = _caption(caption)

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        return Encoded("html", "html", self.data.encode("utf-8"), {"chars": len(self.data)})


class Plotly(Media):
    """A plotly figure, stored as its JSON, as W&B's ``wandb.Plotly``. A figure logged as it
    is (``run.log({"fig": fig})``) is wrapped in one.

    Args:
        val: a ``plotly.graph_objects.Figure`` (or its dict form).

    Example:
        >>> run.log({"roc": px.line(x=fpr, y=tpr)})
    """

    _type = "plotly"

    def __init__(self, val: Any) -> None:
        to_json = getattr(val, "to_plotly_json", None)
        if callable(to_json):
            # A deep copy of the figure's dict: the user may change the figure right after.
            import copy

            self._figure = copy.deepcopy(to_json())
        elif isinstance(val, dict):
            import copy

            self._figure = copy.deepcopy(val)
        else:
            raise UsageError(
                f"Plotly: expected a plotly figure, not {type(val).__name__}", field="val"
            )
        self.caption = None

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        from plotly.io.json import to_json_plotly

        content = to_json_plotly(self._figure).encode()
        return Encoded("plotly", "json", content, {"traces": len(self._figure.get("data", []))})


class Video(Media):
    """A short video: frames stored as an animated GIF (encoded with Pillow), or a video file
    stored as it is, as W&B's ``wandb.Video``.

    Args:
        data_or_path: frames as a numpy array ``T x C x H x W`` (W&B's layout; ``T x H x W x C``
            is read too when its last axis is 1, 3 or 4 channels and its second is not) of
            ``uint8``, or the path of a ``.gif``, ``.mp4``, ``.webm`` or ``.ogg`` file.
        caption: the text shown with it.
        fps: frames per second of an array, 4 by default.
        format: only ``"gif"`` for an array (no video codec is needed).

    Example:
        >>> run.log({"rollout": lablens.Video(frames, fps=8)})
    """

    _type = "video"

    def __init__(
        self,
        data_or_path: Any,
        caption: str | None = None,
        fps: int = 4,
        format: str | None = None,  # noqa: A002 - W&B's name
    ) -> None:
        self.caption = _caption(caption)
        self.fps = fps
        self._bytes: bytes | None = None
        self._format = "gif"
        self._frames: np.ndarray | None = None
        read = _read_path(data_or_path, "Video")
        if read is not None:
            if read[1] not in ("gif", "mp4", "webm", "ogg"):
                raise UsageError(
                    f"Video: a file must be .gif, .mp4, .webm or .ogg, not .{read[1]}",
                    field="data_or_path",
                )
            self._bytes, self._format = read
            return
        if format not in (None, "gif"):
            raise UsageError(
                f"Video: frames are stored as 'gif' (no video codec is installed), not {format!r}",
                field="format",
            )
        frames = np.array(_to_numpy(data_or_path), copy=True)
        if frames.ndim != 4:
            raise UsageError(
                f"Video: expected frames T x C x H x W, got shape {frames.shape}",
                field="data_or_path",
            )
        if frames.shape[1] in (1, 3, 4) or frames.shape[3] not in (1, 3, 4):
            frames = np.moveaxis(frames, 1, -1)
        self._frames = frames

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        from PIL import Image as PILImage

        if self._bytes is not None:
            return Encoded("video", self._format, self._bytes, {})
        frames = self._frames
        assert frames is not None
        if frames.dtype != np.uint8:
            frames = np.clip(frames, 0, 255).astype(np.uint8)
        if frames.shape[3] == 1:
            frames = frames[..., 0]
        images = [PILImage.fromarray(np.ascontiguousarray(f)) for f in frames]
        out = io.BytesIO()
        duration = max(1, math.floor(1000 / max(1, self.fps)))
        images[0].save(
            out, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0
        )
        meta = {
            "frames": len(images),
            "fps": self.fps,
            "width": images[0].width,
            "height": images[0].height,
        }
        return Encoded("video", "gif", out.getvalue(), meta)


def held_bytes(media: Media) -> int:
    """About how many bytes a media value holds until it is encoded and sent (its copy of the
    data): what the run's buffer of media is bounded by."""
    size = 256
    for name in ("_array", "_samples", "_frames", "_values"):
        value = getattr(media, name, None)
        if isinstance(value, np.ndarray):
            size += value.nbytes
    raw = getattr(media, "_bytes", None)
    if isinstance(raw, bytes):
        size += len(raw)
    pil = getattr(media, "_pil", None)
    if pil is not None:
        size += pil.width * pil.height * len(pil.getbands())
    text = getattr(media, "data", None)
    if isinstance(text, str):
        size += len(text)
    rows = getattr(media, "data", None)
    if isinstance(rows, list):
        for row in rows:
            size += 16 * len(row)
            size += sum(held_bytes(v) for v in row if isinstance(v, Media))
    return size


def as_media(value: Any) -> Media | None:
    """``value`` as a media item when it is one, else None.

    Besides a ``Media``, W&B's conversions of what ``wandb.log`` is given as it is: a plotly
    figure is a ``Plotly``, a pandas DataFrame a ``Table``, a str a ``Text``, and a numpy array or
    a tensor of numbers (one dimension or more) a ``Histogram`` of its values. Numbers, 0-d
    arrays and one-element tensors stay numbers (None here).
    """
    if isinstance(value, Media):
        return value
    cls = type(value)
    module = cls.__module__
    if module.startswith("plotly.") and callable(getattr(value, "to_plotly_json", None)):
        return Plotly(value)
    if isinstance(value, str):
        return Text(value)
    if module.split(".", 1)[0] == "pandas" and cls.__name__ == "DataFrame":
        from lablens.sdk.media_table import Table  # media_table imports this module

        return Table(dataframe=value)
    if _holds_numbers(value):
        return Histogram(value)
    return None


def numbers_histogram(values: list[Any] | tuple[Any, ...]) -> Histogram | None:
    """A list of plain numbers as a ``Histogram`` of them (W&B's conversion of a logged
    sequence), or None when it holds anything else."""
    if values and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        for v in values
    ):
        return Histogram(values)
    return None


def _holds_numbers(value: Any) -> bool:
    """Whether ``value`` is an array or tensor of numbers with a dimension, and more than one
    element for a tensor (whose ``.item()`` makes a one-element tensor a number)."""
    if isinstance(value, np.ndarray):
        return value.ndim >= 1 and (np.issubdtype(value.dtype, np.number) or value.dtype == bool)
    shape = getattr(value, "shape", None)
    to_numpy = getattr(value, "numpy", None) or getattr(value, "detach", None)
    if shape is None or not callable(to_numpy):
        return False
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        return False
    return len(dims) >= 1 and math.prod(dims) > 1
