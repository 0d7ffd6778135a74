"""One deploy at a time per live deployment, across DAG runs and DAGs: a lock kept as an Airflow Variable.

The Variable ``modelstudio_deploy_lock.<live deployment RID>`` names the task instance deploying to it (DAG,
run, task, map index, try). A deploy takes the lock before promoting and gives it back when it ends, failed or
not; a deferred deploy keeps it while it waits in the triggerer. A holder that Airflow says will not run again
(finished, or gone) is stale and taken over, so a worker that died does not block the deployment for ever;
another try of the same task instance is the same deploy and takes over too. Airflow's Variables have no
compare-and-set, so after writing itself into the lock a deploy reads it back, and again just before promoting,
and backs off when another has written since; a failed deploy never rolls back over a newer promotion (see the
operator), so two deploys that still slip through cannot roll each other back.
It does not queue deploys: a second one is refused, naming the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from airflow_provider_modelstudio.foundry.errors import FoundryError

LOCK_PREFIX = "modelstudio_deploy_lock."
HOLDING_STATES = frozenset(
    {"running", "deferred", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "restarting", None}
)
"""Task instance states from which the holder still deploys (None: cleared, about to be scheduled again)."""


class DeploymentBusy(FoundryError):
    """Another task instance is deploying to the same live deployment."""


@dataclass(frozen=True)
class Holder:
    """A task instance that deploys.

    :param dag_id: its DAG
    :param run_id: its DAG run
    :param task_id: its task
    :param map_index: its map index (-1 when not mapped)
    :param try_number: its try
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int

    @classmethod
    def of(cls, ti: Any) -> Holder:
        """The holder for a running task instance."""
        return cls(str(ti.dag_id), str(ti.run_id), str(ti.task_id), int(ti.map_index), int(ti.try_number))

    @classmethod
    def read(cls, value: Any) -> Holder | None:
        """The holder a lock's value names; None when it names none."""
        try:
            return cls(**value) if isinstance(value, dict) else None
        except TypeError:
            return None

    def same_task(self, other: Holder) -> bool:
        """Whether ``other`` is this task instance, in any try."""
        return (self.dag_id, self.run_id, self.task_id, self.map_index) == (
            other.dag_id,
            other.run_id,
            other.task_id,
            other.map_index,
        )

    def describe(self) -> str:
        mapped = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"task {self.task_id}{mapped} of DAG {self.dag_id}, run {self.run_id} (try {self.try_number})"


class LockStore(Protocol):
    """Where locks live and what Airflow says of a holder (:class:`AirflowLockStore` in a task)."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: dict[str, Any]) -> None: ...

    def delete(self, key: str) -> None: ...

    def state_of(self, holder: Holder) -> tuple[bool, str | None]:
        """Whether Airflow knows the task instance, and its state."""
        ...


class AirflowLockStore:
    """Variables and task states through the Task SDK, as a running task reaches them."""

    def get(self, key: str) -> Any:
        from airflow.sdk import Variable

        return Variable.get(key, default=None, deserialize_json=True)

    def set(self, key: str, value: dict[str, Any]) -> None:
        from airflow.sdk import Variable

        Variable.set(
            key, value, description="A lock held by a task of airflow-provider-modelstudio", serialize_json=True
        )

    def delete(self, key: str) -> None:
        from airflow.sdk import Variable

        Variable.delete(key)

    def state_of(self, holder: Holder) -> tuple[bool, str | None]:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        mapped = holder.map_index >= 0
        states = RuntimeTaskInstance.get_task_states(
            dag_id=holder.dag_id,
            task_ids=[holder.task_id],
            run_ids=[holder.run_id],
            map_index=holder.map_index if mapped else None,
        ).get(holder.run_id, {})
        key = f"{holder.task_id}_{holder.map_index}" if mapped else holder.task_id
        return key in states, states.get(key)


def lock_key(live_deployment_rid: str) -> str:
    """The Variable that locks a live deployment."""
    return LOCK_PREFIX + live_deployment_rid


def acquire(store: LockStore, live_deployment_rid: str, me: Holder, log: Any) -> None:
    """Take the deployment's lock for ``me``, or raise :class:`DeploymentBusy` naming the task that holds it."""
    key = lock_key(live_deployment_rid)
    take(store, key, me, log, lambda other, how: _busy(live_deployment_rid, other, how, key))


def take(store: LockStore, key: str, me: Holder, log: Any, busy: Callable[[Holder | None, str], FoundryError]) -> None:
    """Take the lock ``key`` for ``me``, taking it over from a stale holder; raise ``busy(holder, how)`` when a
    live task instance holds it or wrote it at the same moment."""
    current = Holder.read(store.get(key))
    if current is not None and not current.same_task(me):
        known, state = store.state_of(current)
        if known and state in HOLDING_STATES:
            raise busy(current, f"which is {state or 'cleared'}")
        log.warning(
            "Taking over the lock %s from %s, which %s.",
            key,
            current.describe(),
            f"is {state}" if known else "Airflow no longer knows",
        )
    store.set(key, asdict(me))
    written = Holder.read(store.get(key))
    if written != me:
        raise busy(written, "which took the lock at the same moment")


def confirm(store: LockStore, live_deployment_rid: str, me: Holder) -> None:
    """Check, just before promoting, that the lock still names ``me``: a deploy that wrote the lock after our
    read-back (a round trip to Foundry ago) makes this one back off instead of both promoting."""
    key = lock_key(live_deployment_rid)
    current = Holder.read(store.get(key))
    if current != me:
        raise _busy(live_deployment_rid, current, "which took the lock while this deploy read the deployment", key)


def release(store: LockStore, live_deployment_rid: str, me: Holder) -> None:
    """Give the deployment's lock back, when it still names this task instance."""
    give_back(store, lock_key(live_deployment_rid), me)


def give_back(store: LockStore, key: str, me: Holder) -> None:
    """Give the lock ``key`` back, when it still names this task instance."""
    current = Holder.read(store.get(key))
    if current is not None and current.same_task(me):
        store.delete(key)


def _busy(live_deployment_rid: str, other: Holder | None, how: str, key: str) -> DeploymentBusy:
    who = other.describe() if other is not None else "another task"
    return DeploymentBusy(
        f"Live deployment {live_deployment_rid} is being deployed by {who}, {how}; two deploys at once would roll "
        f"each other back, so this one promoted nothing. Let that task finish, then run this one again; to deploy "
        f"one run at a time set max_active_runs=1 on the DAG. If that task is gone, delete the Airflow Variable "
        f"{key!r}."
    )
