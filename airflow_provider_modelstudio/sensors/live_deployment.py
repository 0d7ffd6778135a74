"""``LiveDeploymentSensor``: wait until a live deployment serves a given model version and is ready.

Works in ``poke``, ``reschedule`` and deferrable mode, under the same wait policy as the run sensor. It fails,
without Airflow retries, when the deployment goes ``FAILED`` or ``DISABLED``, naming the deployment's state;
its timeout fails the sensor and changes nothing in Foundry. It does not promote or roll back (see
:class:`~airflow_provider_modelstudio.operators.model_versions.DeployModelVersionOperator`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_modelstudio._compat import default_deferrable
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.runs import arguments

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelstudio.deploys.serving import DeploymentFailed, ServingWatch
    from airflow_provider_modelstudio.foundry.shapes import LiveDeployment
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.runs.waiting import FailedChecks


class LiveDeploymentSensor(BaseSensorOperator):
    """Succeeds when the deployment serves ``model_version_rid`` (``ACTIVE`` and ready).

    Returns ``{"live_deployment_rid", "model_rid", "model_version_rid", "state", "is_ready"}``.

    :param live_deployment_rid: the deployment (templated)
    :param model_version_rid: the version it must serve (templated)
    :param accept_degraded: a ``DEGRADED`` deployment serving the version counts as ready
    :param foundry_conn_id: a connection of type ``foundry`` (templated)
    :param deferrable: wait in the triggerer (default: Airflow's ``[operators] default_deferrable``)
    :param retry: retry bounds of each Foundry request, plain numbers
    """

    template_fields: Sequence[str] = ("live_deployment_rid", "model_version_rid", "foundry_conn_id")
    ui_color = "#d9ead3"

    def __init__(
        self,
        *,
        live_deployment_rid: str,
        model_version_rid: str,
        accept_degraded: bool = False,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool | None = None,
        retry: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arguments.check_live_deployment_rid(live_deployment_rid, rendered=False)
        arguments.check_model_version_rid(model_version_rid, field="model_version_rid", rendered=False)
        arguments.check_conn_id(foundry_conn_id)
        self.live_deployment_rid = live_deployment_rid
        self.model_version_rid = model_version_rid
        self.accept_degraded = accept_degraded
        self.foundry_conn_id = foundry_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.retry = arguments.check_retry(retry)
        self._watch: ServingWatch | None = None
        self._failures: FailedChecks | None = None

    @cached_property
    def hook(self) -> ModelStudioHook:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        return ModelStudioHook(self.foundry_conn_id, retry=self.retry)

    def execute(self, context: Context) -> Any:
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs.errors import as_task_failure

        arguments.check_live_deployment_rid(self.live_deployment_rid, rendered=True)
        arguments.check_model_version_rid(self.model_version_rid, field="model_version_rid", rendered=True)
        try:
            if not self.deferrable:
                return super().execute(context)
            done = self.poke(context)
            if done.is_done:
                return done.xcom_value
            self._defer()
        except FoundryError as exc:
            raise as_task_failure(exc, retry_allowed=False) from exc

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_modelstudio.runs.status import Verdict
        from airflow_provider_modelstudio.runs.waiting import MAX_CONSECUTIVE_POLL_FAILURES, FailedChecks
        from airflow_provider_modelstudio.waits.kinds import LIVE_DEPLOYMENTS
        from airflow_provider_modelstudio.waits.worker import check_once

        if self._failures is None:
            self._failures = FailedChecks(MAX_CONSECUTIVE_POLL_FAILURES, f"live deployment {self.live_deployment_rid}")
        ended = check_once(LIVE_DEPLOYMENTS, self.hook, self._watching(), self._failures)
        if ended is None:
            return PokeReturnValue(is_done=False)
        view, verdict = ended
        if verdict is Verdict.FAILED:
            raise self._failed(view)
        return PokeReturnValue(is_done=True, xcom_value=self._result(view))

    def _watching(self) -> ServingWatch:
        """The watch that logs each state of the deployment once, and judges it."""
        from airflow_provider_modelstudio.deploys.serving import ServingGoal, ServingWatch

        if self._watch is None:
            goal = ServingGoal(self.model_version_rid, self.accept_degraded)
            self._watch = ServingWatch(self.live_deployment_rid, goal, self.log)
        return self._watch

    def _failed(self, view: LiveDeployment) -> DeploymentFailed:
        from airflow_provider_modelstudio.deploys.serving import DeploymentFailed

        return DeploymentFailed(
            f"Live deployment {self.live_deployment_rid} is {view.describe()}; it will not serve "
            f"{self.model_version_rid}. Look at the deployment in Foundry.",
            view,
        )

    def _result(self, view: LiveDeployment) -> dict[str, Any]:
        return {
            "live_deployment_rid": view.rid,
            "model_rid": view.model_rid,
            "model_version_rid": view.version_rid,
            "state": view.state,
            "is_ready": view.ready,
        }

    def _defer(self) -> None:
        from airflow_provider_modelstudio.runs.waiting import WaitPolicy
        from airflow_provider_modelstudio.waits.deferral import defer_wait
        from airflow_provider_modelstudio.waits.kinds import LIVE_DEPLOYMENTS

        defer_wait(
            self,
            LIVE_DEPLOYMENTS,
            self.live_deployment_rid,
            foundry_conn_id=self.foundry_conn_id,
            policy=WaitPolicy(self.poke_interval, time.time() + self.timeout if self.timeout else None),
            retry=self.retry,
            expected_version_rid=self.model_version_rid,
            accept_degraded=self.accept_degraded,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger fired: the same value, or failure, as poking."""
        from airflow_provider_modelstudio._compat import AirflowSensorTimeout
        from airflow_provider_modelstudio.deploys.events import read_deployment_event
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs.errors import as_task_failure

        try:
            payload = read_deployment_event(event)
            if payload["kind"] == "timeout":
                raise AirflowSensorTimeout(
                    f"Live deployment {self.live_deployment_rid} did not serve {self.model_version_rid} ready within "
                    f"the sensor's timeout ({payload['message']})."
                )
            view = payload["view"]
            if payload["verdict"] == "failed":
                raise self._failed(view)
            self._watching().observe(view)
            return self._result(view)
        except FoundryError as exc:
            raise as_task_failure(exc, retry_allowed=False) from exc
