"""Worker slot-seconds held while a 10-minute training run is waited on, in each way of waiting.

Runs the real operator and sensor code outside a scheduler against an emulator in a child process on
accelerated time (``--time-scale 60``: the 10 emulator-minutes of a run take 10 real seconds, and a 30 s
poll interval becomes 0.5 s). What holds a worker slot, and how it is measured:

- waiting in the worker (operator, ``deferrable=False``) and the sensor in ``poke`` mode hold the slot for
  the whole run: the wall time of ``execute`` (its real-time equivalent is about that times the time scale);
- the sensor in ``reschedule`` mode holds it during each poke only: every try is a fresh sensor whose
  ``execute`` runs one poke and raises ``AirflowRescheduleException``; the slot-seconds are the sum of the
  tries' wall times (real work, not scaled), the number of tries is reported;
- deferrable (operator or sensor) holds it from ``execute`` until ``TaskDeferred`` and again for
  ``execute_complete``: both are timed; the trigger runs in an event loop in between (no slot).

Not included (the same for every Airflow task, and measured in the parse-cost section): starting a task
process for each try or resumption. Writes JSON to ``--result-file``. Bounded: every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulator_process import EmulatorProcess

STUDIO = "ri.models.main.model-studio.ten-minutes"
RUN_SECONDS = 600.0
POLL_SECONDS = 30.0
RETRY = {"max_attempts": 5, "backoff_initial": 0.2, "backoff_max": 2.0, "max_elapsed": 30.0}

try:
    from airflow.sdk.exceptions import AirflowRescheduleException, TaskDeferred
except ImportError:  # Airflow < 3.2
    from airflow.exceptions import AirflowRescheduleException, TaskDeferred  # type: ignore[no-redef]


class TaskInstance:
    """The bits of a task instance the operator and sensor use outside a scheduler (one task's own XComs)."""

    task_id = "bench"
    map_index = -1

    def __init__(self, first_try: datetime | None = None) -> None:
        self.pushed: dict[str, Any] = {}
        self.start_date = datetime.now(UTC)
        self.first_try = first_try

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int | None = None) -> Any:
        """This task's own value (a resumed deferrable task reads what it pushed at launch)."""
        if task_ids != self.task_id or map_indexes != self.map_index:
            raise ValueError(f"the benchmark's task instance holds only its own XComs, not {task_ids!r}")
        return self.pushed.get(key)

    def get_first_reschedule_date(self, context: Any) -> datetime | None:
        return self.first_try


def _context(ti: TaskInstance | None = None) -> dict[str, Any]:
    return {"ti": ti or TaskInstance()}


def _timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def _first_event(trigger: Any) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise RuntimeError("the trigger ended without an event")

    return asyncio.run(first())


def _deferred(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    try:
        call()
    except TaskDeferred as deferred:
        return time.perf_counter() - started, deferred.trigger
    raise RuntimeError("the task did not defer")


def measure(poll: float) -> dict[str, dict[str, Any]]:
    from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
    from airflow_provider_modelstudio.sensors.modelstudio import ModelStudioRunSensor

    limit = 60.0  # real seconds; the run takes 10

    def launch(**kwargs: Any) -> LaunchModelStudioOperator:
        kwargs.setdefault("deferrable", False)
        return LaunchModelStudioOperator(
            task_id="launch", model_studio_rid=STUDIO, poll_interval=poll, timeout=limit, retry=RETRY, **kwargs
        )

    def sensor(run: dict[str, Any], **kwargs: Any) -> ModelStudioRunSensor:
        return ModelStudioRunSensor(task_id="wait", run=run, poke_interval=poll, timeout=limit, retry=RETRY, **kwargs)

    results: dict[str, dict[str, Any]] = {}

    wall, result = _timed(lambda: launch().execute(_context()))
    results["operator, waits in the worker"] = {
        "slot": wall,
        "scaled": True,
        "tries": 1,
        "status": result["build_status"],
    }

    launch_wall, launched = _timed(lambda: launch(wait_for_completion=False).execute(_context()))
    wall, result = _timed(lambda: sensor(launched, mode="poke").execute(_context()))
    results["launch + sensor, poke mode"] = {
        "slot": wall,
        "launch": launch_wall,
        "scaled": True,
        "tries": 1,
        "status": result["build_status"],
    }

    launch_wall, launched = _timed(lambda: launch(wait_for_completion=False).execute(_context()))
    first_try = datetime.now(UTC)
    pokes: list[float] = []
    outcome: Any = None
    deadline = time.monotonic() + limit
    while outcome is None and time.monotonic() < deadline:
        task = sensor(launched, mode="reschedule")
        started = time.perf_counter()
        with contextlib.suppress(AirflowRescheduleException):  # the poke found the run not final yet
            outcome = task.execute(_context(TaskInstance(first_try)))
        pokes.append(time.perf_counter() - started)
        if outcome is None:
            time.sleep(poll)  # the slot is free until the next try
    results["launch + sensor, reschedule mode"] = {
        "slot": sum(pokes),
        "launch": launch_wall,
        "scaled": False,
        "tries": len(pokes),
        "per_try_median": sorted(pokes)[len(pokes) // 2],
        "status": outcome["build_status"] if outcome else "not finished",
    }

    results["operator, deferrable"] = _deferred_slot(launch(deferrable=True))
    launch_wall, launched = _timed(lambda: launch(wait_for_completion=False).execute(_context()))
    results["launch + sensor, deferrable"] = {
        **_deferred_slot(sensor(launched, deferrable=True)),
        "launch": launch_wall,
    }
    return results


def _deferred_slot(task: Any) -> dict[str, Any]:
    """Slot time of a deferrable task: execute until it defers, plus execute_complete after the trigger fired."""
    ctx = _context()
    to_defer, trigger = _deferred(lambda: task.execute(ctx))
    trigger_wall, event = _timed(lambda: _first_event(trigger))
    resume, result = _timed(lambda: task.execute_complete(ctx, event))
    return {
        "slot": to_defer + resume,
        "to_defer": to_defer,
        "resume": resume,
        "triggerer": trigger_wall,
        "scaled": False,
        "tries": 2,
        "status": result["build_status"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--result-file", required=True)
    parser.add_argument("--time-scale", type=float, default=60.0)
    args = parser.parse_args()
    scenario = {"studios": {STUDIO: {"duration_seconds": RUN_SECONDS}}}
    with EmulatorProcess(scenario, args.time_scale) as emulator:
        os.environ["AIRFLOW_CONN_FOUNDRY_DEFAULT"] = emulator.connection_env["oauth2"]
        results = measure(POLL_SECONDS / args.time_scale)
        counters = emulator.call("counters")
    Path(args.result_file).write_text(
        json.dumps(
            {
                "time_scale": args.time_scale,
                "run_seconds": RUN_SECONDS,
                "poll_seconds": POLL_SECONDS,
                "modes": results,
                "launches": counters["launches"],
            }
        )
    )


if __name__ == "__main__":
    main()
