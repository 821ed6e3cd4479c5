"""``lablens.should_stop()``: how a sweep's training loop learns that early termination
(``early_terminate: {type: hyperband, ...}``) stopped its run.

W&B's agent kills a stopped run's process. A lablens agent calls the training function in its
own thread, so the loop asks instead, once per iteration, after logging the sweep's metric::

    for epoch in range(max_epochs):
        run.log({"val/loss": evaluate()})
        if lablens.should_stop():
            break

The server decides, from the metric histories of every run of the sweep, by W&B's hyperband
brackets (``GET .../sweeps/{id}/stop``). The question waits until the server holds every point
this run logged so far, so the answer is the same however fast the points travel.
"""

from __future__ import annotations

import time

from lablens import errors as E
from lablens.contract.routes import sweep_route
from lablens.sdk import sweeps
from lablens.transport import Transport

__all__ = ["should_stop"]

_POLL = 0.05


def should_stop(timeout: float = 60.0) -> bool:
    """Whether the sweep stopped this run early (W&B's hyperband ``early_terminate``).

    Call it in a sweep agent's training function after logging the sweep's metric; ``True``
    means: leave the loop, the agent finishes the run. Outside a sweep's trial, or in a sweep
    without ``early_terminate``, it is always ``False``.

    Args:
        timeout: how long to wait, in seconds, for the server to receive the points this run
            logged so far before it judges.

    Returns:
        ``True`` when the run's metric is worse, at the last bracket it reached, than the
        share ``1/eta`` of the sweep's runs that went best there.

    Raises:
        ConnectionFailed: the server is unreachable.
        UsageError: ``timeout`` passed before the server had the run's points.

    Example:
        >>> def train():
        ...     with lablens.init() as run:
        ...         for epoch in range(27):
        ...             run.log({"loss": fit_one_epoch(run.config)})
        ...             if lablens.should_stop():
        ...                 break
    """
    trial = sweeps.current_trial()
    if trial is None or trial.run is None or not trial.sweep_id:
        return False
    transport = Transport(trial.host, trial.api_key)
    route = f"{sweep_route(trial.entity, trial.project, trial.sweep_id)}/stop"
    params = {"run": trial.run_id, "step": max(trial.run.step - 1, 0)}
    if trial.run.step == 0:
        params.pop("step")  # nothing logged yet
    deadline = time.monotonic() + timeout
    while True:
        answer = transport.get_json(route, params=params)
        if not answer.get("pending"):
            return bool(answer["stop"])
        if time.monotonic() > deadline:
            raise E.UsageError(
                f"should_stop: the server did not receive this run's points within {timeout}s"
            )
        time.sleep(_POLL)
