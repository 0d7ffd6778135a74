"""Holding a wait's event until Airflow can resume the deferred task without failing it.

Airflow 3.1 to 3.3 can fail a deferred task that resumes soon after it deferred. The worker that ran the
task up to its deferral reports that try as a success once it sees the task's process exit, which it may
notice up to ``[workers] min_heartbeat_interval`` seconds late; when the scheduler reads that report only after
the resumed try is running, it takes it for a task stopped behind its back and fails it ("finished with state
success, but the task instance's state attribute is running": apache/airflow#72716 and #71580, open when
this was written). A trigger that fires within seconds of the deferral (a build that ended just after the
task's last check, a wait that cannot start) races that report.

So a wait hands out no event sooner than :func:`hold_seconds` after its deferral. Only a wait that ends that
early waits at all; a trigger restarted later is not held; a trigger run in the process that deferred (as
``dag.test()`` does) has no worker to race and is never held.
"""

from __future__ import annotations

import os
import socket
import time
from asyncio import sleep
from dataclasses import dataclass
from typing import Any


def this_process() -> str:
    """Which process this is, as a deferral records it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def hold_seconds() -> float:
    """How long after a deferral its event may be handed out: twice the worker's
    ``[workers] min_heartbeat_interval`` (10 s by default), once for the worker to notice the task's process
    exited, once for the scheduler to read its report."""
    from airflow.configuration import conf

    return 2.0 * conf.getfloat("workers", "min_heartbeat_interval", fallback=5.0)


@dataclass(frozen=True)
class Deferral:
    """When and where a task deferred to a trigger.

    :param at: UNIX time of the deferral
    :param process: the deferring process, ``host:pid``
    """

    at: float
    process: str

    @classmethod
    def now(cls) -> Deferral:
        """The deferral happening in this process now."""
        return cls(time.time(), this_process())

    @classmethod
    def of(cls, at: float | None, process: str | None) -> Deferral | None:
        """The deferral a trigger's keyword arguments record; None for a trigger built without one."""
        return None if at is None or process is None else cls(float(at), process)

    def to_kwargs(self) -> dict[str, Any]:
        """The trigger's keyword arguments that record it."""
        return {"deferred_at": self.at, "deferred_from": self.process}

    def remaining(self) -> float:
        """Seconds an event must still be held; 0 when none (past the hold, or run where it deferred)."""
        if self.process == this_process():
            return 0.0
        return max(0.0, self.at + hold_seconds() - time.time())


async def hold(deferral: Deferral | None, log: Any, what: str) -> None:
    """Wait until an event of ``deferral``'s wait may be handed out.

    :param deferral: the wait's deferral; None holds nothing
    :param log: where to say the event is held
    :param what: what was waited on, for the log line
    """
    if deferral is None:
        return
    remaining = deferral.remaining()
    if remaining <= 0:
        return
    log.info(
        "The wait on %s ended %.1f s after the task deferred; handing it to the task in %.1f s, once Airflow "
        "has seen the deferring worker exit (a task resumed sooner can be failed by Airflow: apache/airflow#72716).",
        what,
        time.time() - deferral.at,
        remaining,
    )
    await sleep(remaining)
