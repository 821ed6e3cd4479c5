"""``WorkspaceTree``: workspaces -> projects -> runs, sweeps and reports, children read when a
node opens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import traitlets as t

from lablens.widgets._base import LablensWidget, make_api, shows_errors
from lablens.widgets._call import api_call
from lablens.widgets._listing import Listing, ShowsListings, plural
from lablens.widgets._tree import copy_nodes, find_node

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["WorkspaceTree"]

_RUNS_SHOWN = 100  # runs listed under a project; the table is the place for more
# What a project holds that another widget lists (the ArtifactBrowser, below in the Explorer).
_ELSEWHERE = ("artifacts",)

# What ``code`` and ``to_pandas()`` give of each listing.
_WORKSPACES = Listing("ws", path="ws.username", type="ws.workspace_type", role="ws.role")
_PROJECTS = Listing("p", path="p.path", visibility="p.visibility", runs="p.count.get('runs')")
_RUNS = Listing("r", path="r.path", name="r.name", state="str(r.state)")
_SWEEPS = Listing("s", id="s.id", name="s.name", state="s.state", runs="s.run_count")
_REPORTS = Listing("r", id="r.id", name="r.display_name", updated_at="r.updated_at")


class WorkspaceTree(LablensWidget, ShowsListings):
    """A tree of the workspaces the user can see, their projects and the projects' runs,
    sweeps and reports.

    Opening a node reads its children with one Api call (``api.projects(ws)``); opening a
    project reads its sweeps, reports and runs (``api.sweeps``, ``api.reports``,
    ``api.runs``, one call each). ``code`` repeats the last listing as a DataFrame.

    Args:
        api: the ``Api`` to query (default: ``lablens.Api()``).

    Keyword Args:
        selected: the selected node's path: ``"ws"``, ``"ws/project"``, a run
            ``"ws/project/run_id"``, a sweep ``"ws/project/sweeps/<id>"`` or a report's path.

    Raises:
        TypeError: an unknown keyword argument.

    Example:
        >>> tree = WorkspaceTree(api)
        >>> tree.expand("alice")          # as a click on the workspace does
        >>> tree.to_pandas()            # the projects just listed
    """

    _bundle = "workspace_tree"
    _public = ("selected",)

    selected = t.Unicode("").tag(sync=True)
    """The selected node: ``ws``, ``ws/project``, a run path ``ws/project/run_id``, a sweep
    ``ws/project/sweeps/<id>`` or a report ``ws/project/reports/<name>-<id>``."""

    _nodes = t.List(t.Dict()).tag(sync=True)
    # The tree as far as it was read: [{path, label, kind, meta, leaf, children?}].

    def __init__(self, api: Api | None = None, **kwargs: Any) -> None:
        self._api = make_api(api, widget="WorkspaceTree")
        self._last = pd.DataFrame()
        self._run_total = 0
        super().__init__(**kwargs)
        self.on_msg(self._on_msg)
        self._load_workspaces()

    # -- listings: each is one Api call, and the source that repeats it ---------------------

    @shows_errors
    def _load_workspaces(self) -> None:
        workspaces = self._list(api_call("workspaces"), _WORKSPACES)
        self._nodes = [
            {
                "path": ws.username,
                "label": ws.username,
                "kind": "workspace",
                "meta": " · ".join(x for x in (ws.workspace_type, ws.role) if x),
            }
            for ws in workspaces
        ]

    def _children(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        path, kind = node["path"], node["kind"]
        if kind == "workspace":
            projects = self._list(api_call("projects", path), _PROJECTS)
            return [
                {
                    "path": p.path,
                    "label": p.name,
                    "kind": "project",
                    "meta": f"{p.visibility.lower()} · {plural(p.count.get('runs', 0), 'run')}",
                }
                for p in projects
            ]
        if kind == "project":
            # Opening a project shows what it holds at once: its sweeps, reports and runs,
            # each folder read with one Api call (runs last: ``code`` repeats their listing).
            folders = {}
            for name in ("sweeps", "reports", "runs"):
                folder = {"path": f"{path}:{name}", "label": name, "kind": "folder"}
                folder["children"] = self._children(folder)
                items = [c for c in folder["children"] if c["kind"] != "empty"]
                if not items:
                    folder.update(kind="empty", leaf=True, meta=f"no {name} yet")
                    del folder["children"]
                else:
                    shown = len(items) if name != "runs" else self._run_total
                    folder["meta"] = str(shown)
                folders[name] = folder
            return [folders[name] for name in ("runs", "sweeps", "reports")] + [
                {
                    "path": f"{path}:{name}",
                    "label": name,
                    "kind": "empty",
                    "leaf": True,
                    "meta": "in the artifact browser",
                }
                for name in _ELSEWHERE
            ]
        if kind == "folder" and path.endswith(":sweeps"):
            project = path.rsplit(":", 1)[0]
            sweeps = self._list(api_call("sweeps", project), _SWEEPS)
            return [
                {
                    "path": f"{project}/sweeps/{w.id}",
                    "label": w.name or w.id,
                    "kind": "sweep",
                    "leaf": True,
                    "meta": f"{str(w.state).lower()} · {plural(w.run_count or 0, 'run')}",
                }
                for w in sweeps
            ]
        if kind == "folder" and path.endswith(":reports"):
            project = path.rsplit(":", 1)[0]
            reports = self._list(api_call("reports", project), _REPORTS)
            return [
                {"path": r.path, "label": r.display_name or r.id, "kind": "report", "leaf": True}
                for r in reports
            ]
        if kind == "folder":
            project = path.rsplit(":", 1)[0]
            all_runs = api_call("runs", project, per_page=_RUNS_SHOWN)
            runs = all_runs.run(self._api)
            self._run_total = len(runs)
            first = all_runs[:_RUNS_SHOWN]
            shown = self._list(first, _RUNS, first.run_after(all_runs, runs))
            nodes = [
                {
                    "path": r.path,
                    "label": r.name or r.id,
                    "kind": "run",
                    "leaf": True,
                    "meta": str(r.state).lower(),
                }
                for r in shown
            ]
            if len(runs) > len(shown):
                nodes.append(
                    {
                        "path": f"{path}:more",
                        "label": f"… {len(runs) - len(shown)} more",
                        "kind": "empty",
                        "leaf": True,
                    }
                )
            return nodes
        return []

    @shows_errors
    def expand(self, path: str) -> None:
        """Open a node (read its children), as clicking it does.

        Args:
            path: the node's path: ``"ws"``, ``"ws/project"`` or ``"ws/project:runs"``.

        Raises:
            KeyError: no node has this path (open its parent first).
        """
        # A deep copy: a node edited in place inside the old list would make the new list equal
        # to the old, and traitlets would see no change to sync.
        nodes = copy_nodes(self._nodes)
        node = find_node(nodes, path)
        if node is None:
            raise KeyError(f"no node {path!r} in the tree; open its parent first")
        if node.get("children") is None:
            node["children"] = self._children(node)
        self._nodes = nodes

    def _on_msg(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        if content.get("type") == "expand":
            self.expand(str(content.get("path")))

    def to_pandas(self) -> pd.DataFrame:
        """The last listing the tree read (workspaces, projects or runs) as a DataFrame; equal
        to ``exec(tree.code)``'s ``df``."""
        return self._last.copy()

    def __repr__(self) -> str:
        return (
            f"<WorkspaceTree {plural(len(self._nodes), 'workspace')}, selected {self.selected!r}>"
        )
