"""``CustomChartView``: a custom chart preset drawn in the notebook from its query's rows.

Not an anywidget: a Vega-Lite spec with its data is drawn by JupyterLab's own Vega renderer
(``application/vnd.vegalite.v5+json``), which needs no JavaScript of ours and no network. What
it shows is one ``ApiCall``, ``api.custom_chart(chart).data(project, ...)``, run once: ``code``
shows that call and ``to_pandas()`` gives its DataFrame, as every widget does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lablens.api.custom_charts import VEGALITE_MIME, CustomChart
from lablens.widgets._call import ApiCall, api_call

if TYPE_CHECKING:
    import pandas as pd

    from lablens.api import Api

__all__ = ["CustomChartView"]


class CustomChartView:
    """A custom chart preset drawn from its query's rows on a project.

    Args:
        api: the client.
        chart: the preset, ``entity/name``.
        path: the project, ``entity/project``; by default the preset's query's ``project``.
        filters: which runs, instead of the query's ``filters``.
        order: the runs' order, instead of the query's.

    Example:
        >>> view = CustomChartView(api, "alice/loss-curve", "alice/mnist")
        >>> view                    # drawn by JupyterLab
        >>> print(view.code)        # api.custom_chart('alice/loss-curve').data('alice/mnist')
        >>> view.to_pandas()
    """

    def __init__(
        self,
        api: Api,
        chart: str,
        path: str | None = None,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
    ) -> None:
        self._chart_call: ApiCall = api_call("custom_chart", chart)
        args = (path,) if path is not None else ()
        filt = dict(filters) if filters is not None else None
        self._call: ApiCall = self._chart_call.then("data", *args, filters=filt, order=order)
        self.chart: CustomChart = self._chart_call.run(api)
        self._frame: pd.DataFrame = self._call.run_after(self._chart_call, self.chart)
        #: The preset's spec with the rows as ``data.values``: what is drawn.
        self.spec: dict[str, Any] = self.chart.vega_lite(self._frame)

    @property
    def code(self) -> str:
        """The ``Api`` call that gives the rows drawn, as Python source."""
        return self._call.assign("frame")

    def to_pandas(self) -> pd.DataFrame:
        """The rows drawn, as the call in ``code`` returns them."""
        return self._frame.copy()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            VEGALITE_MIME: self.spec,
            "text/plain": f"<CustomChartView {self.chart.id}: {len(self._frame)} rows>\n"
            + self.code,
        }

    def __repr__(self) -> str:
        return self._repr_mimebundle_()["text/plain"]
