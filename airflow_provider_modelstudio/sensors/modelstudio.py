"""``ModelStudioRunSensor``: wait for a Model Studio run that another task launched.

Give it the launching task's result (``run=launch.output``) or a ``build_rid`` (with ``model_studio_rid``
and ``run_id`` to fetch the run's model outputs). Works in ``poke``, ``reschedule`` and deferrable mode;
every mode returns the same dict as :class:`LaunchModelStudioOperator` and gives up after the same number of
failed checks in a row (in ``reschedule`` mode the count starts again with each poke's process). The sensor
does not own the run: its timeout fails the sensor but leaves the build running.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_modelstudio._compat import default_deferrable
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.links.foundry import BUILD_URL_XCOM_KEY, FoundryBuildLink
from airflow_provider_modelstudio.runs import arguments

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelstudio.foundry.shapes import Run
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.runs.progress import StatusWatch
    from airflow_provider_modelstudio.runs.waiting import FailedChecks, WaitPolicy


class ModelStudioRunSensor(BaseSensorOperator):
    """Succeeds when the run's build SUCCEEDED; fails, without retries, when it ended FAILED or CANCELED.

    :param run: the launching task's result (``launch.output``), or None when ``build_rid`` is given (templated)
    :param build_rid: the run's build (templated)
    :param model_studio_rid: with ``run_id``, used to look up the run's outputs (templated)
    :param run_id: the run id within the studio (templated)
    :param foundry_conn_id: a connection of type ``foundry`` (templated)
    :param deferrable: wait in the triggerer (default: Airflow's ``[operators] default_deferrable``)
    :param fail_on_missing_model_output: fail when the run succeeded without a model output
    :param retry_on_run_failure: let Airflow retry the sensor when the run failed
    :param status_log_interval: seconds between "still running" log lines at first (growing with the run's
        age); 0 logs status changes only
    :param retry: retry bounds of each Foundry request, plain numbers
    """

    template_fields: Sequence[str] = ("run", "build_rid", "model_studio_rid", "run_id", "foundry_conn_id")
    operator_extra_links = (FoundryBuildLink(),)
    ui_color = "#d5e5f6"

    def __init__(
        self,
        *,
        run: Any = None,
        build_rid: str | None = None,
        model_studio_rid: str | None = None,
        run_id: str | None = None,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool | None = None,
        fail_on_missing_model_output: bool = True,
        retry_on_run_failure: bool = False,
        status_log_interval: float = 60.0,
        retry: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (run is None) == (build_rid is None):
            raise FoundryConfigError(
                "ModelStudioRunSensor needs exactly one of run=<the launching task's output> or build_rid=...; "
                f"got run={run!r}, build_rid={build_rid!r}."
            )
        if run_id is not None and model_studio_rid is None:
            raise FoundryConfigError(f"run_id={run_id!r} needs model_studio_rid too, to look the run up.")
        if run is not None:
            arguments.check_run(run, rendered=False)
        if build_rid is not None:
            arguments.check_build_rid(build_rid, field="build_rid", rendered=False)
        if model_studio_rid is not None:
            arguments.check_studio_rid(model_studio_rid, rendered=False)
        if run_id is not None:
            arguments.check_text("run_id", run_id)
        arguments.check_conn_id(foundry_conn_id)
        self.run = run
        self.build_rid = build_rid
        self.model_studio_rid = model_studio_rid
        self.run_id = run_id
        self.foundry_conn_id = foundry_conn_id
        deferrable = arguments.check_optional_flag("deferrable", deferrable)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.fail_on_missing_model_output = arguments.check_flag(
            "fail_on_missing_model_output", fail_on_missing_model_output
        )
        self.retry_on_run_failure = arguments.check_flag("retry_on_run_failure", retry_on_run_failure)
        self.status_log_interval = arguments.check_non_negative_seconds("status_log_interval", status_log_interval)
        self.retry = arguments.check_retry(retry)
        self._watch: StatusWatch | None = None
        self._failures: FailedChecks | None = None
        self.foundry_build_url: str | None = None

    @cached_property
    def hook(self) -> ModelStudioHook:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        return ModelStudioHook(self.foundry_conn_id, retry=self.retry)

    def _target(self) -> tuple[Run, str | None]:
        """The run (as far as known) and its studio, from the rendered arguments."""
        from airflow_provider_modelstudio.foundry.shapes import Run

        if self.run is not None:
            return arguments.read_run(self.run), self.run.get("model_studio_rid") or self.model_studio_rid
        arguments.check_build_rid(self.build_rid, field="build_rid", rendered=True)
        if self.model_studio_rid is not None:
            arguments.check_studio_rid(self.model_studio_rid, rendered=True)
        bare = Run(
            run_id=self.run_id,
            build_rid=str(self.build_rid),
            job_rid=None,
            config_version=None,
            started_by=None,
            started_time=None,
            build_status=None,
            resolved_outputs={},
        )
        return bare, self.model_studio_rid

    def _policy(self) -> WaitPolicy:
        from airflow_provider_modelstudio.runs.waiting import WaitPolicy

        deadline = time.time() + self.timeout if self.timeout else None
        return WaitPolicy(self.poke_interval, deadline, heartbeat=self.status_log_interval)

    def execute(self, context: Context) -> Any:
        from airflow_provider_modelstudio._compat import AirflowFailException
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs.errors import as_task_failure

        self.foundry_build_url = ""
        try:
            if not self.deferrable:
                return super().execute(context)
            done = self.poke(context)
            if done.is_done:
                return done.xcom_value
            self._defer()
        except FoundryError as exc:
            raise as_task_failure(exc, retry_allowed=self.retry_on_run_failure) from None
        except AirflowFailException as exc:  # a run failure, judged in poke (see _finish): without poke's frames
            raise exc.with_traceback(None) from None

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_modelstudio.foundry.shapes import epoch_seconds
        from airflow_provider_modelstudio.runs.progress import StatusWatch
        from airflow_provider_modelstudio.runs.waiting import FailedChecks
        from airflow_provider_modelstudio.waits.kinds import BUILDS
        from airflow_provider_modelstudio.waits.worker import check_once

        run, studio = self._target()
        build_rid = run["build_rid"]
        build_url = self.foundry_build_url = self.hook.build_url(build_rid)
        context["ti"].xcom_push(key=BUILD_URL_XCOM_KEY, value=build_url)
        if self._watch is None or self._failures is None:
            policy = self._policy()
            self._watch = StatusWatch(
                build_rid,
                build_url,
                policy.poll_interval,
                self.log,
                started_at=epoch_seconds(run["started_time"]),
                heartbeat=policy.heartbeat,
            )
            self._failures = FailedChecks(policy.max_consecutive_failures, f"build {build_rid}")
        ended = check_once(BUILDS, self.hook, self._watch, self._failures)
        if ended is None:
            return PokeReturnValue(is_done=False)
        status, _verdict = ended
        return PokeReturnValue(is_done=True, xcom_value=self._finish(run, studio, status, build_url))

    def _finish(self, run: Run, studio: str | None, status: str, build_url: str) -> dict[str, Any]:
        from airflow_provider_modelstudio.runs.errors import RunFailedError, as_task_failure
        from airflow_provider_modelstudio.runs.progress import report_success
        from airflow_provider_modelstudio.runs.result import finish

        if self.run_id is not None and studio is not None and self.run is None:
            runs = self.hook.list_model_studio_runs(studio)
            found = [candidate for candidate in runs if candidate["run_id"] == self.run_id]
            if not found:
                raise FoundryConfigError(f"run_id={self.run_id!r} is not a run of {studio}.")
            run = found[0]
        try:
            result = finish(
                run,
                status,
                studio_rid=studio,
                build_url=build_url,
                fail_on_missing_model_output=self.fail_on_missing_model_output,
            )
        except RunFailedError as exc:
            # Raised here rather than left to execute(): a FoundryError out of poke would be swallowed by
            # silent_fail=True and poked again forever.
            raise as_task_failure(exc, retry_allowed=self.retry_on_run_failure) from None
        report_success(self.log, result, self.hook.settings.model_version_url)
        return result

    def _defer(self) -> None:
        from airflow_provider_modelstudio.foundry.shapes import epoch_seconds
        from airflow_provider_modelstudio.waits.deferral import defer_wait
        from airflow_provider_modelstudio.waits.kinds import BUILDS

        run, _studio = self._target()
        defer_wait(
            self,
            BUILDS,
            run["build_rid"],
            foundry_conn_id=self.foundry_conn_id,
            policy=self._policy(),
            retry=self.retry,
            started_at=epoch_seconds(run["started_time"]),
            cancel_on_kill=False,
            keep_for_next_try=False,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger fired: the same value, or failure, as poking."""
        from airflow_provider_modelstudio._compat import AirflowSensorTimeout
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs.errors import as_task_failure
        from airflow_provider_modelstudio.runs.events import resumed

        try:
            payload = resumed(event)
            build_url = self.foundry_build_url = self.hook.build_url(payload["build_rid"])
            if payload["kind"] == "timeout":
                raise AirflowSensorTimeout(
                    f"Build {payload['build_rid']} was not final within the sensor's timeout; it was left "
                    f"running. {build_url}"
                )
            run, studio = self._target()
            return self._finish(run, studio, payload["status"], build_url)
        except FoundryError as exc:
            raise as_task_failure(exc, retry_allowed=self.retry_on_run_failure) from None
