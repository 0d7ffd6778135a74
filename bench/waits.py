"""The waiting process of the "waiting at scale" benchmark (started by ``bench/run.py``, one process per case).

It imports everything first, and warms up what loads on first use (one connection lookup and one request to
the emulator's admin API: a triggerer has Airflow's connection machinery and an async HTTP backend loaded
before its first trigger runs, so their modules are not counted as the waits' memory), writes
``--ready-file``, then reads one line from stdin: the path of a JSON file
with the build RIDs of the runs to wait on (created by the emulator process just before; a deferred task's
trigger carries its build RID, not the run). Then it waits on all of them in one asyncio event loop, as a
triggerer does, in one of two ways:

- ``trigger``: one real :class:`ModelStudioRunTrigger` per build (they share the provider's getBatch poller);
- ``baseline``: one coroutine per run that calls ``GET /v2/orchestration/builds/{rid}`` itself every
  interval through the same :class:`AsyncFoundryClient` (one shared client, one shared token: the most
  favourable setting for one-request-per-run polling), and logs status changes the same way.

It samples its own CPU time and RSS every 0.2 s, counts the trigger poller's rounds (by wrapping
``ResourcePoller._poll_once``; instrumentation only), reads the emulator's counters through its admin API
(``/_emulator/counters``, not counted by the emulator) right before and after the first round in which
every run is waited on, and writes everything to ``--result-file`` as JSON. Bounded by ``--max-seconds``.

With ``--rounds K`` it stops after K further full poll rounds (for a steady-state measurement at a long
interval, on builds that do not finish meanwhile) and cancels the waits, as a triggerer does on shutdown.
With ``--trace-memory TOP`` (trigger mode, with ``--rounds``) it traces allocations with ``tracemalloc`` from
just before the waits start, and right before it stops them writes the TOP source lines holding the most
memory (tracing slows the process and adds its own memory: such a case measures where memory goes, not
how much RSS or CPU a wait costs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import linecache
import logging
import resource
import sys
import sysconfig
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import psutil

from airflow_provider_modelstudio.emulator import ADMIN_HEADERS
from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.runs.errors import is_transient
from airflow_provider_modelstudio.runs.progress import StatusWatch
from airflow_provider_modelstudio.runs.status import Verdict
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from airflow_provider_modelstudio.triggers.poller import ResourcePoller

_LOG = logging.getLogger("bench.baseline")
REPOSITORY = Path(__file__).resolve().parent.parent
RETRY = {"max_attempts": 5, "backoff_initial": 0.5, "backoff_max": 5.0, "max_elapsed": 60.0}
SAMPLE_EVERY = 0.2
BASELINE_IN_FLIGHT = 20
"""The async client's connection pool size (``httpx.Limits(max_connections=20)``)."""


class Recorder:
    """What one case measured."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.process = psutil.Process()
        self.samples: list[tuple[float, float, int]] = []
        self.events: list[tuple[str, float, str, str | None, str]] = []
        """(build RID, UNIX time, kind, status, message): tuples, so that the bookkeeping stays small."""
        self.rounds: list[dict[str, Any]] = []
        self.first_full_round: dict[str, Any] = {}
        self.cycles: list[tuple[float, float]] = []
        self.requests_done: dict[int, int] = {}
        self.all_first_requests_done = asyncio.Event()

    def cycle_done(self) -> None:
        """Every run was checked once more: note the time and the CPU used so far."""
        self.cycles.append((time.monotonic(), time.process_time()))

    def request_done(self, number: int) -> None:
        """Baseline: one wait finished its ``number``-th status request."""
        done = self.requests_done[number] = self.requests_done.get(number, 0) + 1
        if done == self.expected:
            self.cycle_done()
            if number == 1:
                self.all_first_requests_done.set()

    def sample(self) -> None:
        self.samples.append((time.monotonic(), time.process_time(), self.process.memory_info().rss))

    async def sampler(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_EVERY)


async def admin_counters(admin: httpx.AsyncClient) -> dict[str, Any]:
    answer = await admin.get("/_emulator/counters")
    answer.raise_for_status()
    counters: dict[str, Any] = answer.json()
    return counters


def instrument_poller(recorder: Recorder, admin: httpx.AsyncClient, full_rounds_wanted: int | None) -> asyncio.Event:
    """Count the shared poller's rounds; snapshot the emulator's counters around the first full one."""
    enough = asyncio.Event()
    real_poll_once = ResourcePoller._poll_once

    async def counted(self: ResourcePoller) -> None:
        watched = self.watched
        full = watched == recorder.expected
        first_full = full and not recorder.first_full_round
        if first_full:
            recorder.first_full_round["before"] = await admin_counters(admin)
        started, cpu = time.monotonic(), time.process_time()
        await real_poll_once(self)
        recorder.rounds.append(
            {
                "start": started,
                "end": time.monotonic(),
                "cpu_start": cpu,
                "cpu_end": time.process_time(),
                "watched": watched,
            }
        )
        if full:
            recorder.cycle_done()
        if first_full:
            recorder.first_full_round["after"] = await admin_counters(admin)
            recorder.first_full_round["end"] = time.monotonic()
        if full_rounds_wanted is not None:
            full_rounds = sum(1 for r in recorder.rounds if r["watched"] == recorder.expected)
            if full_rounds >= full_rounds_wanted:
                enough.set()

    ResourcePoller._poll_once = counted  # type: ignore[method-assign]
    return enough


async def wait_with_trigger(build_rid: str, interval: float, recorder: Recorder) -> None:
    trigger = ModelStudioRunTrigger(build_rid=build_rid, poll_interval=interval, retry=RETRY)
    async for event in trigger.run():
        payload = event.payload
        recorder.events.append(
            (payload["build_rid"], time.time(), payload["kind"], payload["status"], payload["message"][:300])
        )
        return


async def wait_with_baseline(
    rid: str, client: AsyncFoundryClient, interval: float, recorder: Recorder, in_flight: asyncio.Semaphore
) -> None:
    """One-request-per-run polling, the way peer providers' triggers poll.

    At most as many requests in flight as the client has connections: without that, thousands of requests
    queue inside httpx's connection pool, whose queue handling grows with the queue's length, and the
    baseline would look worse than the approach itself is.
    """
    watch = StatusWatch(rid, client.settings.build_url(rid), interval, _LOG)
    number = 0
    failures = 0
    while True:
        number += 1
        try:
            async with in_flight:
                build = await client.call("get_build", {"buildRid": rid})
        except FoundryError as exc:
            failures += 1
            recorder.request_done(number)
            if not is_transient(exc) or failures >= 10:
                recorder.events.append((rid, time.time(), "error", None, str(exc)[:300]))
                return
        else:
            failures = 0
            status = build.get("status")
            final = watch.observe(status) is not Verdict.WAIT
            if final:
                recorder.events.append((rid, time.time(), "final", status, ""))
            recorder.request_done(number)
            if final:
                return
        await asyncio.sleep(interval)


def _short_path(filename: str) -> str:
    """A source file's path relative to its site-packages, this repository or the standard library."""
    for root in (*sysconfig.get_paths().values(), str(REPOSITORY)):
        if filename.startswith(root + "/"):
            return filename[len(root) + 1 :]
    return filename


def memory_trace(snapshot: tracemalloc.Snapshot, waits: int, top: int) -> dict[str, Any]:
    """The source lines holding the most traced memory at the snapshot, with what they hold per wait."""
    statistics = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).statistics("lineno")
    lines = []
    for stat in statistics[:top]:
        frame = stat.traceback[0]
        lines.append(
            {
                "where": f"{_short_path(frame.filename)}:{frame.lineno}",
                "code": linecache.getline(frame.filename, frame.lineno).strip()[:100],
                "bytes_per_wait": stat.size / waits,
                "blocks_per_wait": stat.count / waits,
            }
        )
    return {"traced_bytes": sum(stat.size for stat in statistics), "waits": waits, "top": lines}


async def run_case(args: argparse.Namespace, rids_text: str, recorder: Recorder) -> dict[str, Any]:
    build_rids: list[str] = json.loads(rids_text)
    recorder.expected = len(build_rids)
    trace: dict[str, Any] | None = None
    if args.trace_memory:
        tracemalloc.start()
    sampler = asyncio.create_task(recorder.sampler())
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=args.admin_url, headers=ADMIN_HEADERS, timeout=30) as admin:
        client: AsyncFoundryClient | None = None
        enough = asyncio.Event()
        if args.mode == "trigger":
            enough = instrument_poller(recorder, admin, None if args.rounds is None else args.rounds + 1)
            waits = [wait_with_trigger(rid, args.interval, recorder) for rid in build_rids]
        else:
            client = AsyncFoundryClient(
                await ModelStudioHook("foundry_default").asettings(), retry=RetryPolicy.from_value(RETRY)
            )
            in_flight = asyncio.Semaphore(BASELINE_IN_FLIGHT)
            waits = [wait_with_baseline(rid, client, args.interval, recorder, in_flight) for rid in build_rids]
        tasks = [asyncio.create_task(wait) for wait in waits]
        if args.mode == "baseline":

            async def snapshot_first_round() -> None:
                await recorder.all_first_requests_done.wait()
                recorder.first_full_round["after"] = await admin_counters(admin)
                recorder.first_full_round["end"] = time.monotonic()

            snapshot = asyncio.create_task(snapshot_first_round())
        everything = asyncio.gather(*tasks)
        stopper = asyncio.create_task(enough.wait())
        done, _ = await asyncio.wait({everything, stopper}, timeout=args.max_seconds, return_when="FIRST_COMPLETED")
        timed_out = not done
        stopped_early = stopper in done and everything not in done
        if args.trace_memory:
            trace = memory_trace(tracemalloc.take_snapshot(), len(build_rids), args.trace_memory)
            tracemalloc.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(everything, return_exceptions=True)
        stopper.cancel()
        if args.mode == "baseline":
            snapshot.cancel()
            await asyncio.gather(snapshot, return_exceptions=True)
        ended = time.monotonic()
        recorder.sample()
        if client is not None:
            await client.aclose()
        await asyncio.sleep(0.1)  # let the poller close its client
    sampler.cancel()
    await asyncio.gather(sampler, return_exceptions=True)
    return {
        "started": started,
        "ended": ended,
        "timed_out": timed_out,
        "stopped_early": stopped_early,
        "memory_trace": trace,
    }


async def warm_up(admin_url: str) -> None:
    """Load the modules a triggerer has loaded before its first trigger: connection lookup, async HTTP."""
    await ModelStudioHook("foundry_default").asettings()
    async with httpx.AsyncClient(base_url=admin_url, headers=ADMIN_HEADERS, timeout=30) as admin:
        await admin_counters(admin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("trigger", "baseline"), required=True)
    parser.add_argument("--interval", type=float, required=True)
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--result-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--rounds", type=int, default=None, help="stop after this many full rounds (trigger mode)")
    parser.add_argument("--trace-memory", type=int, default=0, metavar="TOP", help="trace allocations (see above)")
    args = parser.parse_args()

    asyncio.run(warm_up(args.admin_url))
    Path(args.ready_file).write_text("ready")
    line = sys.stdin.readline().strip()
    if not line:
        return
    raw = Path(line).read_text()
    recorder = Recorder(expected=0)
    rss_before = recorder.process.memory_info().rss
    cpu_before = time.process_time()
    wall_offset = time.time() - time.monotonic()
    outcome = asyncio.run(run_case(args, raw, recorder))
    cpu_after = time.process_time()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = {
        **outcome,
        "mode": args.mode,
        "interval": args.interval,
        "expected": recorder.expected,
        "rss_before": rss_before,
        "peak_rss": peak_rss,
        "sampled_peak_rss": max(s[2] for s in recorder.samples),
        "cpu_seconds": cpu_after - cpu_before,
        "samples": recorder.samples,
        "events": recorder.events,
        "rounds": recorder.rounds,
        "cycles": recorder.cycles,
        "wall_offset": wall_offset,
        "first_full_round": recorder.first_full_round,
    }
    Path(args.result_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
