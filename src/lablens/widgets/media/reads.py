"""The reads of a media panel: each one runs against the ``Api`` and renders itself as the Python
source that repeats it, so what ``panel.code`` and the action log show is what ran.

- the runs and their media keys, in one request per project: ``runs = api.runs(...)``,
  ``keys = runs.media_keys()``;
- the items of one key, all steps, in one request per project: ``items = api.runs(...).media(k)``;
- what each item at the step shown gives: ``thumbs = [item.thumbnail(160) for item in items if
  item.step == 10]`` (tables: ``to_pandas()``, audio: ``content()``, text: ``text()``);
- one item whole (the full-size image): ``png = items[17].content()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lablens.widgets._call import ApiCall, api_call

if TYPE_CHECKING:
    from lablens.api import Api, MediaItem, Run

__all__ = ["EachItem", "ItemsRead", "KeysRead", "item_call", "runs_call"]


def runs_call(project: str, ids: Sequence[str]) -> ApiCall:
    """``api.runs(project, filters={"id": {"$in": ids}})``: the runs shown, of one project."""
    return api_call("runs", project, filters={"id": {"$in": list(ids)}})


@dataclass(frozen=True)
class KeysRead:
    """The runs (one ``api.runs`` call per project) and their media keys (one
    ``Runs.media_keys()`` call per project, each one request for all its runs)."""

    calls: tuple[ApiCall, ...]

    def source(self) -> str:
        """``runs = api.runs(...)`` and ``keys = runs.media_keys()``; for several projects a
        ``runs_<n>`` each, then ``runs`` and ``keys`` joined from them."""
        if len(self.calls) == 1:
            return f"runs = {self.calls[0].source()}\nkeys = runs.media_keys()"
        names = [f"runs_{n}" for n in range(1, len(self.calls) + 1)]
        lines = [f"{name} = {call.source()}" for name, call in zip(names, self.calls, strict=True)]
        lines.append(f"runs = [{', '.join(f'*{name}' for name in names)}]")
        lines.append(f"keys = {{{', '.join(f'**{name}.media_keys()' for name in names)}}}")
        return "\n".join(lines)

    def run(self, api: Api) -> tuple[list[Run], dict[str, dict[str, Any]]]:
        """The runs, and their media keys by run path."""
        found = [call.run(api) for call in self.calls]
        runs = [run for group in found for run in group]
        keys: dict[str, dict[str, Any]] = {}
        for group in found:
            keys.update(group.media_keys())
        return runs, keys


@dataclass(frozen=True)
class ItemsRead:
    """The items of one key at every step, for the runs of each project in one request."""

    calls: tuple[ApiCall, ...]

    @classmethod
    def of(cls, groups: dict[str, list[str]], key: str) -> ItemsRead:
        """``api.runs(project, filters=<ids>).media(key)`` for each project of ``groups``."""
        return cls(tuple(runs_call(p, ids).then("media", key) for p, ids in groups.items()))

    def source(self) -> str:
        """``items = <call>`` (the projects' lists added up when there are several)."""
        return "items = " + " + ".join(c.source() for c in self.calls)

    def run(self, api: Api) -> list[MediaItem]:
        """The items, by project, run, step and index."""
        return [item for call in self.calls for item in call.run(api)]


@dataclass(frozen=True)
class EachItem:
    """``name = [item.method(*args) for item in items if item.step == step]``: what each item
    logged at ``step`` gives (``step`` ``None``: every item)."""

    name: str
    method: str
    args: tuple[Any, ...] = ()
    step: int | None = None

    def source(self) -> str:
        """The list comprehension, on a variable ``items``."""
        args = ", ".join(repr(a) for a in self.args)
        where = "" if self.step is None else f" if item.step == {self.step!r}"
        return f"{self.name} = [item.{self.method}({args}) for item in items{where}]"

    def pick(self, items: Sequence[MediaItem]) -> list[tuple[int, MediaItem]]:
        """The items it reads, with their positions in ``items``."""
        return [(n, i) for n, i in enumerate(items) if self.step is None or i.step == self.step]

    def read(self, item: MediaItem) -> Any:
        """What one item gives."""
        return getattr(item, self.method)(*self.args)


def item_call(position: int, method: str) -> ApiCall:
    """``items[position].method()``: one item of the panel's ``items``, read whole."""
    return ApiCall("items")[position].then(method)
