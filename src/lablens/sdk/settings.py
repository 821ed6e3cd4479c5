"""Settings of a run that are not part of what it records: intervals, limits, local files."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any


@dataclass
class Settings:
    """How a run behaves on this machine; pass as ``lablens.init(settings=...)``.

    Every field has a default, and a ``dict`` with some of the fields is accepted too.

    Attributes:
        system_interval: seconds between two samples of system metrics (CPU, memory, disk,
            network, GPU). ``0`` turns them off. Default 10, or ``LABLENS_SYSTEM_INTERVAL``.
        console: copy what the script prints (stdout and stderr) to ``output.log`` in the run's
            local directory and to the server. Default ``True``; ``LABLENS_CONSOLE=off`` turns
            it off.
        flush_interval: the most seconds a logged point waits before it is sent.
        batch_points: the most points sent in one request.
        max_buffered_points: how many points may wait to be sent before ``run.log()`` blocks until
            the server has taken some (back-pressure, so a slow or unreachable server cannot fill
            the memory).
        flush_timeout: how many seconds ``finish()`` keeps trying to send what is left before it
            leaves the rest in the run's log for ``lablens sync``. Default 60, or
            ``LABLENS_FLUSH_TIMEOUT``.
        heartbeat_interval: seconds between two heartbeats that tell the server the run is alive.
            Default 30; never more than a quarter of the server's heartbeat timeout (which it
            reports), so a live run is not taken for a dead one.
        init_timeout: how many seconds ``init()`` keeps trying to reach the server (retrying
            with backoff) before it fails. Default 90, or ``LABLENS_INIT_TIMEOUT``.
        silent: show nothing: no run card in a notebook, no line at ``init()`` and ``finish()``
            in a terminal. Default ``False``, or ``LABLENS_SILENT=true``.
    """

    system_interval: float = 10.0
    console: bool = True
    flush_interval: float = 0.25
    batch_points: int = 200_000
    max_buffered_points: int = 5_000_000
    flush_timeout: float = 60.0
    heartbeat_interval: float = 30.0
    init_timeout: float = 90.0
    silent: bool = False

    @classmethod
    def resolve(cls, given: Settings | dict[str, Any] | None) -> Settings:
        """The settings to use: the defaults, then the environment, then what was given."""
        settings = cls()
        if os.environ.get("LABLENS_SYSTEM_INTERVAL"):
            settings.system_interval = float(os.environ["LABLENS_SYSTEM_INTERVAL"])
        if os.environ.get("LABLENS_FLUSH_TIMEOUT"):
            settings.flush_timeout = float(os.environ["LABLENS_FLUSH_TIMEOUT"])
        if os.environ.get("LABLENS_INIT_TIMEOUT"):
            settings.init_timeout = float(os.environ["LABLENS_INIT_TIMEOUT"])
        if os.environ.get("LABLENS_CONSOLE", "").lower() in ("off", "0", "false", "no"):
            settings.console = False
        if os.environ.get("LABLENS_SILENT", "").lower() in ("1", "true", "yes", "on"):
            settings.silent = True
        if given is None:
            return settings
        if isinstance(given, Settings):
            given = {f.name: getattr(given, f.name) for f in dataclasses.fields(given)}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(unknown)}; known: {sorted(names)}")
        return dataclasses.replace(settings, **given)
