"""The widgets W&B users pick hyperparameters with: ``ParallelCoordinates`` and
``ScatterPlot``, over a sweep's runs (or a project's). Each draws the plotly figure one
``Api`` call returns (``Sweep.parallel_coordinates()``, ``Runs.scatter()`` ...).

``_plot`` holds what the two share: where the runs come from, the pickers' keys, the figure.
"""

from lablens.widgets.sweeps.parallel_coordinates import ParallelCoordinates
from lablens.widgets.sweeps.scatter_plot import ScatterPlot

__all__ = ["ParallelCoordinates", "ScatterPlot"]
