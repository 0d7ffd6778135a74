"""What a deferred wait logs: elapsed time from the run's start (not the trigger's), and heartbeats as asked.

Each wait ends when the build is made to succeed after a number of reads, not at a wall-clock deadline, so a
slow machine changes how long a test takes, never what it sees.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from structlog.testing import capture_logs

from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from tests.lifecycle_helpers import FAST, run_trigger

SLOW = "ri.models.main.model-studio.slow"
READS = 8
"""Status reads the trigger makes before the build is made to succeed."""


def _reads(emulator: Any) -> int:
    return sum(emulator.counters()["requests"].get("get_builds_batch", {}).values())


def _succeed_after_reads(emulator: Any, build_rid: str, stop: threading.Event) -> None:
    while not stop.is_set() and _reads(emulator) < READS:
        time.sleep(0.005)
    emulator.set_build_status(build_rid, "SUCCEEDED")


def _wait_through_reads(foundry_connection: Any, **kwargs: Any) -> list[str]:
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)
    trigger = ModelStudioRunTrigger(
        build_rid=run["buildRid"], retry=FAST, poll_interval=0.02, deadline=time.time() + 300, **kwargs
    )
    stop = threading.Event()
    finisher = threading.Thread(target=_succeed_after_reads, args=(foundry_connection, run["buildRid"], stop))
    finisher.start()
    try:
        with capture_logs() as logs:
            assert run_trigger(trigger)["kind"] == "final"
    finally:
        stop.set()
        finisher.join()
    assert _reads(foundry_connection) > READS
    return [str(line["event"]) for line in logs]


def test_the_first_status_line_counts_from_the_runs_start(foundry_connection: Any) -> None:
    first, *_ = _wait_through_reads(foundry_connection, started_at=time.time() - 7200, heartbeat=0)
    assert " is RUNNING after 2:00:00; next check in 0.02 s. http" in first


def test_heartbeat_lines_come_at_the_interval_asked_for(foundry_connection: Any) -> None:
    first, *middle, last = _wait_through_reads(foundry_connection, heartbeat=0.01)
    assert " is RUNNING after 0:00:00" in first
    assert middle and all(" still RUNNING after " in line for line in middle)
    assert " SUCCEEDED" in last


def test_no_heartbeat_lines_when_turned_off(foundry_connection: Any) -> None:
    lines = _wait_through_reads(foundry_connection, heartbeat=0)
    assert len(lines) == 2
    assert " is RUNNING after " in lines[0] and " SUCCEEDED" in lines[1]
