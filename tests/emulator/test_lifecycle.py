"""Runs and builds over time: outcomes after the duration, cancellation, listing, batches and paging."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from airflow_provider_modelstudio.emulator import DEMO_DENIED_STUDIO, DEMO_FAILS_STUDIO, DEMO_STUDIO, FoundryEmulator
from tests.emulator.helpers import BUILDS, PREVIEW, STUDIOS, assert_error, build_status, launch

OTHER_STUDIO = "ri.models.main.model-studio.other"


def runs_page(client: httpx.Client, studio: str = DEMO_STUDIO, **query: str) -> httpx.Response:
    return client.get(f"{STUDIOS}/{studio}/runs", params={**PREVIEW, **query})


def test_demo_run_stays_running_until_its_duration_has_passed(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    emu.advance(4.5)

    assert build_status(client, build_rid) == "RUNNING"
    assert emu.build_finished_at(build_rid) is None


def test_demo_run_succeeds_after_its_duration(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    emu.advance(5)

    assert build_status(client, build_rid) == "SUCCEEDED"


def test_demo_fails_run_fails_after_its_duration(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client, DEMO_FAILS_STUDIO)["buildRid"]
    emu.advance(5)

    assert build_status(client, build_rid) == "FAILED"


def test_build_finished_at_is_launch_time_plus_duration(emu: FoundryEmulator, client: httpx.Client) -> None:
    before = emu.now()
    build_rid = launch(client)["buildRid"]
    after = emu.now()
    emu.advance(6)

    finished_at = emu.build_finished_at(build_rid)
    assert finished_at is not None
    assert before + 5 <= finished_at <= after + 5


def test_denied_studio_answers_403_on_launch_but_can_be_read(client: httpx.Client) -> None:
    assert_error(
        client.post(f"{STUDIOS}/{DEMO_DENIED_STUDIO}/launch", params=PREVIEW), 403, "LaunchModelStudioPermissionDenied"
    )
    assert client.get(f"{STUDIOS}/{DEMO_DENIED_STUDIO}", params=PREVIEW).status_code == 200


def test_unknown_studio_answers_404_model_studio_not_found(client: httpx.Client) -> None:
    answer = client.post(f"{STUDIOS}/{OTHER_STUDIO}/launch", params=PREVIEW)

    assert_error(answer, 404, "ModelStudioNotFound", studioRid=OTHER_STUDIO)


def test_malformed_studio_rid_answers_400_invalid_argument(client: httpx.Client) -> None:
    answer = client.post(f"{STUDIOS}/not-a-rid/launch", params=PREVIEW)

    assert_error(answer, 400, "Default:InvalidArgument", parameterName="modelStudioRid")
    assert answer.json()["errorCode"] == "INVALID_ARGUMENT"


def test_launch_counts_per_studio(emu: FoundryEmulator, client: httpx.Client) -> None:
    launch(client)
    launch(client)
    launch(client, DEMO_FAILS_STUDIO)

    assert emu.counters()["launches"] == {DEMO_STUDIO: 2, DEMO_FAILS_STUDIO: 1}


def test_runs_list_shows_the_current_build_status_newest_first(emu: FoundryEmulator, client: httpx.Client) -> None:
    first = launch(client)
    emu.advance(5)
    second = launch(client)

    listed = runs_page(client).json()["data"]

    assert [(run["runId"], run["buildStatus"]) for run in listed] == [
        (second["runId"], "RUNNING"),
        (first["runId"], "SUCCEEDED"),
    ]


def test_runs_list_pages_through_every_run_once(emu: FoundryEmulator, client: httpx.Client) -> None:
    created = [run["runId"] for run in emu.create_runs(DEMO_STUDIO, 7)]
    seen: list[str] = []
    query: dict[str, str] = {"pageSize": "3"}
    while True:
        page = runs_page(client, **query).json()
        seen += [run["runId"] for run in page["data"]]
        if not page.get("nextPageToken"):
            break
        query["pageToken"] = page["nextPageToken"]

    assert seen == list(reversed(created))


def test_runs_list_default_page_is_20(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.create_runs(DEMO_STUDIO, 25)

    page = runs_page(client).json()

    assert len(page["data"]) == 20
    assert page["nextPageToken"]


@pytest.mark.parametrize("size", ["0", "101"])
def test_runs_list_page_size_outside_1_to_100_is_400_invalid_page_size(client: httpx.Client, size: str) -> None:
    assert_error(runs_page(client, pageSize=size), 400, "InvalidPageSize", pageSize=int(size))


def test_runs_list_unknown_page_token_is_400_invalid_page_token(client: httpx.Client) -> None:
    assert_error(runs_page(client, pageToken="bm9wZQ"), 400, "InvalidPageToken", pageToken="bm9wZQ")


def test_runs_list_filtered_by_an_unknown_config_version_is_404(client: httpx.Client) -> None:
    assert_error(runs_page(client, configVersion="2"), 404, "ModelStudioConfigVersionNotFound", configVersion=2)


def test_runs_list_filtered_by_config_version_1_shows_the_runs(client: httpx.Client) -> None:
    launch(client)

    assert len(runs_page(client, configVersion="1").json()["data"]) == 1


def test_cancel_makes_a_running_build_canceled_after_the_cancel_delay(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    build_rid = launch(client)["buildRid"]

    answer = client.post(f"{BUILDS}/{build_rid}/cancel")
    still_running = build_status(client, build_rid)
    emu.advance(1)

    assert (answer.status_code, answer.content) == (204, b"")
    assert (still_running, build_status(client, build_rid)) == ("RUNNING", "CANCELED")
    assert emu.counters()["cancels"] == {build_rid: 1}


def test_cancel_of_a_finished_build_changes_nothing(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    emu.advance(5)
    finished = client.get(f"{BUILDS}/{build_rid}").json()

    answer = client.post(f"{BUILDS}/{build_rid}/cancel")
    emu.advance(5)

    assert answer.status_code == 204
    assert client.get(f"{BUILDS}/{build_rid}").json() == finished


def test_cancel_of_an_unknown_build_is_404_build_not_found(client: httpx.Client) -> None:
    answer = client.post(f"{BUILDS}/ri.foundry.main.build.missing/cancel")

    assert_error(answer, 404, "BuildNotFound", buildRid="ri.foundry.main.build.missing")


def test_cancel_in_a_cancel_denied_studio_is_403(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.add_studio(OTHER_STUDIO, cancel_denied=True)
    build_rid = launch(client, OTHER_STUDIO)["buildRid"]

    assert_error(client.post(f"{BUILDS}/{build_rid}/cancel"), 403, "CancelBuildPermissionDenied", buildRid=build_rid)


def test_builds_batch_leaves_unknown_builds_out(client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    body = [{"buildRid": build_rid}, {"buildRid": "ri.foundry.main.build.missing"}]

    assert list(client.post(f"{BUILDS}/getBatch", json=body).json()["data"]) == [build_rid]


def test_builds_batch_of_more_than_100_is_400(client: httpx.Client) -> None:
    body = [{"buildRid": f"ri.foundry.main.build.b{index}"} for index in range(101)]

    answer = client.post(f"{BUILDS}/getBatch", json=body)

    assert_error(answer, 400, "BatchRequestSizeExceededLimit", maximumBatchSize=100, providedBatchSize=101)


def test_builds_batch_of_nothing_is_400(client: httpx.Client) -> None:
    assert_error(client.post(f"{BUILDS}/getBatch", json=[]), 400, "MissingBatchRequest")


def test_builds_batch_that_is_not_a_list_of_build_rids_is_400(client: httpx.Client) -> None:
    assert_error(client.post(f"{BUILDS}/getBatch", json={"buildRid": "x"}), 400, "Default:InvalidArgument")


def test_forced_unknown_build_status_is_served_as_is(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]

    emu.set_build_status(build_rid, "QUEUED")
    emu.advance(60)

    assert build_status(client, build_rid) == "QUEUED"
    assert emu.build_finished_at(build_rid) is None


def test_forced_final_build_status_finishes_the_build_now(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]

    emu.set_build_status(build_rid, "FAILED")

    assert build_status(client, build_rid) == "FAILED"
    assert emu.build_finished_at(build_rid) is not None


def test_studio_with_several_outputs_resolves_one_model_version_per_alias(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    emu.add_studio(OTHER_STUDIO, outputs=["model", "calibrator"])

    outputs = launch(client, OTHER_STUDIO)["resolvedOutputs"]

    assert sorted(outputs) == ["calibrator", "model"]
    assert outputs["model"]["modelRid"] != outputs["calibrator"]["modelRid"]


def test_studio_without_outputs_resolves_an_empty_map(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.add_studio(OTHER_STUDIO, outputs=[])

    assert launch(client, OTHER_STUDIO)["resolvedOutputs"] == {}


def test_studio_can_omit_resolved_outputs_and_build_status(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.add_studio(OTHER_STUDIO, omit_resolved_outputs=True, omit_build_status=True)

    run = launch(client, OTHER_STUDIO)

    assert "resolvedOutputs" not in run
    assert "buildStatus" not in run


def test_studio_outcome_canceled_ends_canceled(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.add_studio(OTHER_STUDIO, outcome="CANCELED", duration_seconds=2)
    build_rid = launch(client, OTHER_STUDIO)["buildRid"]
    emu.advance(2)

    assert build_status(client, build_rid) == "CANCELED"


def jittered_durations(emu: FoundryEmulator) -> list[float]:
    emu.reset()
    emu.add_studio(OTHER_STUDIO, duration_seconds=10, duration_jitter_seconds=4)
    emu.create_runs(OTHER_STUDIO, 5)
    emu.advance(15)
    return [
        datetime.fromisoformat(build["finishedTime"]).timestamp()
        - datetime.fromisoformat(build["createdTime"]).timestamp()
        for build in emu.builds().values()
    ]


def test_duration_jitter_adds_up_to_the_configured_seconds(emu: FoundryEmulator) -> None:
    durations = jittered_durations(emu)

    assert all(10 <= duration <= 14.002 for duration in durations)
    assert len({round(duration, 2) for duration in durations}) > 1


def test_duration_jitter_repeats_with_the_same_seed(emu: FoundryEmulator) -> None:
    assert jittered_durations(emu) == pytest.approx(jittered_durations(emu), abs=0.002)


def test_create_runs_makes_listed_runs_without_counting_launches(emu: FoundryEmulator, client: httpx.Client) -> None:
    runs = emu.create_runs(DEMO_STUDIO, 3)

    assert [run["runId"] for run in emu.runs(DEMO_STUDIO)] == [run["runId"] for run in reversed(runs)]
    assert set(emu.builds()) == {run["buildRid"] for run in runs}
    assert emu.counters()["launches"] == {}


def test_reset_forgets_runs_and_counters(emu: FoundryEmulator, client: httpx.Client) -> None:
    launch(client)

    emu.reset()

    assert (emu.runs(), emu.builds()) == ([], {})
    assert emu.counters() == {
        "requests": {},
        "tokens_issued": 0,
        "launches": {},
        "cancels": {},
        "promotions": {},
        "live_deployment_starts": {},
        "faults_injected": {},
    }
