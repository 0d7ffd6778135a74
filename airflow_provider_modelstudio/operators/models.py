"""Operators for the deploy half: from a trained model version to a live deployment that serves it.

Thin Airflow shells over :mod:`airflow_provider_modelstudio.deploys`: arguments are checked when the DAG is
parsed (templated ones when the task runs), and the work is done there. Heavy modules (the hook,
``requests``) are imported only when a task runs, not when DAGs are parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_modelstudio.deploys import gate_arguments
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.runs import arguments

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook


class ModelVersionGateOperator(BaseOperator):
    """Let a candidate model version through only when its metrics meet thresholds and beat a champion.

    Reads the experiment linked from the candidate version (following promoted copies back to the version
    that links one), checks each threshold and, when a champion is named, compares the candidate with the
    version that champion points at today. The table of checks (metric, candidate, champion, threshold,
    verdict, note) is logged, pushed to XCom under ``gate`` as JSON rows, and part of the returned dict:
    ``passed``, ``model_rid`` and ``model_version_rid`` of the candidate (so the result can be a later task's
    ``candidate``), ``experiment_rid``, ``experiment_status``, ``champion`` and ``rows``.

    A failed check fails the task without Airflow retries (``on_failure="fail"``) or skips it and its
    downstream tasks (``on_failure="skip"``). A missing experiment or metric, for the candidate or the
    champion, always fails the task: it is an error, not a verdict. When the champion has no version yet (a
    deployment that serves nothing, an empty branch) the comparisons pass with a note in the table. Network
    trouble stays retryable: the gate only reads. It does not promote or deploy anything.

    :param model_rid: the candidate's model (templated), e.g. ``"{{ ti.xcom_pull('train')['model_rid'] }}"``
    :param model_version_rid: the candidate version (templated)
    :param candidate: instead of the two above, a launch result: a dict with ``model_rid`` and
        ``model_version_rid``, typically ``train.output`` (templated; a result with several model outputs is
        refused: name the output's RIDs instead)
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
        gate_arguments.candidate_version(model_rid, model_version_rid, candidate, rendered=False)
        self.model_rid = model_rid
        self.model_version_rid = model_version_rid
        self.candidate = candidate
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
        from airflow_provider_modelstudio.deploys import gate
        from airflow_provider_modelstudio.deploys.lineage import VersionRef
        from airflow_provider_modelstudio.foundry.errors import FoundryError
        from airflow_provider_modelstudio.runs.errors import as_task_failure

        try:
            candidate = gate_arguments.candidate_version(
                self.model_rid, self.model_version_rid, self.candidate, rendered=True
            )
            assert candidate is not None
            result = gate.run_gate(self.hook, VersionRef(*candidate), self._spec(rendered=True))
        except FoundryError as exc:
            raise as_task_failure(exc, retry_allowed=False) from exc
        outcome = result.as_dict()
        context["ti"].xcom_push(key=gate.GATE_XCOM_KEY, value=outcome["rows"])
        if result.passed:
            self.log.info("%s", result.summary())
            return outcome
        self.log.error("%s", result.summary())
        if self.on_failure == "skip":
            raise AirflowSkipException(result.summary())
        raise AirflowFailException(result.summary())
