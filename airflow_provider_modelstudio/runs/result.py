"""The one result shape every path returns (waited in the worker, deferred, sensed, or not waited).

Built by :func:`build_result` from the run (``ModelStudioRun`` JSON), its build status, and the build link.
Keys are snake_case; ``resolved_outputs`` keeps Foundry's map as it came.
"""

from __future__ import annotations

from typing import Any

XCOM_KEYS = ("run_id", "build_rid", "job_rid", "config_version", "model_version_rid", "build_url")
"""Keys pushed to XCom at launch, before any waiting."""


def model_outputs(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The run's model outputs by alias; outputs of other (future) types are skipped, not crashed on."""
    outputs = run.get("resolvedOutputs")
    found: dict[str, dict[str, Any]] = {}
    if not isinstance(outputs, dict):
        return found
    for alias, output in outputs.items():
        if isinstance(output, dict) and output.get("type") == "model":
            found[alias] = {
                "model_rid": output.get("modelRid"),
                "model_version_rid": output.get("modelVersionRid"),
                "experiment_rid": output.get("experimentRid"),
            }
    return found


def _single_or_by_alias(outputs: dict[str, dict[str, Any]], key: str) -> Any:
    if not outputs:
        return None
    if len(outputs) == 1:
        return next(iter(outputs.values()))[key]
    return {alias: output[key] for alias, output in outputs.items()}


def build_result(
    run: dict[str, Any], *, build_status: str, build_url: str, model_studio_rid: str | None
) -> dict[str, Any]:
    """The task's return value.

    :param run: the run as Foundry returned it
    :param build_status: the final build status (or the current one when not waiting)
    :param build_url: link to the build in Foundry
    :param model_studio_rid: the studio the run belongs to, when known
    """
    outputs = model_outputs(run)
    resolved = run.get("resolvedOutputs")
    return {
        "model_studio_rid": model_studio_rid,
        "run_id": run.get("runId"),
        "build_rid": run.get("buildRid"),
        "job_rid": run.get("jobRid"),
        "config_version": run.get("configVersion"),
        "started_by": run.get("startedBy"),
        "started_time": run.get("startedTime"),
        "build_status": build_status,
        "build_url": build_url,
        "resolved_outputs": resolved if isinstance(resolved, dict) else {},
        "model_outputs": outputs,
        "model_rid": _single_or_by_alias(outputs, "model_rid"),
        "model_version_rid": _single_or_by_alias(outputs, "model_version_rid"),
    }


def xcom_entries(result: dict[str, Any]) -> dict[str, Any]:
    """The entries pushed to XCom right after launch."""
    return {key: result[key] for key in XCOM_KEYS}


def run_from_result(result: dict[str, Any]) -> dict[str, Any]:
    """The run (``ModelStudioRun`` JSON) behind a result dict, e.g. the operator's XCom given to the sensor."""
    names = {
        "run_id": "runId",
        "build_rid": "buildRid",
        "job_rid": "jobRid",
        "config_version": "configVersion",
        "started_by": "startedBy",
        "started_time": "startedTime",
        "resolved_outputs": "resolvedOutputs",
    }
    return {camel: result[snake] for snake, camel in names.items() if result.get(snake) is not None}
