"""What a deferred wait logs: elapsed time from the run's start (not the trigger's), and heartbeats as asked."""

from __future__ import annotations

import time
from typing import Any

from structlog.testing import capture_logs

from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from tests.lifecycle_helpers import FAST, run_trigger

SLOW = "ri.models.main.model-studio.slow"


def _wait_briefly(foundry_connection: Any, **kwargs: Any) -> list[str]:
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)
    trigger = ModelStudioRunTrigger(
        build_rid=run["buildRid"], retry=FAST, poll_interval=0.02, deadline=time.time() + 0.6, **kwargs
    )
    with capture_logs() as logs:
        assert run_trigger(trigger)["kind"] == "timeout"
    return [str(line["event"]) for line in logs]


def test_the_first_status_line_counts_from_the_runs_start(foundry_connection: Any) -> None:
    lines = _wait_briefly(foundry_connection, started_at=time.time() - 7200, heartbeat=0)
    assert len(lines) == 1
    assert " is RUNNING after 2:00:00; next check in 0.02 s. http" in lines[0]


def test_heartbeat_lines_come_at_the_interval_asked_for(foundry_connection: Any) -> None:
    lines = _wait_briefly(foundry_connection, heartbeat=0.05)
    assert " is RUNNING after 0:00:00" in lines[0]
    heartbeats = [line for line in lines[1:] if " still RUNNING after " in line]
    assert heartbeats and len(heartbeats) == len(lines) - 1


def test_no_heartbeat_lines_when_turned_off(foundry_connection: Any) -> None:
    lines = _wait_briefly(foundry_connection, heartbeat=0)
    assert len(lines) == 1
