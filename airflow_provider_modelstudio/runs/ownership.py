"""Task-level "never two runs": remember the launched run, reattach to it on a retry, and decide what
happens to a build when its task lets go of it.

One launch call never starts two runs (:mod:`airflow_provider_modelstudio.foundry.launch`). Across tries of
a task, this module keeps it that way: the launched run is stored in Airflow's task state store (3.3+)
before any waiting, and a retry reattaches to it while it runs or after it succeeded; on Airflow < 3.3,
``reattach_to_running_run=True`` adopts the studio's newest running run instead. A task that gives up on a
run no retry could reattach to cancels it rather than leave it unowned. What this module does not do: it
does not launch (the hook does) and does not wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.shapes import Run, run_of
from airflow_provider_modelstudio.runs.status import Verdict, judge

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

STATE_KEY = "modelstudio_run"
"""Key of the launched run in Airflow's task state store (3.3+), read back when a task is retried."""


def _store(context: Any) -> Any:
    return context.get("task_state_store") if hasattr(context, "get") else None


def can_reattach(context: Any, *, reattach_to_running_run: bool) -> bool:
    """Whether a retry of this task would find its run again instead of launching another."""
    return _store(context) is not None or reattach_to_running_run


def remembered_run(context: Any) -> Run | None:
    """The run a previous try of this task launched, from the task state store (Airflow 3.3+)."""
    store = _store(context)
    return run_of(store.get(STATE_KEY) if store is not None else None)


def remember_run(context: Any, run: Run) -> bool:
    """Store the launched run for a retry to reattach to; False where Airflow has no task state store."""
    store = _store(context)
    if store is None:
        return False
    store.set(STATE_KEY, dict(run))
    return True


def remember_outcome(context: Any, run: Run, status: str) -> None:
    """Store the run with the status its wait ended on, so the task state store never shows a finished run
    as still running; nothing where Airflow has no task state store."""
    final = run.copy()
    final["build_status"] = status
    remember_run(context, final)


def running_run_of_studio(hook: ModelStudioHook, studio_rid: str) -> Run | None:
    """The newest run of the studio whose build is still running (reattach fallback for Airflow < 3.3)."""
    runs = hook.list_model_studio_runs(studio_rid)
    running = [run for run in runs if judge(run["build_status"]) is Verdict.WAIT]
    return max(running, key=lambda run: run["started_time"] or "", default=None)


def earlier_run(context: Any, hook: ModelStudioHook, studio_rid: str, *, reattach_to_running_run: bool) -> Run | None:
    """The run of an earlier try to reattach to, with its current build status, or None to launch.

    A run that ended FAILED or CANCELED is not reattached to: the task launches afresh.
    """
    run = remembered_run(context)
    if run is None and reattach_to_running_run and _store(context) is None:
        run = running_run_of_studio(hook, studio_rid)
    if run is None:
        return None
    status = hook.get_build(run["build_rid"]).status
    if judge(status) is Verdict.FAILED:
        return None
    run["build_status"] = status
    return run


def cancel_build(hook: ModelStudioHook, build_rid: str, *, why: str, log: Any) -> str:
    """Ask Foundry to cancel a build this task owns; return what happened, for the task's message.

    :param why: the reason, logged with the request (e.g. "the wait timed out")
    """
    try:
        hook.cancel_build(build_rid)
    except FoundryError as exc:
        log.warning("Cancelling build %s (%s) failed: %s", build_rid, why, exc)
        return f"NOT cancelled and still running ({exc}); cancel it in Foundry"
    log.info("Asked Foundry to cancel build %s: %s.", build_rid, why)
    return f"cancelled by this task because {why}"
