"""``make bench``: DAG parse cost, waiting at scale, worker cost and the Model releases page's API, as one
Markdown report.

Writes the report to stdout and to ``bench/results/latest.md``, and a chart of the wait delays to
``bench/results/waits.png``. Every measurement runs in processes of its own (the emulator too), on
loopback only, and every loop is bounded in count and time. About 8 minutes on 2 cores.

Usage: ``.venv/bin/python bench/run.py [--quick] [--only SECTIONS | --skip SECTIONS] [--output FILE]``
(sections: ``parse``, ``waits``, ``worker``, ``releases``, ``watchers``; ``--quick``: N = 100 and 1,000 only, 3
parse rounds, no
long-interval run; for trying the script out.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dag_parse
import parse_cost
import watchers
from emulator_process import EmulatorProcess

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
STUDIO = "ri.models.main.model-studio.bench"
STEADY_STUDIO = "ri.models.main.model-studio.bench-steady"
INTERVAL = 2.0
LONG_INTERVAL = 30.0
RUN_MIN_SECONDS = 8.0
RUN_JITTER_SECONDS = 16.0
SCENARIO = {
    "seed": 42,
    "studios": {
        STUDIO: {"duration_seconds": RUN_MIN_SECONDS, "duration_jitter_seconds": RUN_JITTER_SECONDS},
        STEADY_STUDIO: {"duration_seconds": 3600},
    },
}
RATE_LIMIT_PER_SECOND = 4
STATUS_ENDPOINTS = ("get_builds_batch", "get_build")
MEMORY_TARGET_MB = 25.0
CPU_TARGET_PERCENT = 5.0
TRACE_TOP = 12
RELEASES_RUNS = 500
RELEASES_TARGET_MS = 200.0
SECTIONS = ("parse", "waits", "worker", "releases", "watchers")
"""Source lines listed in "where the memory of a wait goes"."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Waiting at scale --------------------------------------------------------------------------------------------


@dataclass
class WaitCase:
    mode: str
    n: int
    interval: float = INTERVAL
    rounds: int | None = None  # a steady-state run: stop after this many full rounds
    trace: int = 0  # trace allocations and list this many source lines (a steady-state run only)

    @property
    def studio(self) -> str:
        return STUDIO if self.rounds is None else STEADY_STUDIO

    @property
    def tag(self) -> str:
        return f"{self.mode}-{self.n}-{self.interval:g}" + ("-traced" if self.trace else "")


def _requests(counters: dict[str, Any], endpoints: tuple[str, ...] = STATUS_ENDPOINTS) -> int:
    return sum(sum(counters["requests"].get(name, {}).values()) for name in endpoints)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def run_wait_case(emu: EmulatorProcess, case: WaitCase, env: dict[str, str], work: Path) -> dict[str, Any]:
    """One (mode, N) case in a fresh waiting process; the emulator is reset first."""
    emu.call("reset")
    tag = case.tag
    ready, result_file, runs_file = work / f"{tag}.ready", work / f"{tag}.json", work / f"{tag}.runs.json"
    max_seconds = 90.0 if case.rounds is None else case.interval * (case.rounds + 2) + 30
    command = [
        sys.executable,
        str(BENCH / "waits.py"),
        "--mode", case.mode,
        "--interval", str(case.interval),
        "--admin-url", emu.url,
        "--ready-file", str(ready),
        "--result-file", str(result_file),
        "--max-seconds", str(max_seconds),
    ]  # fmt: skip
    if case.rounds is not None:
        command += ["--rounds", str(case.rounds)]
    if case.trace:
        command += ["--trace-memory", str(case.trace)]
    with open(work / f"{tag}.log", "w") as output:
        waiter = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT, text=True
        )
        try:
            deadline = time.monotonic() + 120
            while not ready.exists():
                if waiter.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the waiting process did not start; see {work / f'{tag}.log'}")
                time.sleep(0.05)
            build_rids = [run["buildRid"] for run in emu.call("create_runs", case.studio, case.n)]
            runs_file.write_text(json.dumps(build_rids))
            assert waiter.stdin is not None
            waiter.stdin.write(f"{runs_file}\n")
            waiter.stdin.flush()
            waiter.wait(timeout=max_seconds + 60)
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
    if waiter.returncode != 0 or not result_file.exists():
        raise RuntimeError(f"the waiting process failed ({waiter.returncode}); see {work / f'{tag}.log'}")
    raw = json.loads(result_file.read_text())
    counters = emu.call("counters")
    finished = emu.build_finished_times(build_rids)
    return summarise(case, raw, counters, finished)


def summarise(
    case: WaitCase, raw: dict[str, Any], counters: dict[str, Any], finished: dict[str, float | None]
) -> dict[str, Any]:
    fields = ("build_rid", "at", "kind", "status", "message")
    events = [dict(zip(fields, event, strict=True)) for event in raw["events"]]
    delays = [
        e["at"] - finished[e["build_rid"]] for e in events if e["kind"] == "final" and finished.get(e["build_rid"])
    ]
    wrong = [e for e in events if e["kind"] != "final" or e["status"] != "SUCCEEDED"]
    span = raw["ended"] - raw["started"]
    total = _requests(counters)
    first = raw["first_full_round"]
    first_round = first_round_seconds = None
    if first.get("after"):
        first_round = _requests(first["after"]) - (_requests(first["before"]) if "before" in first else 0)
        first_round_seconds = first["end"] - raw["started"]
    cycles = raw["cycles"]
    steady_cpu = steady_wall = None
    if len(cycles) >= 2:
        steady_cpu = (cycles[-1][1] - cycles[0][1]) / (len(cycles) - 1)
        steady_wall = (cycles[-1][0] - cycles[0][0]) / (len(cycles) - 1)
    summary: dict[str, Any] = {
        "mode": case.mode,
        "n": case.n,
        "interval": case.interval,
        "steady_only": case.rounds is not None and not case.trace,
        "traced": bool(case.trace),
        "memory_trace": raw.get("memory_trace"),
        "span": span,
        "events": len(events),
        "wrong": len(wrong),
        "wrong_examples": wrong[:3],
        "timed_out": raw["timed_out"],
        "status_requests": total,
        "first_round_requests": first_round,
        "first_round_seconds": first_round_seconds,
        "achieved_per_second": total / span if span else math.nan,
        "case_core_percent": 100 * raw["cpu_seconds"] / span if span else math.nan,
        "requests_per_interval": total / (span / case.interval) if span else math.nan,
        "tokens": counters["tokens_issued"],
        "delay_p50": statistics.median(delays) if delays else math.nan,
        "delay_p99": _percentile(delays, 0.99),
        "delay_max": max(delays) if delays else math.nan,
        "delays": delays,
        "cpu_seconds": raw["cpu_seconds"],
        "steady_cpu_per_cycle": steady_cpu,
        "steady_cycle_seconds": steady_wall,
        "steady_cycles": max(0, len(cycles) - 1),
        "rss_increase_mb": (raw["peak_rss"] - raw["rss_before"]) / 2**20,
        "rss_per_wait_kb": (raw["peak_rss"] - raw["rss_before"]) / 1024 / case.n,
        "sampled_rss_increase_mb": (raw["sampled_peak_rss"] - raw["rss_before"]) / 2**20,
        "launches": sum(counters["launches"].values()),
    }
    if case.mode == "trigger":
        rounds = raw["rounds"]
        summary["rounds"] = len(rounds)
        summary["expected_requests"] = sum(math.ceil(r["watched"] / 100) for r in rounds)
    if case.rounds is not None and len(cycles) >= 2:
        wall = cycles[-1][0] - cycles[0][0]
        summary["measured_core_percent"] = 100 * (cycles[-1][1] - cycles[0][1]) / wall
    return summary


def measure_waits(env: dict[str, str], work: Path, cases: list[WaitCase]) -> list[dict[str, Any]]:
    results = []
    with EmulatorProcess(SCENARIO, time_scale=1.0) as emu:
        case_env = {**env, "AIRFLOW_CONN_FOUNDRY_DEFAULT": emu.connection_env["oauth2"]}
        for case in cases:
            traced = ", allocations traced" if case.trace else ""
            log(f"  waits: {case.mode}, N={case.n}, interval {case.interval:g} s{traced} ...")
            started = time.monotonic()
            summary = run_wait_case(emu, case, case_env, work)
            log(
                f"    done in {time.monotonic() - started:.0f} s: {summary['status_requests']} status requests, "
                f"p99 delay {summary['delay_p99']:.2f} s, {summary['wrong']} wrong"
            )
            results.append(summary)
    return results


# Worker cost ---------------------------------------------------------------------------------------------------


def run_script(script: str, args: list[str], env: dict[str, str], work: Path, *, name: str, timeout: float) -> Any:
    """Run ``bench/<script>`` with ``--result-file`` in a process of its own; return the JSON it wrote.

    :param name: the measurement, for the log file (``<work>/<name>.log``) and the error
    """
    result_file, log_file = work / f"{name}.json", work / f"{name}.log"
    with open(log_file, "w") as output:
        done = subprocess.run(
            [sys.executable, str(BENCH / script), *args, "--result-file", str(result_file)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the {name} benchmark failed; see {log_file}")
    return json.loads(result_file.read_text())


def measure_worker(env: dict[str, str], work: Path) -> dict[str, Any]:
    result: dict[str, Any] = run_script("worker_cost.py", [], env, work, name="worker", timeout=300)
    return result


def measure_releases(env: dict[str, str], work: Path) -> dict[str, Any]:
    home = work / "releases-airflow"
    home.mkdir()
    env = {**env, "AIRFLOW_HOME": str(home)}
    result: dict[str, Any] = run_script(
        "releases_api.py", ["--runs", str(RELEASES_RUNS)], env, work, name="releases", timeout=600
    )
    return result


def measure_dag_parse(env: dict[str, str], work: Path, rounds: int) -> dict[str, Any]:
    """Each example DAG file parsed by a DagBag in fresh processes, against an emulator (``bench/dag_parse.py``)."""
    scratch = work / "dag-parse"
    (scratch / "airflow").mkdir(parents=True)
    (scratch / "tmp").mkdir()
    with EmulatorProcess() as emu:
        parse_env = {
            **env,
            "AIRFLOW_HOME": str(scratch / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_FOUNDRY_DEFAULT": emu.connection_env["token"],
            "TMPDIR": str(scratch / "tmp"),  # where training_data() keeps its answer
        }
        args = ["--rounds", str(rounds), "--admin-url", emu.url, "--scratch", str(scratch)]
        result: dict[str, Any] = run_script("dag_parse.py", args, parse_env, work, name="dag-parse", timeout=900)
    return result


# Report --------------------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _s(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f} s"


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def machine_facts() -> list[str]:
    from importlib.metadata import version

    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM"
    except ImportError:
        memory = "RAM unknown"
    return [
        f"- Machine: {os.cpu_count()} cores, {memory}, {platform.platform()}",
        f"- Python {platform.python_version()}, apache-airflow {version('apache-airflow')}, "
        f"airflow-provider-modelstudio {version('airflow-provider-modelstudio')}",
        f"- Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `make bench` (`bench/run.py`)",
    ]


def _loaded(cost: parse_cost.ParseCost) -> str:
    """``row: module, module; row: ...`` for our single-module rows, names relative to the package."""
    rows = [r for r in cost.rows if r.variant == parse_cost.WITHOUT and r.name in parse_cost.OUR_MODULES]
    prefix = f"{parse_cost.OURS}."
    return "; ".join(
        f"`{r.name}`: " + ", ".join(f"`{m.removeprefix(prefix)}`" for m in sorted(r.provider_modules)) for r in rows
    )


def report_parse(cost: parse_cost.ParseCost) -> tuple[list[str], dict[str, Any]]:
    with_ol = cost.openlineage_installed
    per_round = parse_cost.SAMPLES_PER_PROCESS
    load_start, load_end = cost.load_average
    lines = [
        "## 1. DAG parse cost",
        "",
        f"Median and minimum of {cost.rounds * per_round} samples per row ({cost.rounds} rounds after a warm-up "
        f"round, {per_round} per round). Each round starts a fresh process per variant that imports `airflow.sdk`, "
        "then imports each row's modules in forked children that start from exactly that state "
        "(`bench/import_probe.py`; see `bench/README.md`). *Without the OpenLineage provider*: the same "
        "environment with `apache-airflow-providers-openlineage` and the OpenLineage client hidden from imports "
        "and from Airflow's provider discovery, as if not installed."
        + ("" if with_ol else " The OpenLineage provider is not installed here, so only that variant ran.")
        + f" The machine's 1-minute load average was {load_start:.1f} at the start of this section and "
        f"{load_end:.1f} at its end (on 2 cores, other work inflates the medians; the minimum is the cost "
        "without interference).",
        "",
        "| Imports on top of `import airflow.sdk` | Without the OpenLineage provider: median (min) "
        "| With it installed: median (min) | Modules newly imported | OpenLineage modules among them "
        "| Imports `requests` |",
        "|---|---|---|---|---|---|",
    ]
    facts: dict[str, Any] = {
        "modules": {},
        "loaded": {},
        "openlineage_imports": set(),
        "openlineage_installed": with_ol,
        "load_average": cost.load_average,
    }
    names = list(dict.fromkeys(row.name for row in cost.rows))
    for name in names:
        without = cost.row(name, parse_cost.WITHOUT)
        with_row = cost.row(name, parse_cost.WITH)
        shown = [row for row in (without, with_row) if row is not None and row.samples_ms]
        if not shown:
            continue
        last = shown[-1]
        imported_ol = sorted(set().union(*(row.openlineage_modules for row in shown)))
        ol_text = "none" if not imported_ol else f"{len(imported_ol)} (`{imported_ol[0]}`, ...)"
        cells = [
            "n/a" if row is None or not row.samples_ms else f"**{_ms(row.median_ms)}** ({_ms(row.min_ms)})"
            for row in (without, with_row)
        ]
        lines.append(
            f"| {name} | {cells[0]} | {cells[1]} | {last.new_modules} | {ol_text} | "
            f"{'yes' if last.imports_requests else 'no'} |"
        )
        if last.ours and name in parse_cost.OUR_MODULES:
            facts["modules"][name] = {row.variant: {"median": row.median_ms, "min": row.min_ms} for row in shown}
            facts["loaded"][name] = sorted(m.removeprefix(f"{parse_cost.OURS}.") for m in last.provider_modules)
            facts["openlineage_imports"].update(imported_ol)
    sdk = {variant: statistics.median(ms) for variant, ms in cost.sdk_ms.items() if ms}
    sdk_text = ", ".join(f"{ms:.0f} ms {variant} the OpenLineage provider" for variant, ms in sdk.items())
    loaded_by_sdk = ", ".join(f"`{module}`" for module in cost.openlineage_after_sdk)
    lines += [
        "",
        f"- `import airflow.sdk` itself, in the same processes: median {sdk_text}. It already runs Airflow's "
        "providers manager, which imports every installed provider's `get_provider_info`"
        + (
            f" (with the OpenLineage provider installed, that loads {loaded_by_sdk} before any DAG code runs)"
            if cost.openlineage_after_sdk
            else ""
        )
        + f"; ours (`provider_info` → `hooks.connection_form` → `foundry.settings`) takes "
        f"{cost.provider_info_ms:.1f} ms imported into a bare interpreter (an upper bound: most of it is "
        "standard-library modules Airflow loads anyway) and is part of that baseline, not of the rows above.",
        f"- *{parse_cost.ALL_OURS}*: what a DAG file importing every task module of ours pays at once (shared modules "
        "counted once).",
        f"- Modules of this provider that each row newly imports (where to look when a row grows): {_loaded(cost)}.",
        f"- *{parse_cost.CROSS_CHECK}*: the launch operator's module timed in a plain fresh process after "
        "`import airflow.sdk`, without forking (the method before the fork-based probe): its minimum should "
        "agree with the forked row's within about half a millisecond.",
        "- `httpx` is already loaded by `airflow.sdk` (its API client), so it costs the provider nothing; "
        "`requests` stays out of DAG parsing (the hook's client imports it only when a task runs), and so does "
        "OpenLineage (see its column).",
        "",
    ]
    return lines, facts


def report_dag_parse(result: dict[str, Any]) -> list[str]:
    """Each example DAG file's DagBag fill on top of ``import airflow.sdk``, and the whole fresh parse."""
    files = result["files"]
    medians = {step: statistics.median(f["median_ms"][step] for f in files) for step in dag_parse.STEPS}
    start, end = result["load_average"]
    lines = [
        "### Parsing each example DAG file",
        "",
        f"`DagBag(dag_folder=<file>)`, as Airflow's DAG processor parses a file, in a fresh process per sample: "
        f"median and minimum of {result['rounds']} samples per file (one per round, the order of the files rotating), "
        "after a warm-up round that wrote the bytecode and let `training_data()` keep the studio's Foundry answer "
        "in its file cache. Each process times `import airflow.sdk`; then what a DAG processor has loaded before it "
        "parses any file (`airflow.models.DagBag`, `airflow.dag_processing.processor`); then, after `gc.freeze()` "
        "as the DAG processor's manager does before it forks a parsing process, the fill: what the file adds on top "
        "of `import airflow.sdk`. `foundry_default` is the emulator's (token auth, loopback); a fresh `AIRFLOW_HOME`. "
        f"Load average {start:.1f} at the start, {end:.1f} at the end (`bench/dag_parse.py`).",
        "",
        "| Example DAG file | DAGs | Over `import airflow.sdk`: the DagBag fill, median (min) "
        "| Whole fresh parse: `import airflow.sdk` + the DAG processor's imports + fill, median |",
        "|---|---|---|---|",
    ]
    for f in files:
        name = f["file"] if f["file"] == dag_parse.REFERENCE else f"`{f['file']}`"
        lines.append(
            f"| {name} | {len(f['dags'])} | **{_ms(f['median_ms']['fill'])}** ({_ms(f['min_ms']['fill'])}) "
            f"| {_ms(f['whole_median_ms'])} |"
        )
    lines += [
        "",
        f"- `import airflow.sdk` in the same processes: median {_ms(medians['sdk'])}; the DAG processor's imports on "
        f"top of it: {_ms(medians['machinery'])} (medians over the files; neither depends on the file).",
        f"- *{dag_parse.REFERENCE}*: a file that only defines an empty DAG: what any file costs the DagBag.",
        f"- Foundry requests: {result['warm_up_requests']} in the warm-up round (`retrain_on_new_data.py` reading its "
        f"studio's configuration), {result['measured_requests']} in the measured rounds.",
        "",
    ]
    return lines


def report_waits(results: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    lines = [
        "## 2. Waiting at scale",
        "",
        f"N waits in one asyncio event loop of one process (as the triggerer runs them); the emulator in a separate "
        f"process (time scale 1), OAuth2 connection. Runs are created with `create_runs` (no HTTP launches) and their "
        f"builds finish {RUN_MIN_SECONDS:g} to {RUN_MIN_SECONDS + RUN_JITTER_SECONDS:g} s later at seeded random "
        "times. "
        f"Poll interval {INTERVAL:g} s. **trigger** = the real `ModelStudioRunTrigger` (shared getBatch poller); "
        "**baseline** = one `GET build` per wait per interval through the same `AsyncFoundryClient` (one shared "
        "client and token, same status logging: the most favourable setting for that approach).",
        "",
        "| Mode | N | Status requests per interval, all N waiting | Build reads/s at a 30 s interval | "
        "Status requests in total (achieved /s) | Tokens | Delay p50 / p99 / max | CPU total (% of a core) | "
        "CPU per poll cycle, all waiting | % of a core at 30 s (extrapolated) | Peak RSS increase (per wait) | "
        "Wrong or missing |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    facts: dict[str, Any] = {"cases": {}}
    for r in results:
        if r["steady_only"] or r["traced"]:
            continue
        first, seconds = r["first_round_requests"], r["first_round_seconds"]
        if r["mode"] == "baseline" and first is not None and seconds is not None and seconds > 1.5 * r["interval"]:
            # the first round took longer than an interval: the client could not keep up
            per_interval = f"{r['n']:,} needed; the first round took {seconds:.1f} s"
            reads = r["n"]
        else:
            per_interval = "n/a" if first is None else f"{first:,}"
            reads = first
        per_30 = (
            "n/a" if reads is None else f"{reads / 30:.2f}" + (" (> 4/s)" if reads / 30 > RATE_LIMIT_PER_SECOND else "")
        )
        cycle = r["steady_cpu_per_cycle"]
        core30 = None if cycle is None else 100 * cycle / 30
        cycles = (
            "n/a (never all checked again)" if cycle is None else f"{cycle:.3f} s over {r['steady_cycles']} cycle(s)"
        )
        lines.append(
            f"| {r['mode']} | {r['n']:,} | {per_interval} | {per_30} | "
            f"{r['status_requests']:,} ({r['achieved_per_second']:.0f}/s) | {r['tokens']} | "
            f"{r['delay_p50']:.2f} / {r['delay_p99']:.2f} / {r['delay_max']:.2f} s | "
            f"{_s(r['cpu_seconds'])} ({r['case_core_percent']:.0f} %) | {cycles} | "
            f"{'n/a' if core30 is None else f'{core30:.2f} %'} | "
            f"{r['rss_increase_mb']:.1f} MB ({r['rss_per_wait_kb']:.1f} KB) | {r['wrong'] + (r['n'] - r['events'])} |"
        )
        facts["cases"][(r["mode"], r["n"])] = {**r, "core30": core30}
    long_runs = [r for r in results if r["steady_only"]]
    lines += [
        "",
        "- *Status requests per interval, all N waiting*: the emulator's request counters (getBatch + GET build) read "
        "through its admin API just before and after the first poll round in which all N builds are waited on "
        "(baseline: once every wait made its first request; when that took longer than an interval, the client "
        "could not keep up and N requests per interval were needed). *In total*: everything the emulator counted "
        "over the case (which falls off as builds finish), and that per second of the case.",
        "- *Delay*: from the build's `finishedTime` on the emulator clock to the trigger event, in seconds.",
        "- *CPU per poll cycle*: CPU seconds of the waiting process between consecutive moments at which every run "
        "had been checked once more, while all N were still waiting (steady state; excludes start-up). *% of a core "
        "at 30 s* divides it by 30 s: the work per cycle does not depend on the interval, the idle time in between "
        "costs nothing.",
        "- *CPU total*: CPU seconds of the waiting process over the whole case (start-up included), and as a share "
        "of one core over the case's duration (near 100 %: saturated, the waits fall behind).",
        "- *Peak RSS increase*: `ru_maxrss` at the end minus RSS after imports, before the build RIDs were read "
        "(so it includes each build RID string, which a triggerer holds too, and the benchmark's own bookkeeping: "
        "its events and samples, well under 1 MB).",
    ]
    for r in long_runs:
        lines.append(
            f"- **Direct measurement at a {r['interval']:g} s interval**: {r['n']:,} triggers on builds that do not "
            f"finish, {r['steady_cycles']} poll cycles of {_s(r['steady_cycle_seconds'], 1)}: "
            f"**{r.get('measured_core_percent', math.nan):.2f} % of a core** "
            f"(CPU per cycle {_s(r['steady_cpu_per_cycle'], 3)}), {r['first_round_requests']} getBatch requests per "
            f"interval, peak RSS increase {r['rss_increase_mb']:.1f} MB, {r['tokens']} token."
        )
        facts["long"] = r
    lines.append("")
    for r in results:
        if r["traced"] and r["memory_trace"]:
            lines += report_memory_trace(r)
            facts["trace"] = r["memory_trace"]
    return lines, facts


def report_memory_trace(r: dict[str, Any]) -> list[str]:
    """Where the memory of a wait goes: the top source lines of a ``tracemalloc`` snapshot."""
    trace = r["memory_trace"]
    n = trace["waits"]
    listed = sum(line["bytes_per_wait"] for line in trace["top"])
    lines = [
        "### Where the memory of a wait goes",
        "",
        f"{n:,} triggers on builds that do not finish, poll interval {r['interval']:g} s, with `tracemalloc` on from "
        "just before the waits start; snapshot after the last of "
        f"{r['rounds']} poll rounds, while all {n:,} still wait. Python allocations alive at that moment: "
        f"**{trace['traced_bytes'] / 2**20:.1f} MB, {trace['traced_bytes'] / n / 1024:.2f} KB per wait** (the rest of "
        "the RSS increase is allocator overhead: partly filled memory pools and arenas, and transient peaks). "
        f"The {len(trace['top'])} source lines holding the most ({listed / 1024:.2f} KB per wait together):",
        "",
        "| Bytes per wait | Blocks per wait | Where | Code |",
        "|---|---|---|---|",
    ]
    for line in trace["top"]:
        code = line["code"].replace("|", "\\|")
        lines.append(f"| {line['bytes_per_wait']:.0f} | {line['blocks_per_wait']:.2f} | `{line['where']}` | `{code}` |")
    lines += [
        "",
        "- Lines with about one block per wait are each wait's own objects; the asyncio lines (`create_task`, "
        "`create_future`, the task registry's weak set, the `asyncio.timeout` context) are what any coroutine "
        "waiting in a triggerer costs; lines in `bench/waits.py` stand for the triggerer's own per-trigger "
        "coroutine. Lines with a fraction of a block per wait are shared costs spread over the waits (the poll "
        "round's answer, modules imported on first use).",
        "",
    ]
    return lines


def report_worker(result: dict[str, Any], process_start_ms: float | None) -> list[str]:
    scale = result["time_scale"]
    lines = [
        "## 3. Worker cost of one 10-minute training run",
        "",
        f"Real operator and sensor code against the emulator at time scale {scale:g} (the 10-minute run takes "
        f"{result['run_seconds'] / scale:g} s; poll interval {result['poll_seconds']:g} s = "
        f"{result['poll_seconds'] / scale:g} s real). Slot-seconds are what a worker slot is held; the last column "
        "gives the real-time equivalent (whole-run waits scale with the run; pokes and execute calls are real work "
        "and do not).",
        "",
        "| How the run is waited on | Slot-seconds held (measured, all tasks) | Tries of the waiting task "
        "| Real-time equivalent |",
        "|---|---|---|---|",
    ]
    for name, mode in result["modes"].items():
        launch = mode.get("launch", 0.0)
        parts = []
        if "to_defer" in mode:
            parts.append(f"execute → defer {mode['to_defer'] * 1000:.1f} ms")
            parts.append(f"execute_complete {mode['resume'] * 1000:.1f} ms")
        elif mode["tries"] > 1:
            parts.append(f"{mode['tries']} pokes, median {mode['per_try_median'] * 1000:.1f} ms")
        else:
            parts.append(f"execute {mode['slot']:.3f} s")
        if launch:
            parts.append(f"launch task {launch * 1000:.1f} ms")
        held = mode["slot"] + launch
        equivalent = f"≈ {mode['slot'] * scale + launch:.0f} s (the whole run)" if mode["scaled"] else f"{held:.3f} s"
        lines.append(f"| {name} | {held:.3f} s ({' + '.join(parts)}) | {mode['tries']} | {equivalent} |")
    lines += [
        "",
        "- Not included in any row: starting a task process for each try (reschedule: one per poke; deferrable: one "
        "more to resume). "
        + (
            f"A lower bound is the `import airflow.sdk` of section 1 ({process_start_ms / 1000:.1f} s per try), which "
            "makes reschedule mode cost about tries times that, and deferrable about twice that, still far below a "
            "whole run."
            if process_start_ms
            else ""
        ),
        "",
    ]
    return lines


def report_releases(result: dict[str, Any]) -> list[str]:
    return [
        "## 4. The Model releases page's API",
        "",
        f"`GET /modelstudio-releases/api/releases` through Airflow's own API app (auth manager, middlewares, a "
        f"viewer's JWT), in-process with a test client, on SQLite: {result['runs']} DAG runs of "
        f"`retrain_then_deploy` (success, worse and rollback in turn: launch, gate and deploy XCom) and "
        f"{result['other_runs']} runs of a DAG without provider tasks; {result['requests']} requests after two "
        "warm-up requests.",
        "",
        "| Runs read | Releases | Answer | Median | p95 | Max |",
        "|---|---|---|---|---|---|",
        f"| {result['runs_read']} | {result['releases']} | {result['bytes'] / 1e6:.1f} MB | {_ms(result['median_ms'])} "
        f"| {_ms(result['p95_ms'])} | {_ms(result['max_ms'])} |",
        "",
    ]


def report_targets(
    parse: dict[str, Any] | None,
    waits: dict[str, Any] | None,
    releases: dict[str, Any] | None = None,
    dag_files: dict[str, Any] | None = None,
) -> list[str]:
    lines = ["## Targets", "", "| Target | Result | Verdict |", "|---|---|---|"]
    if releases:
        lines.append(
            f"| Model releases API < {RELEASES_TARGET_MS:g} ms for {releases['runs']} DAG runs on SQLite (median) | "
            f"median {_ms(releases['median_ms'])}, p95 {_ms(releases['p95_ms'])} | "
            f"{_met(releases['median_ms'] < RELEASES_TARGET_MS)} |"
        )
    if parse:
        modules = parse["modules"]
        variants = [parse_cost.WITHOUT] + ([parse_cost.WITH] if parse["openlineage_installed"] else [])
        ok = bool(modules) and not _over_target(parse)
        figures = "; ".join(
            f"`{name}` "
            + " / ".join(_ms(per_variant[v]["median"]) for v in variants if v in per_variant)
            + " (min "
            + " / ".join(_ms(per_variant[v]["min"]) for v in variants if v in per_variant)
            + ")"
            for name, per_variant in modules.items()
        )
        lines.append(
            f"| DAG parse: each operator and sensor module < {parse_cost.TARGET_MS:g} ms on top of `airflow.sdk`, "
            f"{' / '.join(variants)} the OpenLineage provider | {figures} | {_met(ok)} |"
        )
        imported = sorted(parse["openlineage_imports"])
        lines.append(
            "| DAG parse imports no OpenLineage module | "
            + ("none imported" if not imported else ", ".join(f"`{m}`" for m in imported))
            + f" | {_met(not imported) if parse['openlineage_installed'] else 'n/a (not installed)'} |"
        )
    if dag_files:
        lines.append(target_dag_files(dag_files))
    if waits:
        cases = waits["cases"]
        trig = {n: c for (mode, n), c in cases.items() if mode == "trigger"}
        base = {n: c for (mode, n), c in cases.items() if mode == "baseline"}
        ok = all(c["first_round_requests"] == math.ceil(n / 100) for n, c in trig.items())
        lines.append(
            "| ceil(N/100) status requests per interval | "
            + ", ".join(f"N={n:,}: {c['first_round_requests']}" for n, c in sorted(trig.items()))
            + f" | {_met(ok)} |"
        )
        tokens_ok = all(c["tokens"] == 1 for c in trig.values())
        lines.append(
            "| One token per lifetime per connection | "
            + ", ".join(f"N={n:,}: {c['tokens']}" for n, c in sorted(trig.items()))
            + f" | {_met(tokens_ok)} |"
        )
        p99_ok = all(c["delay_p99"] < c["interval"] + 1 for c in trig.values())
        lines.append(
            f"| p99 delay < poll interval + 1 s ({INTERVAL + 1:g} s) | "
            + ", ".join(f"N={n:,}: {c['delay_p99']:.2f} s" for n, c in sorted(trig.items()))
            + f" | {_met(p99_ok)} |"
        )
        big = trig.get(max(trig)) if trig else None
        if big:
            mem_ok = big["rss_increase_mb"] < MEMORY_TARGET_MB
            memory = f"{big['rss_increase_mb']:.1f} MB"
            lines.append(f"| < {MEMORY_TARGET_MB:g} MB for {big['n']:,} waits | {memory} | {_met(mem_ok)} |")
            long = waits.get("long")
            cpu_text = f"extrapolated {big['core30']:.2f} %" if big["core30"] is not None else "n/a"
            cpu_ok = big["core30"] is not None and big["core30"] < CPU_TARGET_PERCENT
            if long:
                cpu_text += f"; measured directly at 30 s: {long.get('measured_core_percent', math.nan):.2f} %"
                cpu_ok = cpu_ok and long.get("measured_core_percent", 100) < CPU_TARGET_PERCENT
            target = f"< {CPU_TARGET_PERCENT:g} % of a core for {big['n']:,} waits at a 30 s interval"
            lines.append(f"| {target} | {cpu_text} | {_met(cpu_ok)} |")
        if base:
            worst = max(base)
            lines.append(
                f"| Baseline exceeds Foundry's {RATE_LIMIT_PER_SECOND} build reads/s | N={worst:,}: {worst:,} requests "
                f"per interval = {worst / 30:.1f}/s at 30 s (one-per-run polling exceeds 4/s beyond 120 waits); ours: "
                f"{math.ceil(worst / 100)} = {math.ceil(worst / 100) / 30:.2f}/s | shown |"
            )
    notes = parse_why(parse) if parse else []
    if waits:
        notes += why(trig, base, waits.get("long"), waits.get("trace"))
    if notes:
        lines += ["", "Why:", "", *notes]
    lines.append("")
    return lines


def target_dag_files(result: dict[str, Any]) -> str:
    """The target row of the example DAG files: the slowest file's median fill, and whether Foundry was asked."""
    examples = [f for f in result["files"] if f["file"] != dag_parse.REFERENCE]
    slowest = max(examples, key=lambda f: f["median_ms"]["fill"])
    fastest = min(examples, key=lambda f: f["median_ms"]["fill"])
    ok = slowest["median_ms"]["fill"] < dag_parse.TARGET_MS and result["measured_requests"] == 0
    return (
        f"| Every example DAG file parses in < {dag_parse.TARGET_MS:g} ms over `import airflow.sdk` when its Foundry "
        f"answers are kept (DagBag fill, median) | slowest `{slowest['file']}` {_ms(slowest['median_ms']['fill'])} "
        f"(min {_ms(slowest['min_ms']['fill'])}), fastest `{fastest['file']}` {_ms(fastest['median_ms']['fill'])}; "
        f"Foundry requests while measured: {result['measured_requests']} | {_met(ok)} |"
    )


def _over_target(parse: dict[str, Any]) -> list[str]:
    """Our modules whose median import cost reached the target in either variant."""
    return [
        name
        for name, per_variant in parse["modules"].items()
        if any(v["median"] is None or v["median"] >= parse_cost.TARGET_MS for v in per_variant.values())
    ]


def parse_why(parse: dict[str, Any]) -> list[str]:
    """Why a module missed the import-cost target: machine load (its fastest sample is under it) or weight."""
    over = _over_target(parse)
    if not over:
        return [
            f"- **DAG parse, met**: every operator and sensor module adds less than {parse_cost.TARGET_MS:g} ms "
            "to `import airflow.sdk` in both variants, and none imports OpenLineage."
        ]
    start, end = parse["load_average"]
    reasons = []
    for name in over:
        fastest = max(v["min"] for v in parse["modules"][name].values())
        if fastest < parse_cost.TARGET_MS:
            reasons.append(
                f"`{name}`'s median is over while even its slower variant's fastest sample took {_ms(fastest)}: "
                f"other work on the machine (load average {start:.1f} to {end:.1f}) slowed some samples; rerun "
                "on a quieter machine"
            )
        else:
            loaded = ", ".join(f"`{m}`" for m in parse["loaded"].get(name, []))
            reasons.append(
                f"`{name}` takes {_ms(fastest)} even at its fastest: it is heavier than the target allows; it newly "
                f"imports {loaded}"
            )
    return [f"- **DAG parse, not met**: {'; '.join(reasons)}."]


def why(
    trig: dict[int, Any], base: dict[int, Any], long: dict[str, Any] | None, trace: dict[str, Any] | None
) -> list[str]:
    """The reasons behind the waiting verdicts, from the figures."""
    notes: list[str] = []
    big = trig[max(trig)] if trig else None
    if big:
        met = big["rss_increase_mb"] < MEMORY_TARGET_MB
        narrowly = met and big["rss_increase_mb"] > 0.9 * MEMORY_TARGET_MB
        verdict = "met" + (" narrowly" if narrowly else "") if met else "not met"
        where = ""
        if trace:
            largest = ", ".join(
                f"`{line['code']}` ({line['bytes_per_wait']:.0f} B)" for line in trace["top"][:3] if line["code"]
            )
            where = (
                f" Of that, {trace['traced_bytes'] / trace['waits'] / 1024:.1f} KB per wait are Python objects alive "
                f"while all wait (see *Where the memory of a wait goes*; the largest lines: {largest}); the rest is "
                "allocator overhead and the transient peaks of start-up and of each poll round."
            )
        notes.append(
            f"- **Memory, {verdict}**: {big['rss_per_wait_kb']:.1f} KB per wait at N={big['n']:,}, measured as the "
            "peak RSS increase of the whole waiting process."
            + where
            + (" Run-to-run variation on this machine is about 1 MB." if narrowly else "")
        )
    if big and big["core30"] is not None:
        how = "extrapolated from the CPU per poll cycle at a 2 s interval (the work per cycle does not depend on it)"
        cpu_ok = big["core30"] < CPU_TARGET_PERCENT
        if long:
            how += f", and measured directly over {long['steady_cycles']} cycles at a 30 s interval"
            cpu_ok = cpu_ok and long.get("measured_core_percent", 100) < CPU_TARGET_PERCENT
        notes.append(
            f"- **CPU, {'met' if cpu_ok else 'not met'}**: {how}. One cycle of {big['n']:,} waits costs "
            f"{big['steady_cpu_per_cycle']:.2f} s."
        )
    if big:
        notes.append(
            f"- **Requests, tokens, delay, met**: one getBatch per 100 waits per interval, one OAuth2 token for the "
            f"whole process, and the event follows the build's end within one interval plus a round's duration "
            f"(p99 {big['delay_p99']:.2f} s at N={big['n']:,})."
        )
    if base:
        saturated = [n for n, c in base.items() if c["delay_p99"] > c["interval"] + 1]
        notes.append(
            "- **Baseline**: one request per wait per interval; beyond ~120 waits at 30 s it exceeds Foundry's "
            f"{RATE_LIMIT_PER_SECOND} build reads/s"
            + (
                f"; at N={', '.join(f'{n:,}' for n in sorted(saturated))} and a 2 s interval the client could not even "
                "send them in time (CPU-bound), so waits fell behind (see its delays)."
                if saturated
                else "."
            )
        )
    return notes


def chart(results: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cases = [r for r in results if not r["steady_only"] and r["delays"]]
    if not cases:
        return False
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for r in cases:
        ordered = sorted(r["delays"])
        axis.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=f"{r['mode']}, N={r['n']:,}")
    axis.axvline(INTERVAL + 1, color="grey", linestyle="--", label="target: interval + 1 s")
    axis.set_xlabel("delay from build finished to trigger event (s)")
    axis.set_ylabel("fraction of waits")
    axis.set_title(f"Wait delays at a {INTERVAL:g} s poll interval (CDF)")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 100 and 1,000 only, 3 parse rounds, no long run")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: parse, waits, worker, releases")
    parser.add_argument(
        "--only", default="", help="comma-separated sections to run alone: parse, waits, worker, releases"
    )
    parser.add_argument("--output", default=str(RESULTS / "latest.md"))
    args = parser.parse_args()
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = (skip | only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}: use {', '.join(SECTIONS)}")
    if only:
        skip |= set(SECTIONS) - only
    started = time.monotonic()
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="modelstudio-bench-") as tmp:
        work = Path(tmp)
        (work / "airflow").mkdir()
        env = {**os.environ, "AIRFLOW_HOME": str(work / "airflow"), "PYTHONUNBUFFERED": "1"}
        env.pop("AIRFLOW_CONN_FOUNDRY_DEFAULT", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # warm-up rounds write the bytecode that measured rounds read
        lines = ["# Benchmarks", "", *machine_facts(), ""]
        parse_facts = waits_facts = dag_files = None
        process_start_ms = None
        sections: list[str] = []
        if "parse" not in skip:
            rounds = 3 if args.quick else 5
            log(f"1/5 DAG parse cost ({rounds} rounds) ...")
            cost = parse_cost.measure(env, rounds=rounds, log=log)
            section, parse_facts = report_parse(cost)
            sections += section
            process_start_ms = statistics.median([ms for samples in cost.sdk_ms.values() for ms in samples])
            log(f"  example DAG files ({rounds} rounds) ...")
            dag_files = measure_dag_parse(env, work, rounds)
            sections += report_dag_parse(dag_files)
        wait_results: list[dict[str, Any]] = []
        if "waits" not in skip:
            sizes = [100, 1000] if args.quick else [100, 1000, 5000]
            cases = [WaitCase("trigger", n) for n in sizes] + [WaitCase("baseline", n) for n in sizes]
            if not args.quick:
                cases.append(WaitCase("trigger", 5000, interval=LONG_INTERVAL, rounds=2))
            cases.append(WaitCase("trigger", max(sizes), rounds=2, trace=TRACE_TOP))
            log(f"2/5 waiting at scale ({len(cases)} cases) ...")
            wait_results = measure_waits(env, work, cases)
            section, waits_facts = report_waits(wait_results)
            sections += section
            if chart(wait_results, RESULTS / "waits.png"):
                sections += ["Chart of the delays: `bench/results/waits.png` (not committed).", ""]
        if "worker" not in skip:
            log("3/5 worker cost ...")
            sections += report_worker(measure_worker(env, work), process_start_ms)
        releases_facts = None
        if "releases" not in skip:
            log(f"4/5 the Model releases API ({RELEASES_RUNS} DAG runs) ...")
            releases_facts = measure_releases(env, work)
            sections += report_releases(releases_facts)
        watcher_rows: list[str] = []
        if "watchers" not in skip:
            log("5/5 watching datasets at scale ...")
            section, watcher_rows = watchers.report(watchers.measure(env, work, log))
            sections += section
        targets = report_targets(parse_facts, waits_facts, releases_facts, dag_files)
        table_end = next(i for i, line in enumerate(targets) if i > 3 and not line)
        lines += targets[:table_end] + watcher_rows + targets[table_end:] + sections
        lines.append(f"Total benchmark time: {time.monotonic() - started:.0f} s.")
        text = "\n".join(lines) + "\n"
        Path(args.output).write_text(text)
        print(text)


if __name__ == "__main__":
    main()
