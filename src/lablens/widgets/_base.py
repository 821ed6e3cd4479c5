"""``LablensWidget`` and ``Recorder``: what every widget shares, and where its code goes.

Widgets know only the public ``Api``. Each action is one ``Api`` call, built as an ``ApiCall``
(``widgets/_call.py``) that both runs against the widget's ``Api`` and renders itself as Python
source. The widget sets that source as ``code`` (``_set_code``) and hands it to the listeners
(``_called``; the explorer's action log is one), so it can be copied and run again. ``code``
runs in a fresh kernel: it starts with ``import lablens`` and ``api = lablens.Api(host=...)``
(``_call.kernel_code``); what the listeners get is the call alone, on a variable ``api``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import anywidget
import traitlets as t

from lablens.widgets._call import kernel_code
from lablens.widgets._traits import api_of, check_api

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["STATIC", "LablensWidget", "Recorder", "make_api"]

STATIC = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger("lablens.widgets")
F = TypeVar("F", bound=Callable[..., Any])


def make_api(api: Api | None, *given: Any, widget: str = "widget") -> Api:
    """The given ``Api``; else the ``Api`` of the first resource among ``given`` (a widget
    given Run objects reads from their server); else ``lablens.Api()`` (the local or
    ``LABLENS_HOST`` server).

    Raises:
        TypeError: ``api`` is not an ``Api`` (the message names what the widget takes).
    """
    check_api(api, widget)
    if api is not None:
        return api
    found = api_of(*given)
    if found is not None:
        return found
    from lablens.api import Api

    return Api()


def check_kwargs(widget: t.HasTraits, kwargs: dict[str, Any], public: tuple[str, ...]) -> None:
    """Reject keyword arguments that are not public traits: a typo must not pass silently."""
    unknown = sorted(k for k in kwargs if k not in public)
    if unknown:
        raise TypeError(
            f"{type(widget).__name__}() got unexpected keyword argument(s): {', '.join(unknown)};"
            f" it takes {', '.join(public)}"
        )


class Recorder(t.HasTraits):
    """The ``code`` and ``error`` traits and the action listeners, for any lablens widget."""

    code = t.Unicode("", read_only=True).tag(sync=True)
    """The Python source of the last Api call that produced what the widget shows, as a fresh
    kernel runs it: ``import lablens``, ``api = lablens.Api(host=...)`` (the key comes from the
    stored credentials or ``LABLENS_API_KEY``), then the call; ``exec`` it and ``df`` equals
    ``to_pandas()``."""

    error = t.Unicode("").tag(sync=True)
    """The last error of an action, shown inside the widget; empty when the last one worked."""

    def _recorder_init(self) -> None:
        self._listeners: list[Callable[[str], None]] = []

    def on_api_call(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(source)`` with the Python source of every Api call this widget makes.

        Args:
            callback: takes one string, a statement that repeats the call.

        Example:
            >>> table.on_api_call(print)
        """
        self._listeners.append(callback)

    def _called(self, source: str) -> None:
        for cb in list(self._listeners):
            cb(source)

    def _set_code(self, source: str) -> None:
        api = getattr(self, "_api", None)
        self.set_trait("code", kernel_code(api, source) if source and api is not None else source)

    def _record(self, source: str) -> None:
        """``source`` is what the widget shows now: set it as ``code`` and tell the listeners."""
        self._set_code(source)
        self._called(source)


def shows_errors(method: F) -> F:
    """Run a callback; show an exception in the widget (``error``) instead of losing it in a log.

    Callbacks run from the browser's events, where a raised exception would reach no one.
    """

    @functools.wraps(method)
    def wrapper(self: Recorder, *args: Any, **kwargs: Any) -> Any:
        try:
            result = method(self, *args, **kwargs)
        except Exception as exc:
            log.debug("widget callback failed", exc_info=True)
            self.error = f"{type(exc).__name__}: {exc}"
            return None
        self.error = ""
        return result

    return wrapper  # type: ignore[return-value]


class LablensWidget(anywidget.AnyWidget, Recorder):
    """The base of the anywidget-based lablens widgets: bundle loading and common traits.

    A subclass names its bundle (``_bundle = "run_table"`` loads ``static/run_table.js``) and
    lists its public traits in ``_public``; other keyword arguments are a ``TypeError``.
    """

    _bundle: ClassVar[str] = ""
    _public: ClassVar[tuple[str, ...]] = ()
    _sources: ClassVar[dict[str, str]] = {}

    def __init__(self, **kwargs: Any) -> None:
        check_kwargs(self, kwargs, self._public)
        # Set per instance, not at class creation: importing lablens.widgets must work before
        # the bundle is built (anywidget reads a class-level _esm path at import time).
        self._esm = self._bundle_source()
        self._recorder_init()
        super().__init__(**kwargs)

    @classmethod
    def _bundle_source(cls) -> str:
        if cls._bundle not in LablensWidget._sources:
            path = STATIC / f"{cls._bundle}.js"
            if not path.is_file():
                raise RuntimeError(
                    f"the widget bundle {path} is missing: build it with `make js`"
                    " (or `npm ci && npm run build` in js/), or reinstall lablens"
                )
            LablensWidget._sources[cls._bundle] = path.read_text(encoding="utf-8")
        return LablensWidget._sources[cls._bundle]
