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
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_modelstudio._compat import default_deferrable
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.lineage import ModelVersionLineage, training_lineage
from airflow_provider_modelstudio.links.foundry import FoundryBuildLink
from airflow_provider_modelstudio.runs import arguments

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelstudio.foundry.shapes import Run
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.runs.configuration import Configuration
    from airflow_provider_modelstudio.runs.waiting import WaitPolicy

CANCEL_RETRY = {"max_attempts": 2, "backoff_initial": 0.5, "backoff_max": 1.0, "max_elapsed": 10.0}
DEFAULT_POLL_INTERVAL = 30.0
"""Seconds between status checks unless given: training runs take minutes to hours."""
LOCAL_POLL_INTERVAL = 1.0
"""The default against a plain-http loopback host: only the local emulator is reached that way, and its runs
take seconds, so a 30 s interval would make a 5 s run take 30."""


class LaunchModelStudioOperator(BaseOperator, ModelVersionLineage):
    """Launch a training run of a Foundry Model Studio with its latest configuration.

    Pushes ``run_id``, ``build_rid``, ``job_rid``, ``config_version``, ``model_version_rid``, ``build_url``
    and the whole ``run`` to XCom at launch, and returns the run's result dict (``model_version_rid``,
    ``build_status``, ...).

    :param model_studio_rid: the studio, ``ri.models.<instance>.model-studio.<locator>`` (templated)
    :param foundry_conn_id: a connection of type ``foundry`` (templated)
    :param wait_for_completion: wait until the run's build is final; otherwise return right after launch
    :param deferrable: wait in the triggerer, freeing the worker slot (default: Airflow's
        ``[operators] default_deferrable``)
    :param poll_interval: seconds between status checks; None: :data:`DEFAULT_POLL_INTERVAL`, or
        :data:`LOCAL_POLL_INTERVAL` when the connection's host is ``http://`` on loopback (the local emulator)
    :param timeout: seconds to wait for the run before cancelling it (when ``cancel_on_kill``) and failing;
        None waits without limit. Separate from ``execution_timeout``, which is honoured too.
    :param cancel_on_kill: cancel the build when the task is killed, marked failed, times out or gives up
    :param fail_on_missing_model_output: fail a run that succeeded without a model output
    :param retry_on_run_failure: let Airflow retry (relaunch) when the run ends FAILED/CANCELED or times out
    :param reattach_to_running_run: on Airflow < 3.3, let a retried task adopt the studio's newest running
        run instead of launching (3.3+ does this exactly, through the task state store)
    :param status_log_interval: seconds between "still running" log lines at first; they grow sparser as the
        run ages (a fifth of its age); 0 logs status changes only
    :param retry: retry bounds of each Foundry request, plain numbers (see ``RetryPolicy``)
    :param custom_config: train with these keys of the trainer's custom configuration set (checked against the
        trainer's schema before anything is created); with any of the next four, the launch creates the studio's
        next configuration version from its latest and launches that (see
        :mod:`airflow_provider_modelstudio.runs.configuration`)
    :param training_resources: train with these resources set (``memory``, ``cpu``, ``gpu``; ``resources`` is
        Airflow's own argument)
    :param input_datasets: train on these dataset RIDs, by input alias of the latest configuration
    :param config_name: the new configuration version's name
    :param changelog: the new configuration version's changelog
    """

    template_fields: Sequence[str] = (
        "model_studio_rid",
        "foundry_conn_id",
        "custom_config",
        "training_resources",
        "input_datasets",
        "config_name",
        "changelog",
    )
    operator_extra_links = (FoundryBuildLink(),)
    ui_color = "#c2d9f2"

    def __init__(
        self,
        *,
        model_studio_rid: str,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        timeout: float | timedelta | None = None,
        cancel_on_kill: bool = True,
        fail_on_missing_model_output: bool = True,
        retry_on_run_failure: bool = False,
        reattach_to_running_run: bool = False,
        status_log_interval: float = 60.0,
        retry: dict[str, Any] | None = None,
        custom_config: dict[str, Any] | None = None,
        training_resources: dict[str, Any] | None = None,
        input_datasets: dict[str, str] | None = None,
        config_name: str | None = None,
        changelog: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arguments.check_studio_rid(model_studio_rid, rendered=False)
        self.custom_config = custom_config
        self.training_resources = training_resources
        self.input_datasets = input_datasets
        self.config_name = config_name
        self.changelog = changelog
        self._configuration().check(rendered=False)
        arguments.check_conn_id(foundry_conn_id)
        self.model_studio_rid = model_studio_rid
        self.foundry_conn_id = foundry_conn_id
        self.wait_for_completion = arguments.check_flag("wait_for_completion", wait_for_completion)
        deferrable = arguments.check_optional_flag("deferrable", deferrable)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = None if poll_interval is None else arguments.check_seconds("poll_interval", poll_interval)
        self.timeout = arguments.check_optional_seconds("timeout", timeout)
        self.cancel_on_kill = arguments.check_flag("cancel_on_kill", cancel_on_kill)
        self.fail_on_missing_model_output = arguments.check_flag(
            "fail_on_missing_model_output", fail_on_missing_model_output
        )
        self.retry_on_run_failure = arguments.check_flag("retry_on_run_failure", retry_on_run_failure)
        self.reattach_to_running_run = arguments.check_flag("reattach_to_running_run", reattach_to_running_run)
        self.status_log_interval = arguments.check_non_negative_seconds("status_log_interval", status_log_interval)
        self.retry = arguments.check_retry(retry)
        self._active_build_rid: str | None = None
        self._cancelled_because: str | None = None
        self.foundry_build_url: str | None = None

    @cached_property
    def hook(self) -> ModelStudioHook:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        return ModelStudioHook(self.foundry_conn_id, retry=self.retry)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_modelstudio.foundry.errors import FoundryError

        try:
            return self._execute(context)
        except FoundryError as exc:
            raise self._give_up(exc, context) from None

    def _execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_modelstudio.runs.errors import RunTimedOutError
        from airflow_provider_modelstudio.runs.progress import StatusWatch
        from airflow_provider_modelstudio.runs.result import RUN_XCOM_KEY, build_result, xcom_entries
        from airflow_provider_modelstudio.runs.status import Verdict, judge
        from airflow_provider_modelstudio.waits.kinds import BUILDS
        from airflow_provider_modelstudio.waits.worker import wait_in_worker

        self.foundry_build_url = ""
        self._active_build_rid = None
        arguments.check_studio_rid(self.model_studio_rid, rendered=True)
        self.check_model_outlets(makes_versions=self.wait_for_completion)
        run = self._launch_or_reattach(context)
        build_rid = run["build_rid"]
        status = run["build_status"] or "RUNNING"
        self._active_build_rid = build_rid
        build_url = self.foundry_build_url = self.hook.build_url(build_rid)
        launched = build_result(run, build_status=status, build_url=build_url, model_studio_rid=self.model_studio_rid)
        for key, value in xcom_entries(launched).items():
            context["ti"].xcom_push(key=key, value=value)
        context["ti"].xcom_push(key=RUN_XCOM_KEY, value=dict(run))
        self.log.info(
            "Run %s of %s (config version %s), build %s: %s",
            run["run_id"],
            self.model_studio_rid,
            run["config_version"],
            build_rid,
            build_url,
        )
        if not self.wait_for_completion:
            self._active_build_rid = None
            return launched
        watch = StatusWatch(
            build_rid,
            build_url,
            self._poll_interval(),
            self.log,
            started_at=self._started_at(run),
            heartbeat=self.status_log_interval,
        )
        if judge(status) is Verdict.WAIT:
            status = self.hook.get_build(build_rid).status or status
        if watch.observe(status) is Verdict.WAIT:
            policy = self._policy(context)
            if self.deferrable:
                self._defer(run, policy, context)
            try:
                status, _verdict = wait_in_worker(BUILDS, self.hook, watch, policy)
            except RunTimedOutError as exc:
                raise self._timed_out(build_rid, build_url) from exc
        self._active_build_rid = None
        return self._finish(context, run, status, build_url)

    def _launch_or_reattach(self, context: Context) -> Run:
        from airflow_provider_modelstudio.runs import ownership

        earlier = ownership.earlier_run(
            context, self.hook, self.model_studio_rid, reattach_to_running_run=self.reattach_to_running_run
        )
        if earlier is not None:
            self.log.warning(
                "Reattaching to run %s (build %s is %s) launched by an earlier try; not launching again.",
                earlier["run_id"],
                earlier["build_rid"],
                earlier["build_status"],
            )
            return earlier
        self._refuse_without_scopes_to_follow()
        configuration = self._configuration()
        configuration.check(rendered=True)
        if configuration.given:
            from airflow_provider_modelstudio.deploys.deploy_lock import AirflowLockStore, Holder
            from airflow_provider_modelstudio.runs.configuration import launch_configured

            holder = Holder.of(context["ti"])
            run = launch_configured(
                self.hook, self.model_studio_rid, configuration, holder=holder, store=AirflowLockStore(), log=self.log
            )
        else:
            run = self.hook.launch_model_studio(self.model_studio_rid)
        ownership.remember_run(context, run)
        return run

    def _configuration(self) -> Configuration:
        from airflow_provider_modelstudio.runs.configuration import Configuration

        return Configuration(
            self.custom_config, self.training_resources, self.input_datasets, self.config_name, self.changelog
        )

    def _refuse_without_scopes_to_follow(self) -> None:
        """Refuse before launching when the token could start the run but not follow it: read its build's status
        (to wait) and cancel it (``cancel_on_kill``), so no run is left running without an owner."""
        from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS
        from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError

        if not self.wait_for_completion:
            return
        needs = {ENDPOINTS["get_build"].scope: "wait for the run"}
        if self.cancel_on_kill:
            needs[ENDPOINTS["cancel_build"].scope] = "cancel it on timeout or kill (or set cancel_on_kill=False)"
        try:
            lacking = self.hook.lacking_scopes(tuple(needs))
        except FoundryError as exc:
            self.log.warning("Could not check the connection's scopes before launching (%s); launching.", exc)
            return
        if not lacking:
            return
        if self.hook.settings.auth_type == "token":
            fix = "Use a token that carries it."
        else:
            fix = "Add it to the connection's OAuth2 scopes (or empty that field) and grant it to the application."
        needed = "; ".join(f"{scope}, to {needs.get(scope, 'follow the run')}" for scope in lacking)
        raise FoundryConfigError(
            f"Not launching {self.model_studio_rid}: connection {self.foundry_conn_id!r} lacks {needed}. {fix}"
        )

    @staticmethod
    def _started_at(run: Run) -> float | None:
        from airflow_provider_modelstudio.foundry.shapes import epoch_seconds

        return epoch_seconds(run["started_time"])

    def _policy(self, context: Context) -> WaitPolicy:
        """Interval and deadline: the earlier of ``timeout`` and ``execution_timeout`` (a little before it, so
        the run can be cancelled before Airflow kills the task)."""
        from airflow_provider_modelstudio.runs.waiting import WaitPolicy

        deadlines = [time.time() + self.timeout] if self.timeout else []
        start = getattr(context.get("ti"), "start_date", None)
        if self.execution_timeout and start is not None:
            limit = self.execution_timeout.total_seconds()
            deadlines.append(start.timestamp() + limit - min(30.0, limit * 0.05))
        return WaitPolicy(self._poll_interval(), min(deadlines, default=None), heartbeat=self.status_log_interval)

    def _poll_interval(self) -> float:
        if self.poll_interval is not None:
            return self.poll_interval
        return LOCAL_POLL_INTERVAL if self.hook.settings.is_local else DEFAULT_POLL_INTERVAL

    def _defer(self, run: Run, policy: WaitPolicy, context: Context) -> None:
        from airflow_provider_modelstudio.runs import ownership
        from airflow_provider_modelstudio.waits.deferral import defer_wait
        from airflow_provider_modelstudio.waits.kinds import BUILDS

        defer_wait(
            self,
            BUILDS,
            run["build_rid"],
            foundry_conn_id=self.foundry_conn_id,
            policy=policy,
            retry=self.retry,
            started_at=self._started_at(run),
            cancel_on_kill=self.cancel_on_kill,
            keep_for_next_try=ownership.can_reattach(context, reattach_to_running_run=self.reattach_to_running_run),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: the same result, or the same failure, as waiting in the worker."""
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs.events import resumed

        build_rid = event.get("build_rid") if isinstance(event, dict) else None
        self._active_build_rid = build_rid if isinstance(build_rid, str) else None
        try:
            payload = resumed(event)
            build_url = self.foundry_build_url = self.hook.build_url(payload["build_rid"])
            if payload["kind"] == "timeout":
                raise self._timed_out(payload["build_rid"], build_url)
            self._active_build_rid = None
            return self._finish(
                context, self._launched_run(context, payload["build_rid"]), payload["status"], build_url
            )
        except FoundryError as exc:
            raise self._give_up(exc, context) from None

    def _launched_run(self, context: Context, build_rid: str) -> Run:
        """The run this task pushed to XCom at launch (a resumed task runs in a fresh process)."""
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.foundry.shapes import run_of
        from airflow_provider_modelstudio.runs.result import RUN_XCOM_KEY

        ti = context["ti"]
        run = run_of(ti.xcom_pull(task_ids=ti.task_id, key=RUN_XCOM_KEY, map_indexes=ti.map_index))
        if run is None or run["build_rid"] != build_rid:
            raise FoundryError(
                f"The task resumed for build {build_rid} but its XCom {RUN_XCOM_KEY!r} holds no run of that build "
                f"({run!r:.200}). Was the XCom deleted while the task was deferred? The build's outcome is in "
                "Foundry."
            )
        return run

    def _finish(self, context: Context, run: Run, status: str, build_url: str) -> dict[str, Any]:
        from airflow_provider_modelstudio.runs import ownership
        from airflow_provider_modelstudio.runs.progress import report_success
        from airflow_provider_modelstudio.runs.result import finish

        ownership.remember_outcome(context, run, status)
        self.announce_model_versions(
            context,
            training_lineage(
                run,
                status,
                model_studio_rid=self.model_studio_rid,
                hook=self.hook,
                output_required=self.fail_on_missing_model_output,
            ),
        )
        result = finish(
            run,
            status,
            studio_rid=self.model_studio_rid,
            build_url=build_url,
            fail_on_missing_model_output=self.fail_on_missing_model_output,
            cancelled_because=self._cancelled_because,
        )
        report_success(self.log, result, self.hook.settings.model_version_url)
        return result

    def _timed_out(self, build_rid: str, build_url: str) -> Exception:
        from airflow_provider_modelstudio.runs.errors import RunTimedOutError

        outcome = self._let_go(build_rid, "the wait timed out")
        return RunTimedOutError(
            f"Run of {self.model_studio_rid} (build {build_rid}) did not finish within the wait's timeout; the "
            f"build was {outcome}. {build_url}"
        )

    def _let_go(self, build_rid: str, why: str) -> str:
        """Stop owning a build: cancel it when ``cancel_on_kill``; return what happened to it."""
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
        from airflow_provider_modelstudio.runs import ownership

        self._active_build_rid = None
        if not self.cancel_on_kill:
            return "left running (cancel_on_kill=False)"
        self._cancelled_because = why
        hook = ModelStudioHook(self.foundry_conn_id, retry=CANCEL_RETRY)
        return ownership.cancel_build(hook, build_rid, why=why, log=self.log)

    def _give_up(self, exc: Exception, context: Context) -> BaseException:
        """The exception the task raises (``from None``) for ``exc``, after deciding what becomes of a build it
        was waiting on.

        A build a retry can reattach to is left running when the trouble was transient; any other wait this
        task gives up on is cancelled (when ``cancel_on_kill``), so no run is left without an owner.
        """
        from airflow_provider_modelstudio._compat import AirflowFailException
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs import ownership
        from airflow_provider_modelstudio.runs.errors import as_task_failure, failure_message, is_transient

        assert isinstance(exc, FoundryError)
        build_rid = self._active_build_rid
        if build_rid is None:
            return as_task_failure(exc, retry_allowed=self.retry_on_run_failure)
        if is_transient(exc) and ownership.can_reattach(context, reattach_to_running_run=self.reattach_to_running_run):
            self.log.warning("Build %s was left running: a retry of this task reattaches to it.", build_rid)
            return exc.with_traceback(None)
        if is_transient(exc):
            reason = (
                "a retry of this task could not reattach to it (Airflow < 3.3 without reattach_to_running_run=True) "
                "and would launch a second run"
            )
        else:
            reason = "the task could not go on waiting for it"
        outcome = self._let_go(build_rid, reason)
        return AirflowFailException(
            f"{failure_message(exc)} The task gave up on build {build_rid}, which was {outcome}."
        )

    def on_kill(self) -> None:
        """Cancel the build the worker is waiting on (best effort, short timeout)."""
        if self._active_build_rid:
            self._let_go(self._active_build_rid, "the task was killed")
