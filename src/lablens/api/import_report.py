"""What an import returns: ``ImportReport`` (the runs written, the points and files stored) and
each ``Problem`` (a source file that could not be read).

It lives in the api layer because ``Api.sync_tensorboard()`` returns it; the importers, which sit
above ``Api``, build it (``lablens.importers`` re-exports both names).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ImportReport", "Problem"]


@dataclass(frozen=True)
class Problem:
    """A source file or object that could not be read (or not wholly): where, and why."""

    path: str
    """The file (or URI) that could not be read."""
    message: str
    """What went wrong, and what was imported nonetheless."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ImportReport:
    """What an import did: the runs it wrote, the points and files it stored, what it skipped.

    Example:
        >>> report = lablens.importers.wandb.import_("wandb/", project="mnist")
        >>> report.runs          # ['alice/mnist/3f2a9c1b', ...]
        >>> report.points        # points stored by this import (0 when nothing was new)
        >>> for problem in report.problems:
        ...     print(problem.path, problem.message)
    """

    source: str
    """``tensorboard``, ``mlflow``, ``wandb`` or ``swanlab``."""
    runs: list[str] = field(default_factory=list)
    """The path (``entity/project/run_id``) of every run written or brought up to date."""
    points: int = 0
    """How many metric points this import stored; a repeated import stores none."""
    files: int = 0
    """How many files this import uploaded (files already there with the same content are not)."""
    problems: list[Problem] = field(default_factory=list)
    """Every source file that was broken or half-written, with its path: skipped, or read up to
    where it broke."""

    def __repr__(self) -> str:
        return (
            f"<ImportReport {self.source}: {len(self.runs)} runs, {self.points:,} points,"
            f" {self.files} files, {len(self.problems)} problems>"
        )
