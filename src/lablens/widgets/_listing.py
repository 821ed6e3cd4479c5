"""``Listing``: a DataFrame of what an ``Api`` listing returned, one row per item, and the code
that makes it.

The tree-shaped widgets show lists (projects, runs, artifact versions ...) and give them as a
DataFrame; their ``code`` repeats that as ``df = pd.DataFrame([{...} for x in <call>])``. Each
column is written once, as a Python expression on the item; the same text is the source shown and
(compiled once, at import) the function the widget builds its rows with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from lablens.widgets._base import Recorder
from lablens.widgets._call import ApiCall

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["Listing", "ShowsListings", "plural"]

# The names a column expression may use, besides the item and the builtins.
_GLOBALS = {"json": json, "pd": pd}


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 run"``, ``"2 runs"``: a count and its noun, singular for one."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


class Listing:
    """Columns as expressions on one item, e.g. ``Listing("p", path="p.path")``.

    Args:
        item: the loop variable the expressions use (``"r"``, or ``"role, r"`` for pairs).
        columns: column name -> a Python expression on ``item``.
    """

    def __init__(self, item: str, **columns: str) -> None:
        self.item = item
        self.columns = columns
        # The module's own constant text, never user input: compiled so the rows are built by
        # the very expression the source shows.
        self._row = eval(  # noqa: S307
            compile(f"lambda {item}: {self._dict()}", f"<listing {item}>", "eval"), _GLOBALS
        )

    def _dict(self) -> str:
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in self.columns.items()) + "}"

    def imports(self) -> str:
        """The import statements its source needs, each followed by a blank line."""
        json_used = any("json." in v for v in self.columns.values())
        return ("import json\n\n" if json_used else "") + "import pandas as pd\n\n"

    def code(self, items: ApiCall) -> str:
        """The imports and ``source``: code that runs on its own, given ``api``."""
        return self.imports() + self.source(items)

    def source(self, items: ApiCall | str) -> str:
        """``df = pd.DataFrame([...])`` over ``items``, a call or the source of an iterable."""
        return (
            f"df = pd.DataFrame([{self._dict()} for {self.item} in {items}],"
            f" columns={list(self.columns)!r})"
        )

    def frame(self, items: Iterable[Any]) -> pd.DataFrame:
        """The DataFrame that ``source`` gives, from the items its call returned."""
        if "," in self.item:
            rows = [self._row(*item) for item in items]
        else:
            rows = [self._row(item) for item in items]
        return pd.DataFrame(rows, columns=list(self.columns))


class ShowsListings(Recorder):
    """A widget that shows what listings return (the tree widgets): ``_list`` runs a call and
    keeps what it listed as ``code`` and as the DataFrame ``to_pandas()`` gives."""

    _api: Api
    _last: pd.DataFrame

    def _list(self, call: ApiCall, listing: Listing, items: Any = None) -> list[Any]:
        """Run ``call`` (or take ``items``, what it returned), record its listing as ``code``."""
        items = list(call.run(self._api) if items is None else items)
        self._record(listing.code(call))
        self._last = listing.frame(items)
        return items

    def to_pandas(self) -> pd.DataFrame:
        """The last listing shown, as a DataFrame; equal to ``exec(widget.code)``'s ``df``."""
        return self._last.copy()
