"""A ``Store`` made of parts: how every engine is put together, the same for each.

An engine is a few classes, its *parts*, each owning one concept (accounts, projects, runs,
points, blobs, ...) and built with the one database handle it shares and the other parts it
needs, passed in its ``__init__``. A part never reaches another through ``self``.

The engine's store class subclasses :class:`StoreOfParts`, names its parts in ``PARTS``
(attribute name -> part class) and builds them in ``__init__``. Every ``Store`` method a part
defines is then answered by that part: the forward is made here, once, when the class is
defined, with the part's own signature (so ``tests/unit/test_store_interface.py`` checks the
part) and the interface's docstring. A method that spans parts (deleting a project deletes its
artifacts too) is written on the store class itself, which wins over any forward.

Defining the class fails when a ``Store`` method is answered by no part or by two.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from lablens.store.base import Store

__all__ = ["StoreOfParts"]


# The forwards made here: a method a store class inherits from another is its own only when it
# is not one of these.
_FORWARDS: set[Callable[..., Any]] = set()


def _store_methods() -> dict[str, Callable[..., Any]]:
    """Every public method of the ``Store`` interface, by name."""
    return {
        name: member
        for name, member in inspect.getmembers(Store, inspect.isfunction)
        if not name.startswith("_")
    }


def _forward(attr: str, name: str, impl: Callable[..., Any], doc: str | None) -> Any:
    @functools.wraps(impl)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(getattr(self, attr), name)(*args, **kwargs)

    method.__doc__ = doc or impl.__doc__
    method.__qualname__ = f"{attr}.{name}"
    _FORWARDS.add(method)
    return method


class StoreOfParts(Store):
    """A ``Store`` whose methods are its parts' methods (see the module's docstring)."""

    PARTS: ClassVar[Mapping[str, type]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.PARTS:
            return
        methods = _store_methods()
        if clash := sorted(set(cls.PARTS) & set(methods)):
            raise TypeError(f"{cls.__name__}: the parts {clash} are named as Store methods")
        for name, proto in methods.items():
            if _written_on_store(cls, name):
                continue  # the store's own method, spanning parts
            owners = [
                attr for attr, part in cls.PARTS.items() if callable(getattr(part, name, None))
            ]
            if len(owners) > 1:
                raise TypeError(f"{cls.__name__}: {name} is defined by the parts {owners}")
            if owners:
                impl = getattr(cls.PARTS[owners[0]], name)
                setattr(cls, name, _forward(owners[0], name, impl, proto.__doc__))
            elif getattr(proto, "__isabstractmethod__", False):
                raise TypeError(f"{cls.__name__}: no part defines the Store method {name}")


def _written_on_store(cls: type, name: str) -> bool:
    """Whether ``name`` is written on an engine's store class (``cls`` or a store class it
    extends), not inherited from the interface nor forwarded to a part."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            own = klass.__dict__[name]
            return (
                isinstance(klass, type)
                and issubclass(klass, StoreOfParts)
                and klass is not StoreOfParts
                and own not in _FORWARDS
            )
    return False
