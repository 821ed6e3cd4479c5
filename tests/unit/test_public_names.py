"""The public names: ``lablens.__all__`` is sorted, complete, and every name is documented."""

from __future__ import annotations

import pathlib

import lablens
import lablens.errors

DOCS = pathlib.Path(__file__).parents[2] / "docs"


def test_all_is_sorted():
    assert lablens.__all__ == sorted(lablens.__all__)


def test_all_names_resolve():
    for name in lablens.__all__:
        assert getattr(lablens, name) is not None, name


def test_every_error_class_is_exported():
    exported = set(lablens.__all__)
    for name, value in vars(lablens.errors).items():
        is_error = isinstance(value, type) and issubclass(value, Exception)
        if is_error and value.__module__ == "lablens.errors" and not name.startswith("_"):
            assert name in exported, name


def test_every_public_name_appears_in_the_docs():
    text = "\n".join(p.read_text() for p in DOCS.rglob("*.md"))
    missing = [
        n
        for n in lablens.__all__
        if n != "__version__"
        and f"`{n}" not in text
        and f"{n}(" not in text
        and f"lablens.{n}" not in text
    ]
    assert not missing, f"not in docs/: {missing}"
