"""The history reads of a chart: one ``Runs.histories(format="long")`` call per project of the
runs drawn, and the code that repeats them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pandas as pd

from lablens.widgets._call import ApiCall, api_call

__all__ = ["by_project", "code_of", "history_call", "join", "run_names"]


def by_project(runs: Sequence[str]) -> dict[str, list[str]]:
    """Run paths grouped by project: ``{"entity/project": [run_id, ...]}``.

    Raises:
        ValueError: a path is not ``entity/project/run_id`` (or ``entity/project/runs/run_id``).
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for path in runs:
        parts = path.split("/")
        if len(parts) == 4 and parts[2] == "runs":
            parts = [parts[0], parts[1], parts[3]]
        if len(parts) != 3:
            raise ValueError(f"a run path is entity/project/run_id, not {path!r}")
        groups[f"{parts[0]}/{parts[1]}"].append(parts[2])
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
