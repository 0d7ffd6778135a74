"""DAG parse cost: what importing an operator or sensor module adds on top of ``import airflow.sdk``.

Every round starts fresh processes (see :mod:`import_probe`): one with every installed provider visible
(the OpenLineage provider included, when the ``bench`` extra is installed), one in which the OpenLineage
provider and client are hidden as if not installed, and one plain fresh process that imports our launch
operator's module the way a DAG file does (a cross-check of the fork-based method). Each probe process
imports ``airflow.sdk`` and then measures every module :data:`SAMPLES_PER_PROCESS` times, each time in a
forked child of its own. The order of the modules rotates from round to round, a warm-up round compiles
the bytecode first, and the median of all measured samples is reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OURS = "airflow_provider_modelstudio"
OUR_MODULES = {
    "operators/modelstudio.py": f"{OURS}.operators.modelstudio",
    "sensors/modelstudio.py": f"{OURS}.sensors.modelstudio",
    "operators/model_versions.py": f"{OURS}.operators.model_versions",
    "sensors/live_deployment.py": f"{OURS}.sensors.live_deployment",
}
"""Our task modules a DAG file imports, each measured alone (when it exists)."""
ALL_OURS = "all of the above + the hook"
PEERS = {
    "databricks: operators.databricks": ("airflow.providers.databricks.operators.databricks",),
    "dbt Cloud: operators.dbt": ("airflow.providers.dbt.cloud.operators.dbt",),
}
CROSS_CHECK = "operators/modelstudio.py, plain fresh process"
WITH, WITHOUT = "with", "without"
"""The two variants: the OpenLineage provider installed and visible, or hidden."""
TARGET_MS = 10.0
SAMPLES_PER_PROCESS = 3
"""Forked samples of each module per probe process and round."""

_FRESH = """
import importlib, json, sys, time
import airflow.sdk
before = set(sys.modules)
started = time.perf_counter()
importlib.import_module({module!r})
elapsed = time.perf_counter() - started
print("BENCH-RESULT " + json.dumps({{"ms": elapsed * 1000, "new_modules": len(set(sys.modules) - before)}}))
"""

_STANDALONE = """
import importlib, json, time
started = time.perf_counter()
importlib.import_module({module!r})
print("BENCH-RESULT " + json.dumps({{"ms": (time.perf_counter() - started) * 1000}}))
"""


@dataclass
class Row:
    """One module (or set of modules) in one variant."""

    name: str
    modules: tuple[str, ...]
    variant: str
    ours: bool
    samples_ms: list[float] = field(default_factory=list)
    new_modules: int = 0
    imports_requests: bool = False
    openlineage_modules: set[str] = field(default_factory=set)
    provider_modules: set[str] = field(default_factory=set)

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None

    @property
    def min_ms(self) -> float | None:
        return min(self.samples_ms) if self.samples_ms else None

    def add(self, sample: dict[str, Any]) -> None:
        self.samples_ms.append(sample["ms"])
        self.new_modules = max(self.new_modules, sample.get("new_modules", 0))
        self.imports_requests |= sample.get("requests", False)
        self.openlineage_modules.update(sample.get("openlineage", ()))
        self.provider_modules.update(sample.get("provider_modules", ()))


@dataclass
class ParseCost:
    """Everything the parse-cost section reports."""

    rows: list[Row]
    rounds: int
    openlineage_installed: bool
    sdk_ms: dict[str, list[float]]
    openlineage_after_sdk: list[str]
    provider_info_ms: float
    load_average: tuple[float, float]
    """The machine's 1-minute load average when the measurement started and when it ended."""

    def row(self, name: str, variant: str) -> Row | None:
        return next((r for r in self.rows if r.name == name and r.variant == variant), None)


def installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _answer(command: list[str], env: dict[str, str], timeout: float = 180) -> dict[str, Any]:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH-RESULT "))
            return result
    raise RuntimeError(f"the probe failed (exit {done.returncode}): {done.stderr[-2000:]}")


def _probe(sets: dict[str, tuple[str, ...]], env: dict[str, str], hide_openlineage: bool) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / "import_probe.py"), json.dumps(sets), "--repeat", str(SAMPLES_PER_PROCESS)]
    return _answer(command + (["--hide-openlineage"] if hide_openlineage else []), env)


def _rotated(names: list[str], by: int) -> list[str]:
    shift = by % len(names) if names else 0
    return names[shift:] + names[:shift]


def plan() -> list[Row]:
    """The rows to measure: our existing modules in both variants, then the peers and the cross-check."""
    ours: dict[str, tuple[str, ...]] = {name: (m,) for name, m in OUR_MODULES.items() if installed(m)}
    ours[ALL_OURS] = (*(module for (module,) in ours.values()), f"{OURS}.hooks.modelstudio")
    variants = [WITHOUT, WITH] if installed("airflow.providers.openlineage") else [WITHOUT]
    rows = [Row(name, modules, variant, ours=True) for name, modules in ours.items() for variant in variants]
    peer_variant = variants[-1]
    rows += [Row(name, modules, peer_variant, ours=False) for name, modules in PEERS.items() if installed(modules[0])]
    rows.append(Row(CROSS_CHECK, (OUR_MODULES["operators/modelstudio.py"],), peer_variant, ours=True))
    return rows


def measure(env: dict[str, str], rounds: int = 5, log: Callable[[str], None] = print) -> ParseCost:
    """Median import cost of every row, in both variants; and how long ``provider_info`` takes alone.

    :param env: environment of the probe processes (``AIRFLOW_HOME`` set)
    :param rounds: measured rounds (after one warm-up round)
    :param log: where progress goes
    """
    load_at_start = os.getloadavg()[0]
    rows = plan()
    openlineage_installed = any(row.variant == WITH for row in rows)
    sdk_ms: dict[str, list[float]] = {WITH: [], WITHOUT: []}
    openlineage_after_sdk: set[str] = set()
    by_variant = {variant: [r for r in rows if r.variant == variant and r.name != CROSS_CHECK] for variant in sdk_ms}
    cross_check = next(r for r in rows if r.name == CROSS_CHECK)
    for round_number in range(rounds + 1):
        for variant, variant_rows in by_variant.items():
            if not variant_rows:
                continue
            names = _rotated([r.name for r in variant_rows], round_number)
            modules = {r.name: r.modules for r in variant_rows}
            answer = _probe({name: modules[name] for name in names}, env, hide_openlineage=variant == WITHOUT)
            if round_number == 0:
                continue  # warm-up: bytecode compilation, first-time configuration
            sdk_ms[variant].append(answer["sdk_ms"])
            if variant == WITH:
                openlineage_after_sdk.update(answer["openlineage_after_sdk"])
            for row in variant_rows:
                for sample in answer["sets"][row.name]:
                    row.add(sample)
        fresh = _answer([sys.executable, "-c", _FRESH.format(module=cross_check.modules[0])], env)
        if round_number:
            cross_check.add(fresh)
            log(f"  parse cost: round {round_number}/{rounds} done")
    standalone = [sys.executable, "-c", _STANDALONE.format(module=f"{OURS}.provider_info")]
    info = [_answer(standalone, env)["ms"] for _ in range(3)]
    return ParseCost(
        rows=rows,
        rounds=rounds,
        openlineage_installed=openlineage_installed,
        sdk_ms=sdk_ms,
        openlineage_after_sdk=sorted(openlineage_after_sdk),
        provider_info_ms=statistics.median(info),
        load_average=(load_at_start, os.getloadavg()[0]),
    )
