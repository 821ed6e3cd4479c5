"""The PostgreSQL store (a team server's engine), under construction: not yet usable by a server.

What exists:

- ``_db.Database``: the database handle. psycopg 3 with a ``psycopg_pool.ConnectionPool``, a
  ``transaction()`` helper, migrations applied once under an advisory lock when several servers
  start together, ``first_admin_once()`` (the "no user yet" check under the same lock; the admin
  itself is made by the accounts part, still to come), and clear refusals: ``StoreUnreachable``
  (host, port and cause) and ``SchemaTooNew`` (both versions), from ``lablens.store.errors``.
- ``schema``: the embedded store's logical schema for PostgreSQL (jsonb, text arrays, keys for
  keyset paging, metric points as compressed chunks of arrays; its docstring has the figures).
- ``_copy``: a batch of points as one binary ``COPY`` of ``point_chunks`` rows (numpy-built),
  and the SQL that reads a series (or a step range of it) back in order.
- ``_filter_sql`` and ``_ordering``: the engine-neutral filter and order trees
  (``store/filter_parse.py``, ``store/order_tree.py``) compiled to PostgreSQL SQL with bound
  parameters, matching the embedded engine's results.

What is not built: the engine's parts over that handle (accounts, projects, runs, points with
run_keys, tiles and summaries, history, files, sweeps, reports, artifacts, media), the
``Store`` class they make up, and its place in ``lablens.store.open_store``, which still
refuses ``postgresql://`` URLs. Blobs live in ``store/blobs/``, not here.

``store.postgres`` imports the engine-neutral modules of ``lablens.store``, never
``lablens.store.embedded``.
"""
