"""What a run records about its machine, and the system metrics sampler."""

from __future__ import annotations

import importlib.util
import sys
import time

from lablens.sdk import metadata
from lablens.sdk.system import SystemMonitor


def test_collect_describes_machine_python_and_command_line():
    meta = metadata.collect()
    assert meta["python"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["host"] and meta["executable"] == sys.executable
    assert meta["cpu_count_logical"] >= 1 and meta["memory"]["total"] > 0
    assert meta["args"] == sys.argv[1:]
    assert isinstance(meta["git"], dict)


def test_git_info_is_empty_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    metadata.git_info.cache_clear()
    try:
        assert metadata.git_info() == {}
    finally:
        metadata.git_info.cache_clear()


def test_requirements_lists_installed_distributions():
    lines = metadata.requirements().splitlines()
    assert any(line.startswith("pyarrow==") for line in lines)
    assert lines == sorted(lines, key=str.lower)


def test_requirements_read_the_same_names_and_versions_as_the_full_metadata():
    # The fast read stops at the headers' end; the full parse is what importlib gives.
    import importlib.metadata

    full = {
        f"{d.metadata['Name']}=={d.version}"
        for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    }
    assert len(full) > 20
    assert metadata.requirements().splitlines() == sorted(full, key=str.lower)


def test_in_conda_needs_an_active_environment_and_conda_on_the_path(monkeypatch, tmp_path):
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert metadata.in_conda() is False
    exe = tmp_path / "conda"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("CONDA_PREFIX", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert metadata.in_conda() is False  # no conda to ask
    monkeypatch.setenv("PATH", str(tmp_path))
    assert metadata.in_conda() is True


def test_conda_is_none_outside_conda(monkeypatch):
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    metadata.conda.cache_clear()
    assert metadata.conda() is None


def test_system_monitor_samples_cpu_memory_disk_process_network():
    samples = []
    monitor = SystemMonitor(0.05, lambda m, step, ts: samples.append((m, step, ts)))
    monitor.start()
    deadline = time.monotonic() + 5
    while len(samples) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    monitor.stop()
    assert [s[1] for s in samples[:2]] == [0, 1]
    metrics = samples[0][0]
    for key in (
        "system.cpu",
        "system.memory",
        "system.disk",
        "system.proc.memory.rssMB",
        "system.network.sent",
        "system.network.recv",
    ):
        assert isinstance(metrics[key], float), key
    if importlib.util.find_spec("pynvml") is None:
        assert not any(k.startswith("system.gpu.") for k in metrics)
