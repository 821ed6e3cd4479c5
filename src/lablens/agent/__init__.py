"""The run queue agent: ``lablens agent --queue NAME`` claims a queue's items and executes each
job as a local process (``queue_agent.py``, ``job_process.py``). Client code: it reaches the
server over HTTP only."""

from lablens.agent.queue_agent import QueueAgent

__all__ = ["QueueAgent"]
