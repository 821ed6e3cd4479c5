"""The history reads of a chart: one ``Runs.histories(format="long")`` call per project of the
runs drawn, and the code that repeats them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pandas as pd

from lablens.contract.paths import parse_run_path
from lablens.widgets._call import ApiCall, api_call

__all__ = ["by_project", "code_of", "history_call", "join", "run_names"]


def by_project(runs: Sequence[str]) -> dict[str, list[str]]:
    """Run paths grouped by project: ``{"entity/project": [run_id, ...]}``.

    Raises:
        UsageError: a path is not a whole run path (``entity/project/run_id``, W&B's
            ``entity/project/runs/run_id`` or a run URL).
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for path in runs:
        entity, project, run_id = parse_run_path(path)
        groups[f"{entity}/{project}"].append(run_id)
    return groups


def history_call(
    project: str,
    ids: list[str],
    *,
    keys: Sequence[str],
    x_axis: str,
    samples: int,
    x_range: tuple[float, float] | None,
) -> ApiCall:
    """``api.runs(project, filters=<these ids>).histories(..., format="long")``."""
    lo, hi = x_range or (None, None)
    return api_call("runs", project, filters={"id": {"$in": ids}}).then(
        "histories",
        samples=samples,
        keys=list(keys) or None,
        x_axis=x_axis,
        format="long",
        min_x=lo,
        max_x=hi,
    )


def code_of(calls: list[ApiCall]) -> str:
    """The code giving ``df``: the one call, or the calls' frames concatenated."""
    if len(calls) == 1:
        return calls[0].assign("df")
    if not calls:
        return ""
    joined = ",\n    ".join(c.source() for c in calls)
    return f"import pandas as pd\n\ndf = pd.concat([\n    {joined},\n], ignore_index=True)"


def join(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames as ``code_of`` joins them."""
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def run_names(frames: list[pd.DataFrame]) -> dict[str, Any]:
    """Run id -> display name, from every frame's ``attrs["run_names"]``."""
    names: dict[str, Any] = {}
    for frame in frames:
        names.update(frame.attrs.get("run_names", {}))
    return names
