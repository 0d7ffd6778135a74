"""Models, their branches and versions: runs write versions, promotions copy them, lists page newest first."""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_modelstudio.emulator import (
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_FAILS_STUDIO,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    FoundryEmulator,
)
from tests.emulator.helpers import MODELS, PREVIEW, RUN_SECONDS, assert_error, launch, promote, trained_version


def version_rids(http: httpx.Client, model_rid: str, **query: str) -> list[str]:
    answer = http.get(f"{MODELS}/{model_rid}/versions", params={**PREVIEW, **query})
    assert answer.status_code == 200, answer.text
    assert "nextPageToken" not in answer.json()
    return [version["rid"] for version in answer.json()["data"]]


def all_pages(http: httpx.Client, model_rid: str, page_size: int) -> list[list[str]]:
    pages, token = [], None
    while True:
        query = {**PREVIEW, "pageSize": str(page_size)} | ({"pageToken": token} if token else {})
        answer = http.get(f"{MODELS}/{model_rid}/versions", params=query).json()
        pages.append([version["rid"] for version in answer["data"]])
        token = answer.get("nextPageToken")
        if token is None:
            return pages


def test_get_model_answers_the_model_a_studio_writes_into(client: httpx.Client) -> None:
    answer = client.get(f"{MODELS}/{DEMO_STUDIO_MODEL}", params=PREVIEW)

    assert answer.json() == {"rid": DEMO_STUDIO_MODEL}


def test_get_model_answers_the_name_a_test_gave_the_model(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.add_model(DEMO_STUDIO_MODEL, name="Churn <script>x</script>")

    answer = client.get(f"{MODELS}/{DEMO_STUDIO_MODEL}", params=PREVIEW)

    assert answer.json() == {"rid": DEMO_STUDIO_MODEL, "name": "Churn <script>x</script>"}


def test_get_unknown_model_is_model_not_found(client: httpx.Client) -> None:
    answer = client.get(f"{MODELS}/ri.models.main.model.missing", params=PREVIEW)

    assert_error(answer, 404, "ModelNotFound", modelRid="ri.models.main.model.missing")


def test_a_runs_version_lands_on_master_only_when_its_build_succeeds(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    output = launch(client)["resolvedOutputs"]["model"]
    before = version_rids(client, DEMO_STUDIO_MODEL, branch="master")
    emu.advance(RUN_SECONDS)

    assert output["modelVersionRid"] not in before
    assert version_rids(client, DEMO_STUDIO_MODEL, branch="master")[0] == output["modelVersionRid"]


def test_a_failed_runs_version_never_lands_on_its_branch(emu: FoundryEmulator, client: httpx.Client) -> None:
    output = trained_version(emu, client, DEMO_FAILS_STUDIO)

    assert version_rids(client, output["modelRid"]) == []


def test_a_runs_version_has_its_studio_as_source_and_links_the_runs_experiment(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    run = launch(client)
    output = run["resolvedOutputs"]["model"]
    version = client.get(f"{MODELS}/{output['modelRid']}/versions/{output['modelVersionRid']}", params=PREVIEW).json()
    experiment = client.get(
        f"{MODELS}/{output['modelRid']}/experiments/{version['linkedExperiment']}", params=PREVIEW
    ).json()

    assert version["source"] == {"type": "modelStudio", "modelStudioRid": DEMO_STUDIO}
    assert (experiment["linkedModelVersion"], experiment["jobRid"]) == (output["modelVersionRid"], run["jobRid"])


def test_model_versions_page_newest_first_without_repeats(emu: FoundryEmulator, client: httpx.Client) -> None:
    model = emu.add_model()
    added = [emu.add_model_version(model)["rid"] for _ in range(5)]

    pages = all_pages(client, model, page_size=2)

    assert pages == [added[:2:-1], added[2:0:-1], added[:1]]


def test_a_version_landing_between_pages_neither_repeats_nor_skips_older_ones(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    model = emu.add_model()
    added = [emu.add_model_version(model)["rid"] for _ in range(3)]
    first = client.get(f"{MODELS}/{model}/versions", params={**PREVIEW, "pageSize": "2"}).json()
    emu.add_model_version(model)
    second = client.get(
        f"{MODELS}/{model}/versions", params={**PREVIEW, "pageSize": "2", "pageToken": first["nextPageToken"]}
    ).json()

    assert [v["rid"] for v in first["data"] + second["data"]] == added[::-1]


def test_model_versions_filter_by_branch(emu: FoundryEmulator, client: httpx.Client) -> None:
    model = emu.add_model()
    on_master = emu.add_model_version(model)["rid"]
    on_staging = emu.add_model_version(model, branch="staging")["rid"]

    assert version_rids(client, model, branch="master") == [on_master]
    assert version_rids(client, model, branch="staging") == [on_staging]
    assert version_rids(client, model) == [on_staging, on_master]


@pytest.mark.parametrize(
    ("query", "error"), [({"pageSize": "0"}, "InvalidPageSize"), ({"pageToken": "x"}, "InvalidPageToken")]
)
def test_model_versions_refuse_a_bad_page_size_or_token(
    client: httpx.Client, query: dict[str, str], error: str
) -> None:
    answer = client.get(f"{MODELS}/{DEMO_STUDIO_MODEL}/versions", params={**PREVIEW, **query})

    assert_error(answer, 400, error)


def test_promote_copies_a_version_under_a_new_rid_with_a_promoted_source(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    output = trained_version(emu, client)

    promoted = promote(client, DEMO_PROD_MODEL, output["modelVersionRid"])

    assert promoted["rid"] != output["modelVersionRid"]
    assert promoted["source"] == {
        "type": "promoted",
        "previousModelRid": output["modelRid"],
        "previousModelVersionRid": output["modelVersionRid"],
    }


def test_a_promoted_copy_has_no_linked_experiment_of_its_own(emu: FoundryEmulator, client: httpx.Client) -> None:
    promoted = promote(client, DEMO_PROD_MODEL, trained_version(emu, client)["modelVersionRid"])

    assert "linkedExperiment" not in promoted


def test_a_promoted_copy_is_the_latest_version_on_the_target_branch(emu: FoundryEmulator, client: httpx.Client) -> None:
    output = trained_version(emu, client)

    promoted = promote(client, DEMO_PROD_MODEL, output["modelVersionRid"], branch="staging")

    assert version_rids(client, DEMO_PROD_MODEL, branch="staging") == [promoted["rid"]]


def test_promoting_twice_makes_two_copies_and_counts_both(emu: FoundryEmulator, client: httpx.Client) -> None:
    source = trained_version(emu, client)["modelVersionRid"]

    first, second = (promote(client, DEMO_PROD_MODEL, source) for _ in range(2))

    assert first["rid"] != second["rid"]
    assert emu.counters()["promotions"] == {DEMO_PROD_MODEL: 2}


def test_promote_into_an_unknown_model_is_model_not_found(client: httpx.Client) -> None:
    answer = client.post(
        f"{MODELS}/ri.models.main.model.missing/promoteVersion",
        params=PREVIEW,
        json={"sourceModelVersionRid": DEMO_CHAMPION_SOURCE_VERSION},
    )

    assert_error(answer, 404, "ModelNotFound", modelRid="ri.models.main.model.missing")


def test_promote_of_an_unknown_version_is_model_version_not_found(client: httpx.Client) -> None:
    missing = "ri.models.main.model-version.missing"
    answer = client.post(
        f"{MODELS}/{DEMO_PROD_MODEL}/promoteVersion", params=PREVIEW, json={"sourceModelVersionRid": missing}
    )

    assert_error(answer, 404, "ModelVersionNotFound", modelVersionRid=missing)


def test_promote_of_a_version_whose_run_still_trains_is_model_version_not_found(client: httpx.Client) -> None:
    output = launch(client)["resolvedOutputs"]["model"]
    answer = client.post(
        f"{MODELS}/{DEMO_PROD_MODEL}/promoteVersion",
        params=PREVIEW,
        json={"sourceModelVersionRid": output["modelVersionRid"]},
    )

    assert_error(answer, 404, "ModelVersionNotFound", modelRid=output["modelRid"])


def test_promote_into_a_model_that_denies_it_is_permission_denied(emu: FoundryEmulator, client: httpx.Client) -> None:
    model = emu.add_model(promote_denied=True)
    answer = client.post(
        f"{MODELS}/{model}/promoteVersion", params=PREVIEW, json={"sourceModelVersionRid": DEMO_CHAMPION_SOURCE_VERSION}
    )

    assert_error(answer, 403, "PromoteVersionModelPermissionDenied", modelRid=model)


@pytest.mark.parametrize(
    ("body", "error"),
    [(None, "MissingPostBody"), ([], "Default:InvalidArgument"), ({"branch": "master"}, "Default:InvalidArgument")],
    ids=["no body", "not an object", "no source"],
)
def test_promote_without_a_source_version_is_refused(client: httpx.Client, body: object, error: str) -> None:
    answer = client.post(f"{MODELS}/{DEMO_PROD_MODEL}/promoteVersion", params=PREVIEW, json=body)

    assert_error(answer, 400, error)


def test_handle_adds_a_version_with_metrics_whose_experiment_holds_them(emu: FoundryEmulator) -> None:
    model = emu.add_model()

    version = emu.add_model_version(model, metrics={"val_auc": 0.9})

    [experiment] = emu.experiments(model)
    assert version["linkedExperiment"] == experiment["rid"]
    assert {(m["aggregation"], m["value"]) for m in experiment["summaryMetrics"]} >= {("LAST", 0.9)}
    assert emu.model_versions(model) == [version]


def test_handle_adds_a_version_without_metrics_without_experiment(emu: FoundryEmulator) -> None:
    model = emu.add_model()

    version = emu.add_model_version(model)

    assert ("linkedExperiment" in version, emu.experiments(model)) == (False, [])


def test_handle_adds_a_promoted_copy_of_an_existing_version(emu: FoundryEmulator) -> None:
    model = emu.add_model()

    version = emu.add_model_version(model, promoted_from=DEMO_CHAMPION_SOURCE_VERSION)

    assert version["source"]["previousModelVersionRid"] == DEMO_CHAMPION_SOURCE_VERSION


@pytest.mark.parametrize(
    ("model", "settings"),
    [
        ("ri.models.main.model.missing", {}),
        (DEMO_PROD_MODEL, {"promoted_from": "ri.models.main.model-version.missing"}),
    ],
    ids=["unknown model", "unknown source version"],
)
def test_handle_refuses_a_version_of_something_unknown(
    emu: FoundryEmulator, model: str, settings: dict[str, str]
) -> None:
    with pytest.raises(KeyError):
        emu.add_model_version(model, **settings)


def test_handle_refuses_a_version_rid_already_used(emu: FoundryEmulator) -> None:
    with pytest.raises(ValueError, match="exists already"):
        emu.add_model_version(DEMO_PROD_MODEL, rid=DEMO_CHAMPION_SOURCE_VERSION)
