"""The ``Store`` interface by concept, one abstract class each; ``lablens.store.base.Store`` is
all of them together."""

from lablens.store.interface.accounts import AccountStore
from lablens.store.interface.artifacts import ArtifactStore, BlobUpload
from lablens.store.interface.automations import AutomationStore
from lablens.store.interface.charts import ChartStore
from lablens.store.interface.media import MediaStore
from lablens.store.interface.points import PointStore
from lablens.store.interface.projects import ProjectStore
from lablens.store.interface.registries import RegistryStore
from lablens.store.interface.reports import ReportStore
from lablens.store.interface.run_queues import RunQueueStore
from lablens.store.interface.runs import RunStore
from lablens.store.interface.sweeps import SweepStore

__all__ = [
    "AccountStore",
    "ArtifactStore",
    "AutomationStore",
    "BlobUpload",
    "ChartStore",
    "MediaStore",
    "PointStore",
    "ProjectStore",
    "RegistryStore",
    "ReportStore",
    "RunQueueStore",
    "RunStore",
    "SweepStore",
]
