"""``ModelStudioRunSensor``: wait for a Model Studio run that another task launched.

Give it the launching task's result (``run=launch.output``) or a ``build_rid`` (with ``model_studio_rid``
and ``run_id`` to fetch the run's model outputs). Works in ``poke``, ``reschedule`` and deferrable mode;
every mode returns the same dict as :class:`LaunchModelStudioOperator`. The sensor does not own the run:
its timeout fails the sensor but leaves the build running.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_modelstudio._compat import default_deferrable
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.links.foundry import FoundryBuildLink
from airflow_provider_modelstudio.runs import arguments

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.runs.lifecycle import StatusWatch


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
        if build_rid is not None:
            arguments.check_build_rid(build_rid, field="build_rid", rendered=False)
        arguments.check_conn_id(foundry_conn_id)
        self.run = run
        self.build_rid = build_rid
        self.model_studio_rid = model_studio_rid
        self.run_id = run_id
        self.foundry_conn_id = foundry_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.fail_on_missing_model_output = fail_on_missing_model_output
        self.retry_on_run_failure = retry_on_run_failure
        self.retry = retry
        self._watch: StatusWatch | None = None
        self.foundry_build_url: str | None = None

    def hook(self) -> ModelStudioHook:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        return ModelStudioHook(self.foundry_conn_id, retry=self.retry)

    def _target(self) -> tuple[dict[str, Any], str | None]:
        """The run (as far as known) and its studio, from the rendered arguments."""
        from airflow_provider_modelstudio.runs.result import run_from_result

        if self.run is not None:
            if not isinstance(self.run, dict) or not self.run.get("build_rid"):
                raise FoundryConfigError(
                    f"run={self.run!r} is not a LaunchModelStudioOperator result; pass run=launch.output, or "
                    "build_rid=..."
                )
            return run_from_result(self.run), self.run.get("model_studio_rid") or self.model_studio_rid
        arguments.check_build_rid(self.build_rid, field="build_rid", rendered=True)
        return {"buildRid": self.build_rid}, self.model_studio_rid

    def execute(self, context: Context) -> Any:
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs import lifecycle

        self.foundry_build_url = ""
        try:
            if not self.deferrable:
                return super().execute(context)
            done = self.poke(context)
            if isinstance(done, PokeReturnValue) and done.is_done:
                return done.xcom_value
            self._defer()
        except FoundryError as exc:
            raise lifecycle.as_task_failure(exc, retry_allowed=self.retry_on_run_failure) from exc

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs import lifecycle
        from airflow_provider_modelstudio.runs.status import Verdict

        run, studio = self._target()
        hook = self.hook()
        build_rid = str(run["buildRid"])
        build_url = self.foundry_build_url = hook.build_url(build_rid)
        context["ti"].xcom_push(key="build_url", value=build_url)
        if self._watch is None:
            self._watch = lifecycle.StatusWatch(build_rid, build_url, self.poke_interval, self.log)
        try:
            status = hook.get_build(build_rid).get("status")
        except FoundryError as exc:
            if not lifecycle.is_transient(exc):
                raise
            self.log.warning("Status check of build %s failed (%s); will check again.", build_rid, exc)
            return PokeReturnValue(is_done=False)
        if self._watch.observe(status) is Verdict.WAIT:
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._finish(hook, run, studio, str(status), build_url))

    def _finish(
        self, hook: ModelStudioHook, run: dict[str, Any], studio: str | None, status: str, build_url: str
    ) -> dict[str, Any]:
        from airflow_provider_modelstudio.runs import lifecycle

        if self.run_id is not None and studio is not None and "resolvedOutputs" not in run:
            found = [r for r in hook.list_model_studio_runs(studio) if r.get("runId") == self.run_id]
            if not found:
                raise FoundryConfigError(f"run_id={self.run_id!r} is not a run of {studio}.")
            run = found[0]
        try:
            return lifecycle.finish(
                run,
                status,
                studio_rid=studio,
                build_url=build_url,
                fail_on_missing_model_output=self.fail_on_missing_model_output,
            )
        except lifecycle.RunFailedError as exc:
            raise lifecycle.as_task_failure(exc, retry_allowed=self.retry_on_run_failure) from exc

    def _defer(self) -> None:
        import time

        from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger

        run, studio = self._target()
        self.defer(
            trigger=ModelStudioRunTrigger(
                build_rid=str(run["buildRid"]),
                foundry_conn_id=self.foundry_conn_id,
                poll_interval=self.poke_interval,
                deadline=time.time() + self.timeout if self.timeout else None,
                run=run,
                model_studio_rid=studio,
                retry=self.retry,
                cancel_on_kill=False,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger fired: the same value, or failure, as poking."""
        from airflow_provider_modelstudio._compat import AirflowSensorTimeout
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs import lifecycle
        from airflow_provider_modelstudio.runs.events import event_error, read_event

        try:
            payload = read_event(event)
            self.foundry_build_url = payload["build_url"]
            if payload["kind"] == "timeout":
                raise AirflowSensorTimeout(
                    f"Build {payload['build_rid']} was not final within the sensor's timeout; it was left "
                    f"running. {payload['build_url']}"
                )
            if payload["kind"] == "error":
                raise event_error(payload)
            return self._finish(
                self.hook(), payload["run"], payload["model_studio_rid"], payload["status"], payload["build_url"]
            )
        except FoundryError as exc:
            raise lifecycle.as_task_failure(exc, retry_allowed=self.retry_on_run_failure) from exc
