"""The value types of a run's fields: ``RunState``, ``Summary`` and ``Profile``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from lablens.transport import decode_floats

if TYPE_CHECKING:
    from lablens.api.run import Run

__all__ = ["Profile", "RunState", "Summary"]


class RunState(str):
    """A run state as SwanLab writes it (``FINISHED``, ``RUNNING``, ``CRASHED``, ``ABORTED``) that
    also equals W&B's lowercase spelling: ``run.state == "finished"`` holds for a finished run.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> RunState:
        return super().__new__(cls, value.upper())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.__eq__(self, other.upper())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    # The value is stored upper-case, so it hashes like "FINISHED".
    __hash__ = str.__hash__


class Profile(dict):
    """SwanLab's ``run.profile``: ``config``, ``metadata``, ``requirements`` and ``conda``.

    A ``dict`` whose keys are also attributes, so ``run.profile.config`` and
    ``run.profile["config"]`` both work.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Summary(MutableMapping[str, Any]):
    """A run's summary: the last value of each metric plus what was set, W&B's ``run.summary``.

    It reads like a ``dict``. Setting or deleting an item changes it here; ``update()`` (with or
    without a dict) or ``run.update()`` writes just those changes to the server, which merges
    them into what it holds. Non-finite floats come back as floats (``NaN``, ``inf``), not as
    the strings JSON carries them in.

    Example:
        >>> run.summary["best_acc"] = 0.97
        >>> run.summary.update()                  # persist what was set
        >>> run.summary.update({"epochs": 10})    # set and persist at once
    """

    def __init__(self, run: Run, data: Mapping[str, Any] | None = None) -> None:
        self._run = run
        self._data: dict[str, Any] = dict(decode_floats(dict(data or {})))
        self._changed: set[str] = set()

    def _replace(self, data: Mapping[str, Any]) -> None:
        """Take the server's summary as the current one, forgetting local changes."""
        self._data = dict(decode_floats(dict(data)))
        self._changed.clear()

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self._changed.add(key)

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._changed.add(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def update(self, other: Mapping[str, Any] | Iterator[tuple[str, Any]] = (), /, **kwargs: Any):
        """Set the given items and write the summary's changes to the server.

        Args:
            other: a mapping (or pairs) of summary keys to values.
            **kwargs: more keys and values.

        Raises:
            ApiError: the server refused the change.

        Example:
            >>> run.summary.update({"best_loss": 0.08})
        """
        items = other.items() if isinstance(other, Mapping) else other
        for key, value in items:
            self[key] = value
        for key, value in kwargs.items():
            self[key] = value
        self._run._patch(self._patch_body())

    def _patch_body(self) -> dict[str, Any]:
        # Only what changed: the server merges, so values logged meanwhile by a running
        # training process are not overwritten with the stale ones read here. A removed key
        # travels as None, which the server deletes.
        if not self._changed:
            return {}
        return {"summary": {k: self._data.get(k) for k in self._changed}}
