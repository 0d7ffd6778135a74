"""Palantir's own client (foundry_sdk) works against the emulator: answers parse, named errors raise."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from foundry_sdk import ConfidentialClientAuth, Config, FoundryClient, PermissionDeniedError, UserTokenAuth
from foundry_sdk.v2.models import models as models_models
from foundry_sdk.v2.models.errors import (
    ExperimentNotFound,
    InferenceFailure,
    InferenceTimeout,
    LaunchModelStudioPermissionDenied,
    LiveDeploymentNotFound,
    ModelNotFound,
    ModelStudioNotFound,
    PromoteVersionModelPermissionDenied,
)
from foundry_sdk.v2.orchestration.errors import BuildNotFound

from airflow_provider_modelstudio.emulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO_CHAMPION_METRICS,
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_CHAMPION_VERSION,
    DEMO_DENIED_STUDIO,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    STATIC_TOKEN,
    FoundryEmulator,
)
from tests.emulator.helpers import READY_SECONDS, RUN_SECONDS


def sdk_client(emulator: FoundryEmulator, auth: UserTokenAuth | ConfidentialClientAuth) -> FoundryClient:
    return FoundryClient(auth=auth, hostname=f"{emulator.host}:{emulator.port}", config=Config(scheme="http"))


def test_official_client_launches_a_run_and_follows_it_to_success(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))

    run = client.models.ModelStudio.launch(DEMO_STUDIO, preview=True)
    emu.advance(6)
    build = client.orchestration.Build.get(run.build_rid)
    batch = client.orchestration.Build.get_batch([{"buildRid": run.build_rid}])
    output = run.resolved_outputs["model"]
    version = client.models.Model.Version.get(output.model_rid, output.model_version_rid, preview=True)
    runs = list(client.models.ModelStudio.Run.list(DEMO_STUDIO, preview=True))

    assert (build.status, batch.data[run.build_rid].status) == ("SUCCEEDED",) * 2
    assert version.rid == output.model_version_rid
    assert [listed.run_id for listed in runs] == [run.run_id]


def test_official_client_reads_studio_and_latest_config_version(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))

    studio = client.models.ModelStudio.get(DEMO_STUDIO, preview=True)
    config = client.models.ModelStudio.ConfigVersion.latest(DEMO_STUDIO, preview=True)

    assert studio.rid == DEMO_STUDIO
    assert config is not None
    assert config.version == 1


def test_official_client_cancels_a_build(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))
    run = client.models.ModelStudio.launch(DEMO_STUDIO, preview=True)

    client.orchestration.Build.cancel(run.build_rid)
    emu.advance(1)

    assert client.orchestration.Build.get(run.build_rid).status == "CANCELED"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (
            lambda client: client.models.ModelStudio.launch(DEMO_DENIED_STUDIO, preview=True),
            LaunchModelStudioPermissionDenied,
        ),
        (
            lambda client: client.models.ModelStudio.get("ri.models.main.model-studio.missing", preview=True),
            ModelStudioNotFound,
        ),
        (lambda client: client.orchestration.Build.get("ri.foundry.main.build.missing"), BuildNotFound),
    ],
    ids=["LaunchModelStudioPermissionDenied", "ModelStudioNotFound", "BuildNotFound"],
)
def test_official_client_raises_the_named_error(
    emu: FoundryEmulator, call: Callable[[FoundryClient], object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        call(sdk_client(emu, UserTokenAuth(STATIC_TOKEN)))


def test_official_client_authenticates_with_oauth2_client_credentials(emu: FoundryEmulator) -> None:
    auth = ConfidentialClientAuth(CLIENT_ID, CLIENT_SECRET, scopes=["api:models-read"])

    studio = sdk_client(emu, auth).models.ModelStudio.get(DEMO_STUDIO, preview=True)

    assert studio.rid == DEMO_STUDIO
    assert emu.counters()["tokens_issued"] == 1


# The deploy half ------------------------------------------------------------------------------------------


def test_official_client_reads_a_model_and_pages_through_its_versions_on_a_branch(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))
    runs = [client.models.ModelStudio.launch(DEMO_STUDIO, preview=True) for _ in range(2)]
    emu.advance(RUN_SECONDS)

    model = client.models.Model.get(DEMO_STUDIO_MODEL, preview=True)
    versions = list(client.models.Model.Version.list(DEMO_STUDIO_MODEL, branch="master", page_size=1, preview=True))

    assert model.rid == DEMO_STUDIO_MODEL
    assert [version.rid for version in versions] == [
        *(run.resolved_outputs["model"].model_version_rid for run in reversed(runs)),
        DEMO_CHAMPION_SOURCE_VERSION,
    ]


def test_official_client_follows_a_promoted_version_back_to_its_experiment(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))

    champion = client.models.Model.Version.get(DEMO_PROD_MODEL, DEMO_CHAMPION_VERSION, preview=True)
    assert isinstance(champion.source, models_models.ModelVersionPromotedSource)
    source = client.models.Model.Version.get(
        champion.source.previous_model_rid, champion.source.previous_model_version_rid, preview=True
    )
    assert source.linked_experiment is not None
    experiment = client.models.Model.Experiment.get(DEMO_STUDIO_MODEL, source.linked_experiment, preview=True)

    last = {m.series_name: m.value for m in experiment.summary_metrics if m.aggregation == "LAST"}
    assert last == DEMO_CHAMPION_METRICS


def test_official_client_searches_experiments_by_job_rid(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))
    run = client.models.ModelStudio.launch(DEMO_STUDIO, preview=True)

    found = client.models.Model.Experiment.search(
        DEMO_STUDIO_MODEL,
        where=models_models.SearchExperimentsEqualsFilter(field="JOB_RID", value=run.job_rid),
        page_size=10,
        preview=True,
    )

    assert [experiment.job_rid for experiment in found.data] == [run.job_rid]


def test_official_client_promotes_and_the_deployment_serves_the_promoted_version(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))

    promoted = client.models.Model.promote_version(
        DEMO_PROD_MODEL, source_model_version_rid=DEMO_CHAMPION_SOURCE_VERSION, branch="master", preview=True
    )
    emu.advance(READY_SECONDS)
    listed = client.models.LiveDeployment.list(model_rid=DEMO_PROD_MODEL, branch="master", preview=True)
    deployment = client.models.LiveDeployment.get(DEMO_DEPLOYMENT, preview=True)

    assert [d.rid for d in listed.data] == [DEMO_DEPLOYMENT]
    assert (deployment.model_version.model_version_rid, deployment.status.state, deployment.status.is_ready) == (
        promoted.rid,
        "ACTIVE",
        True,
    )


def test_official_client_starts_a_deployment_and_queries_it(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))

    client.models.LiveDeployment.start(DEMO_DEPLOYMENT, preview=True)
    answer = client.models.LiveDeployment.transform_json(
        DEMO_DEPLOYMENT, input={"tenure_months": 3, "monthly_charges": 20.0}, preview=True
    )

    assert set(answer.output) == {"prediction"}
    assert emu.counters()["live_deployment_starts"] == {DEMO_DEPLOYMENT: 1}


def _promote_into_denied_model(client: FoundryClient, emu: FoundryEmulator) -> object:
    model = emu.add_model(promote_denied=True)
    return client.models.Model.promote_version(
        model, source_model_version_rid=DEMO_CHAMPION_SOURCE_VERSION, preview=True
    )


def _query_a_starting_deployment(client: FoundryClient, emu: FoundryEmulator) -> object:
    client.models.Model.promote_version(
        DEMO_PROD_MODEL, source_model_version_rid=DEMO_CHAMPION_SOURCE_VERSION, preview=True
    )
    return client.models.LiveDeployment.transform_json(DEMO_DEPLOYMENT, input={}, preview=True)


def _query_a_timing_out_deployment(client: FoundryClient, emu: FoundryEmulator) -> object:
    rid = emu.add_live_deployment(DEMO_PROD_MODEL, inference_timeout=True)["rid"]
    model_input = {"tenure_months": 3, "monthly_charges": 20.0}
    return client.models.LiveDeployment.transform_json(rid, input=model_input, preview=True)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda client, emu: client.models.Model.get("ri.models.main.model.missing", preview=True), ModelNotFound),
        (
            lambda client, emu: client.models.Model.Experiment.get(
                DEMO_PROD_MODEL, "ri.models.main.experiment.missing", preview=True
            ),
            ExperimentNotFound,
        ),
        (
            lambda client, emu: client.models.LiveDeployment.get(
                "ri.foundry-ml-live.main.live-deployment.missing", preview=True
            ),
            LiveDeploymentNotFound,
        ),
        (_promote_into_denied_model, PromoteVersionModelPermissionDenied),
        (_query_a_starting_deployment, InferenceFailure),
        (_query_a_timing_out_deployment, InferenceTimeout),
    ],
    ids=[
        "ModelNotFound",
        "ExperimentNotFound",
        "LiveDeploymentNotFound",
        "PromoteVersionModelPermissionDenied",
        "InferenceFailure",
        "InferenceTimeout",
    ],
)
def test_official_client_raises_the_deploy_halfs_named_errors(
    emu: FoundryEmulator, call: Callable[[FoundryClient, FoundryEmulator], object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        call(sdk_client(emu, UserTokenAuth(STATIC_TOKEN)), emu)


def test_official_client_with_only_read_scopes_is_denied_inference(emu: FoundryEmulator) -> None:
    auth = ConfidentialClientAuth(CLIENT_ID, CLIENT_SECRET, scopes=["api:models-read"])

    with pytest.raises(PermissionDeniedError, match="ApiUsageDenied"):
        sdk_client(emu, auth).models.LiveDeployment.transform_json(DEMO_DEPLOYMENT, input={}, preview=True)
