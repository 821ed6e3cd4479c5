"""The client contract: what the SDK, the ``Api``, the widgets and the server must agree on.

A leaf: it imports nothing from lablens but ``lablens.errors``, so every layer may use it and none
needs another layer for it. It holds the paths users type (:mod:`.paths`), the server's routes
(:mod:`.routes`), the run-field catalogue (:mod:`.fields`), the x-axis and stream names
(:mod:`.names`) and the one ``flatten`` (:mod:`.flatten`).
"""

from lablens.contract.fields import FIELD_HELP, RUN_FIELDS, RunField, canonical_field
from lablens.contract.flatten import flatten
from lablens.contract.manifest import ArtifactManifest, ManifestEntry
from lablens.contract.names import BUILTIN_X, ROUTE_X, PointStream, WireXAxis, XAxis
from lablens.contract.paths import (
    ParsedPath,
    RunPath,
    parse_path,
    parse_project_path,
    parse_report_path,
    parse_run_path,
    parse_sweep_path,
    parse_workspace,
)
from lablens.contract.routes import project_route, quote_segment, run_route, sweep_route

__all__ = [
    "BUILTIN_X",
    "ArtifactManifest",
    "FIELD_HELP",
    "ManifestEntry",
    "ROUTE_X",
    "RUN_FIELDS",
    "ParsedPath",
    "PointStream",
    "RunField",
    "RunPath",
    "WireXAxis",
    "XAxis",
    "canonical_field",
    "flatten",
    "parse_path",
    "parse_project_path",
    "parse_report_path",
    "parse_run_path",
    "parse_sweep_path",
    "parse_workspace",
    "project_route",
    "quote_segment",
    "run_route",
    "sweep_route",
]
