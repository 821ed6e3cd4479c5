"""The PostgreSQL engine is put together as the embedded one: the same parts, in the same order,
built with the same arguments, their shared helpers taking the same arguments, and every
``Store`` method answered with the interface's signature."""

from __future__ import annotations

import inspect

import pytest

from lablens.store.base import Store
from lablens.store.embedded.store import EmbeddedStore
from lablens.store.postgres.store import PostgresStore

_POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD


def _params(fn) -> list[tuple[str, object]]:
    """A function's parameters as (name, kind), ``self`` left out (a static method is called the
    same); a DuckDB connection ``con`` and a psycopg one ``conn`` are the same parameter."""
    return [
        ("conn" if p.name == "con" else p.name, p.kind)
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self"
    ]


def test_every_store_method_is_implemented_with_its_signature():
    assert not PostgresStore.__abstractmethods__
    differ = [
        name
        for name in sorted(Store.__abstractmethods__)
        if inspect.signature(getattr(Store, name))
        != inspect.signature(getattr(PostgresStore, name))
    ]
    assert differ == []


def test_the_parts_are_the_embedded_parts_in_the_same_order():
    assert list(PostgresStore.PARTS) == list(EmbeddedStore.PARTS)
    for attr, part in PostgresStore.PARTS.items():
        embedded = EmbeddedStore.PARTS[attr]
        assert part.__name__ == embedded.__name__
        assert _params(part.__init__) == _params(embedded.__init__), attr


@pytest.mark.parametrize("attr", list(EmbeddedStore.PARTS))
def test_a_method_both_parts_have_takes_the_embedded_part_s_arguments(attr):
    # Parts call each other's helpers (projects.project_id, runs.run_pk, ...): a helper both
    # engines have takes the same arguments, a PostgreSQL one perhaps a few optional ones more.
    part, embedded = PostgresStore.PARTS[attr], EmbeddedStore.PARTS[attr]
    for name, fn in inspect.getmembers(embedded, inspect.isfunction):
        if name.startswith("_") or not hasattr(part, name):
            continue
        ours, theirs = _params(getattr(part, name)), _params(fn)
        params = inspect.signature(getattr(part, name)).parameters.values()
        params = [p for p in params if p.name != "self"]
        if ours[:1] == [("conn", _POSITIONAL)] and theirs[:1] != ours[:1]:
            # What the embedded helper reads under its write lock, the PostgreSQL one reads in
            # the caller's transaction, so it takes its connection first.
            ours, params = ours[1:], params[1:]
        assert ours[: len(theirs)] == theirs, f"{part.__name__}.{name}"
        extra = params[len(theirs) :]
        assert all(p.default is not inspect.Parameter.empty for p in extra), name
