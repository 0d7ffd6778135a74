"""The payload a trigger sends back to its task, built and read in one place.

It carries what the wait found (final status, timeout, or why it stopped), not the run: the resuming task
reads its run from XCom (the launch operator) or its own arguments (the sensor). ``dag.test()`` drops
``defer(kwargs=...)``, so nothing the resuming method needs may travel there.
"""

from __future__ import annotations

from typing import Any, Literal

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.runs.errors import PollingFailedError

EventKind = Literal["final", "timeout", "error"]
_KINDS = ("final", "timeout", "error")


def make_event(
    kind: EventKind,
    *,
    build_rid: str,
    status: str | None = None,
    message: str = "",
    transient: bool = False,
) -> dict[str, Any]:
    """The JSON-safe payload of a trigger event.

    :param kind: ``final`` (the build reached a final status), ``timeout`` or ``error``
    :param build_rid: the build waited on
    :param status: the final status (``final`` only)
    :param message: what happened, for ``timeout`` and ``error``
    :param transient: for ``error``: the failures were transient (the run itself may be fine)
    """
    return {"kind": kind, "build_rid": build_rid, "status": status, "message": message, "transient": transient}


def read_event(event: Any) -> dict[str, Any]:
    """Check a payload that came back from the triggerer; raise :class:`FoundryError` if it is malformed."""
    if (
        not isinstance(event, dict)
        or event.get("kind") not in _KINDS
        or not isinstance(event.get("build_rid"), str)
        or (event["kind"] == "final" and not isinstance(event.get("status"), str))
    ):
        raise FoundryError(
            f"The trigger sent back an event this provider cannot read: {event!r:.300}. This is a bug in "
            "airflow-provider-modelstudio or a mismatch between the worker's and the triggerer's versions of it."
        )
    return event


def event_error(payload: dict[str, Any]) -> FoundryError:
    """The exception for an ``error`` event: retryable when the failures were transient."""
    return (PollingFailedError if payload.get("transient") else FoundryError)(payload["message"])


def resumed(event: Any) -> dict[str, Any]:
    """The checked payload of a ``final`` or ``timeout`` event; raises the failure an ``error`` event reports."""
    payload = read_event(event)
    if payload["kind"] == "error":
        raise event_error(payload)
    return payload
