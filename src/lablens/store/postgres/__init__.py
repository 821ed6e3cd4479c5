"""The PostgreSQL store, a team server's engine: ``PostgresStore`` (``store.py``).

Several identical servers share one PostgreSQL database and one blob store (an S3 bucket, see
``lablens.store.blobs``), keeping nothing on their own disks, so any of them answers any request
and one dying loses nothing it acknowledged. ``lablens.store.open_store`` opens it for
``postgresql://`` and ``postgres://`` URLs.

- ``_db.Database``: the database handle. psycopg 3 with a ``psycopg_pool.ConnectionPool``, a
  ``transaction()`` helper, migrations applied once under an advisory lock when several servers
  start together, ``first_admin_once()`` (the "no user yet" check under the same lock, so one
  server makes the admin), and clear refusals: ``StoreUnreachable`` (host, port and cause) and
  ``SchemaTooNew`` (both versions), from ``lablens.store.errors``.
- ``schema``: the embedded store's logical schema for PostgreSQL (jsonb, text arrays, keys for
  keyset paging, metric points as compressed chunks of arrays; its docstring has the figures).
- The parts, one per embedded part with the same file and class names, constructor arguments
  and answers (``_points``, ``_history``, ``_tiles``, ``_artifacts``, ...), and the parts
  written once for both engines (``lablens.store.common``: accounts, projects, runs, sweeps,
  ...) over its ``_sql.PostgresSql``, with ``_run_query`` for pages of runs, assembled by
  ``store.PostgresStore`` as ``lablens.store.parts`` says.
  Where the embedded store relies on its one process's write lock, they rely on constraints,
  ``INSERT ... ON CONFLICT``, row locks and advisory locks, each said where it is used.
- ``_copy``: a batch of points as one binary ``COPY`` of ``point_chunks`` rows (numpy-built,
  raw little-endian ``bytea``), their decoding back to numpy, and a series read in order.
- ``_filter_sql`` and ``_ordering``: the engine-neutral filter and order trees
  (``store/filter_parse.py``, ``store/order_tree.py``) compiled to PostgreSQL SQL with bound
  parameters, matching the embedded engine's results.

``store.postgres`` imports the engine-neutral modules of ``lablens.store``, never
``lablens.store.embedded``.
"""
