"""Jupyter widgets over the ``Api``: ``WorkspaceTree``, ``RunTable``, ``MetricChart``, ``Explorer``.

Each widget shows what one public ``Api`` call returns, keeps that call's source in ``code``, and
gives what it shows as a DataFrame with ``to_pandas()``.
"""

from lablens.widgets.run_table import RunTable

__all__ = ["RunTable"]
