"""``lablens agent --queue NAME``: run a queue's items as local processes until stopped
(``lablens.agent``); SIGTERM or Ctrl-C ends the running job and records its item ``failed``."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

__all__ = ["add_parser"]

#: The exit code after a stop by signal (128 + SIGTERM, the shell's convention).
STOPPED = 128 + signal.SIGTERM


def _agent(args: argparse.Namespace) -> int:
    from lablens.agent import QueueAgent
    from lablens.errors import LablensError

    try:
        agent = QueueAgent(
            args.queue,
            entity=args.entity,
            project=args.project,
            host=args.host,
            api_key=args.api_key,
            max_jobs=args.max_jobs,
            once=args.once,
            poll_interval=args.poll_interval,
            heartbeat=args.heartbeat,
            name=args.name,
        )
    except LablensError as exc:
        print(f"lablens agent: {exc}", file=sys.stderr)
        return 2

    def stop(signum: int, _: Any) -> None:
        agent.say(f"{signal.Signals(signum).name}: stopping")
        agent.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        agent.run()
    except LablensError as exc:
        print(f"lablens agent: {exc}", file=sys.stderr)
        return 1
    finally:
        agent.close()
    return STOPPED if agent.stop.is_set() else 0


def add_parser(sub: Any) -> None:
    """Add the ``agent`` command to the ``lablens`` parser's subcommands ``sub``."""
    p = sub.add_parser(
        "agent",
        help="run a run queue's items as local processes",
        description="Claim the items of a run queue one at a time and run each job's command"
        " as a local process, with lablens.init() inside it joining the item's run. Any number"
        " of agents may drain one queue: each item runs once. SIGTERM or Ctrl-C ends the"
        " running job and records its item failed.",
    )
    p.add_argument("--queue", required=True, help="the run queue's name")
    p.add_argument(
        "--entity", default=None, help="the queue's workspace (default: your default entity)"
    )
    p.add_argument("--project", default=None, help="claim only items of this project")
    p.add_argument(
        "--max-jobs", type=int, default=None, metavar="N", help="stop after running N items"
    )
    p.add_argument(
        "--once", action="store_true", help="stop when no item is pending instead of waiting"
    )
    p.add_argument(
        "--poll-interval",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds between looks at an empty queue (default 5)",
    )
    p.add_argument(
        "--heartbeat",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds between heartbeats of a running item (default 10)",
    )
    p.add_argument("--name", default=None, help="the agent's name (default: host-pid-random)")
    p.add_argument("--host", default=None, help="the server (default LABLENS_HOST, else local)")
    p.add_argument(
        "--api-key", default=None, help="the API key (default LABLENS_API_KEY, else the stored one)"
    )
    p.set_defaults(func=_agent)
