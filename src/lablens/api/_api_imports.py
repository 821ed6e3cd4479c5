"""Importing other tools' data from ``Api``: ``sync_tensorboard()``, as W&B's. A part of ``Api``
(see ``_api_part.py``).

The importers sit above ``Api`` (they write through it), so the api layer never imports them:
it finds them by the entry-point group ``lablens.importers`` that ``pyproject.toml`` declares,
as any other plugin would be found.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from lablens.api._api_part import ApiPart
from lablens.api.import_report import ImportReport
from lablens.errors import UsageError

#: The entry-point group each importer is registered under, by source name.
IMPORTERS_GROUP = "lablens.importers"


def importer(source: str) -> Callable[..., Any]:
    """The ``import_`` function of an importer, by source name (``tensorboard``, ``mlflow`` ...).

    Raises:
        UsageError: no importer of that name is installed (lablens itself is not installed, so
            its entry points are missing: ``pip install -e .``).
    """
    found = entry_points(group=IMPORTERS_GROUP, name=source)
    if not found:
        raise UsageError(
            f"no {source!r} importer is installed in the entry-point group {IMPORTERS_GROUP!r};"
            " install lablens (pip install lablens, or pip install -e . in a checkout)"
        )
    return next(iter(found)).load()


class ApiImports(ApiPart):
    """``Api.sync_tensorboard()``."""

    def sync_tensorboard(
        self,
        root_dir: str | os.PathLike[str],
        run_id: str | None = None,
        project: str | None = None,
        entity: str | None = None,
    ) -> ImportReport:
        """Import a local directory of TensorBoard event files, as W&B's ``sync_tensorboard``.

        Every directory under ``root_dir`` that holds event files (from tensorboard,
        tensorboardX or ``torch.utils.tensorboard``) becomes one run: scalars exactly as stored,
        with their step and wall time; hparams as config; text as files. Running it again adds
        only what is new. Same as ``lablens import tensorboard ROOT_DIR`` without the progress
        bars; see ``lablens.importers.tensorboard``.

        Args:
            root_dir: the directory to search, recursively.
            run_id: the id of the run, when ``root_dir`` holds one run directory; by default
                one derived from the event files, so importing again finds the same run.
            project: the project to import into; by default ``overrides["project"]``, else
                ``tensorboard``.
            entity: the workspace; by default the default entity.

        Returns:
            An ``ImportReport``: the runs written, the points stored, and the files that could
            not be read (each with its path and why).

        Raises:
            UsageError: ``root_dir`` is not a directory, or ``run_id`` is given and it holds
                several run directories.

        Example:
            >>> report = api.sync_tensorboard("runs/", project="mnist")
            >>> report.runs, report.points, report.problems
        """
        return importer("tensorboard")(
            root_dir,
            api=self._api,
            run_id=run_id,
            project=project or self._default_project(),
            entity=entity,
            progress=False,
        )
