"""Media of imported runs (images, histograms, tables, audio, text) sent the way logged media
travel: each becomes a ``lablens.Image``, ``Histogram``... (``lablens.sdk``), encoded by the
SDK's own ``encode_media`` and uploaded by its ``send_media`` (the blobs the server lacks, then
the items), so an imported image is stored exactly as a logged one.

A source adds media to its run's ``MediaSink`` while its points are read; the sink sends them in
bounded batches, so an import never holds a whole run's images in memory. Each batch id is made
of what the batch holds (keys, steps, indices and digests): importing the same source again
stores nothing twice, and an item logged at the same key, step and index replaces the earlier
one on the server anyway.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import TYPE_CHECKING, Any

from lablens.contract.media import FORMATS
from lablens.contract.routes import run_route
from lablens.sdk.media import Encoded, Image, Media, held_bytes
from lablens.sdk.media_upload import MediaEntry, encode_media, send_media

if TYPE_CHECKING:
    from lablens.api import Run

__all__ = ["MediaSink", "Stored", "image_bytes", "wav_audio"]

#: Bytes of media held before a batch is sent: a few dozen requests per thousand images.
BATCH_BYTES = 16 << 20
#: Items in one batch at most.
BATCH_ITEMS = 1000

_PNG = b"\x89PNG\r\n\x1a\n"


class Stored(Media):
    """A media value whose content is already in the format lablens stores (a PNG as a
    TensorBoard event file holds it, a WAV clip): sent as it is, byte for byte."""

    def __init__(
        self, kind: str, fmt: str, content: bytes, meta: dict[str, Any], caption: str | None = None
    ) -> None:
        if fmt not in FORMATS.get(kind, ()):
            raise ValueError(f"a {kind} is not stored as {fmt}")
        self._type = kind
        self._format = fmt
        self._bytes = content
        self._meta = meta
        self.caption = caption

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        return Encoded(self._type, self._format, self._bytes, dict(self._meta))


def image_bytes(content: bytes, caption: str | None = None) -> Media:
    """An encoded image file's bytes as a media value: a PNG kept byte for byte, any other
    format (JPEG, GIF...) decoded and stored as a PNG of its pixels.

    Raises:
        OSError: the bytes are not an image Pillow can read.
    """
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(content)) as im:
        if content.startswith(_PNG):
            meta = {"width": im.width, "height": im.height, "channels": len(im.getbands())}
            return Stored("image", "png", content, meta, caption)
        im.load()
        return Image(im.copy(), caption=caption)


def wav_audio(content: bytes, caption: str | None = None) -> Stored:
    """A WAV file's bytes as an audio value, kept byte for byte.

    Raises:
        wave.Error: the bytes are not a WAV file.
    """
    import wave

    with wave.open(io.BytesIO(content)) as w:
        rate, frames, channels = w.getframerate(), w.getnframes(), w.getnchannels()
    meta = {"sample_rate": rate, "seconds": frames / rate, "channels": channels}
    return Stored("audio", "wav", content, meta, caption)


class MediaSink:
    """The media of one imported run, sent through it in bounded batches.

    ``add()`` may be called before the run is opened (``open()``): the media wait until then.
    """

    def __init__(self) -> None:
        self._run: Run | None = None
        self._prefix = "import"
        self._pending: list[MediaEntry] = []
        self._held = 0
        self._uploaded: set[str] = set()
        #: Items sent, and items the server stored (0 for a batch it had already).
        self.sent = 0
        self.stored = 0

    def open(self, run: Run, prefix: str) -> None:
        """Send through ``run`` from now on; ``prefix`` starts every batch id
        (``import:<source>:<source id>``)."""
        self._run = run
        self._prefix = prefix
        if self._held >= BATCH_BYTES or len(self._pending) >= BATCH_ITEMS:
            self.flush()

    def add(self, key: str, step: int, timestamp: float, media: Media, index: int = 0) -> None:
        """One media value logged under ``key`` at ``step`` (``index``: its place in the
        step's gallery)."""
        self._pending.append((key, index, media, step, timestamp))
        self._held += held_bytes(media)
        if self._run is not None and (
            self._held >= BATCH_BYTES or len(self._pending) >= BATCH_ITEMS
        ):
            self.flush()

    def flush(self) -> None:
        """Encode and send what is waiting."""
        if not self._pending or self._run is None:
            return
        entries, self._pending, self._held = self._pending, [], 0
        items, blobs = encode_media(entries)
        if not items:
            return
        what = json.dumps([[i["key"], i["step"], i["index"], i["sha256"]] for i in items])
        batch_id = f"{self._prefix}:media:{hashlib.sha256(what.encode()).hexdigest()[:24]}"
        run = self._run
        path = run_route(run.entity, run.project, run.id)
        answer = send_media(run._api.client, path, batch_id, items, blobs, self._uploaded)
        self.sent += len(items)
        self.stored += int((answer or {}).get("stored") or 0)

    def close(self) -> int:
        """Send the rest; returns how many items the server stored."""
        self.flush()
        return self.stored
