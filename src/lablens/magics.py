"""The IPython extension: ``%load_ext lablens``, then the ``%lablens`` line magic.

- ``%lablens`` opens the ``Explorer`` on the default project: the project of the run this
  kernel logs (``lablens.init()``), else the project of your workspace with the newest run;
  ``%lablens PATH`` on a workspace or project;
- ``%lablens runs [PATH] [--filter JSON] [--order ORDER]`` shows a ``RunTable``;
- ``%lablens run PATH [--keys K1,K2]`` shows the run and a ``MetricChart`` of its metrics.

Each returns its widget, so ``table = _`` (or ``%lablens runs`` as a cell's last line) keeps it.
The ``Api`` is ``lablens.Api()``: ``LABLENS_HOST``, else your local server.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError as MagicUsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand

from lablens.errors import LablensError

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from lablens.api import Api

__all__ = ["LablensMagics", "load_ipython_extension"]

USAGE = """\
%lablens                       the Explorer on the default project
%lablens PATH                  the Explorer on a workspace or project (alice, alice/mnist)
%lablens runs [PATH] [--filter JSON] [--order ORDER]
                               a RunTable of a project's runs
%lablens run PATH [--keys K1,K2]
                               a run and a MetricChart of its metrics
%lablens help                  this text"""

# The newest projects looked at for the newest run, when no run of this kernel names one.
_NEWEST_OF = 50
# The value of --filter: everything up to the next " --option" (JSON may hold spaces).
_FILTER = re.compile(r"(?:^|\s)--filter(?:=|\s+)(.*?)(?=\s--[a-z]|$)")


@magics_class
class LablensMagics(Magics):
    """The ``%lablens`` magic. Registered by ``%load_ext lablens``.

    Example:
        >>> %load_ext lablens
        >>> %lablens runs digits-mlp --filter {"state": "FINISHED"}
    """

    def __init__(self, shell: InteractiveShell | None = None) -> None:
        super().__init__(shell)
        self._api: Api | None = None

    @property
    def api(self) -> Api:
        """The ``lablens.Api()`` the magic reads with, made on first use."""
        if self._api is None:
            from lablens.api import Api

            self._api = Api()
        return self._api

    @no_var_expand  # a filter's braces are JSON, not {variable} expansions
    @line_magic
    def lablens(self, line: str) -> Any:
        """Open lablens widgets: ``%lablens``, ``%lablens runs PATH``, ``%lablens run PATH``.

        Run ``%lablens help`` for the forms and their options.
        """
        try:
            return self._dispatch(line.strip())
        except LablensError as exc:
            raise MagicUsageError(f"%lablens: {exc}") from None

    def _dispatch(self, line: str) -> Any:
        filter_text = None
        found = _FILTER.search(line)
        if found:
            filter_text = found.group(1).strip()
            line = (line[: found.start()] + line[found.end() :]).strip()
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise MagicUsageError(f"%lablens: {exc}\n{USAGE}") from None
        command = words[0] if words else ""
        if command in ("help", "-h", "--help"):
            print(USAGE)
            return None
        if command == "runs":
            path, options = _split(words[1:], {"--order"})
            return self.runs(path, filters=self._filter(filter_text), **options)
        if filter_text is not None:
            raise MagicUsageError("%lablens: --filter goes with %lablens runs\n" + USAGE)
        if command == "run":
            path, options = _split(words[1:], {"--keys"})
            if not path:
                raise MagicUsageError("%lablens run needs a run path: entity/project/run_id")
            keys = [k.strip() for k in options.get("keys", "").split(",") if k.strip()]
            return self.run(path, keys=keys)
        path, _ = _split(words, set())
        return self.explorer(path)

    # -- what each form makes ---------------------------------------------------------------

    def default_project(self) -> str | None:
        """The project ``%lablens`` opens: the one of the run this kernel logs to, else the
        project of the default workspace with the newest run, else ``None``."""
        lifecycle = sys.modules.get("lablens.sdk.lifecycle")  # not imported when unused
        run = lifecycle.current_run() if lifecycle is not None else None
        # An offline run's project may not be on the server yet.
        online = run is not None and not getattr(run, "offline", False)
        if online and getattr(run, "entity", None) and getattr(run, "project", None):
            # init() does not wait for a new run's creation: the run (and so its project) is
            # made now, before the Explorer reads it.
            made = getattr(run, "_on_server", None)
            if callable(made):
                made()
            return f"{run.entity}/{run.project}"
        newest: tuple[str, str] | None = None
        for project in self.api.projects(sort="-created_at")[:_NEWEST_OF]:
            if not project.count.get("runs"):
                continue
            first = self.api.runs(project.path, order="-created_at", per_page=1)[:1]
            created = first[0].created_at if first else None
            if created and (newest is None or created > newest[0]):
                newest = (created, project.path)
        return newest[1] if newest else None

    def explorer(self, path: str | None = None) -> Any:
        """``%lablens [PATH]``: an ``Explorer`` on ``path``, else on the default project (else
        on the default workspace)."""
        from lablens.widgets import Explorer

        path = path or self.default_project() or self.api.default_entity
        # Checked here: the Explorer would show an empty tree for a name that does not exist.
        if "/" in path:
            path = self.api.project(path).path
        else:
            self.api.workspace(path)
        return Explorer(self.api, path=path)

    def runs(
        self, path: str | None = None, *, filters: dict[str, Any] | None = None, order: str = ""
    ) -> Any:
        """``%lablens runs [PATH] [--filter JSON] [--order ORDER]``: a ``RunTable``."""
        from lablens.widgets import RunTable

        path = path or self.default_project()
        if not path:
            raise MagicUsageError("%lablens runs: no project given and none has runs yet")
        project = self.api.project(path)  # a bare name is in the default workspace
        kwargs: dict[str, Any] = {"path": project.path, "filters": filters or {}}
        if order:
            kwargs["order"] = order
        # A bad filter or order is said at once (BadRequest naming the bad part), rather than
        # only inside the widget once it asks for rows.
        len(self.api.runs(project.path, filters=filters, order=order or "+created_at"))
        table = RunTable(self.api, **kwargs)
        if table.error:
            raise MagicUsageError(f"%lablens runs: {table.error}")
        return table

    def run(self, path: str, *, keys: list[str] | None = None) -> Any:
        """``%lablens run PATH [--keys K1,K2]``: the run (its name, state, config and summary)
        above a ``MetricChart`` of its metrics (``keys``, default all it logged)."""
        from lablens.widgets import MetricChart

        run = self.api.run(path)
        chart = MetricChart(self.api, runs=[run.path], keys=list(keys or []))
        return RunPanels(run, chart)

    def _filter(self, text: str | None) -> dict[str, Any] | None:
        """``--filter``'s value: JSON, a Python dict literal, or the name of a dict in the
        notebook."""
        if text is None:
            return None
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        value: Any = None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                if text.isidentifier() and self.shell is not None and text in self.shell.user_ns:
                    value = self.shell.user_ns[text]
                else:
                    raise MagicUsageError(
                        f"%lablens runs: --filter {text!r} is neither JSON, a dict literal nor"
                        " the name of a dict in the notebook"
                    ) from None
        if not isinstance(value, dict):
            raise MagicUsageError(
                f"%lablens runs: --filter must be a dict, not {type(value).__name__}"
            )
        return value


class RunPanels:
    """What ``%lablens run PATH`` shows: the run (its HTML card) above its ``MetricChart``.

    Attributes:
        run: the ``Run``.
        chart: the ``MetricChart`` of its metrics.
    """

    def __init__(self, run: Any, chart: Any) -> None:
        import ipywidgets as w

        self.run = run
        self.chart = chart
        header = w.HTML(run._repr_html_())
        self.widget = w.VBox([header, chart.widget])
        """The displayed widget: the run's card above the chart."""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"<RunPanels {self.run.path}: {', '.join(self.chart.keys) or 'every metric'}>"


def _split(words: list[str], options: set[str]) -> tuple[str | None, dict[str, str]]:
    """A path and ``--option value`` pairs; an unknown option or a second path is an error."""
    path: str | None = None
    found: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, _, value = word.partition("=")
            if name not in options:
                raise MagicUsageError(f"%lablens: unknown option {name}\n{USAGE}")
            if not value:
                if i + 1 >= len(words):
                    raise MagicUsageError(f"%lablens: {name} needs a value")
                i += 1
                value = words[i]
            found[name[2:]] = value
        elif path is None:
            path = word
        else:
            raise MagicUsageError(f"%lablens: one path only, not {path!r} and {word!r}\n{USAGE}")
        i += 1
    return path, found


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register ``%lablens`` (what ``%load_ext lablens`` calls)."""
    ipython.register_magics(LablensMagics)
