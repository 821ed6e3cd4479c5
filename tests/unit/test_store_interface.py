"""The embedded engine keeps the store interface's signatures, so the copies cannot drift."""

from __future__ import annotations

import inspect

from lablens.store.base import Store
from lablens.store.embedded.store import EmbeddedStore


def test_every_abstract_method_is_implemented_with_its_signature():
    names = sorted(Store.__abstractmethods__)
    assert len(names) > 60
    assert not EmbeddedStore.__abstractmethods__
    differ = [
        name
        for name in names
        if inspect.signature(getattr(Store, name))
        != inspect.signature(getattr(EmbeddedStore, name))
    ]
    assert differ == []


def test_the_implementations_read_the_interface_docstrings(tmp_path):
    # The interface holds each method's docstring; the engine does not repeat it, and help()
    # on a store's method still shows it.
    store = EmbeddedStore(tmp_path / "data")
    try:
        for name in ("history", "query_runs", "get_project"):
            assert inspect.getdoc(getattr(store, name)) == inspect.getdoc(getattr(Store, name))
            assert inspect.getdoc(getattr(Store, name))
    finally:
        store.close()
