"""A queued run's process: ``lablens.init()`` joins the run the queue's claim made.

``lablens agent`` runs a job with the run's coordinates in the environment
(``lablens.contract.jobs``: ``LABLENS_RUN_ID``, ``LABLENS_ENTITY``, ``LABLENS_PROJECT``,
``LABLENS_RUN_CONFIG``). ``init()`` inside the job then resumes that run whatever project or id
the job's code names, and the queued config is laid over the config the code passes, so a
queued run's overrides win, as W&B's launch does with ``wandb.config``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lablens import errors as E
from lablens.contract.jobs import ENV_ENTITY, ENV_PROJECT, ENV_RUN_CONFIG, ENV_RUN_ID

__all__ = ["QueuedEnv", "queued_env"]


@dataclass(frozen=True)
class QueuedEnv:
    """The run a queue's agent made for this process."""

    entity: str | None
    project: str
    run_id: str
    config: dict[str, Any]


def queued_env(environ: Mapping[str, str] | None = None) -> QueuedEnv | None:
    """The queued run named by the environment, or ``None`` outside a queued job."""
    env = os.environ if environ is None else environ
    run_id = env.get(ENV_RUN_ID)
    if not run_id:
        return None
    project = env.get(ENV_PROJECT)
    if not project:
        raise E.UsageError(f"{ENV_RUN_ID} is set but {ENV_PROJECT} is not", field=ENV_PROJECT)
    try:
        config = json.loads(env.get(ENV_RUN_CONFIG) or "{}")
    except ValueError as exc:
        raise E.UsageError(f"{ENV_RUN_CONFIG} is not JSON: {exc}", field=ENV_RUN_CONFIG) from None
    if not isinstance(config, dict):
        raise E.UsageError(f"{ENV_RUN_CONFIG} must be a JSON object", field=ENV_RUN_CONFIG)
    return QueuedEnv(env.get(ENV_ENTITY) or None, project, run_id, config)
