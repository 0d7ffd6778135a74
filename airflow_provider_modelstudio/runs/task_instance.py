"""What Airflow says of a task instance right now, asked from inside the triggerer.

Used when a deferred task is killed: clearing the task and marking it failed both cancel its trigger the
same way, but only the second means "stop the training run". What this module does not do: it never
raises; when Airflow cannot be asked (before 3.3, or outside the triggerer) the answer is "unknown".
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

FINISHED_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
"""Task instance states after which the task does not run again by itself."""


async def runs_again(ti: Any) -> bool | None:
    """Whether Airflow is about to run this task instance again (it was cleared); None when unknown.

    :param ti: the trigger's ``task_instance`` (``dag_id``, ``task_id``, ``run_id``, ``map_index``)
    """
    try:
        from airflow.sdk.execution_time import task_runner
        from airflow.sdk.execution_time.comms import GetTaskStates

        mapped = ti.map_index is not None and ti.map_index >= 0
        answer = await task_runner.SUPERVISOR_COMMS.asend(
            GetTaskStates(
                dag_id=ti.dag_id,
                task_ids=[ti.task_id],
                run_ids=[ti.run_id],
                map_index=ti.map_index if mapped else None,
            )
        )
        states = getattr(answer, "task_states", {}).get(ti.run_id, {})
        key = f"{ti.task_id}_{ti.map_index}" if mapped else ti.task_id
        if key not in states:
            return None
        return states[key] not in FINISHED_STATES
    except Exception as exc:
        log.info("Could not ask Airflow for the state of the task instance (%s).", exc)
        return None
