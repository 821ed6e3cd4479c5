"""The server's limits: documented configuration, read once from the environment at start.

Each limit bounds what one client can cost everyone else (memory, the write lock, disk). A request
past a limit is refused whole with a problem+json answer naming the field and the limit; nothing
already stored is touched. ``docs/operations.md`` lists them for operators.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    """Every limit, with its environment variable (``LABLENS_`` + the upper-cased field name)."""

    #: bytes in one request body (``LABLENS_MAX_BODY_BYTES``); 413 past it.
    max_body_bytes: int = 256 << 20
    #: distinct metric keys one run may hold, over all its batches (``LABLENS_MAX_KEYS_PER_RUN``).
    max_keys_per_run: int = 100_000
    #: distinct metric keys one request may bring (``LABLENS_MAX_KEYS_PER_REQUEST``), as MLflow's
    #: 1,000 metrics per batch, raised for wide logs.
    max_keys_per_request: int = 10_000
    #: distinct config or summary keys one run may hold (``LABLENS_MAX_FIELDS_PER_RUN``).
    max_fields_per_run: int = 50_000
    #: characters in a metric, config or summary key (``LABLENS_MAX_KEY_LENGTH``).
    max_key_length: int = 1_024
    #: characters in a name: user, team, project, run, artifact (``LABLENS_MAX_NAME_LENGTH``).
    max_name_length: int = 128
    #: nesting depth of a JSON value: config, summary, metadata (``LABLENS_MAX_DEPTH``).
    max_depth: int = 32
    #: failed logins per username and per client address in a minute (``LABLENS_LOGIN_RATE``).
    login_rate: int = 10
    #: days a key minted by a password login stays valid (``LABLENS_LOGIN_KEY_DAYS``).
    login_key_days: int = 30
    #: seconds without a heartbeat after which a RUNNING run is marked CRASHED
    #: (``LABLENS_HEARTBEAT_TIMEOUT``).
    heartbeat_timeout: float = 300.0

    @classmethod
    def from_env(cls) -> Limits:
        """The defaults, with each ``LABLENS_<NAME>`` set in the environment taking their place.

        Raises:
            ValueError: naming the variable whose value is not a positive number.
        """
        values = {}
        for f in fields(cls):
            var = f"LABLENS_{f.name.upper()}"
            raw = os.environ.get(var)
            if raw is None or raw == "":
                continue
            kind = float if f.type in ("float", float) else int
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(f"{var} must be a number, got {raw!r}") from None
            if value <= 0:
                raise ValueError(f"{var} must be positive, got {raw!r}")
            values[f.name] = value
        return cls(**values)


#: The limits of this process; a server reads them at start (tests set the variables first).
LIMITS = Limits.from_env()
