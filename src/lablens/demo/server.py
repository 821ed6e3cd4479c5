"""The server of ``lablens demo --data DIR``: ``lablens server`` over that data dir, in a process
of its own (without ``--data`` the demo uses the local server, see ``_settings.local_server``).

Also what a server already holds (the runs that ended), so ``lablens demo`` trains only once.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from lablens import _settings

__all__ = ["demo_server", "finished_run_names"]


def finished_run_names(host: str, api_key: str | None, project: str) -> list[str]:
    """Names of the runs in ``project`` that ended (finished, crashed or aborted)."""
    from lablens.api import Api
    from lablens.errors import NotFound

    api = Api(host=host, api_key=api_key)
    try:
        runs = api.runs(
            f"{api.default_entity}/{project}", filters={"state": {"$ne": "RUNNING"}}, per_page=200
        )
        return [run.name for run in runs]
    except NotFound:
        return []


@contextlib.contextmanager
def demo_server(data_dir: Path, log_path: Path) -> Iterator[tuple[str, str | None]]:
    """Run ``lablens server`` over ``data_dir`` on a free loopback port; yield ``(url, key)``.

    The server writes its admin key into ``LABLENS_HOME/credentials`` for its address on each
    start; the key is read from there. The server is stopped on exit.
    """
    port = _settings.free_port()
    url = f"http://{_settings.LOCAL_HOST}:{port}"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            _settings.server_argv(port, data_dir),
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            # Its own session: Ctrl-C in the terminal reaches only this process, which stops
            # the server last, after JupyterLab.
            start_new_session=True,
        )
    try:
        try:
            _settings.wait_until_alive(url, timeout=60, proc=proc)
        except Exception:
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            print("\n".join(["lablens demo: the server did not start; its log ends:", *tail]))
            raise
        creds = _settings.stored_credentials(url) or {}
        yield url, creds.get("api_key")
    finally:
        _settings.stop_process(proc)
