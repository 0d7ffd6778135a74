"""Model Studio runs, read from ``ModelStudioRun`` answers.

A run is a ``TypedDict``, not a dataclass like the other shapes: it travels as it is in task results (XCom)
and trigger events. A run must have a build to follow; RIDs are checked as strictly as users' RIDs (see
:func:`~airflow_provider_modelstudio.foundry.rids.answered_rid`): a run whose ``buildRid`` or model output RIDs
are not RIDs of their kind is refused, never used or announced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict, cast

from airflow_provider_modelstudio.foundry.answers import quoted
from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.rids import BUILD, EXPERIMENT, MODEL, MODEL_VERSION, RidKind, answered_rid


class ModelOutput(TypedDict):
    """One model output a run resolved."""

    model_rid: str | None
    model_version_rid: str | None
    experiment_rid: str | None


class Run(TypedDict):
    """A Model Studio run (``ModelStudioRun``).

    ``resolved_outputs`` keeps Foundry's map as it came (outputs of types this provider does not know
    included); :func:`model_outputs` reads the model outputs from it.
    """

    run_id: str | None
    build_rid: str
    job_rid: str | None
    config_version: int | None
    started_by: str | None
    started_time: str | None
    build_status: str | None
    resolved_outputs: dict[str, Any]


RUN_KEYS = tuple(Run.__annotations__)


def read_run(answer: Any, *, what: str) -> Run:
    """A :class:`Run` from a ``ModelStudioRun`` answer; raises :class:`FoundryError` without a build RID.

    :param answer: the parsed JSON
    :param what: the request, for the message (e.g. ``"the launch of ri.models...."``)
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("buildRid"), str) or not answer["buildRid"]:
        raise FoundryError(
            f"Foundry answered {what} without a buildRid to follow: {answer!r:.300}. Check the studio's runs in "
            "Foundry; a newer API version may have changed the answer."
        )
    outputs = answer.get("resolvedOutputs")
    version = answer.get("configVersion")
    return Run(
        run_id=_text(answer.get("runId")),
        build_rid=answered_rid(answer["buildRid"], BUILD, field="buildRid", what=what),
        job_rid=_text(answer.get("jobRid")),
        config_version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        started_by=_text(answer.get("startedBy")),
        started_time=_text(answer.get("startedTime")),
        build_status=_text(answer.get("buildStatus")),
        resolved_outputs=outputs if isinstance(outputs, dict) else {},
    )


def read_runs(items: list[Any], *, what: str) -> list[Run]:
    """The runs of a listing; entries without a build to follow are left out (they cannot be waited on)."""
    runs = []
    for item in items:
        try:
            runs.append(read_run(item, what=what))
        except FoundryError:
            continue
    return runs


def run_of(mapping: Any) -> Run | None:
    """The :class:`Run` inside a task result (or any mapping with its keys), None when it has no build.

    A run in Foundry's form (as 0.1.0 kept it in the task state store) is read as :func:`read_run` reads it.
    """
    if isinstance(mapping, dict) and "buildRid" in mapping:
        try:
            return read_run(mapping, what="a stored run")
        except FoundryError:
            return None
    if not isinstance(mapping, dict) or not isinstance(mapping.get("build_rid"), str) or not mapping["build_rid"]:
        return None
    run = {key: mapping.get(key) for key in RUN_KEYS}
    if not isinstance(run["resolved_outputs"], dict):
        run["resolved_outputs"] = {}
    return cast(Run, run)


def model_outputs(run: Run) -> dict[str, ModelOutput]:
    """The run's model outputs by alias; outputs of other (future) types are skipped, not crashed on.

    :raises FoundryAnswerError: when an output's model, version or experiment RID is not a RID of its kind
    """
    found: dict[str, ModelOutput] = {}
    for alias, output in run["resolved_outputs"].items():
        if isinstance(output, dict) and output.get("type") == "model":
            found[alias] = ModelOutput(
                model_rid=_output_rid(output, "modelRid", MODEL, alias),
                model_version_rid=_output_rid(output, "modelVersionRid", MODEL_VERSION, alias),
                experiment_rid=_output_rid(output, "experimentRid", EXPERIMENT, alias),
            )
    return found


def _output_rid(output: dict[str, Any], key: str, kind: RidKind, alias: str) -> str | None:
    value = output.get(key)
    if value is None:
        return None
    return answered_rid(value, kind, field=f"resolvedOutputs[{quoted(alias, limit=50)}].{key}", what="a run")


def epoch_seconds(timestamp: str | None) -> float | None:
    """UNIX time of an ISO-8601 timestamp such as ``startedTime``; None when absent or unreadable."""
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
