"""Checks of task arguments shared by the operator and the sensor: at DAG parse time for literal values,
at execute time for values known only then (Jinja templates, another task's output, DAG params). Each error
names the argument, the value and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.rids import (
    BUILD,
    LIVE_DEPLOYMENT,
    MODEL,
    MODEL_STUDIO,
    MODEL_VERSION,
    validate_rid,
)

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.shapes import Run


def is_template(value: Any) -> bool:
    """Whether a value will only be known when the task runs: a Jinja template, or something Airflow resolves
    then (``other_task.output``, ``dag.param(...)``)."""
    from airflow.sdk.definitions._internal.mixins import ResolveMixin

    return isinstance(value, ResolveMixin) or (isinstance(value, str) and ("{{" in value or "{%" in value))


def check_flag(name: str, value: Any) -> bool:
    """``True`` or ``False``, nothing else: the string ``"false"`` would otherwise count as true."""
    if not isinstance(value, bool):
        raise FoundryConfigError(f"{name}={value!r} must be True or False (a bool, not {type(value).__name__}).")
    return value


def check_optional_flag(name: str, value: Any) -> bool | None:
    """Like :func:`check_flag`, None allowed (the default applies)."""
    if value is None:
        return None
    try:
        return check_flag(name, value)
    except FoundryConfigError as exc:
        raise FoundryConfigError(f"{exc} Or None for the default.") from None


def check_seconds(name: str, value: Any) -> float:
    """A positive number of seconds (a ``timedelta`` is accepted too)."""
    if hasattr(value, "total_seconds"):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise FoundryConfigError(f"{name}={value!r} must be a positive number of seconds, e.g. {name}=60.")
    return float(value)


def check_non_negative_seconds(name: str, value: Any) -> float:
    """Zero or a positive number of seconds (zero turns the feature off)."""
    if value == 0 and not isinstance(value, bool):
        return 0.0
    try:
        return check_seconds(name, value)
    except FoundryConfigError as exc:
        raise FoundryConfigError(f"{exc} Or 0 to turn it off.") from None


def check_retry(value: Any) -> dict[str, Any] | None:
    """Retry bounds as a plain dict (so they survive trigger serialisation), checked when the DAG is parsed."""
    from airflow_provider_modelstudio.foundry.retry import RetryPolicy

    if value is None:
        return None
    try:
        return RetryPolicy.from_value(value).to_dict()
    except FoundryConfigError as exc:
        raise FoundryConfigError(
            f"retry={value!r}: {exc}. Pass a dict such as "
            '{"max_attempts": 5, "backoff_initial": 0.5, "backoff_max": 30, "max_elapsed": 120}.'
        ) from None


def check_optional_seconds(name: str, value: Any) -> float | None:
    """Like :func:`check_seconds`, None allowed (no limit)."""
    if value is None:
        return None
    try:
        return check_seconds(name, value)
    except FoundryConfigError as exc:
        raise FoundryConfigError(f"{exc} Or None for no limit.") from None


def check_studio_rid(value: Any, *, rendered: bool) -> None:
    """Validate ``model_studio_rid`` unless it is still an unrendered template."""
    if rendered or not is_template(value):
        validate_rid(value, MODEL_STUDIO, field="model_studio_rid")


def check_build_rid(value: Any, *, field: str, rendered: bool) -> None:
    if rendered or not is_template(value):
        validate_rid(value, BUILD, field=field)


def check_live_deployment_rid(value: Any, *, rendered: bool) -> None:
    if rendered or not is_template(value):
        validate_rid(value, LIVE_DEPLOYMENT, field="live_deployment_rid")


def check_model_rid(value: Any, *, field: str, rendered: bool) -> None:
    if rendered or not is_template(value):
        validate_rid(value, MODEL, field=field)


def check_model_version_rid(value: Any, *, field: str, rendered: bool) -> None:
    if rendered or not is_template(value):
        validate_rid(value, MODEL_VERSION, field=field)


def read_run(value: Any) -> Run:
    """The run inside a sensor's ``run`` argument (a ``LaunchModelStudioOperator`` result)."""
    from airflow_provider_modelstudio.foundry.shapes import run_of

    run = run_of(value)
    if run is None:
        raise FoundryConfigError(
            f"run={value!r:.200} is not a LaunchModelStudioOperator result; pass run=launch.output, or build_rid=..."
        )
    return run


def check_run(value: Any, *, rendered: bool) -> None:
    """Validate a sensor's ``run`` unless it is known only when the task runs."""
    if rendered or not is_template(value):
        read_run(value)


def check_text(name: str, value: Any) -> None:
    """A non-empty string (or a value known only when the task runs)."""
    if not is_template(value) and (not isinstance(value, str) or not value.strip()):
        raise FoundryConfigError(f"{name}={value!r} must be a non-empty string.")


def check_conn_id(value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise FoundryConfigError(
            f"foundry_conn_id={value!r} must name an Airflow connection of type 'foundry', e.g. 'foundry_default'."
        )
