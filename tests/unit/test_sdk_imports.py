"""The SDK stays light: importing it loads neither the ``Api`` nor pandas.

Training code imports ``lablens`` and calls ``init()``; the ``Api`` and pandas are for notebooks.
Each check runs in a fresh interpreter, since this one has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("lablens.api", "lablens.widgets", "lablens.server", "lablens.store", "pandas")


def loaded_after(module: str) -> dict[str, bool]:
    """Which of ``HEAVY`` a fresh interpreter holds after ``import module``."""
    code = f"import sys, {module}\nprint(' '.join(str(m in sys.modules) for m in {HEAVY!r}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return dict(zip(HEAVY, (word == "True" for word in out.stdout.split()), strict=True))


@pytest.mark.parametrize(
    "module", ["lablens.sdk", "lablens.sdk.artifacts", "lablens.sdk.run_artifacts", "lablens"]
)
def test_importing_the_sdk_loads_neither_the_api_nor_pandas(module):
    assert loaded_after(module) == dict.fromkeys(HEAVY, False)


def test_the_check_sees_what_is_loaded():
    # The same probe on the Api: it must report it, or the test above could not fail.
    loaded = loaded_after("lablens.api")
    assert loaded["lablens.api"] and loaded["pandas"]


def test_the_artifact_class_is_the_sdks_own():
    code = (
        "import sys, lablens\n"
        "a = lablens.Artifact('x', 'dataset')\n"
        "print(type(a).__module__, 'lablens.api' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == ["lablens.sdk.artifacts", "False"]
