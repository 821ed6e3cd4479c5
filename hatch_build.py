"""Hatch build hook: bundle the widgets' TypeScript (``js/``) into ``src/lablens/static/``.

The bundle is generated and git-ignored, so a wheel or an editable install builds it here.
``LABLENS_SKIP_JS_BUILD=1`` skips the build when the bundle is already there (``make`` builds it
itself, and a machine without Node can still install from a checkout that has the bundle).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WIDGETS = ("run_table", "workspace_tree", "action_log")


class JsBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        static = root / "src" / "lablens" / "static"
        if os.environ.get("LABLENS_SKIP_JS_BUILD"):
            return
        js = root / "js"
        if not (js / "package.json").exists():
            # An sdist built without js/ ships the bundle instead.
            return
        npm = shutil.which("npm")
        if npm is None:
            if all((static / f"{w}.js").exists() for w in WIDGETS):
                return
            raise RuntimeError("building lablens needs npm (Node.js) to bundle its widgets")
        if not (js / "node_modules" / ".package-lock.json").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)
