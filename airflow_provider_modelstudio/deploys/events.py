"""The payload a live deployment trigger sends back to its task, built and read in one place."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.shapes import LiveDeployment
from airflow_provider_modelstudio.runs.errors import PollingFailedError

DeploymentEventKind = Literal["final", "timeout", "error"]


def make_deployment_event(
    kind: DeploymentEventKind,
    *,
    live_deployment_rid: str,
    view: LiveDeployment | None = None,
    verdict: str = "",
    message: str = "",
    transient: bool = False,
) -> dict[str, Any]:
    """The JSON-safe payload.

    :param kind: ``final`` (``verdict`` is ``ready`` or ``failed``), ``timeout`` or ``error``
    :param live_deployment_rid: the deployment waited on
    :param view: what the deployment looked like at the end
    :param verdict: for ``final``: ``ready`` or ``failed``
    :param message: what happened, for ``timeout`` and ``error``
    :param transient: for ``error``: the failures were transient
    """
    return {
        "kind": kind,
        "live_deployment_rid": live_deployment_rid,
        "view": asdict(view) if view else None,
        "verdict": verdict,
        "message": message,
        "transient": transient,
    }


def read_deployment_event(event: Any) -> dict[str, Any]:
    """The checked payload, with ``view`` as a :class:`LiveDeployment`; raises the failure an ``error`` reports."""
    try:
        kind = event["kind"]
        view = LiveDeployment(**event["view"]) if event.get("view") else None
        if kind not in ("final", "timeout", "error") or (kind == "final" and view is None):
            raise ValueError(kind)
    except (TypeError, KeyError, ValueError) as exc:
        raise FoundryError(
            f"The live deployment trigger sent back an event this provider cannot read: {event!r:.300}. This is a "
            "bug in airflow-provider-modelstudio or a version mismatch between the worker and the triggerer."
        ) from exc
    if kind == "error":
        raise (PollingFailedError if event.get("transient") else FoundryError)(event.get("message", ""))
    return {**event, "view": view}
