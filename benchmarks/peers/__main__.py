"""peers_*: the same workloads through a real MLflow server and a real lablens server.

``make bench-peers`` (or ``.venv/bin/python -m benchmarks.peers --mlflow-python
.peers/mlflow/bin/python``). MLflow runs from its own venv (``benchmarks/peers/
requirements-mlflow.txt``): ``mlflow server`` on a free loopback port over a SQLite file and a
temp artifact dir, driven by its own ``MlflowClient`` in a subprocess
(``benchmarks/peers/mlflow_side.py``); lablens is a ``lablens server`` on a temp data dir,
driven by its public SDK and ``lablens.Api`` (``benchmarks/peers/lablens_side.py``). MLflow
runs first, then lablens, never both at once. Figures, all in milliseconds:

- peers_run_lifecycle: one run created, ``STEPS`` steps of ``KEYS`` metrics logged, finished;
  the mean over ``RUNS`` sequential runs (MLflow: ``create_run``, a ``log_batch`` a step,
  ``set_terminated``).
- peers_request_p50 / peers_request_p99: a small read, ``REQUESTS`` times (lablens:
  ``api.project()``; MLflow: ``get_experiment``).
- peers_log_points: ``POINTS`` points of one metric logged into one run, durable (lablens: one
  ``run.log()`` a point, until ``finish()`` returns; MLflow: ``log_batch`` of 1,000, its
  largest batch).
- peers_history_read: those points read back (lablens: ``run.history(samples=None)`` into a
  DataFrame; MLflow: ``get_metric_history``, a list of ``Metric``); best of 3.
- peers_search_runs: of ``SEARCH_RUNS`` finished runs with a metric ``acc``, the half whose
  ``acc`` is over 0.5, into a DataFrame (lablens: ``api.runs(filters=...).to_pandas()``;
  MLflow: ``mlflow.search_runs``); best of 3. The runs are made first, untimed, 4 at a time,
  each with three requests (lablens: ``api.create_run``, ``run.log_points``, ``run.finish``;
  MLflow: ``create_run``, ``log_batch``, ``set_terminated``).

Each line: ``{"name", "unit", "lablens", "mlflow", "ratio", "target"}``, ``ratio`` being
lablens / MLflow and ``target`` the ratio the project aims for (0.1). Sizes come from the
environment: ``LABLENS_BENCH_PEERS_RUNS`` (100), ``_STEPS`` (10), ``_KEYS`` (3),
``_REQUESTS`` (500), ``_POINTS`` (100000), ``_SEARCH_RUNS`` (1000), and ``_BUDGET`` (600: the
seconds a workload may take before the benchmark stops with an error).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from benchmarks._common import server
from benchmarks.peers import lablens_side
from lablens._settings import free_port

TARGET_RATIO = 0.1
DEFAULTS = {
    "runs": 100,
    "steps": 10,
    "keys": 3,
    "requests": 500,
    "points": 100_000,
    "search_runs": 1000,
    "budget": 600,
}
FIGURES = (
    "run_lifecycle",
    "request_p50",
    "request_p99",
    "log_points",
    "history_read",
    "search_runs",
)
HERE = Path(__file__).resolve().parent
#: MLflow sends usage data unless told not to; the benchmark stays on loopback.
QUIET_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def sizes_from_env() -> dict[str, int]:
    sizes = {
        name: int(os.environ.get(f"LABLENS_BENCH_PEERS_{name.upper()}", default))
        for name, default in DEFAULTS.items()
    }
    m = sizes["search_runs"]
    sizes["search_expected"] = sum(1 for i in range(m) if i / m > 0.5)
    return sizes


def _wait_for(url: str, proc: subprocess.Popen, timeout: float) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"mlflow server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    sys.exit(f"mlflow server did not answer {url} within {timeout:.0f} s")


def measure_mlflow(python: str, sizes: dict[str, int]) -> dict[str, float]:
    """The figures of ``mlflow_side.py`` against a fresh ``mlflow server`` (SQLite, temp dir)."""
    with tempfile.TemporaryDirectory(prefix="lablens-bench-mlflow-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, **QUIET_MLFLOW}
        argv = [
            python, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
            "--artifacts-destination", f"file://{tmp}/artifacts",
            "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            argv, env=env, cwd=tmp, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            _wait_for(f"{url}/health", proc, timeout=180)
            side = subprocess.run(
                [python, str(HERE / "mlflow_side.py"), url, json.dumps(sizes)],
                env=env,
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=sizes["budget"] * 5,
            )
            if side.returncode != 0:
                server_log = (Path(tmp) / "server.log").read_text()[-3000:]
                sys.exit(f"mlflow side failed:\n{side.stderr[-3000:]}\nserver:\n{server_log}")
            return json.loads(side.stdout.strip().splitlines()[-1])
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mlflow-python",
        default=str(HERE.parents[1] / ".peers" / "mlflow" / "bin" / "python"),
        help="the python of a venv with MLflow (make bench-peers makes .peers/mlflow)",
    )
    args = parser.parse_args()
    if not Path(args.mlflow_python).exists():
        sys.exit(f"no MLflow python at {args.mlflow_python}: run `make bench-peers`")
    sizes = sizes_from_env()
    print(f"sizes: {json.dumps(sizes)}", file=sys.stderr)
    # Absolute (the venv's own path, its symlink kept): MLflow runs in a temporary directory.
    theirs = measure_mlflow(str(Path(args.mlflow_python).absolute()), sizes)
    with server() as srv:
        ours = lablens_side.measure(srv, sizes)
    rows = []
    for name in FIGURES:
        ratio = ours[name] / theirs[name] if theirs[name] else None
        line = {
            "name": f"peers_{name}",
            "unit": "ms",
            "lablens": round(ours[name], 3),
            "mlflow": round(theirs[name], 3),
            "ratio": round(ratio, 3) if ratio is not None else None,
            "target": TARGET_RATIO,
        }
        rows.append(line)
        print(json.dumps(line), flush=True)
    print(f"\n{'figure':<26}{'lablens ms':>14}{'MLflow ms':>14}{'ratio':>9}", file=sys.stderr)
    for row in rows:
        print(
            f"{row['name']:<26}{row['lablens']:>14,.2f}{row['mlflow']:>14,.2f}{row['ratio']:>9.3f}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
