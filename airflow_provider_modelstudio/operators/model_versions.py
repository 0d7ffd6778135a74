"""Operators for the deploy half: from a trained model version to a live deployment that serves it.

Thin Airflow shells over :mod:`airflow_provider_modelstudio.deploys`: arguments are checked when the DAG is
parsed (templated ones when the task runs), and the work is done there. Heavy modules (the hook,
``requests``) are imported only when a task runs, not when DAGs are parsed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_modelstudio._compat import default_deferrable
from airflow_provider_modelstudio.deploys import gate_arguments
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.lineage import (
    ModelVersionLineage,
    deployment_lineage,
    gate_lineage,
    promotion_lineage,
)
from airflow_provider_modelstudio.links.foundry import (
    LIVE_DEPLOYMENT_URL_XCOM_KEY,
    MODEL_VERSION_URL_XCOM_KEY,
    FoundryLiveDeploymentLink,
    FoundryModelVersionLink,
)
from airflow_provider_modelstudio.runs import arguments

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelstudio.foundry.shapes import LiveDeployment
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

DEPLOY_STATE_KEY = "deploy_state"
"""XCom (and task state store) key of a deploy's progress: the promotion, the phase, what went wrong."""
DEPLOY_TARGET_KEY = "deploy_target"
"""XCom key of what a deploy deploys to (``live_deployment_rid``, ``foundry_conn_id``), pushed when it starts."""


class ModelVersionGateOperator(BaseOperator, ModelVersionLineage):
    """Let a candidate model version through only when its metrics meet thresholds and beat a champion.

    Reads the experiment linked from the candidate version (following promoted copies back to the version
    that links one), checks each threshold and, when a champion is named, compares the candidate with the
    version that champion points at today. The table of checks (metric, candidate, champion, threshold,
    verdict, note) is logged, pushed to XCom under ``gate`` as JSON rows, and part of the returned dict:
    ``passed``, ``model_rid`` and ``model_version_rid`` of the candidate (so the result can be a later task's
    ``candidate``), ``experiment_rid``, ``experiment_status``, ``champion`` and ``rows``. ``model_rid`` and
    ``model_version_rid`` are also pushed under their own keys, so ``gate.output["model_version_rid"]`` can be a
    deploy's ``model_version_rid``. The verdict without the rows, with the candidate model's name (one more
    read), goes to XCom under ``gate_verdict`` whether the gate passes or not (the Model releases page reads it).

    A failed check fails the task without Airflow retries (``on_failure="fail"``) or skips it and its
    downstream tasks (``on_failure="skip"``). A missing experiment or metric, for the candidate or the
    champion, always fails the task: it is an error, not a verdict. When the champion has no version yet (a
    deployment that serves nothing, an empty branch) the comparisons pass with a note in the table. Network
    trouble stays retryable: the gate only reads. It does not promote or deploy anything. A metric whose value
    is not a finite number fails the checks that use it, with a note.

    **The best of several** (a sweep): ``candidates=train.output`` of a mapped launch and ``best_by`` rank the
    results and gate only the best (:mod:`airflow_provider_modelstudio.deploys.ranking`). A candidate without a
    finite value of every ``best_by`` metric (no experiment, no such metric, NaN, a string) is left out with a row
    saying why; when none is left the task fails naming each. Ties on a metric go to the next ``best_by`` metric,
    then to list order (map index order). The best is then gated exactly as a single candidate (thresholds,
    champion); when it fails, the gate fails, without trying the runner-up. The result holds the best one's
    ``model_rid``, ``model_version_rid`` and ``config_version``, and ``ranking``: a row per candidate, in list
    order (``candidate`` index, versions, ``metrics``, ``rank`` or None, ``excluded`` saying why, ``note`` on
    ties), also logged as a table and pushed to XCom under ``ranking``.

    :param model_rid: the candidate's model (templated), e.g. ``"{{ ti.xcom_pull('train')['model_rid'] }}"``
    :param model_version_rid: the candidate version (templated)
    :param candidate: instead of the two above, a launch result: a dict with ``model_rid`` and
        ``model_version_rid``, typically ``train.output`` (templated; a result with several model outputs is
        refused: name the output's RIDs instead)
    :param candidates: instead of one candidate, several launch results to choose from, typically
        ``train.output`` of ``LaunchModelStudioOperator.partial(...).expand(...)`` (templated; needs ``best_by``)
    :param best_by: how ``candidates`` are ranked: metric -> ``"higher"`` or ``"lower"`` (which way is better),
        in order of precedence, e.g. ``{"val_auc": "higher", "val_loss": "lower"}``; the next entry breaks a tie
        of the one before, and list order a tie on every entry
    :param thresholds: metric -> comparison, e.g. ``{"val_auc": ">= 0.85", "val_loss:MIN": "<= 0.3"}``; a
        metric is a series with an optional ``:MIN``, ``:MAX`` or ``:LAST`` (the default). Values are templated;
        a whole templated argument must render to a dict or a JSON object.
    :param compare: metric -> ``"higher"`` or ``"lower"`` (which way is better), optionally ``"higher by 0.01"``
        (templated like ``thresholds``); needs a champion
    :param margin: what the candidate must beat the champion by in ``compare`` entries without their own
        (absolute; 0 lets a candidate that matches the champion pass, negative tolerates a worse one)
    :param champion_live_deployment_rid: the champion is the version this live deployment serves (templated)
    :param champion_model_rid: or the champion is the newest version on ``champion_branch`` of this model
        (templated)
    :param champion_branch: that branch (templated)
    :param on_failure: ``"fail"`` or ``"skip"``, what a failed check does to the task
    :param foundry_conn_id: a connection of type ``foundry`` (templated)
    :param retry: retry bounds of each Foundry request, plain numbers (see ``RetryPolicy``)
    """

    template_fields: Sequence[str] = (
        "model_rid",
        "model_version_rid",
        "candidate",
        "candidates",
        "thresholds",
        "compare",
        "champion_live_deployment_rid",
        "champion_model_rid",
        "champion_branch",
        "foundry_conn_id",
    )
    ui_color = "#d5e8d4"

    def __init__(
        self,
        *,
        model_rid: str | None = None,
        model_version_rid: str | None = None,
        candidate: Any = None,
        candidates: Any = None,
        best_by: dict[str, str] | None = None,
        thresholds: dict[str, str] | str | None = None,
        compare: dict[str, str] | str | None = None,
        margin: float = 0.0,
        champion_live_deployment_rid: str | None = None,
        champion_model_rid: str | None = None,
        champion_branch: str | None = None,
        on_failure: str = "fail",
        foundry_conn_id: str = DEFAULT_CONN_ID,
        retry: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        gate_arguments.check_sweep(candidate, model_rid, model_version_rid, candidates, best_by)
        if candidates is None:
            gate_arguments.candidate_version(model_rid, model_version_rid, candidate, rendered=False)
        else:
            gate_arguments.candidate_versions(candidates, rendered=False)
        self.model_rid = model_rid
        self.model_version_rid = model_version_rid
        self.candidate = candidate
        self.candidates = candidates
        self.best_by = best_by
        self.thresholds = thresholds
        self.compare = compare
        self.margin = gate_arguments.check_margin(margin)
        self.champion_live_deployment_rid = champion_live_deployment_rid
        self.champion_model_rid = champion_model_rid
        self.champion_branch = champion_branch
        self._spec(rendered=False)
        self.on_failure = gate_arguments.check_on_failure(on_failure)
        arguments.check_conn_id(foundry_conn_id)
        self.foundry_conn_id = foundry_conn_id
        self.retry = arguments.check_retry(retry)

    @cached_property
    def hook(self) -> ModelStudioHook:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        return ModelStudioHook(self.foundry_conn_id, retry=self.retry)

    def _spec(self, *, rendered: bool) -> gate_arguments.GateSpec:
        return gate_arguments.gate_spec(
            thresholds=self.thresholds,
            compare=self.compare,
            margin=self.margin,
            champion_live_deployment_rid=self.champion_live_deployment_rid,
            champion_model_rid=self.champion_model_rid,
            champion_branch=self.champion_branch,
            rendered=rendered,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_modelstudio._compat import AirflowFailException, AirflowSkipException
        from airflow_provider_modelstudio.deploys import gate, ranking
        from airflow_provider_modelstudio.deploys.lineage import VersionRef
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs.errors import as_task_failure

        result: gate.GateResult | ranking.BestResult
        try:
            if self.candidates is None:
                candidate = gate_arguments.candidate_version(
                    self.model_rid, self.model_version_rid, self.candidate, rendered=True
                )
                assert candidate is not None
                result = gate.run_gate(self.hook, VersionRef(*candidate), self._spec(rendered=True))
            else:
                candidates = gate_arguments.candidate_versions(self.candidates, rendered=True)
                assert candidates is not None
                best_by = gate_arguments.parse_best_by(self.best_by)
                result = ranking.run_best_gate(self.hook, candidates, best_by, self._spec(rendered=True))
        except FoundryError as exc:
            raise as_task_failure(exc, retry_allowed=False) from exc
        outcome = result.as_dict()
        self.announce_model_versions(context, gate_lineage(outcome, self.hook.settings.base_url))
        context["ti"].xcom_push(key=gate.GATE_XCOM_KEY, value=outcome["rows"])
        for key in gate.VERSION_XCOM_KEYS:
            context["ti"].xcom_push(key=key, value=outcome[key])
        if isinstance(result, ranking.BestResult):
            context["ti"].xcom_push(key=ranking.RANKING_XCOM_KEY, value=outcome["ranking"])
        gated = result.gate if isinstance(result, ranking.BestResult) else result
        name = self._model_name(gated.candidate.version.model_rid)
        context["ti"].xcom_push(key=gate.GATE_VERDICT_XCOM_KEY, value=gated.verdict(self.foundry_conn_id, name))
        if result.passed:
            self.log.info("%s", result.summary())
            return outcome
        self.log.error("%s", result.summary())
        if self.on_failure == "skip":
            raise AirflowSkipException(result.summary())
        raise AirflowFailException(result.summary())

    def _model_name(self, model_rid: str) -> str | None:
        """The candidate model's name for the Model releases page; None when Foundry gives none or cannot say (the
        verdict stands without it)."""
        try:
            return self.hook.get_model(model_rid).name
        except FoundryError as exc:
            self.log.warning("Could not read the name of model %s (%s); the verdict goes without it.", model_rid, exc)
            return None


class PromoteModelVersionOperator(BaseOperator, ModelVersionLineage):
    """Promote a model version into a target model and branch, once.

    Idempotent: a retry, or a lost answer, finds the copy already promoted from the same version and adopts
    it; one task never makes two copies. Pushes ``promoted_version_rid`` and ``previous_version_rid`` (the
    version the branch had before: the rollback point) to XCom and returns both with the target.

    :param model_rid: the target model (templated)
    :param model_version_rid: the version to promote (templated)
    :param branch: the target branch; None for the model's default (templated)
    :param foundry_conn_id: a connection of type ``foundry`` (templated)
    :param retry: retry bounds of each Foundry request, plain numbers
    """

    template_fields: Sequence[str] = ("model_rid", "model_version_rid", "branch", "foundry_conn_id")
    operator_extra_links = (FoundryModelVersionLink(),)
    ui_color = "#fce5cd"

    def __init__(
        self,
        *,
        model_rid: str,
        model_version_rid: str,
        branch: str | None = None,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        retry: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arguments.check_model_rid(model_rid, field="model_rid", rendered=False)
        arguments.check_model_version_rid(model_version_rid, field="model_version_rid", rendered=False)
        arguments.check_conn_id(foundry_conn_id)
        self.model_rid = model_rid
        self.model_version_rid = model_version_rid
        self.branch = branch
        self.foundry_conn_id = foundry_conn_id
        self.retry = arguments.check_retry(retry)
        self.foundry_model_version_url: str | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_modelstudio.deploys.promotion import promote
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
        from airflow_provider_modelstudio.runs.errors import as_task_failure

        arguments.check_model_rid(self.model_rid, field="model_rid", rendered=True)
        arguments.check_model_version_rid(self.model_version_rid, field="model_version_rid", rendered=True)
        hook = ModelStudioHook(self.foundry_conn_id, retry=self.retry)
        try:
            promotion = promote(hook, self.model_rid, self.model_version_rid, self.branch or None, self.log)
        except FoundryError as exc:
            raise as_task_failure(exc, retry_allowed=False) from exc
        result = promotion.to_dict()
        self.announce_model_versions(context, promotion_lineage(result, hook.settings.base_url))
        self.foundry_model_version_url = hook.settings.model_version_url(self.model_rid, promotion.promoted_version_rid)
        context["ti"].xcom_push(key=MODEL_VERSION_URL_XCOM_KEY, value=self.foundry_model_version_url)
        context["ti"].xcom_push(key="promoted_version_rid", value=promotion.promoted_version_rid)
        context["ti"].xcom_push(key="previous_version_rid", value=promotion.previous_version_rid)
        return result


class DeployModelVersionOperator(BaseOperator, ModelVersionLineage):
    """Deploy a model version to a direct live deployment: promote, wait until served, smoke test, roll back.

    1. Promotes the version onto the branch the deployment follows (idempotent, as
       :class:`PromoteModelVersionOperator`), noting the version the branch had before.
    2. Waits until the deployment serves the copy and is ready (in the worker, or deferred to the triggerer).
    3. Optionally calls ``transformJson`` with ``smoke_test_input`` and checks the output.
    4. When the deployment goes FAILED/DISABLED, is not ready within ``timeout``, or the smoke test fails, it
       rolls back: promotes the previous version again, waits until that is served, and fails the task
       saying what happened and what serves traffic now. Any other failure after the promotion does the same.
       It does not roll back what it did not deploy (nor over a version promoted after its copy), and it
       does not retry a failed deploy.

    One deploy per live deployment at a time: the Airflow Variable ``modelstudio_deploy_lock.<rid>`` names the
    deploying task instance; a deploy from another task instance fails without promoting, naming it (see
    :mod:`airflow_provider_modelstudio.deploys.deploy_lock`).

    Returns ``live_deployment_rid``, ``model_rid``, ``branch``, ``candidate_version_rid``,
    ``promoted_version_rid``, ``previous_version_rid``, ``served_version_rid``, ``state``,
    ``smoke_test_output``, ``smoke_test_latency_ms`` and ``rolled_back``; the same dict goes to XCom under
    ``deploy_result`` when the task fails after a rollback. ``deploy_target`` (the live deployment and the
    connection) is pushed when the task starts.

    :param live_deployment_rid: a direct live deployment (templated)
    :param model_version_rid: the version to deploy (templated)
    :param smoke_test_input: the ``input`` of a ``transformJson`` call once the version is served; None skips it
    :param smoke_test_check: expected output values (a dict) or a callable ``output -> bool`` (worker only)
    :param rollback_on_failure: promote the previous version back when the deploy fails
    :param accept_degraded: a DEGRADED deployment serving the version counts as ready
    :param timeout: seconds to wait for the deployment to serve the version (and again for a rollback)
    :param poll_interval: seconds between checks of the deployment
    :param deferrable: wait in the triggerer (default: Airflow's ``[operators] default_deferrable``)
    :param foundry_conn_id: a connection of type ``foundry`` (templated)
    :param retry: retry bounds of each Foundry request, plain numbers
    """

    template_fields: Sequence[str] = ("live_deployment_rid", "model_version_rid", "smoke_test_input", "foundry_conn_id")
    operator_extra_links = (FoundryLiveDeploymentLink(), FoundryModelVersionLink())
    ui_color = "#f4cccc"

    def __init__(
        self,
        *,
        live_deployment_rid: str,
        model_version_rid: str,
        smoke_test_input: dict[str, Any] | None = None,
        smoke_test_check: dict[str, Any] | Callable[[dict[str, Any]], bool] | None = None,
        rollback_on_failure: bool = True,
        accept_degraded: bool = False,
        timeout: float | timedelta = 1800.0,
        poll_interval: float = 15.0,
        deferrable: bool | None = None,
        foundry_conn_id: str = DEFAULT_CONN_ID,
        retry: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arguments.check_live_deployment_rid(live_deployment_rid, rendered=False)
        arguments.check_model_version_rid(model_version_rid, field="model_version_rid", rendered=False)
        arguments.check_conn_id(foundry_conn_id)
        if smoke_test_check is not None and smoke_test_input is None:
            raise FoundryConfigError(
                "smoke_test_check needs smoke_test_input too: pass the input of the inference call to check, e.g. "
                'smoke_test_input={"features": [1.0, 2.0]}.'
            )
        if smoke_test_check is not None and not (callable(smoke_test_check) or isinstance(smoke_test_check, dict)):
            raise FoundryConfigError(
                f"smoke_test_check={smoke_test_check!r} must be a dict of expected output values or a callable "
                "taking the output and returning True when it is acceptable."
            )
        self.live_deployment_rid = live_deployment_rid
        self.model_version_rid = model_version_rid
        self.smoke_test_input = smoke_test_input
        self.smoke_test_check = smoke_test_check
        self.rollback_on_failure = rollback_on_failure
        self.accept_degraded = accept_degraded
        self.timeout = arguments.check_seconds("timeout", timeout)
        self.poll_interval = arguments.check_seconds("poll_interval", poll_interval)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.foundry_conn_id = foundry_conn_id
        self.retry = arguments.check_retry(retry)
        self.foundry_live_deployment_url: str | None = None
        self.foundry_model_version_url: str | None = None
        self._progress: dict[str, Any] | None = None

    @cached_property
    def hook(self) -> ModelStudioHook:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        return ModelStudioHook(self.foundry_conn_id, retry=self.retry)

    def on_kill(self) -> None:
        """Say what serves when the task is killed after promoting; it does not roll back (no time to wait)."""
        state = self._progress
        if state is None:
            return
        if state["phase"] == "rollback":
            self.log.error(
                "%s Killed while rolling back: the rollback copy %s is the latest version on the branch.",
                self._failed(state, state["problem"]),
                state["rollback_version_rid"],
            )
            return
        self.log.error("%s Not rolled back. %s", self._failed(state, "the task was killed"), self._now_live(state))

    def execute(self, context: Context) -> dict[str, Any]:
        arguments.check_live_deployment_rid(self.live_deployment_rid, rendered=True)
        arguments.check_model_version_rid(self.model_version_rid, field="model_version_rid", rendered=True)
        self.foundry_live_deployment_url = self.hook.settings.live_deployment_url(self.live_deployment_rid)
        context["ti"].xcom_push(key=LIVE_DEPLOYMENT_URL_XCOM_KEY, value=self.foundry_live_deployment_url)
        target = {"live_deployment_rid": self.live_deployment_rid, "foundry_conn_id": self.foundry_conn_id}
        context["ti"].xcom_push(key=DEPLOY_TARGET_KEY, value=target)
        return self._guarded(context, lambda: self._deploy(context))

    def _deploy(self, context: Context) -> dict[str, Any]:
        from airflow_provider_modelstudio.deploys import deploy_lock
        from airflow_provider_modelstudio.deploys.promotion import promote

        deploy_lock.acquire(deploy_lock.AirflowLockStore(), self.live_deployment_rid, self._holder(context), self.log)
        earlier = self._remembered(context)
        if earlier is not None:
            expected = earlier.get("rollback_version_rid") if earlier["phase"] == "rollback" else None
            self.log.warning(
                "Resuming the %s that an earlier try of this task started (%s); not promoting again.",
                earlier["phase"],
                earlier["promoted_version_rid"],
            )
            self._save(context, earlier)
            return self._serve(context, earlier, expected or earlier["promoted_version_rid"])
        deployment = self.hook.get_live_deployment(self.live_deployment_rid)
        if deployment.branch is None or deployment.model_rid is None:
            raise FoundryConfigError(
                f"live_deployment_rid={self.live_deployment_rid!r} is not a direct deployment following a branch of a "
                "model, so promoting a version does not deploy it. Use a direct live deployment."
            )
        deploy_lock.confirm(deploy_lock.AirflowLockStore(), self.live_deployment_rid, self._holder(context))
        promotion = promote(
            self.hook,
            deployment.model_rid,
            self.model_version_rid,
            deployment.branch,
            self.log,
            served_version_rid=deployment.version_rid,
        )
        state = {**promotion.to_dict(), "phase": "deploy", "problem": None}
        self._save(context, state)
        return self._serve(context, state, promotion.promoted_version_rid)

    def _save(self, context: Context, state: dict[str, Any]) -> None:
        """Keep the deploy's progress for the resumed task (XCom), a retry (Airflow 3.3's task state store) and a
        kill."""
        self._progress = state
        context["ti"].xcom_push(key=DEPLOY_STATE_KEY, value=state)
        self.foundry_model_version_url = self.hook.settings.model_version_url(
            state["model_rid"], state["promoted_version_rid"]
        )
        context["ti"].xcom_push(key=MODEL_VERSION_URL_XCOM_KEY, value=self.foundry_model_version_url)
        store = context.get("task_state_store")
        if store is not None:
            store.set(DEPLOY_STATE_KEY, state)

    def _remembered(self, context: Context) -> dict[str, Any] | None:
        """The unfinished deploy of this version an earlier try left in the task state store (Airflow 3.3+)."""
        store = context.get("task_state_store")
        state = store.get(DEPLOY_STATE_KEY) if store is not None else None
        if isinstance(state, dict) and state.get("candidate_version_rid") == self.model_version_rid:
            return state
        return None

    def _load(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        state = ti.xcom_pull(task_ids=ti.task_id, key=DEPLOY_STATE_KEY, map_indexes=ti.map_index)
        if not isinstance(state, dict) or "phase" not in state:
            raise FoundryError(
                f"The deploy resumed but its XCom {DEPLOY_STATE_KEY!r} holds no deploy state ({state!r:.200}). Check "
                f"live deployment {self.live_deployment_rid} in Foundry."
            )
        return state

    def _serve(self, context: Context, state: dict[str, Any], expected: str) -> dict[str, Any]:
        """Wait until ``expected`` is served, then go on with the phase the state names."""
        from airflow_provider_modelstudio.deploys.serving import wait_until_served
        from airflow_provider_modelstudio.runs.waiting import WaitPolicy

        policy = WaitPolicy(self.poll_interval, time.time() + self.timeout, heartbeat=0)
        if self.deferrable:
            from airflow_provider_modelstudio.waits.deferral import defer_wait
            from airflow_provider_modelstudio.waits.kinds import LIVE_DEPLOYMENTS

            defer_wait(
                self,
                LIVE_DEPLOYMENTS,
                self.live_deployment_rid,
                foundry_conn_id=self.foundry_conn_id,
                policy=policy,
                retry=self.retry,
                expected_version_rid=expected,
                accept_degraded=self.accept_degraded,
            )
        try:
            view = wait_until_served(
                self.hook,
                self.live_deployment_rid,
                expected,
                policy,
                accept_degraded=self.accept_degraded,
                log=self.log,
            )
        except FoundryError as exc:
            return self._served_or_not(context, state, None, str(exc))
        return self._served_or_not(context, state, view, None)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the deployment trigger fired: the same result, or failure, as waiting in the worker."""
        from airflow_provider_modelstudio.deploys.events import read_deployment_event

        def resume() -> dict[str, Any]:
            state = self._load(context)
            try:
                payload = read_deployment_event(event)
            except FoundryError as exc:
                return self._served_or_not(context, state, None, str(exc))
            view = payload["view"]
            if payload["kind"] == "timeout":
                return self._served_or_not(
                    context,
                    state,
                    None,
                    f"not serving the version ready within {self.timeout:g} s ({payload['message']})",
                )
            if payload["verdict"] == "failed":
                return self._served_or_not(context, state, None, f"live deployment {view.rid} is {view.describe()}")
            return self._served_or_not(context, state, view, None)

        return self._guarded(context, resume)

    def _served_or_not(
        self, context: Context, state: dict[str, Any], view: LiveDeployment | None, problem: str | None
    ) -> dict[str, Any]:
        """Next step once a wait ended: smoke test after a deploy, or finish a rollback."""
        from airflow_provider_modelstudio.deploys.smoke import SmokeTestFailed, run_smoke_test

        if state["phase"] == "rollback":
            return self._rolled_back(context, state, view, problem)
        smoke: Any = None
        if problem is None and view is not None and self.smoke_test_input is not None:
            try:
                smoke = run_smoke_test(
                    self.hook, self.live_deployment_rid, self.smoke_test_input, self.smoke_test_check
                )
                self.log.info("Smoke test answered %s in %.0f ms.", smoke.output, smoke.latency_ms)
            except FoundryError as exc:
                problem = str(exc) if isinstance(exc, SmokeTestFailed) else f"the smoke test failed: {exc}"
        if problem is None and view is not None:
            result = self._result(state, view, smoke, rolled_back=False)
            self.announce_model_versions(context, deployment_lineage(result, self.hook.settings.base_url))
            return result
        return self._roll_back(context, state, problem or "the deploy failed")

    def _roll_back(self, context: Context, state: dict[str, Any], problem: str) -> dict[str, Any]:
        from airflow_provider_modelstudio.deploys.lineage import latest_version
        from airflow_provider_modelstudio.deploys.promotion import promote

        latest = latest_version(self.hook.list_model_versions(state["model_rid"], state["branch"]))
        newer = latest.rid if latest is not None else None
        if newer != state["promoted_version_rid"]:
            raise FoundryError(
                f"{self._failed(state, problem)} Not rolled back: {newer} was promoted onto the branch after this "
                f"deploy's copy, by another deploy or by hand, and rolling back would undo it. Live deployment "
                f"{self.live_deployment_rid} follows {newer} now; check it in Foundry."
            )
        previous = state["previous_version_rid"]
        if not self.rollback_on_failure or previous is None:
            why = "rollback_on_failure=False" if previous is not None else "the branch had no earlier version"
            raise FoundryError(f"{self._failed(state, problem)} Not rolled back ({why}). {self._now_live(state)}")
        self.log.warning("Deploy failed (%s); rolling back to %s.", problem, previous)
        try:
            back = promote(self.hook, state["model_rid"], previous, state["branch"], self.log)
        except FoundryError as exc:
            raise FoundryError(
                f"{self._failed(state, problem)} Rolling back to {previous} failed too: {exc}. {self._now_live(state)}"
            ) from exc
        state = {**state, "phase": "rollback", "problem": problem, "rollback_version_rid": back.promoted_version_rid}
        self._save(context, state)
        return self._serve(context, state, back.promoted_version_rid)

    def _rolled_back(
        self, context: Context, state: dict[str, Any], view: LiveDeployment | None, problem: str | None
    ) -> dict[str, Any]:
        result = self._result(state, view, None, rolled_back=True)
        context["ti"].xcom_push(key="deploy_result", value=result)
        now = (
            f"it serves {view.version_rid} (a copy of {state['previous_version_rid']}) again, {view.state} and "
            f"{'ready' if view.ready else 'not ready'}"
            if view is not None and problem is None
            else (
                f"the rollback copy {state['rollback_version_rid']} (of {state['previous_version_rid']}) is the latest "
                f"version on the branch, but waiting for the deployment to serve it failed ({problem}); check the "
                "deployment in Foundry now"
            )
        )
        raise FoundryError(f"{self._failed(state, state['problem'])} Rolled back: {now}.")

    def _failed(self, state: dict[str, Any], problem: str) -> str:
        return (
            f"Deploying {state['candidate_version_rid']} (as {state['promoted_version_rid']}) to "
            f"{self.live_deployment_rid} failed: {problem}."
        )

    def _now_live(self, state: dict[str, Any]) -> str:
        """What serves after a failed deploy that was not rolled back: the promoted copy, not smoke-tested."""
        branch = f"branch {state['branch']} of " if state["branch"] else ""
        previous = state["previous_version_rid"] or "an earlier version"
        return (
            f"The promoted copy {state['promoted_version_rid']} is the latest version on {branch}{state['model_rid']}, "
            f"so live deployment {self.live_deployment_rid} serves it (or is starting to), without a passed smoke "
            f"test. Check the deployment in Foundry, and promote {previous} back if it must not serve."
        )

    def _result(
        self, state: dict[str, Any], view: LiveDeployment | None, smoke: Any, *, rolled_back: bool
    ) -> dict[str, Any]:
        return {
            "live_deployment_rid": self.live_deployment_rid,
            "model_rid": state["model_rid"],
            "branch": state["branch"],
            "candidate_version_rid": state["candidate_version_rid"],
            "promoted_version_rid": state["promoted_version_rid"],
            "previous_version_rid": state["previous_version_rid"],
            "served_version_rid": view.version_rid if view else None,
            "state": view.state if view else None,
            "smoke_test_output": smoke.output if smoke else None,
            "smoke_test_latency_ms": smoke.latency_ms if smoke else None,
            "rolled_back": rolled_back,
        }

    def _guarded(self, context: Context, step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run a step; the deploy lock is given back when the task ends, and kept while it is deferred."""
        from airflow_provider_modelstudio.runs.errors import as_task_failure

        try:
            result = step()
        except FoundryError as exc:
            self._unlock(context)
            raise as_task_failure(exc, retry_allowed=False) from exc
        except Exception:
            self._unlock(context)
            raise
        self._unlock(context)
        return result

    def _holder(self, context: Context) -> Any:
        from airflow_provider_modelstudio.deploys.deploy_lock import Holder

        return Holder.of(context["ti"])

    def _unlock(self, context: Context) -> None:
        from airflow_provider_modelstudio.deploys import deploy_lock

        try:
            deploy_lock.release(deploy_lock.AirflowLockStore(), self.live_deployment_rid, self._holder(context))
        except Exception as exc:
            self.log.warning(
                "Could not give back the deploy lock of %s (%s); the next deploy takes it over once this task has "
                "finished.",
                self.live_deployment_rid,
                exc,
            )
