"""DAG parse cost: what importing a provider's operator modules adds on top of ``import airflow.sdk``.

Each measurement is a fresh Python process that imports ``airflow.sdk`` first (untimed baseline, reported
separately), then times the provider imports with ``time.perf_counter``. Processes of all sets are run
interleaved (round robin) so that background load hits every set alike; a warm-up round compiles the
bytecode first. The median of the measured rounds is reported.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any

_PROBE = """
import importlib, json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
before = set(sys.modules)
for name in {modules!r}:
    importlib.import_module(name)
t2 = time.perf_counter()
new = set(sys.modules) - before
print("BENCH-RESULT " + json.dumps({{
    "sdk_ms": (t1 - t0) * 1000,
    "ms": (t2 - t1) * 1000,
    "new_modules": len(new),
    "requests": "requests" in new,
}}))
"""

_STANDALONE = """
import importlib, json, time
t0 = time.perf_counter()
importlib.import_module({module!r})
print("BENCH-RESULT " + json.dumps({{"ms": (time.perf_counter() - t0) * 1000}}))
"""

OURS = "airflow_provider_modelstudio"
SETS: dict[str, tuple[str, ...]] = {
    "modelstudio: operator + sensor + hook": (
        f"{OURS}.operators.modelstudio",
        f"{OURS}.sensors.modelstudio",
        f"{OURS}.hooks.modelstudio",
    ),
    "modelstudio: operator module alone": (f"{OURS}.operators.modelstudio",),
    "databricks: operators.databricks": ("airflow.providers.databricks.operators.databricks",),
    "dbt Cloud: operators.dbt": ("airflow.providers.dbt.cloud.operators.dbt",),
}
TARGET_MS = 30.0


@dataclass
class SetResult:
    name: str
    modules: tuple[str, ...]
    installed: bool
    samples_ms: list[float] = field(default_factory=list)
    sdk_ms: list[float] = field(default_factory=list)
    imports_requests: bool = False
    new_modules: int = 0

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None


def _run(code: str, env: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH-RESULT "))
            return result
    raise RuntimeError(f"probe failed (exit {done.returncode}): {done.stderr[-2000:]}")


def _installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def measure(env: dict[str, str], rounds: int = 7, log: Any = print) -> tuple[list[SetResult], float]:
    """Median import cost of every set; and the standalone import time of our ``provider_info`` module.

    :param env: environment of the probe processes (AIRFLOW_HOME set)
    :param rounds: measured processes per set (after one warm-up round)
    """
    results = [SetResult(name, modules, all(_installed(m) for m in modules)) for name, modules in SETS.items()]
    for round_number in range(rounds + 1):
        for result in results:
            if not result.installed:
                continue
            probe = _run(_PROBE.format(modules=list(result.modules)), env)
            if round_number == 0:
                continue  # warm-up: bytecode compilation, first-time config
            result.samples_ms.append(probe["ms"])
            result.sdk_ms.append(probe["sdk_ms"])
            result.imports_requests |= probe["requests"]
            result.new_modules = max(result.new_modules, probe["new_modules"])
        if round_number:
            log(f"  parse cost: round {round_number}/{rounds} done")
    info = [_run(_STANDALONE.format(module=f"{OURS}.provider_info"), env)["ms"] for _ in range(rounds)]
    return results, statistics.median(info)
