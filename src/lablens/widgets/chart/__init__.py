"""The parts of ``MetricChart`` (``lablens.widgets.metric_chart``), one concept a module.

- ``history``: the history calls the chart makes (one per project) and the code that repeats them;
- ``smoothing``: the maths on a series (the EMA, the min/max band);
- ``figure``: the plotly figure, its traces from history in long form, legend labels;
- ``zoom``: the zoomed x range, checked and read from what plotly reports;
- ``controls``: the ipywidgets above the figure.
"""
