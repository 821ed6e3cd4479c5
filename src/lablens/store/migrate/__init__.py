"""Moving up: an embedded data dir copied into a PostgreSQL store and a blob store
(``lablens migrate``), verified, and safe to run again after an interruption.

``migrate()`` (``migration.py``) does it; ``_ends.py`` opens or refuses the two ends,
``_tables.py`` copies the tables, ``_points.py`` the metric points, ``_blobs.py`` the blobs,
and ``_checksums.py`` computes the checksums both ends are compared with.
"""

from __future__ import annotations

from lablens.store.migrate._blobs import BlobCheck
from lablens.store.migrate._ends import MigrationRefused
from lablens.store.migrate.migration import MigrationReport, TableCheck, migrate

__all__ = ["BlobCheck", "MigrationRefused", "MigrationReport", "TableCheck", "migrate"]
