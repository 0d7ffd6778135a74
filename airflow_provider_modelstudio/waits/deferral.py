"""Handing any wait to the triggerer: the one step every deferrable operator and sensor shares.

The trigger class comes from the kind (:attr:`~.waitable.Waitable.trigger`) and is built from the wait's
:class:`~airflow_provider_modelstudio.runs.waiting.WaitPolicy`, so no task builds a trigger by hand. What this
module does not do: it does not decide what a timeout means, and does not read the event the task resumes with.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

    from airflow_provider_modelstudio.runs.waiting import WaitPolicy
    from airflow_provider_modelstudio.waits.waitable import Waitable

RESUME_METHOD = "execute_complete"


def defer_wait(
    task: BaseOperator,
    waitable: Waitable[Any, Any],
    rid: str,
    *,
    foundry_conn_id: str,
    policy: WaitPolicy,
    retry: dict[str, Any] | None,
    **settings: Any,
) -> NoReturn:
    """Defer ``task`` to the trigger of ``waitable``'s kind; the task resumes in ``execute_complete(context, event)``.

    :param task: the deferring task
    :param waitable: the kind of resource
    :param rid: the resource
    :param foundry_conn_id: the Foundry connection
    :param policy: interval, deadline and failure limit
    :param retry: retry bounds of each request (plain numbers)
    :param settings: the trigger's own keyword arguments (e.g. ``expected_version_rid``)
    """
    module, _, name = waitable.trigger.rpartition(".")
    trigger_class = getattr(import_module(module), name)
    task.defer(
        trigger=trigger_class.waiting_on(rid, foundry_conn_id=foundry_conn_id, policy=policy, retry=retry, **settings),
        method_name=RESUME_METHOD,
    )
