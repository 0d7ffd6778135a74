"""Releases assembled from what the launch, gate and deploy tasks pushed, as ``/api/releases`` answers them."""

from __future__ import annotations

from tests.releases import scenarios


def releases_by_run(client) -> dict[str, dict]:
    return {release["run_id"]: release for release in client("/api/releases").json()["releases"]}


def test_the_demos_three_runs_are_three_releases_newest_first_with_their_verdicts_and_versions(client, records):
    good = records.run("retrain_then_deploy", scenarios.success())
    worse = records.run("retrain_then_deploy", scenarios.worse())
    broke = records.run("retrain_then_deploy", scenarios.rollback())

    releases = client("/api/releases").json()["releases"]

    assert [(r["run_id"], r["version_rid"], r["gate"]["passed"], r["outcome"]) for r in releases] == [
        (broke, "ri.models.main.model-version.breaks", True, "rolled back"),
        (worse, "ri.models.main.model-version.worse", False, "stopped by the gate"),
        (good, "ri.models.main.model-version.good", True, "deployed"),
    ]
    assert {r["run_state"] for r in releases} == {"success"}
    assert [r["tasks"]["train"]["state"] for r in releases] == ["success"] * 3


def test_a_deployed_release_names_its_promoted_copy_and_its_smoke_test(client, records):
    run = records.run("retrain_then_deploy", scenarios.success())

    deploy = releases_by_run(client)[run]["deploy"]

    assert deploy["promoted_version_rid"] == deploy["served_version_rid"] == "ri.models.main.model-version.good-copy"
    assert (deploy["smoke_tested"], deploy["smoke_test_latency_ms"]) == (True, 5.0)
    assert deploy["live_deployment_url"].startswith(scenarios.FOUNDRY)


def test_a_rolled_back_release_names_the_version_served_again_and_the_problem(client, records):
    run = records.run("retrain_then_deploy", scenarios.rollback())

    deploy = releases_by_run(client)[run]["deploy"]

    assert deploy["rollback_version_rid"] == scenarios.CHAMPION + "-copy"
    assert "FAILED" in deploy["problem"]
    assert deploy["smoke_tested"] is False


def test_a_gate_recorded_without_its_verdict_joins_the_runs_training_release(client, records):
    """A gate that ran before ``gate_verdict`` existed pushed only its rows."""
    tasks = scenarios.worse()
    del tasks["gate"]["gate_verdict"]
    run = records.run("retrain_then_deploy", tasks)

    (release,) = client("/api/releases").json()["releases"]

    assert (release["run_id"], release["version_rid"], release["gate"]["passed"]) == (
        run,
        "ri.models.main.model-version.worse",
        False,
    )


def test_a_failed_training_run_is_a_release_without_a_version(client, records):
    tasks = {"train": {"build_url": "https://foundry.example/builds/x", "build_rid": "ri.foundry-build.main.build.x"}}
    records.run("retrain_then_deploy", tasks, states={"train": "failed"})

    (release,) = client("/api/releases").json()["releases"]

    assert (release["version_rid"], release["outcome"], release["build_url"]) == (
        None,
        "training failed",
        "https://foundry.example/builds/x",
    )


def test_a_dag_run_without_provider_tasks_is_not_read(client, records):
    records.run("plain_etl", {"extract": {"return_value": {"model_version_rid": "ri.models.main.model-version.x"}}})
    records.run("retrain_then_deploy", scenarios.success())

    answer = client("/api/releases").json()

    assert answer["runs_read"] == 1
    assert [release["dag_id"] for release in answer["releases"]] == ["retrain_then_deploy"]


def test_releases_are_grouped_per_live_deployment_and_per_studio(client, records):
    records.run("retrain_then_deploy", scenarios.success())
    records.run("retrain_then_deploy", scenarios.worse())

    groups = {(group["kind"], group["rid"]): group for group in client("/api/releases").json()["groups"]}

    assert len(groups[("deployment", scenarios.DEPLOYMENT)]["release_ids"]) == 2
    assert sorted(rid for kind, rid in groups if kind == "studio") == [
        "ri.models.main.model-studio.demo",
        "ri.models.main.model-studio.demo-worse",
    ]


def test_the_trend_has_one_point_per_retrain_with_candidate_champion_and_threshold(client, records):
    for tasks in (scenarios.success(), scenarios.worse(), scenarios.rollback()):
        records.run("retrain_then_deploy", tasks)

    (deployment,) = [group for group in client("/api/releases").json()["groups"] if group["kind"] == "deployment"]
    auc = deployment["series"]["val_auc:LAST"]

    assert [(p["candidate"], p["champion"], p["threshold"], p["passed"]) for p in auc] == [
        (0.91, 0.88, 0.85, True),
        (0.84, 0.88, 0.85, False),
        (0.92, 0.88, 0.85, True),
    ]
    assert [p["version_rid"] for p in auc] == [
        "ri.models.main.model-version.good",
        "ri.models.main.model-version.worse",
        "ri.models.main.model-version.breaks",
    ]
    assert all(p["dag_id"] == "retrain_then_deploy" and p["run_id"].startswith("manual__") for p in auc)


def test_only_the_newest_runs_up_to_the_limit_are_read(client, records):
    runs = [
        records.run("retrain_then_deploy", scenarios.success(f"ri.models.main.model-version.v{i}")) for i in range(4)
    ]

    answer = client("/api/releases", params={"limit": 2}).json()

    assert [release["run_id"] for release in answer["releases"]] == [runs[3], runs[2]]
    assert answer["runs_read"] == 2


def test_a_value_airflow_serialised_with_its_markers_still_makes_its_release(client, records):
    tasks = scenarios.success()
    tasks["train"]["return_value"]["outputs"] = ("model", "report")  # a tuple: stored with Airflow's markers
    records.run("retrain_then_deploy", tasks)

    (release,) = client("/api/releases").json()["releases"]

    assert (release["studio_rid"], release["version_rid"]) == (
        "ri.models.main.model-studio.demo",
        "ri.models.main.model-version.good",
    )
