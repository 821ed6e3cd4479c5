"""Jupyter widgets over the ``Api``: ``WorkspaceTree``, ``RunTable``, ``PanelGrid``,
``MetricChart``, ``ArtifactBrowser``, ``MediaPanel``, ``CompareView``, ``ParallelCoordinates``,
``ScatterPlot``, ``Explorer``; and ``CustomChartView``, a custom chart preset that
JupyterLab's Vega-Lite renderer draws (no anywidget), with ``CustomChartPanel``, the Explorer's
picker of them.

Each widget shows what public ``Api`` calls return, keeps the source of the call behind what it
shows in ``code`` (using a variable ``api``), and gives what it shows as a DataFrame with
``to_pandas()``. They are standard anywidget/ipywidgets: JupyterLab, Notebook 7 and VS Code.

Inside: each widget's module holds its class; ``_base`` what they share; ``_call`` the
``ApiCall`` every widget runs its Api calls through, which also renders them as ``code``;
``_listing`` the DataFrame of a listing and its code; ``_colors`` the run colours every widget
shares; ``chart/``, ``panels/``, ``artifacts/`` and ``media/`` the parts of ``MetricChart``,
``PanelGrid``, ``ArtifactBrowser`` and ``MediaPanel``; ``sweeps/`` the parallel coordinates and
scatter plots.
"""

from lablens.widgets.artifact_browser import ArtifactBrowser
from lablens.widgets.compare import CompareView
from lablens.widgets.custom_chart import CustomChartView
from lablens.widgets.custom_chart_panel import CustomChartPanel
from lablens.widgets.explorer import ActionLog, Explorer
from lablens.widgets.media_panel import MediaPanel
from lablens.widgets.metric_chart import MetricChart
from lablens.widgets.panel_grid import PanelGrid
from lablens.widgets.run_table import RunTable
from lablens.widgets.sweeps import ParallelCoordinates, ScatterPlot
from lablens.widgets.workspace_tree import WorkspaceTree

__all__ = [
    "ActionLog",
    "ArtifactBrowser",
    "CompareView",
    "CustomChartPanel",
    "CustomChartView",
    "Explorer",
    "MediaPanel",
    "MetricChart",
    "PanelGrid",
    "ParallelCoordinates",
    "RunTable",
    "ScatterPlot",
    "WorkspaceTree",
]
