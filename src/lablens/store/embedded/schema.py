"""The embedded store's schema, as numbered migrations applied in order.

``schema_version`` holds the number of the last migration applied; opening a data dir applies the
missing ones inside one transaction, so an old data dir upgrades in place or not at all.
"""

from __future__ import annotations

# JSON columns hold flat objects (dotted keys) unless said otherwise; a float that JSON cannot
# carry (NaN, Infinity, -Infinity) is stored as that string, and TRY_CAST(... AS DOUBLE) reads it
# back, so filters and sorts treat it as the number it was.
# The tables holding a run's own rows (``run_pk``): deleting a run, or a project's runs, empties
# them all; a new table of run data is added here once.
RUN_DATA_TABLES: tuple[str, ...] = (
    "points",
    "point_tiles",
    "run_keys",
    "batches",
    "files",
    "console",
    "media",
    "media_batches",
)

MIGRATIONS: list[str] = [
    # 1: users, keys, workspaces, projects, runs, metric points, files, console lines.
    """
    CREATE SEQUENCE user_ids START 1;
    CREATE TABLE users (
        id INTEGER PRIMARY KEY DEFAULT nextval('user_ids'),
        username VARCHAR NOT NULL UNIQUE,
        name VARCHAR,
        email VARCHAR,
        is_admin BOOLEAN NOT NULL DEFAULT false,
        password_hash VARCHAR,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE api_keys (
        id VARCHAR PRIMARY KEY,            -- public id (random since schema 4)
        user_id INTEGER NOT NULL,
        key_hash VARCHAR NOT NULL UNIQUE,  -- sha256 of the whole key; keys are random, so no KDF
        name VARCHAR,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE SEQUENCE workspace_ids START 1;
    CREATE TABLE workspaces (
        id INTEGER PRIMARY KEY DEFAULT nextval('workspace_ids'),
        username VARCHAR NOT NULL UNIQUE,
        name VARCHAR,
        kind VARCHAR NOT NULL,             -- PERSON | TEAM
        profile JSON,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE members (
        workspace_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        role VARCHAR NOT NULL,             -- OWNER | MEMBER
        PRIMARY KEY (workspace_id, user_id)
    );
    CREATE SEQUENCE project_ids START 1;
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY DEFAULT nextval('project_ids'),
        workspace_id INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        description VARCHAR,
        labels VARCHAR[] NOT NULL DEFAULT [],
        visibility VARCHAR NOT NULL DEFAULT 'PRIVATE',
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        UNIQUE (workspace_id, name)
    );
    CREATE SEQUENCE run_pks START 1;
    CREATE TABLE runs (
        pk BIGINT PRIMARY KEY DEFAULT nextval('run_pks'),  -- also the keyset tie-breaker
        project_id INTEGER NOT NULL,
        id VARCHAR NOT NULL,               -- 8 characters, unique in its project
        name VARCHAR,
        notes VARCHAR,
        state VARCHAR NOT NULL,            -- RUNNING | FINISHED | CRASHED | ABORTED
        group_name VARCHAR,
        job_type VARCHAR,
        tags VARCHAR[] NOT NULL DEFAULT [],
        created_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        heartbeat_at TIMESTAMPTZ,
        user_id INTEGER,
        username VARCHAR,
        host VARCHAR,
        config JSON,                       -- as given (nested)
        config_flat JSON,                  -- flattened with dots, for filters and tables
        summary JSON,                      -- flat: last value of each metric, plus what was set
        metadata JSON,                     -- nested
        requirements VARCHAR,
        conda VARCHAR,
        shown BOOLEAN NOT NULL DEFAULT true, -- "show" in the Api; SHOW is an SQL keyword
        exit_code INTEGER,
        sweep VARCHAR,
        system_metrics JSON,               -- flat: last value of each system metric
        UNIQUE (project_id, id)
    );
    -- The config and summary keys seen in each project, with their JSON type, so run tables
    -- become typed columns without scanning every run. kind: 'config' | 'summary';
    -- type: 'number' | 'string' | 'bool' | 'json' (mixed or nested values).
    CREATE TABLE project_fields (
        project_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        PRIMARY KEY (project_id, kind, key)
    );
    -- Metric names, interned so points carry an integer. stream: 'default' | 'system'.
    CREATE SEQUENCE key_ids START 1;
    CREATE TABLE metric_keys (
        id INTEGER PRIMARY KEY DEFAULT nextval('key_ids'),
        stream VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        UNIQUE (stream, name)
    );
    -- One row per logged value; NaN and +/-inf are kept as values.
    CREATE TABLE points (
        run_pk BIGINT NOT NULL,
        key_id INTEGER NOT NULL,
        step BIGINT NOT NULL,
        ts DOUBLE NOT NULL,                -- seconds since the epoch
        value DOUBLE
    );
    -- Per run and key: what history_keys, lastHistoryStep and summary need without a scan.
    CREATE TABLE run_keys (
        run_pk BIGINT NOT NULL,
        key_id INTEGER NOT NULL,
        n BIGINT NOT NULL,
        first_step BIGINT NOT NULL,
        last_step BIGINT NOT NULL,
        nans BIGINT NOT NULL,              -- how many values are NaN (they cost a sample role)
        PRIMARY KEY (run_pk, key_id)
    );
    -- A pyramid of per-bucket summaries of each series, kept up to date on every batch, so a
    -- sampled chart of a long series reads a few thousand tiles instead of every point. Level l
    -- cuts the steps into buckets of 64 * 4^l steps; each tile keeps the first and last point,
    -- the points with the smallest and largest value (NaN excluded) and the first NaN point.
    CREATE TABLE point_tiles (
        run_pk BIGINT NOT NULL,
        key_id INTEGER NOT NULL,
        level TINYINT NOT NULL,
        bucket BIGINT NOT NULL,
        n BIGINT NOT NULL,
        f_step BIGINT, f_ts DOUBLE, f_value DOUBLE,
        l_step BIGINT, l_ts DOUBLE, l_value DOUBLE,
        mn_step BIGINT, mn_ts DOUBLE, mn_value DOUBLE,
        mx_step BIGINT, mx_ts DOUBLE, mx_value DOUBLE,
        nn_step BIGINT, nn_ts DOUBLE,
        PRIMARY KEY (run_pk, key_id, level, bucket)
    );
    -- Batch ids already stored, so a retried batch is acknowledged and not stored twice.
    CREATE TABLE batches (
        run_pk BIGINT NOT NULL,
        batch_id VARCHAR NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (run_pk, batch_id)
    );
    CREATE TABLE files (
        run_pk BIGINT NOT NULL,
        name VARCHAR NOT NULL,
        size BIGINT NOT NULL,
        md5 VARCHAR NOT NULL,
        mimetype VARCHAR,
        blob VARCHAR NOT NULL,             -- sha256 of the content, the blob's name
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (run_pk, name)
    );
    CREATE TABLE console (
        run_pk BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        ts DOUBLE NOT NULL,
        stream VARCHAR NOT NULL,           -- stdout | stderr
        line VARCHAR NOT NULL
    );
    """,
    # 2: sweeps and the trials agents claimed from them; reports (saved explorer views).
    """
    CREATE SEQUENCE sweep_pks START 1;
    CREATE TABLE sweeps (
        pk INTEGER PRIMARY KEY DEFAULT nextval('sweep_pks'),
        project_id INTEGER NOT NULL,
        id VARCHAR NOT NULL,               -- 8 characters, unique in its project
        name VARCHAR,
        description VARCHAR,
        method VARCHAR NOT NULL,           -- grid | random
        config JSON NOT NULL,              -- the sweep configuration as given (W&B's form)
        state VARCHAR NOT NULL,            -- RUNNING | PAUSED | CANCELED (FINISHED is derived)
        seed BIGINT NOT NULL,              -- random trials are drawn from (seed, trial index)
        expected_run_count INTEGER,        -- grid size or run_cap; NULL when unbounded
        claimed INTEGER NOT NULL DEFAULT 0,-- trials handed out so far; the next index
        user_id INTEGER,
        username VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        UNIQUE (project_id, id)
    );
    -- One row per trial handed to an agent; the run made for it carries the sweep id.
    CREATE TABLE sweep_trials (
        sweep_pk INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        run_pk BIGINT NOT NULL,
        params JSON NOT NULL,              -- nested, as the run's config got them
        agent VARCHAR,
        claimed_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (sweep_pk, idx)
    );
    CREATE SEQUENCE report_pks START 1;
    CREATE TABLE reports (
        pk INTEGER PRIMARY KEY DEFAULT nextval('report_pks'),
        project_id INTEGER NOT NULL,
        id VARCHAR NOT NULL,               -- 8 characters, unique in its project
        name VARCHAR NOT NULL,             -- a slug of the title, for paths and URLs
        display_name VARCHAR NOT NULL,     -- the title
        description VARCHAR,
        spec JSON NOT NULL,                -- run sets (filters) and panels (chart settings)
        user_id INTEGER,
        username VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        UNIQUE (project_id, id)
    );
    """,
    # 3: artifacts. A type and a collection belong to a project; a version (``artifacts``) to a
    # collection. A version's files are its manifest (``artifact_files``), whose contents are
    # blobs named by their sha256 in the blob dir, shared with run files: a file in many versions
    # is stored once. A version row is written in the same transaction as its manifest, so a
    # version exists whole or not at all. Uniqueness (a name per project, an alias per
    # collection) is kept by the store under its write lock rather than by indexes: DuckDB checks
    # unique indexes eagerly, so moving an alias (delete, then insert the same key) in one
    # transaction would fail.
    """
    CREATE SEQUENCE artifact_type_ids START 1;
    CREATE TABLE artifact_types (
        id INTEGER PRIMARY KEY DEFAULT nextval('artifact_type_ids'),
        project_id INTEGER NOT NULL,
        name VARCHAR NOT NULL,             -- dataset, model, predictions ...
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE SEQUENCE artifact_collection_ids START 1;
    CREATE TABLE artifact_collections (
        id INTEGER PRIMARY KEY DEFAULT nextval('artifact_collection_ids'),
        project_id INTEGER NOT NULL,
        type_id INTEGER NOT NULL,
        name VARCHAR NOT NULL,             -- unique in its project, whatever the type
        kind VARCHAR NOT NULL,             -- sequence (logged versions) | portfolio (links)
        description VARCHAR,
        tags VARCHAR[] NOT NULL DEFAULT [],
        next_version INTEGER NOT NULL DEFAULT 0,  -- a deleted version's number is not reused
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE SEQUENCE artifact_pks START 1;
    CREATE TABLE artifacts (
        pk BIGINT PRIMARY KEY DEFAULT nextval('artifact_pks'),
        id VARCHAR NOT NULL,               -- public id: 16 random hex characters
        collection_id INTEGER NOT NULL,
        version INTEGER NOT NULL,          -- v0, v1, ... in its collection
        digest VARCHAR NOT NULL,           -- sha256 of the manifest
        size BIGINT NOT NULL,
        file_count BIGINT NOT NULL,
        description VARCHAR,
        metadata JSON,                     -- nested, as given
        tags VARCHAR[] NOT NULL DEFAULT [],
        state VARCHAR NOT NULL,            -- COMMITTED
        run_pk BIGINT,                     -- the run that logged it; NULL once that run is gone
        source_pk BIGINT,                  -- a link: the version whose files it shows
        created_by VARCHAR,                -- username
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX artifacts_by_collection ON artifacts (collection_id, version);
    CREATE TABLE artifact_aliases (
        collection_id INTEGER NOT NULL,
        alias VARCHAR NOT NULL,            -- latest, best, ...: at most one version each
        artifact_pk BIGINT NOT NULL
    );
    -- The manifest: one row per file. A reference (ref) names content kept elsewhere (an URI);
    -- its digest and size are known only for local references.
    CREATE TABLE artifact_files (
        artifact_pk BIGINT NOT NULL,
        path VARCHAR NOT NULL,
        digest VARCHAR,                    -- sha256 of the content, the blob's name
        size BIGINT,
        ref VARCHAR,
        mimetype VARCHAR,
        PRIMARY KEY (artifact_pk, path)
    );
    -- Lineage: which runs used which versions (logged_by is artifacts.run_pk).
    CREATE TABLE artifact_usage (
        artifact_pk BIGINT NOT NULL,
        run_pk BIGINT NOT NULL,
        used_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 4: API keys may expire (keys minted by a password login do; NULL: until revoked).
    """
    ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
    """,
    # 5: who may use which blob. Contents are stored once per server, so the bytes alone prove
    # nothing: a commit may name a sha256 only if the committer uploaded those bytes, or a member
    # of the target workspace did (a grant below), or if the committer can already read them in
    # an artifact or run file. One row per first upload of a content by a user into a workspace.
    """
    CREATE TABLE blob_grants (
        digest VARCHAR NOT NULL,           -- sha256 of the content, the blob's name
        workspace_id INTEGER NOT NULL,     -- uploaded into this workspace: its members may use it
        user_id INTEGER NOT NULL,          -- by this user, who may use it wherever they write
        granted_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 6: media items (images, tables, histograms... a run logs), keyed by run, key, step and
    # index (a gallery's place). The content is a blob named by sha256; refs are further blobs
    # the item points to (the images in a table's cells). media_batches: batch ids stored, so a
    # retried batch stores nothing twice.
    """
    CREATE TABLE media (
        run_pk BIGINT NOT NULL,
        key VARCHAR NOT NULL,
        step BIGINT NOT NULL,
        idx INTEGER NOT NULL,
        ts DOUBLE NOT NULL,
        type VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        size BIGINT NOT NULL,
        caption VARCHAR,
        meta JSON,
        refs VARCHAR[] NOT NULL DEFAULT [],
        PRIMARY KEY (run_pk, key, step, idx)
    );
    CREATE TABLE media_batches (
        run_pk BIGINT NOT NULL,
        batch_id VARCHAR NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (run_pk, batch_id)
    );
    """,
    # 7: custom chart presets of an entity (W&B's create_custom_chart): a Vega-Lite spec and
    # the query whose rows it draws, unique by name in the entity.
    """
    CREATE SEQUENCE custom_chart_pks START 1;
    CREATE TABLE custom_charts (
        pk INTEGER PRIMARY KEY DEFAULT nextval('custom_chart_pks'),
        workspace_id INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        display_name VARCHAR NOT NULL,
        spec_type VARCHAR NOT NULL,        -- vega2 | vega-lite
        access VARCHAR NOT NULL,           -- private | public
        spec JSON NOT NULL,                -- the Vega-Lite spec, nested
        query JSON NOT NULL,               -- keys, fields, filters ... (chart_values.py)
        username VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        UNIQUE (workspace_id, name)
    );
    """,
    # 8: run queues (W&B's launch queues) of a workspace, and their items: one run to make
    # each, claimed by one agent (store/common/run_queues.py).
    """
    CREATE SEQUENCE run_queue_pks START 1;
    CREATE TABLE run_queues (
        pk INTEGER PRIMARY KEY DEFAULT nextval('run_queue_pks'),
        workspace_id INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        type VARCHAR NOT NULL,             -- the resource: local-process
        prioritization_mode VARCHAR,       -- V0 or NULL
        config JSON NOT NULL,              -- the default resource config
        template_variables JSON NOT NULL,
        external_links JSON NOT NULL,
        username VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        UNIQUE (workspace_id, name)
    );
    CREATE SEQUENCE run_queue_item_pks START 1;
    CREATE TABLE run_queue_items (
        pk BIGINT PRIMARY KEY DEFAULT nextval('run_queue_item_pks'),
        queue_pk INTEGER NOT NULL,
        id VARCHAR NOT NULL,               -- 8 characters, unique in its queue
        project_id INTEGER NOT NULL,       -- where its run is made
        job VARCHAR NOT NULL,              -- the job version, entity/project/name:vN
        job_id VARCHAR NOT NULL,           -- its artifact's id
        config JSON NOT NULL,              -- the run's config
        template_variables JSON NOT NULL,
        priority INTEGER NOT NULL,         -- 0 (critical) .. 4 (low); lower is claimed first
        state VARCHAR NOT NULL,            -- pending | claimed | running | finished | failed
        run_id VARCHAR,                    -- the run the claim made
        agent VARCHAR,                     -- who claimed it
        exit_code INTEGER,
        error VARCHAR,
        username VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        claimed_at TIMESTAMPTZ,
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        heartbeat_at TIMESTAMPTZ,
        UNIQUE (queue_pk, id)
    );
    """,
    # 9: registries (contract/registries.py): a registry is the project wandb-registry-<name> of
    # its organization's workspace; this row holds what a project does not. registry_members:
    # who may read a restricted registry, and each one's role there; a member is a workspace,
    # a user's own (PERSON) for a user, a TEAM's for every member of the team.
    """
    CREATE TABLE registries (
        project_id INTEGER PRIMARY KEY,    -- the registry's project
        visibility VARCHAR NOT NULL,       -- organization | restricted
        artifact_types VARCHAR[] NOT NULL DEFAULT [],  -- the types it accepts (only added to)
        allow_all_types BOOLEAN NOT NULL,  -- every type accepted (artifact_types unused)
        created_by VARCHAR
    );
    CREATE TABLE registry_members (
        project_id INTEGER NOT NULL,
        workspace_id INTEGER NOT NULL,
        role VARCHAR NOT NULL,             -- admin | member | viewer
        PRIMARY KEY (project_id, workspace_id)
    );
    """,
    # 10: automations (docs/automations.md): integrations (webhook endpoints of a workspace),
    # automations (an event in a scope -> an action), and each delivery of an event with its
    # attempts. Names are kept unique by the store under its lock, not by indexes (DuckDB
    # checks unique indexes eagerly, so renaming a row to its own name would fail); a
    # delivery's (automation, event key) is unique, so an event fires an automation once.
    """
    CREATE SEQUENCE integration_pks START 1;
    CREATE TABLE integrations (
        pk INTEGER PRIMARY KEY DEFAULT nextval('integration_pks'),
        id VARCHAR NOT NULL,               -- public id: 16 random hex characters
        workspace_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,             -- WEBHOOK | SLACK
        name VARCHAR NOT NULL,             -- unique in its workspace
        url VARCHAR,
        secret VARCHAR,                    -- HMAC-SHA256 key of the signature; never served
        username VARCHAR,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE SEQUENCE automation_pks START 1;
    CREATE TABLE automations (
        pk INTEGER PRIMARY KEY DEFAULT nextval('automation_pks'),
        id VARCHAR NOT NULL,               -- public id: 16 random hex characters
        workspace_id INTEGER NOT NULL,
        project_id INTEGER NOT NULL,       -- the scope's project
        collection_id INTEGER,             -- the scope's artifact collection, if any
        name VARCHAR NOT NULL,             -- unique in its workspace
        description VARCHAR,
        enabled BOOLEAN NOT NULL,
        event_type VARCHAR NOT NULL,
        event JSON NOT NULL,               -- {event_type, scope, filter}, nested
        action JSON NOT NULL,              -- {action_type, integration_id, request_payload...}
        integration_pk INTEGER,
        username VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE SEQUENCE delivery_pks START 1;
    CREATE TABLE automation_deliveries (
        pk BIGINT PRIMARY KEY DEFAULT nextval('delivery_pks'),
        automation_pk INTEGER NOT NULL,
        event_key VARCHAR NOT NULL,        -- what fired it; a metric's is one per run
        event_type VARCHAR NOT NULL,
        body VARCHAR NOT NULL,             -- the filled payload, sent as is at every attempt
        state VARCHAR NOT NULL,            -- PENDING | DELIVERED | FAILED
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ NOT NULL,
        lease VARCHAR,                     -- the claim of the server sending it
        lease_until TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        UNIQUE (automation_pk, event_key)
    );
    CREATE TABLE automation_attempts (
        delivery_pk BIGINT NOT NULL,
        attempt INTEGER NOT NULL,
        attempted_at TIMESTAMPTZ NOT NULL,
        status_code INTEGER,               -- the receiver's answer; NULL when none came
        error VARCHAR,
        duration_ms DOUBLE NOT NULL,
        PRIMARY KEY (delivery_pk, attempt)
    );
    """,
    # 11: a run's version of its config and summary, moved by every change of either (NULL: as
    # created), so a run table parses a run's JSON once per version, not on every read
    # (store/run_table_values.py).
    """
    ALTER TABLE runs ADD COLUMN rev BIGINT;
    """,
]
