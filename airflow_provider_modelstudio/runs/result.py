"""The one result shape every path returns (waited in the worker, deferred, sensed, or not waited).

Built by :func:`build_result` from a :class:`~airflow_provider_modelstudio.foundry.shapes.Run`, its build
status and the build link: the run's own fields, unchanged, plus what was learnt about it. :func:`finish`
turns a final status into that result, or into the failure that explains it.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.foundry.shapes import ModelOutput, Run, model_outputs
from airflow_provider_modelstudio.runs.errors import RunFailedError
from airflow_provider_modelstudio.runs.status import BuildStatus, Verdict, judge

XCOM_KEYS = ("run_id", "build_rid", "job_rid", "config_version", "model_version_rid", "build_url")
"""Keys pushed to XCom at launch, before any waiting."""

RUN_XCOM_KEY = "run"
"""XCom key of the launched run itself, read back when the task resumes from the triggerer."""


def _single_or_by_alias(outputs: dict[str, ModelOutput], key: str) -> Any:
    if not outputs:
        return None
    if len(outputs) == 1:
        return next(iter(outputs.values()))[key]  # type: ignore[literal-required]
    return {alias: output[key] for alias, output in outputs.items()}  # type: ignore[literal-required]


def build_result(run: Run, *, build_status: str, build_url: str, model_studio_rid: str | None) -> dict[str, Any]:
    """The task's return value.

    :param run: the run
    :param build_status: the final build status (or the current one when not waiting)
    :param build_url: link to the build in Foundry
    :param model_studio_rid: the studio the run belongs to, when known
    """
    outputs = model_outputs(run)
    return {
        "model_studio_rid": model_studio_rid,
        **run,
        "build_status": build_status,
        "build_url": build_url,
        "model_outputs": outputs,
        "model_rid": _single_or_by_alias(outputs, "model_rid"),
        "model_version_rid": _single_or_by_alias(outputs, "model_version_rid"),
    }


def xcom_entries(result: dict[str, Any]) -> dict[str, Any]:
    """The entries pushed to XCom right after launch."""
    return {key: result[key] for key in XCOM_KEYS}


def describe(run: Run, studio_rid: str | None, build_url: str) -> str:
    studio = f"Model Studio {studio_rid} " if studio_rid else ""
    return f"{studio}run {run['run_id']} (build {run['build_rid']}, {build_url})"


def finish(
    run: Run,
    status: str,
    *,
    studio_rid: str | None,
    build_url: str,
    fail_on_missing_model_output: bool,
    cancelled_because: str | None = None,
) -> dict[str, Any]:
    """The result of a run whose build reached ``status``; raises :class:`RunFailedError` unless it succeeded.

    :param run: the run
    :param status: the final build status
    :param studio_rid: the studio, for messages and the result
    :param build_url: the build link
    :param fail_on_missing_model_output: fail a succeeded run that resolved no model output
    :param cancelled_because: why this task cancelled the build, when it did
    """
    if judge(status) is Verdict.FAILED:
        raise RunFailedError(
            f"{describe(run, studio_rid, build_url)} ended {status}. {_why(status, cancelled_because)}"
        )
    result = build_result(run, build_status=status, build_url=build_url, model_studio_rid=studio_rid)
    if fail_on_missing_model_output and not result["model_outputs"]:
        raise RunFailedError(
            f"{describe(run, studio_rid, build_url)} SUCCEEDED but resolved no model output, so there is no model "
            "version RID to hand downstream. Check the studio's output configuration, or pass "
            "fail_on_missing_model_output=False."
        )
    return result


def _why(status: str, cancelled_because: str | None) -> str:
    if cancelled_because:
        return f"This task cancelled it because {cancelled_because}."
    if status == BuildStatus.CANCELED:
        return (
            "This try of the task did not cancel it: a person or system in Foundry did, or an earlier try of this "
            "task that was killed. The task is not retried automatically; open the build link to see who."
        )
    return (
        "Foundry judged this run; the task is not retried automatically (launching the same configuration again "
        "would most likely fail the same way). Open the build link for the logs."
    )
