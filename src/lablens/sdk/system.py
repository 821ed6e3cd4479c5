"""System metrics: a daemon thread that samples the machine and the process every few seconds.

The keys follow W&B's: ``system.cpu``, ``system.memory``, ``system.disk`` (percent),
``system.proc.memory.rssMB``, ``system.proc.cpu.threads``, ``system.network.sent`` and
``system.network.recv`` (bytes since the run started), and per GPU ``system.gpu.<i>.gpu``,
``.memory``, ``.memoryAllocated``, ``.temp`` and ``.powerWatts`` when ``pynvml`` (the package
``nvidia-ml-py``) is installed and sees a GPU. They go to the run's ``system`` stream.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

log = logging.getLogger("lablens.sdk")


class _Gpus:
    """NVIDIA GPUs seen through pynvml; empty when pynvml is missing or finds none."""

    def __init__(self) -> None:
        self.handles: list[Any] = []
        try:
            import pynvml  # optional: the `gpu` extra
        except ImportError:
            return
        try:
            pynvml.nvmlInit()
            self.handles = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
        except Exception:  # no driver, no device: no GPU metrics, never a failed run
            self.handles = []
            return
        self._nvml = pynvml

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        nvml = getattr(self, "_nvml", None)
        for i, handle in enumerate(self.handles):
            prefix = f"system.gpu.{i}."
            with contextlib.suppress(Exception):
                util = nvml.nvmlDeviceGetUtilizationRates(handle)
                out[prefix + "gpu"] = float(util.gpu)
                out[prefix + "memory"] = float(util.memory)
            with contextlib.suppress(Exception):
                mem = nvml.nvmlDeviceGetMemoryInfo(handle)
                out[prefix + "memoryAllocated"] = 100.0 * mem.used / mem.total
                out[prefix + "memoryAllocatedBytes"] = float(mem.used)
            with contextlib.suppress(Exception):
                out[prefix + "temp"] = float(
                    nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
                )
            with contextlib.suppress(Exception):
                out[prefix + "powerWatts"] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
        return out


class SystemMonitor:
    """Samples system metrics every ``interval`` seconds and hands them to ``emit``.

    Args:
        interval: seconds between samples.
        emit: called as ``emit(metrics, step, timestamp)`` from the monitor's thread; ``step``
            counts the samples from 0.
        disk_path: the file system whose usage ``system.disk`` reports.
    """

    def __init__(
        self,
        interval: float,
        emit: Callable[[dict[str, float], int, float], None],
        disk_path: str | os.PathLike[str] = ".",
    ) -> None:
        self.interval = interval
        self._emit = emit
        self._disk_path = os.fspath(disk_path)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process = psutil.Process()
        self._gpus: _Gpus | None = None
        self._net0: Any = None

    def start(self) -> None:
        """Start sampling in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="lablens-system", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and wait for the thread to end."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _prime(self) -> None:
        # cpu_percent() measures since its previous call; the first call only sets the start.
        psutil.cpu_percent(interval=None)
        with contextlib.suppress(psutil.Error):
            self._process.cpu_percent(interval=None)
        with contextlib.suppress(Exception):
            self._net0 = psutil.net_io_counters()
        # GPU discovery can take a moment (driver load): done here, not in init().
        self._gpus = _Gpus()

    def sample(self) -> dict[str, float]:
        """One sample of every metric that can be read now."""
        out: dict[str, float] = {}
        with contextlib.suppress(Exception):
            out["system.cpu"] = float(psutil.cpu_percent(interval=None))
        with contextlib.suppress(Exception):
            out["system.memory"] = float(psutil.virtual_memory().percent)
        with contextlib.suppress(Exception):
            out["system.disk"] = float(psutil.disk_usage(self._disk_path).percent)
        with contextlib.suppress(psutil.Error), self._process.oneshot():
            out["system.proc.memory.rssMB"] = self._process.memory_info().rss / 1048576
            out["system.proc.cpu.threads"] = float(self._process.num_threads())
            out["system.proc.cpu"] = float(self._process.cpu_percent(interval=None))
        with contextlib.suppress(Exception):
            net = psutil.net_io_counters()
            base = self._net0
            out["system.network.sent"] = float(net.bytes_sent - (base.bytes_sent if base else 0))
            out["system.network.recv"] = float(net.bytes_recv - (base.bytes_recv if base else 0))
        if self._gpus is not None and self._gpus.handles:
            out.update(self._gpus.sample())
        return out

    def _loop(self) -> None:
        try:
            self._prime()
        except Exception:
            log.warning("lablens: cannot read system metrics; none will be recorded", exc_info=True)
            return
        step = 0
        while not self._stop.wait(self.interval):
            try:
                self._emit(self.sample(), step, time.time())
            except Exception:  # a failed sample must never end the run
                log.debug("lablens: a system metrics sample failed", exc_info=True)
            step += 1
