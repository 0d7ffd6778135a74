"""The payload a trigger sends back to its task, built and read in one place.

Everything the resuming method needs travels in the payload (``dag.test()`` drops ``defer(kwargs=...)``).
"""

from __future__ import annotations

from typing import Any, Literal

from airflow_provider_modelstudio.foundry.errors import FoundryError

EventKind = Literal["final", "timeout", "error"]
_KINDS = ("final", "timeout", "error")


def make_event(
    kind: EventKind,
    *,
    build_rid: str,
    status: str | None = None,
    message: str = "",
    run: dict[str, Any] | None = None,
    model_studio_rid: str | None = None,
    build_url: str = "",
    transient: bool = False,
) -> dict[str, Any]:
    """The JSON-safe payload of a trigger event.

    :param kind: ``final`` (the build reached a final status), ``timeout`` or ``error``
    :param build_rid: the build waited on
    :param status: the final status (``final`` only)
    :param message: what happened, for ``timeout`` and ``error``
    :param run: the run, echoed from the trigger's arguments
    :param model_studio_rid: the studio, echoed
    :param build_url: the build link
    :param transient: for ``error``: the failures were transient (the run itself may be fine)
    """
    return {
        "kind": kind,
        "build_rid": build_rid,
        "status": status,
        "message": message,
        "run": run or {"buildRid": build_rid},
        "model_studio_rid": model_studio_rid,
        "build_url": build_url,
        "transient": transient,
    }


def read_event(event: Any) -> dict[str, Any]:
    """Check a payload that came back from the triggerer; raise :class:`FoundryError` if it is malformed."""
    if (
        not isinstance(event, dict)
        or event.get("kind") not in _KINDS
        or not isinstance(event.get("build_rid"), str)
        or not isinstance(event.get("run"), dict)
        or (event["kind"] == "final" and not isinstance(event.get("status"), str))
    ):
        raise FoundryError(
            f"The trigger sent back an event this provider cannot read: {event!r}. This is a bug in "
            "airflow-provider-modelstudio or a mismatch between the worker's and the triggerer's versions of it."
        )
    return event


def event_error(payload: dict[str, Any]) -> FoundryError:
    """The exception for an ``error`` event: retryable when the failures were transient."""
    from airflow_provider_modelstudio.runs.lifecycle import PollingFailedError

    return (PollingFailedError if payload.get("transient") else FoundryError)(payload["message"])
