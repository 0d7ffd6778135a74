"""The "watching datasets at scale" benchmark: N dataset watchers on one connection, in one process.

``measure(env, work, cases)`` (called by ``bench/run.py``) starts an emulator in a process of its own, adds the
datasets, and per case runs this file as the watching process: N :class:`FoundryDatasetTrigger` in one asyncio
event loop, as a triggerer runs them, over D distinct datasets (D < N: several watchers per dataset). The
process warms up (imports, one connection lookup) before it measures, then waits until every watcher has
started from its branch, commits once to every dataset, lets ``ROUNDS`` more poll rounds pass, and reports:

- branch reads per poll round (from the emulator's counters around the last rounds), and transaction reads in
  all (one per dataset for the transaction its watchers started from, one per commit);
- OAuth2 tokens issued;
- the peak RSS increase of the watching process over its warmed-up RSS;
- events fired (one per watcher: each watcher announces the commit to its own assets).

Watermarks are kept in memory here (Airflow Variables need a triggerer's channel to Airflow); everything else
is the trigger as it runs in a triggerer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

READ_TARGET = "at most one branch read per distinct dataset per interval"
MEMORY_TARGET_MB = 10.0
INTERVAL = 1.0
ROUNDS = 4


@dataclass(frozen=True)
class WatchCase:
    """N watchers over D distinct datasets."""

    watchers: int
    datasets: int

    @property
    def tag(self) -> str:
        return f"watch-{self.watchers}-{self.datasets}"


CASES = (WatchCase(1000, 1000), WatchCase(1000, 250))


# The watching process -----------------------------------------------------------------------------------------


class MemoryWatermarks:
    def __init__(self) -> None:
        self.kept: dict[str, Any] = {}

    async def load(self, key: str) -> Any:
        return self.kept.get(key)

    async def save(self, key: str, mark: Any, about: dict[str, Any]) -> None:
        self.kept[key] = mark


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


async def watch(datasets: list[str], watchers: int, admin_url: str, commit_file: Path) -> dict[str, Any]:
    import httpx

    from airflow_provider_modelstudio.emulator import ADMIN_HEADERS
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.triggers import dataset_watcher
    from airflow_provider_modelstudio.triggers.dataset_watcher import FoundryDatasetTrigger
    from airflow_provider_modelstudio.triggers.poller import ResourcePoller

    store = MemoryWatermarks()
    FoundryDatasetTrigger.watermarks = store
    dataset_watcher.PERSIST_GRACE_SECONDS = 0.0
    # Warm-up, as in a triggerer that already runs triggers: the connection machinery, the async HTTP client and
    # the modules a check loads, by one read through a hook of its own (the emulator does not count it apart).
    warm = ModelStudioHook()
    await warm.aget_dataset_branch(datasets[0], "master")
    await warm.aclose()
    rounds: list[int] = []
    real_round = ResourcePoller._poll_once

    async def counted(self: ResourcePoller) -> None:
        await real_round(self)
        rounds.append(self.watched)

    ResourcePoller._poll_once = counted  # type: ignore[method-assign]
    events = 0
    peak = start_rss = _rss_mb()

    async def one(rid: str, index: int) -> None:
        nonlocal events
        # distinct arguments per watcher of one dataset, as Airflow runs one trigger per distinct arguments
        variant = index // len(set(datasets))
        trigger = FoundryDatasetTrigger(dataset_rid=rid, poll_interval=INTERVAL * (1 + variant / 1000))
        async for _ in trigger.run():
            events += 1

    tasks = [asyncio.create_task(one(datasets[i % len(datasets)], i)) for i in range(watchers)]
    async with httpx.AsyncClient(base_url=admin_url, headers=ADMIN_HEADERS) as admin:

        async def counters() -> dict[str, Any]:
            answer = await admin.get("/_emulator/counters")
            answer.raise_for_status()
            found: dict[str, Any] = answer.json()
            return found

        def reads(found: dict[str, Any], endpoint: str) -> int:
            return sum(found["requests"].get(endpoint, {}).values())

        deadline = time.monotonic() + 120
        while len(store.kept) < watchers and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            peak = max(peak, _rss_mb())
        commit_file.write_text("commit")
        while commit_file.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        before_rounds, before = len(rounds) + 1, await counters()
        while len(rounds) < before_rounds and time.monotonic() < deadline:  # the round under way may be partial
            await asyncio.sleep(0.05)
        before = await counters()
        while len(rounds) < before_rounds + ROUNDS and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            peak = max(peak, _rss_mb())
        after_rounds, after = len(rounds), await counters()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    measured = max(after_rounds - before_rounds, 1)
    return {
        "watchers": watchers,
        "datasets": len(set(datasets)),
        "rounds": measured,
        "branch_reads_per_round": (reads(after, "get_dataset_branch") - reads(before, "get_dataset_branch")) / measured,
        "transaction_reads": reads(after, "get_dataset_transaction"),
        "tokens": after["tokens_issued"],
        "events": events,
        "rss_increase_mb": peak - start_rss,
        "watched_per_round": rounds[-1] if rounds else 0,
    }


def _child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets-file", type=Path, required=True)
    parser.add_argument("--watchers", type=int, required=True)
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--commit-file", type=Path, required=True)
    parser.add_argument("--result-file", type=Path, required=True)
    args = parser.parse_args(argv)
    datasets = json.loads(args.datasets_file.read_text())
    result = asyncio.run(asyncio.wait_for(watch(datasets, args.watchers, args.admin_url, args.commit_file), 300))
    args.result_file.write_text(json.dumps(result))


# The benchmark driver -----------------------------------------------------------------------------------------


def measure(env: dict[str, str], work: Path, log: Any, cases: tuple[WatchCase, ...] = CASES) -> list[dict[str, Any]]:
    """Run every case against one emulator process; return each case's figures."""
    from emulator_process import EmulatorProcess

    results = []
    with EmulatorProcess() as emu:
        case_env = {**env, "AIRFLOW_CONN_FOUNDRY_DEFAULT": emu.connection_env["oauth2"]}
        for case in cases:
            log(f"  watchers: {case.watchers:,} over {case.datasets:,} datasets ...")
            emu.call("reset")
            datasets = [emu.call("add_dataset") for _ in range(case.datasets)]
            files = {name: work / f"{case.tag}.{name}" for name in ("datasets", "commit", "result", "log")}
            files["datasets"].write_text(json.dumps(datasets))
            command = [
                sys.executable, __file__, "--child",
                "--datasets-file", str(files["datasets"]),
                "--watchers", str(case.watchers),
                "--admin-url", emu.url,
                "--commit-file", str(files["commit"]),
                "--result-file", str(files["result"]),
            ]  # fmt: skip
            with open(files["log"], "w") as output:
                child = subprocess.Popen(command, env=case_env, stdout=output, stderr=subprocess.STDOUT)
                deadline = time.monotonic() + 300
                while not files["commit"].exists() and child.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.1)
                for rid in datasets:
                    emu.call("commit", rid)
                files["commit"].unlink(missing_ok=True)
                child.wait(timeout=max(deadline - time.monotonic(), 1))
            if child.returncode != 0 or not files["result"].exists():
                raise RuntimeError(f"the watching process failed ({child.returncode}); see {files['log']}")
            result = json.loads(files["result"].read_text())
            log(
                f"    {result['branch_reads_per_round']:.0f} branch reads per round, {result['tokens']} token(s), "
                f"{result['rss_increase_mb']:.1f} MB, {result['events']:,} events"
            )
            results.append(result)
    return results


def report(results: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The section and the target rows of these results."""
    rows = []
    for r in results:
        reads_ok = r["branch_reads_per_round"] <= r["datasets"]
        memory_ok = r["rss_increase_mb"] < MEMORY_TARGET_MB
        rows.append(
            f"| {r['watchers']:,} dataset watchers over {r['datasets']:,} datasets: {READ_TARGET}, one token, "
            f"< {MEMORY_TARGET_MB:g} MB | {r['branch_reads_per_round']:.0f} reads per round, {r['tokens']} token(s), "
            f"{r['rss_increase_mb']:.1f} MB | {'met' if reads_ok and memory_ok and r['tokens'] == 1 else 'NOT met'} |"
        )
    section = [
        "## Watching datasets at scale",
        "",
        f"N `FoundryDatasetTrigger` in one asyncio event loop (as a triggerer runs them) on one OAuth2 connection, "
        f"polling every {INTERVAL:g} s; one commit to every dataset, then {ROUNDS} poll rounds measured. Reads are "
        "the emulator's counts; memory is the peak RSS increase of the watching process after warm-up.",
        "",
        "| Watchers | Datasets | Branch reads per round | Transaction reads in all | Tokens | Events | RSS increase |",
        "|---|---|---|---|---|---|---|",
    ]
    section += [
        f"| {r['watchers']:,} | {r['datasets']:,} | {r['branch_reads_per_round']:.0f} | {r['transaction_reads']:,} | "
        f"{r['tokens']} | {r['events']:,} | {r['rss_increase_mb']:.1f} MB |"
        for r in results
    ]
    section += [
        "",
        "Every watcher of a dataset shares its branch read: the poller reads each distinct branch once per round, "
        "and a closed transaction once per process (two per dataset in all: the one its watchers started from and "
        "the commit). Each watcher announces the commit to its own assets. The memory includes what a triggerer "
        "spends on any trigger (its asyncio task, its logger).",
        "",
    ]
    return section, rows


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    _child(sys.argv[2:])
