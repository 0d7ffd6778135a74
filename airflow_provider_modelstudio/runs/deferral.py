"""Handing a wait to the triggerer and taking it back: the steps the operator and the sensor share.

What this module does not do: it does not decide what a timeout means (the operator cancels its build,
the sensor leaves it) and does not build results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_modelstudio.runs.events import event_error, read_event

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

    from airflow_provider_modelstudio.runs.waiting import WaitPolicy

RESUME_METHOD = "execute_complete"


def defer_wait(
    task: BaseOperator,
    *,
    build_rid: str,
    foundry_conn_id: str,
    policy: WaitPolicy,
    retry: dict[str, Any] | None,
    started_at: float | None,
    cancel_on_kill: bool,
    keep_for_next_try: bool,
) -> NoReturn:
    """Defer ``task`` to a :class:`~airflow_provider_modelstudio.triggers.modelstudio.ModelStudioRunTrigger`.

    The task resumes in ``execute_complete(context, event)``.
    """
    from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger

    task.defer(
        trigger=ModelStudioRunTrigger(
            build_rid=build_rid,
            foundry_conn_id=foundry_conn_id,
            retry=retry,
            cancel_on_kill=cancel_on_kill,
            keep_for_next_try=keep_for_next_try,
            started_at=started_at,
            **policy.to_dict(),
        ),
        method_name=RESUME_METHOD,
    )


def resumed(event: Any) -> dict[str, Any]:
    """The checked payload of a ``final`` or ``timeout`` event; raises the failure an ``error`` event reports."""
    payload = read_event(event)
    if payload["kind"] == "error":
        raise event_error(payload)
    return payload
