"""``LaunchModelStudioOperator``: start a Model Studio training run and, optionally, wait for it.

The run is pushed to XCom as soon as it exists, so a task that fails or is killed later still tells
which run it started. Waiting happens in the worker or, with ``deferrable=True``, in the triggerer; both
return the same result. A retry of a task whose worker died reattaches to the running build (Airflow 3.3+
task state store, or ``reattach_to_running_run=True`` before that) instead of launching again.
Heavy modules (the hook, ``requests``) are imported only when the task runs, not when DAGs are parsed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_modelstudio._compat import default_deferrable
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.links.foundry import FoundryBuildLink
from airflow_provider_modelstudio.runs import arguments

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

CANCEL_RETRY = {"max_attempts": 2, "backoff_initial": 0.5, "backoff_max": 1.0, "max_elapsed": 10.0}


class LaunchModelStudioOperator(BaseOperator):
    """Launch a training run of a Foundry Model Studio with its latest configuration.

    Pushes ``run_id``, ``build_rid``, ``job_rid``, ``config_version``, ``model_version_rid`` and ``build_url``
    to XCom at launch, and returns the run's result dict (``model_version_rid``, ``build_status``, ...).

    :param model_studio_rid: the studio, ``ri.models.<instance>.model-studio.<locator>`` (templated)
    :param foundry_conn_id: a connection of type ``foundry`` (templated)
    :param wait_for_completion: wait until the run's build is final; otherwise return right after launch
    :param deferrable: wait in the triggerer, freeing the worker slot (default: Airflow's
        ``[operators] default_deferrable``)
    :param poll_interval: seconds between status checks
    :param timeout: seconds to wait for the run before cancelling it (when ``cancel_on_kill``) and failing;
        None waits without limit. Separate from ``execution_timeout``, which is honoured too.
    :param cancel_on_kill: cancel the build when the task is killed or times out
    :param fail_on_missing_model_output: fail a run that succeeded without a model output
    :param retry_on_run_failure: let Airflow retry (relaunch) when the run ends FAILED/CANCELED or times out
    :param reattach_to_running_run: on Airflow < 3.3, let a retried task adopt the studio's newest running
        run instead of launching (3.3+ does this exactly, through the task state store)
    :param retry: retry bounds of each Foundry request, plain numbers (see ``RetryPolicy``)
    """

    template_fields: Sequence[str] = ("model_studio_rid", "foundry_conn_id")
    operator_extra_links = (FoundryBuildLink(),)
    ui_color = "#c2d9f2"

    def __init__(
        self,
        *,
        model_studio_rid: str,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = 30.0,
        timeout: float | timedelta | None = None,
        cancel_on_kill: bool = True,
        fail_on_missing_model_output: bool = True,
        retry_on_run_failure: bool = False,
        reattach_to_running_run: bool = False,
        retry: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arguments.check_studio_rid(model_studio_rid, rendered=False)
        arguments.check_conn_id(foundry_conn_id)
        self.model_studio_rid = model_studio_rid
        self.foundry_conn_id = foundry_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = arguments.check_seconds("poll_interval", poll_interval)
        self.timeout = arguments.check_optional_seconds("timeout", timeout)
        self.cancel_on_kill = cancel_on_kill
        self.fail_on_missing_model_output = fail_on_missing_model_output
        self.retry_on_run_failure = retry_on_run_failure
        self.reattach_to_running_run = reattach_to_running_run
        self.retry = retry
        self._active_build_rid: str | None = None
        self._launched_build_rid: str | None = None
        self.foundry_build_url: str | None = None

    def hook(self) -> ModelStudioHook:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        return ModelStudioHook(self.foundry_conn_id, retry=self.retry)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_modelstudio.foundry.errors import FoundryError

        try:
            return self._execute(context)
        except FoundryError as exc:
            raise self._task_failure(exc, context, build_rid=self._launched_build_rid) from exc

    def _task_failure(self, exc: Exception, context: Context, *, build_rid: str | None) -> BaseException:
        """The exception the task raises; gives up on (and cancels) a run that a retry could not reattach to.

        :param build_rid: the run's build, None when nothing was launched
        """
        from airflow_provider_modelstudio._compat import AirflowFailException
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs import lifecycle

        assert isinstance(exc, FoundryError)
        can_reattach = context.get("task_state_store") is not None or self.reattach_to_running_run
        if build_rid is None or can_reattach or not lifecycle.is_transient(exc):
            return lifecycle.as_task_failure(exc, retry_allowed=self.retry_on_run_failure)
        outcome = self._cancel(build_rid) if self.cancel_on_kill else "left running (cancel_on_kill=False)"
        self._active_build_rid = None
        failure = AirflowFailException(
            f"{exc} A retry of this task could not reattach to the run (Airflow < 3.3 without "
            f"reattach_to_running_run=True) and would launch a second one, so the task is not retried; the "
            f"build was {outcome}."
        )
        failure.__cause__ = exc
        return failure

    def _execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_modelstudio.runs import lifecycle
        from airflow_provider_modelstudio.runs.result import build_result, xcom_entries
        from airflow_provider_modelstudio.runs.status import Verdict, judge

        self.foundry_build_url = ""
        arguments.check_studio_rid(self.model_studio_rid, rendered=True)
        hook = self.hook()
        run, status = self._launch_or_reattach(context, hook)
        build_rid = str(run["buildRid"])
        self._active_build_rid = build_rid
        self._launched_build_rid = build_rid
        build_url = self.foundry_build_url = hook.build_url(build_rid)
        launched = build_result(run, build_status=status, build_url=build_url, model_studio_rid=self.model_studio_rid)
        for key, value in xcom_entries(launched).items():
            context["ti"].xcom_push(key=key, value=value)
        self.log.info(
            "Run %s of %s (config version %s), build %s: %s",
            run.get("runId"),
            self.model_studio_rid,
            run.get("configVersion"),
            build_rid,
            build_url,
        )
        if not self.wait_for_completion:
            self._active_build_rid = None
            return launched
        watch = lifecycle.StatusWatch(build_rid, build_url, self.poll_interval, self.log)
        if judge(status) is Verdict.WAIT:
            status = str(hook.get_build(build_rid).get("status"))
        if watch.observe(status) is Verdict.WAIT:
            deadline = self._deadline(context)
            if self.deferrable:
                self._defer(run, deadline)
            try:
                status = lifecycle.wait_in_worker(hook, build_rid, watch, deadline=deadline)
            except lifecycle.RunTimedOutError as exc:
                raise self._timed_out(hook, build_rid, build_url) from exc
        self._active_build_rid = None
        return self._finish(run, status, build_url)

    def _launch_or_reattach(self, context: Context, hook: ModelStudioHook) -> tuple[dict[str, Any], str]:
        from airflow_provider_modelstudio.runs import lifecycle

        remembered = lifecycle.remembered_run(context)
        if remembered is None and self.reattach_to_running_run and "task_state_store" not in context:
            remembered = lifecycle.running_run_of_studio(hook, self.model_studio_rid)
        if remembered is not None:
            status = lifecycle.reattachable(hook, remembered)
            if status is not None:
                self.log.warning(
                    "Reattaching to run %s (build %s is %s) launched by an earlier try; not launching again.",
                    remembered.get("runId"),
                    remembered.get("buildRid"),
                    status,
                )
                return remembered, status
            self.log.info("The run of an earlier try (%s) ended; launching a new one.", remembered.get("runId"))
        run = hook.launch_model_studio(self.model_studio_rid)
        lifecycle.remember_run(context, run)
        return run, str(run.get("buildStatus") or "RUNNING")

    def _deadline(self, context: Context) -> float | None:
        """The earlier of ``timeout`` and ``execution_timeout`` (a little before it, so the run is cancelled)."""
        deadlines = [time.time() + self.timeout] if self.timeout else []
        ti = context.get("ti")
        start = getattr(ti, "start_date", None)
        if self.execution_timeout and start is not None:
            limit = self.execution_timeout.total_seconds()
            deadlines.append(start.timestamp() + limit - min(30.0, limit * 0.05))
        return min(deadlines, default=None)

    def _defer(self, run: dict[str, Any], deadline: float | None) -> None:
        from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger

        self.defer(
            trigger=ModelStudioRunTrigger(
                build_rid=str(run["buildRid"]),
                foundry_conn_id=self.foundry_conn_id,
                poll_interval=self.poll_interval,
                deadline=deadline,
                run=run,
                model_studio_rid=self.model_studio_rid,
                retry=self.retry,
                cancel_on_kill=self.cancel_on_kill,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: the same result, or the same failure, as waiting in the worker."""
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs.events import event_error, read_event

        try:
            payload = read_event(event)
            self.foundry_build_url = payload["build_url"]
            if payload["kind"] == "timeout":
                raise self._timed_out(self.hook(), payload["build_rid"], payload["build_url"])
            if payload["kind"] == "error":
                raise event_error(payload)
            return self._finish(payload["run"], payload["status"], payload["build_url"])
        except FoundryError as exc:
            build_rid = event.get("build_rid") if isinstance(event, dict) else None
            raise self._task_failure(exc, context, build_rid=build_rid if isinstance(build_rid, str) else None) from exc

    def _finish(self, run: dict[str, Any], status: str, build_url: str) -> dict[str, Any]:
        from airflow_provider_modelstudio.runs import lifecycle

        return lifecycle.finish(
            run,
            status,
            studio_rid=self.model_studio_rid,
            build_url=build_url,
            fail_on_missing_model_output=self.fail_on_missing_model_output,
        )

    def _timed_out(self, hook: ModelStudioHook, build_rid: str, build_url: str) -> Exception:
        from airflow_provider_modelstudio.runs.lifecycle import RunTimedOutError

        outcome = self._cancel(build_rid, hook) if self.cancel_on_kill else "left running (cancel_on_kill=False)"
        self._active_build_rid = None
        return RunTimedOutError(
            f"Run of {self.model_studio_rid} (build {build_rid}) did not finish within the wait's timeout; the "
            f"build was {outcome}. {build_url}"
        )

    def _cancel(self, build_rid: str, hook: ModelStudioHook | None = None) -> str:
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        try:
            (hook or ModelStudioHook(self.foundry_conn_id, retry=CANCEL_RETRY)).cancel_build(build_rid)
        except FoundryError as exc:
            self.log.warning("Cancelling build %s failed: %s", build_rid, exc)
            return f"NOT cancelled ({exc}); cancel it in Foundry"
        self.log.info("Asked Foundry to cancel build %s.", build_rid)
        return "cancelled"

    def on_kill(self) -> None:
        """Cancel the build the worker is waiting on (best effort, short timeout)."""
        if self._active_build_rid and self.cancel_on_kill:
            self._cancel(self._active_build_rid)
            self._active_build_rid = None
