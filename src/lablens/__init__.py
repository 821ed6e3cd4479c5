"""lablens: a self-hosted experiment tracker made for Jupyter.

Log runs from training code::

    import lablens
    with lablens.init(project="mnist", config={"lr": 0.01}) as run:
        run.log({"loss": 0.5})

or in W&B's module-level style::

    lablens.init(project="mnist", config={"lr": 0.01})
    lablens.log({"loss": 0.5})
    lablens.finish()

and query them, as with ``swanlab.Api`` or ``wandb.Api``::

    api = lablens.Api()
    runs = api.runs("alice/mnist", filters={"state": "FINISHED"})
    df = runs.to_pandas()

``lablens.run`` is the current run: the one ``init()`` started last and not finished yet, or
``None``.

``lablens.config`` is the current run's config, a dict with attribute access whose changes are
saved. Before ``init()``, any use of it raises a ``UsageError`` saying to call ``lablens.init()``
first.

``lablens.summary`` is the current run's summary: the last value of each logged metric, plus what
you set. Before ``init()``, any use of it raises a ``UsageError`` saying to call
``lablens.init()`` first.
"""

from typing import TYPE_CHECKING, Any

from lablens._version import __version__
from lablens.errors import (  # noqa: E402
    ApiError,
    ArtifactNotFound,
    BadRequest,
    CommError,
    Conflict,
    ConnectionFailed,
    Error,
    FileNotFound,
    LablensError,
    NotFound,
    PermissionDenied,
    ProjectNotFound,
    RegistryNotFound,
    ReportNotFound,
    RunNotFound,
    SweepNotFound,
    TeamNotFound,
    Unauthorized,
    UsageError,
    UserNotFound,
    WorkspaceNotFound,
)

if TYPE_CHECKING:
    from lablens.api import Api
    from lablens.sdk import agent, define_metric, finish, init, log, sweep
    from lablens.sdk.artifacts import Artifact
    from lablens.sdk.media import Audio, Histogram, Html, Image, Plotly, Text, Video
    from lablens.sdk.media_table import Table
    from lablens.sdk.sweep_stop import should_stop

# Loaded on first use: the server and the CLI import this package too, and need neither pandas
# (through the Api) nor the SDK's threads.
_LAZY = {
    "Api": "lablens.api",
    "Artifact": "lablens.sdk.artifacts",
    "init": "lablens.sdk",
    "finish": "lablens.sdk",
    "sweep": "lablens.sdk",
    "agent": "lablens.sdk",
    "should_stop": "lablens.sdk.sweep_stop",
    "log": "lablens.sdk",
    "define_metric": "lablens.sdk",
    "Audio": "lablens.sdk.media",
    "Histogram": "lablens.sdk.media",
    "Html": "lablens.sdk.media",
    "Image": "lablens.sdk.media",
    "Plotly": "lablens.sdk.media",
    "Text": "lablens.sdk.media",
    "Video": "lablens.sdk.media",
    "Table": "lablens.sdk.media_table",
}
# The current run and its parts, looked up on each access (never cached in the module): W&B's
# `wandb.run`, `wandb.config`, `wandb.summary`. Before init(), `run` is None and the other two
# raise a UsageError on use that says to call lablens.init() first.
_CURRENT = ("run", "config", "summary")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext lablens``: registers the ``%lablens`` magic (``lablens/magics.py``)."""
    from lablens.magics import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    if name in _CURRENT:
        from lablens.sdk import module_level

        return getattr(module_level, f"current_{name}")()
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lablens' has no attribute {name!r}")


__all__ = [
    "Api",
    "ApiError",
    "Artifact",
    "ArtifactNotFound",
    "Audio",
    "BadRequest",
    "CommError",
    "Conflict",
    "ConnectionFailed",
    "Error",
    "FileNotFound",
    "Histogram",
    "Html",
    "Image",
    "LablensError",
    "NotFound",
    "PermissionDenied",
    "Plotly",
    "ProjectNotFound",
    "RegistryNotFound",
    "ReportNotFound",
    "RunNotFound",
    "SweepNotFound",
    "Table",
    "TeamNotFound",
    "Text",
    "Unauthorized",
    "UsageError",
    "UserNotFound",
    "Video",
    "WorkspaceNotFound",
    "__version__",
    "agent",
    "config",
    "define_metric",
    "finish",
    "init",
    "log",
    "should_stop",
    "summary",
    "sweep",
]
