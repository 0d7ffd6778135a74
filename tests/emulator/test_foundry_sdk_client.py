"""Palantir's own client (foundry_sdk) works against the emulator: answers parse, named errors raise."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from foundry_sdk import ConfidentialClientAuth, Config, FoundryClient, UserTokenAuth
from foundry_sdk.v2.models.errors import LaunchModelStudioPermissionDenied, ModelStudioNotFound
from foundry_sdk.v2.orchestration.errors import BuildNotFound

from airflow_provider_modelstudio.emulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO_DENIED_STUDIO,
    DEMO_STUDIO,
    STATIC_TOKEN,
    FoundryEmulator,
)


def sdk_client(emulator: FoundryEmulator, auth: UserTokenAuth | ConfidentialClientAuth) -> FoundryClient:
    return FoundryClient(auth=auth, hostname=f"{emulator.host}:{emulator.port}", config=Config(scheme="http"))


def test_official_client_launches_a_run_and_follows_it_to_success(emu: FoundryEmulator) -> None:
    client = sdk_client(emu, UserTokenAuth(STATIC_TOKEN))

    run = client.models.ModelStudio.launch(DEMO_STUDIO, preview=True)
    emu.advance(6)
    build = client.orchestration.Build.get(run.build_rid)
    batch = client.orchestration.Build.get_batch([{"buildRid": run.build_rid}])
    jobs = list(client.orchestration.Build.jobs(run.build_rid))
    output = run.resolved_outputs["model"]
    version = client.models.Model.Version.get(output.model_rid, output.model_version_rid, preview=True)
    runs = list(client.models.ModelStudio.Run.list(DEMO_STUDIO, preview=True))

    assert (build.status, batch.data[run.build_rid].status, jobs[0].job_status) == ("SUCCEEDED",) * 3
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
