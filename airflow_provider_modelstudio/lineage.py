"""What a task tells Airflow about the model versions it made: asset events, and OpenLineage facets.

Operators that make, judge or deploy model versions add :class:`ModelVersionLineage` as a base and call
:meth:`~ModelVersionLineage.announce_model_versions` once, where they know what happened, with a
:class:`TaskLineage` built here (:func:`training_lineage`, :func:`promotion_lineage`,
:func:`deployment_lineage`, :func:`gate_lineage`).

Asset events are opt-in through the task's ``outlets``: each ``foundry://`` outlet (see
:func:`~airflow_provider_modelstudio.assets.model_asset`) must name a model (on the connection's host, and
on the branch, when the outlet names one) that the task made a version of; the event's ``extra`` then says
which version and how it was made. A task that succeeds without such a version fails instead, so an event
never announces a version that does not exist. Airflow emits no event for a failed task. Outlets of other
schemes are left to Airflow.

OpenLineage: :meth:`~ModelVersionLineage.get_openlineage_facets_on_complete` and ``_on_failure`` report the
inputs (the training datasets of the configuration that ran, read from Foundry only then; or the version
promoted, deployed or judged) and outputs (the new version, the live deployment) in the namespace
``foundry://<host>``, named by their RIDs, with a run facet of what happened. The OpenLineage provider and
client are imported only inside those methods: without the provider nothing calls them, and importing this
module imports neither. The start event carries no datasets (the connection, and so the namespace, is read
only when the task runs); the OpenLineage provider then falls back to the task's inlets and outlets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_modelstudio.assets import ModelAssetRef
    from airflow_provider_modelstudio.foundry.shapes import ConfigVersion, Run
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

log = logging.getLogger(__name__)

DATASET = "dataset"
MODEL_VERSION = "model-version"
LIVE_DEPLOYMENT = "live-deployment"


class Node(NamedTuple):
    """A Foundry resource in lineage: a dataset, a model version or a live deployment, named by its RID."""

    kind: str
    rid: str


class MadeVersion(NamedTuple):
    """A model version a task made and that exists now.

    :param model_rid: its model
    :param model_version_rid: the version
    :param branch: the branch it landed on; None when Foundry does not say (a training run's version)
    :param extra: the ``extra`` of the asset event announcing it (JSON-safe)
    """

    model_rid: str
    model_version_rid: str
    branch: str | None
    extra: dict[str, Any]


class TaskLineage(NamedTuple):
    """What one task did, in plain data: read when the task ends, turned into OpenLineage objects only on demand.

    :param base_url: the Foundry's base URL (the namespace's host)
    :param made: the model versions the task made (none when it failed, or makes none)
    :param versions_required: whether each ``foundry://`` outlet must match a version in ``made``; False when the
        task is about to fail anyway (then Airflow emits no event)
    :param inputs: what the task read
    :param outputs: what the task wrote
    :param run_facet: the name and JSON-safe fields of the run facet
    :param assertions: ``(check, passed)`` of checks made on the first input (a gate's)
    :param read_training_inputs: reads the training datasets of the configuration that ran (one Foundry call),
        called only for OpenLineage
    """

    base_url: str
    made: tuple[MadeVersion, ...] = ()
    versions_required: bool = True
    inputs: tuple[Node, ...] = ()
    outputs: tuple[Node, ...] = ()
    run_facet: tuple[str, dict[str, Any]] | None = None
    assertions: tuple[tuple[str, bool], ...] = ()
    read_training_inputs: Callable[[], tuple[Node, ...]] | None = None


class ModelVersionLineage:
    """Mixin for operators: asset events for the model versions a task made, and OpenLineage facets.

    It holds what the task reported (:meth:`announce_model_versions`) for the OpenLineage provider to read when
    the task ends. It does not make any request to Foundry except, when the OpenLineage provider asks, one read
    of a training run's configuration version.
    """

    _foundry_lineage: TaskLineage | None = None

    def check_model_outlets(self, *, makes_versions: bool) -> None:
        """Refuse ``foundry://`` outlets on a task that will end without making a version (e.g. a launch that does
        not wait): Airflow would announce a version that does not exist yet. Call it before doing anything.

        :raises AirflowFailException: when the task has such outlets and ``makes_versions`` is False
        """
        refs = self._model_outlets()
        if refs and not makes_versions:
            from airflow_provider_modelstudio._compat import AirflowFailException

            uris = ", ".join(ref.uri for _, ref in refs)
            raise AirflowFailException(
                f"Task {self._task_name()} has model asset outlets ({uris}) but ends before the run has made a model "
                "version (wait_for_completion=False), so Airflow would announce a version that does not exist yet. "
                "Nothing was launched. Use wait_for_completion=True on the task with these outlets."
            )

    def announce_model_versions(self, context: Context, lineage: TaskLineage) -> None:
        """Remember what the task did, and set the ``extra`` of the asset event of each ``foundry://`` outlet.

        :param context: the task's context (its ``outlet_events``)
        :param lineage: what the task did
        :raises AirflowFailException: when a ``foundry://`` outlet names a model (or host, or branch) the task made
            no version of, and the task would otherwise succeed
        """
        self._foundry_lineage = lineage
        refs = self._model_outlets()
        if not refs or not lineage.versions_required:
            return
        from airflow_provider_modelstudio.assets import authority_of

        authority = authority_of(lineage.base_url)
        for asset, ref in refs:
            version = _match(ref, authority, lineage.made, self._task_name())
            context["outlet_events"][asset].extra = dict(version.extra)

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        """No datasets yet (the namespace is the connection's host, read when the task runs)."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        return OperatorLineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        """Inputs, outputs and the run facet of what the task did."""
        return self._openlineage()

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        """What is known of a failed task: its inputs and run facet (a failed run made no version)."""
        return self._openlineage()

    def _openlineage(self) -> OperatorLineage[Any, Any]:
        from airflow.providers.openlineage.extractors import OperatorLineage

        lineage = self._foundry_lineage
        if lineage is None:
            return OperatorLineage()
        return _operator_lineage(lineage, _training_inputs(lineage))

    def _model_outlets(self) -> list[tuple[Any, ModelAssetRef]]:
        from airflow_provider_modelstudio.assets import model_asset_ref

        found = []
        for outlet in getattr(self, "outlets", None) or ():
            ref = model_asset_ref(outlet)
            if ref is not None:
                found.append((outlet, ref))
        return found

    def _task_name(self) -> str:
        return repr(getattr(self, "task_id", type(self).__name__))


def _match(ref: ModelAssetRef, authority: str, made: tuple[MadeVersion, ...], task: str) -> MadeVersion:
    """The version an outlet announces; raises ``AirflowFailException`` when the task made none (or several)."""
    from airflow_provider_modelstudio._compat import AirflowFailException

    candidates = [
        version
        for version in made
        if ref.authority == authority
        and version.model_rid == ref.model_rid
        and (ref.branch is None or ref.branch == version.branch)
    ]
    if len(candidates) == 1:
        return candidates[0]
    what = (
        ", ".join(
            f"{v.model_version_rid} of {v.model_rid}" + (f" on branch {v.branch}" if v.branch else "") for v in made
        )
        or "no model version"
    )
    if ref.authority != authority:
        fix = f"it names host {ref.authority} but the task's connection is {authority}: build both from one connection"
    elif len(candidates) > 1:
        fix = "several versions match: name each model's branch in its outlet"
    elif ref.branch is not None and any(v.model_rid == ref.model_rid and v.branch is None for v in made):
        fix = (
            "Foundry does not say which branch a training run's version lands on: use model_asset(model_rid) "
            "without a branch"
        )
    else:
        fix = "name the model this task writes to (the run's output model, or the promotion's or deployment's target)"
    raise AirflowFailException(
        f"Task {task} has the model asset outlet {ref.uri}, but it made {what}; Airflow would announce a version "
        f"that does not exist, so the task fails instead. Fix the outlet: {fix}."
    )


# What each operator did -----------------------------------------------------------------------------------------


def training_lineage(
    run: Run, status: str, *, model_studio_rid: str, hook: ModelStudioHook, output_required: bool
) -> TaskLineage:
    """A Model Studio run that ended with ``status``: it made a version of each of its output models when it
    succeeded.

    :param run: the run
    :param status: its build's final status
    :param model_studio_rid: the studio
    :param hook: reads the configuration version's training datasets, for OpenLineage only
    :param output_required: the task fails when a succeeded run made no model version
    """
    from airflow_provider_modelstudio.foundry.shapes import model_outputs
    from airflow_provider_modelstudio.runs.status import Verdict, judge

    succeeded = judge(status) is Verdict.SUCCEEDED
    made = []
    for alias, output in model_outputs(run).items() if succeeded else ():
        if output["model_rid"] and output["model_version_rid"]:
            extra = {
                "model_rid": output["model_rid"],
                "model_version_rid": output["model_version_rid"],
                "made_by": "model_studio_run",
                "model_studio_rid": model_studio_rid,
                "run_id": run["run_id"],
                "build_rid": run["build_rid"],
                "config_version": run["config_version"],
                "output_alias": alias,
                "experiment_rid": output["experiment_rid"],
            }
            made.append(MadeVersion(output["model_rid"], output["model_version_rid"], None, extra))
    facet = {
        "modelStudioRid": model_studio_rid,
        "runId": run["run_id"],
        "buildRid": run["build_rid"],
        "jobRid": run["job_rid"],
        "configVersion": run["config_version"],
        "buildStatus": status,
    }
    config_version = run["config_version"]
    reader = None
    if config_version is not None:

        def reader() -> tuple[Node, ...]:
            return training_datasets(hook.get_config_version(model_studio_rid, config_version))

    return TaskLineage(
        base_url=hook.settings.base_url,
        made=tuple(made),
        versions_required=succeeded and (bool(made) or not output_required),
        outputs=tuple(Node(MODEL_VERSION, version.model_version_rid) for version in made),
        run_facet=("foundryModelStudioRun", facet),
        read_training_inputs=reader,
    )


def training_datasets(config_version: ConfigVersion) -> tuple[Node, ...]:
    """The dataset inputs of a configuration version's worker, in its order; inputs of other types (or without a
    RID) are left out."""
    return tuple(Node(DATASET, rid) for rid in config_version.datasets)


def promotion_lineage(promotion: Mapping[str, Any], base_url: str) -> TaskLineage:
    """A promotion (``Promotion.to_dict()``): it made the copy in the target model.

    :param promotion: the promotion
    :param base_url: the Foundry's base URL
    """
    candidate, copy = promotion["candidate_version_rid"], promotion["promoted_version_rid"]
    extra = {
        "model_rid": promotion["model_rid"],
        "model_version_rid": copy,
        "made_by": "promotion",
        "branch": promotion["branch"],
        "source_model_version_rid": candidate,
        "previous_version_rid": promotion["previous_version_rid"],
        "model_studio_rid": None,
        "run_id": None,
        "config_version": None,
    }
    facet = {
        "modelRid": promotion["model_rid"],
        "branch": promotion["branch"],
        "sourceModelVersionRid": candidate,
        "promotedVersionRid": copy,
        "previousVersionRid": promotion["previous_version_rid"],
        "adopted": promotion["adopted"],
    }
    return TaskLineage(
        base_url=base_url,
        made=(MadeVersion(promotion["model_rid"], copy, promotion["branch"], extra),),
        inputs=(Node(MODEL_VERSION, candidate),),
        outputs=(Node(MODEL_VERSION, copy),),
        run_facet=("foundryPromotion", facet),
    )


def deployment_lineage(result: Mapping[str, Any], base_url: str) -> TaskLineage:
    """A deploy that succeeded (the deploy operator's result): it made the copy the deployment serves now.

    :param result: the deploy's result
    :param base_url: the Foundry's base URL
    """
    candidate, copy = result["candidate_version_rid"], result["promoted_version_rid"]
    extra = {
        "model_rid": result["model_rid"],
        "model_version_rid": copy,
        "made_by": "deployment",
        "branch": result["branch"],
        "source_model_version_rid": candidate,
        "previous_version_rid": result["previous_version_rid"],
        "live_deployment_rid": result["live_deployment_rid"],
        "model_studio_rid": None,
        "run_id": None,
        "config_version": None,
    }
    facet = {
        "liveDeploymentRid": result["live_deployment_rid"],
        "modelRid": result["model_rid"],
        "branch": result["branch"],
        "sourceModelVersionRid": candidate,
        "promotedVersionRid": copy,
        "previousVersionRid": result["previous_version_rid"],
        "servedVersionRid": result["served_version_rid"],
        "state": result["state"],
    }
    return TaskLineage(
        base_url=base_url,
        made=(MadeVersion(result["model_rid"], copy, result["branch"], extra),),
        inputs=(Node(MODEL_VERSION, candidate),),
        outputs=(Node(MODEL_VERSION, copy), Node(LIVE_DEPLOYMENT, result["live_deployment_rid"])),
        run_facet=("foundryDeployment", facet),
    )


def gate_lineage(outcome: Mapping[str, Any], base_url: str) -> TaskLineage:
    """A gate's verdict (``GateResult.as_dict()``, or ``BestResult.as_dict()`` with a ``ranking``): it read the
    candidate (every ranked candidate, the best first) and the champion, and made nothing.

    :param outcome: the gate's result
    :param base_url: the Foundry's base URL
    """
    inputs = [Node(MODEL_VERSION, outcome["model_version_rid"])]
    for row in outcome.get("ranking", ()):
        if row["model_version_rid"] != outcome["model_version_rid"]:
            inputs.append(Node(MODEL_VERSION, row["model_version_rid"]))
    champion = outcome.get("champion") or {}
    if champion.get("model_version_rid"):
        inputs.append(Node(MODEL_VERSION, champion["model_version_rid"]))
    facet = {
        "passed": outcome["passed"],
        "modelRid": outcome["model_rid"],
        "modelVersionRid": outcome["model_version_rid"],
        "experimentRid": outcome["experiment_rid"],
        "experimentStatus": outcome["experiment_status"],
        "champion": outcome["champion"],
        "rows": outcome["rows"],
    }
    if "ranking" in outcome:
        facet["ranking"] = outcome["ranking"]
    checks = tuple(
        (f"{row['metric']} {row['check']} {row['threshold']}", row["verdict"] == "PASS") for row in outcome["rows"]
    )
    return TaskLineage(
        base_url=base_url,
        inputs=tuple(inputs),
        run_facet=("foundryModelGate", facet),
        assertions=checks,
    )


# OpenLineage objects (imported only when the OpenLineage provider asks) -------------------------------------------


def _training_inputs(lineage: TaskLineage) -> tuple[Node, ...]:
    """The training datasets, read now; none when Foundry cannot say (lineage never fails a task)."""
    if lineage.read_training_inputs is None:
        return ()
    from airflow_provider_modelstudio.foundry.errors import FoundryError

    try:
        return lineage.read_training_inputs()
    except FoundryError as exc:
        log.warning("OpenLineage: the training datasets are not reported, reading the configuration failed: %s", exc)
        return ()


def _operator_lineage(lineage: TaskLineage, training_inputs: tuple[Node, ...]) -> OperatorLineage[Any, Any]:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import data_quality_assertions_dataset

    from airflow_provider_modelstudio.assets import lineage_namespace

    namespace = lineage_namespace(lineage.base_url)
    inputs = []
    for index, node in enumerate(training_inputs + lineage.inputs):
        facets: dict[str, Any] = {}
        if index == len(training_inputs) and lineage.assertions:
            facets["dataQualityAssertions"] = data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
                assertions=[
                    data_quality_assertions_dataset.Assertion(assertion=check, success=passed)
                    for check, passed in lineage.assertions
                ]
            )
        inputs.append(InputDataset(namespace=namespace, name=node.rid, inputFacets=facets or None))
    outputs = [OutputDataset(namespace=namespace, name=node.rid) for node in lineage.outputs]
    run_facets = {}
    if lineage.run_facet is not None:
        name, values = lineage.run_facet
        run_facets[name] = _facet_class(name, tuple(values))(**values)
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets)


@cache
def _facet_class(name: str, fields: tuple[str, ...]) -> type[Any]:
    """A run facet class with these fields (OpenLineage serialises facets as attrs classes)."""
    import attrs
    from openlineage.client.facet_v2 import RunFacet

    class_name = name[0].upper() + name[1:] + "RunFacet"
    return attrs.make_class(class_name, {f: attrs.field(default=None) for f in fields}, bases=(RunFacet,))
