"""What the first trigger of a kind adds to a triggerer's memory: ours against Airflow's ``TimeDeltaSensor``'s.

Each measurement is a fresh process that first imports what a triggerer has loaded before any trigger
(``airflow.jobs.triggerer_job_runner``, ``airflow.triggers.base``, ``httpx``), then runs one trigger in an
event loop up to its first event: Airflow's ``DateTimeTrigger`` (what ``TimeDeltaSensor(deferrable=True)``
defers with, firing after 0.3 s), or a ``ModelStudioRunTrigger`` waiting on a 0.5 s run of an emulator in
the parent process; and, after one of ours, a second one through another connection (its own poller and
client). Reported: the increase of the process's unique memory (USS), and the modules newly
loaded, by package. With ``--trace``, the measured process also lists the files whose allocations
(``tracemalloc``) grew most. Not part of ``make bench``; run it on its own:
``.venv/bin/python bench/first_trigger.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import json
import os
import subprocess
import sys
import tracemalloc
from collections import Counter
from typing import Any

STUDIO = "ri.models.main.model-studio.first-trigger"
KINDS = ("timedelta", "modelstudio", "second-connection")


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0].startswith("airflow") else parts[0]


async def _first_event(kind: str) -> None:
    if kind == "timedelta":
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=0.3)
        trigger: Any = DateTimeTrigger(moment=moment)
    else:
        from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger

        trigger = ModelStudioRunTrigger(
            build_rid=os.environ["BENCH_BUILD_RID"],
            foundry_conn_id="foundry_second" if kind == "second-connection" else "foundry_default",
            poll_interval=0.3,
            heartbeat=0,
        )
    async for _ in trigger.run():
        return


def measure(kind: str, trace: bool) -> dict[str, Any]:
    """In this process: the first ``kind`` trigger's memory and modules."""
    import psutil

    for loaded_by_a_triggerer in ("airflow.jobs.triggerer_job_runner", "airflow.triggers.base", "httpx"):
        importlib.import_module(loaded_by_a_triggerer)

    if kind == "second-connection":
        asyncio.run(_first_event("modelstudio"))

    process = psutil.Process()
    modules_before = set(sys.modules)
    uss_before = process.memory_full_info().uss
    if trace:
        tracemalloc.start()
    asyncio.run(_first_event(kind))
    result: dict[str, Any] = {
        "trigger": kind,
        "uss_increase_mb": round((process.memory_full_info().uss - uss_before) / 2**20, 2),
        "new_modules": dict(Counter(_package(m) for m in set(sys.modules) - modules_before).most_common()),
    }
    if trace:
        by_file: Counter[str] = Counter()
        for stat in tracemalloc.take_snapshot().statistics("filename"):
            by_file[stat.traceback[0].filename.split("site-packages/")[-1]] += stat.size
        result["traced_kb_by_file"] = {name: size // 1024 for name, size in by_file.most_common(12)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help="also list the files whose allocations grew most")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.trace)))
        return
    from airflow_provider_modelstudio.emulator import FoundryEmulator

    with FoundryEmulator({"seed": 1, "studios": {STUDIO: {"duration_seconds": 0.5}}}) as emulator:
        (run,) = emulator.create_runs(STUDIO, 1)
        env = {
            **os.environ,
            "BENCH_BUILD_RID": run["buildRid"],
            "AIRFLOW_CONN_FOUNDRY_DEFAULT": emulator.connection_env("token"),
        }
        env["AIRFLOW_CONN_FOUNDRY_SECOND"] = env["AIRFLOW_CONN_FOUNDRY_DEFAULT"]
        for kind in KINDS:
            command = [sys.executable, __file__, "--measure", kind] + (["--trace"] if args.trace else [])
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True)
            print(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
