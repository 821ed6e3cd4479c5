"""Every ``Api`` and ``Run`` method and attribute the seed docs list exists on lablens's objects.

The seeds (the reference docs lablens implements, in the team's shared folder) list them in their
own forms, and each form is parsed here:

- 000 (SwanLab): the ``api.X(...)`` calls of its examples, and the ``run`` table's
  ``Attribute/Method`` rows;
- 001 (W&B, newest): ``method Api.X`` and ``property Api.X`` headings;
- 002 (W&B, "liberry"): the ``Attributes`` table and the ``<h3 id="X">`` method headings;
- 003 (W&B 0.18/0.19): the ``### `X``` method headings under ``## Methods``;
- 004 (``wandb.apis.public``): the ``#### X`` headings of ``Api Objects`` and ``Run Objects``,
  and the ``Run`` attribute list (``- `X` _type_ - ...``).

A name counts as present when it is an attribute of a live object (``dir()``: class members and
what ``__init__``/``_load`` set), without calling anything: a property is not evaluated.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from lablens.api import Api, Run

ROOT = Path(__file__).resolve().parents[2]
#: The seeds live beside the repository (the team's shared folder), not in it: they are other
#: projects' docs. What they list is kept in ``seed_names.json``, checked against them here
#: whenever they are at hand, so CI on a lone clone checks the live objects against the list.
SEEDS = Path(os.environ.get("LABLENS_SEEDS", ROOT.parent / "shared" / "seeds"))
NAMES = Path(__file__).with_name("seed_names.json")
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"no seed docs at {SEEDS}")


def _read(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def _section(text: str, start: str, end: str = r"^## ") -> str:
    """The text from the line matching ``start`` to the next line matching ``end``."""
    head = re.search(start, text, re.M)
    assert head, f"no {start!r} in the seed"
    rest = text[head.end() :]
    stop = re.search(end, rest, re.M)
    return rest[: stop.start()] if stop else rest


def _unescape(name: str) -> str:
    return name.replace("\\_", "_")


def api_names() -> dict[str, set[str]]:
    """The ``Api`` names each seed lists, by seed."""
    found: dict[str, set[str]] = {}
    swanlab = _read("000")
    found["000"] = set(re.findall(r"\bapi\.([a-z_]+)\(", swanlab))
    found["001"] = set(re.findall(r"^(?:method|property) Api\.(\w+)\s*$", _read("001"), re.M))
    liberry = _read("002")
    attrs = _section(liberry, r"Attributes</h2>", r"^## Methods")
    found["002"] = set(re.findall(r"^`(\w+)`\s*$", attrs, re.M)) | set(
        re.findall(r'<h3 id="(\w+)">', liberry)
    )
    found["003"] = set(re.findall(r"^### `(\w+)`", _section(_read("003"), r"^## Methods"), re.M))
    api004 = _section(_read("004"), r"^## Api Objects")
    found["004"] = {_unescape(n) for n in re.findall(r"^#### (\S+)\s*$", api004, re.M)}
    return found


def run_names() -> dict[str, set[str]]:
    """The ``Run`` names each seed lists, by seed."""
    run000 = _section(_read("000"), r"^## run\s*$")
    table = _section(run000, r"^\| Attribute/Method", r"^\s*$")
    run004 = _section(_read("004"), r"^## Run Objects")
    attrs = set(
        re.findall(r"^- `(\w+)` _", _section(run004, r"^\*\*Attributes\*\*", r"^<a "), re.M)
    )
    methods = {_unescape(n) for n in re.findall(r"^#### (\S+)\s*$", run004, re.M)}
    return {
        "000": set(re.findall(r"^\| `(\w+)(?:\(\))?` \|", table, re.M)),
        "004": attrs | methods,
    }


def _union(by_seed: dict[str, set[str]]) -> set[str]:
    return set().union(*by_seed.values()) - {"__init__"}  # every class has one


@pytest.fixture(scope="module")
def live() -> dict[str, object]:
    # Built without a request: neither object reaches a server until a property is read.
    api = Api(host="http://127.0.0.1:9", api_key="lablens-seed-surface")
    run = Run.from_json(api, {"id": "r", "entity": "e", "project": "p", "state": "FINISHED"})
    return {"Api": api, "Run": run}


def seed_names() -> dict[str, list[str]]:
    """Every name the seeds list, by class, as ``seed_names.json`` keeps them."""
    return {"Api": sorted(_union(api_names())), "Run": sorted(_union(run_names()))}


@needs_seeds
def test_the_kept_list_is_what_the_seeds_list():
    assert json.loads(NAMES.read_text()) == seed_names(), (
        f"the seeds changed: write seed_names() to {NAMES}"
    )


@needs_seeds
def test_the_parser_finds_every_list_of_the_seeds():
    apis, runs = api_names(), run_names()
    counts = {f"Api {k}": len(v) for k, v in apis.items()}
    counts.update({f"Run {k}": len(v) for k, v in runs.items()})
    print("names per seed:", counts)
    # What each seed lists, counted by hand from the files.
    assert len(apis["001"]) == 49  # 48 methods and properties, and __init__
    assert {"api_key", "client", "default_entity", "user_agent", "sync_tensorboard"} <= apis["002"]
    assert len(apis["003"]) == 31
    assert apis["004"] == {"flush", "projects", "reports", "runs", "run", "sweep", "artifact"}
    assert {"workspaces", "workspace", "projects", "project", "runs", "run", "users", "user"} <= (
        apis["000"]
    )
    assert len(runs["004"]) == 16 + 7  # the attribute list and the method headings
    assert {"read_only", "history_keys", "create", "scan_history"} <= runs["004"]
    assert {"metrics", "json", "profile", "labels", "show"} <= runs["000"]
    assert len(runs["000"]) == 16


def test_every_seed_name_exists_on_the_live_objects(live):
    wanted = {cls: set(names) for cls, names in json.loads(NAMES.read_text()).items()}
    assert len(wanted["Api"]) == 50 and len(wanted["Run"]) == 31
    missing = {
        cls: sorted(n for n in names if n not in dir(live[cls])) for cls, names in wanted.items()
    }
    total = sum(len(n) for n in wanted.values())
    absent = sum(len(m) for m in missing.values())
    print(
        f"seed names: Api {len(wanted['Api'])}, Run {len(wanted['Run'])}, {total} in all;"
        f" present {total - absent}; missing {absent}: {missing}"
    )
    assert not absent, f"names the seeds list that lablens lacks: {missing}"
