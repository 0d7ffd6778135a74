"""Who may see what: the page and its API refuse requests without credentials, and a user sees only the releases
of the DAGs Airflow's auth manager lets them read."""

from __future__ import annotations

import json

import pytest

from tests.releases import scenarios

ROUTES = ["/", "/dom.js", "/chart.js", "/releases.js", "/releases.css", "/api/releases", "/api/serving"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_request_without_credentials_is_refused(client, records, path):
    records.run("retrain_then_deploy", scenarios.success())

    answer = client(path, user=None)

    assert answer.status_code in (401, 403)
    assert "ri.models" not in answer.text


@pytest.mark.parametrize("path", ["/api/releases", "/api/serving"])
def test_a_forged_token_is_refused(client, records, path, api_app):
    from fastapi.testclient import TestClient

    records.run("retrain_then_deploy", scenarios.success())
    with TestClient(api_app) as http:
        answer = http.get("/modelstudio-releases" + path, headers={"Authorization": "Bearer not-a-jwt"})

    assert answer.status_code in (401, 403)


def test_a_reader_sees_the_releases_of_the_dags_they_may_read(client, records):
    records.run("retrain_then_deploy", scenarios.success())
    records.run("other_team_dag", scenarios.worse())

    releases = client("/api/releases").json()["releases"]

    assert sorted(release["dag_id"] for release in releases) == ["other_team_dag", "retrain_then_deploy"]


def test_a_user_who_may_read_some_dags_sees_only_their_releases_and_deployments(client, records, serving_cache):
    other = scenarios.success("ri.models.main.model-version.other")
    other["deploy"]["deploy_target"]["live_deployment_rid"] = "ri.foundry-ml-live.main.live-deployment.other-team"
    other["gate"]["gate_verdict"]["champion_live_deployment_rid"] = "ri.foundry-ml-live.main.live-deployment.other-team"
    records.run("other_team_dag", other)
    records.run("retrain_then_deploy", scenarios.worse())

    releases = client("/api/releases", user="only_retrain").json()
    serving = client("/api/serving", user="only_retrain").json()

    assert [release["dag_id"] for release in releases["releases"]] == ["retrain_then_deploy"]
    assert "other-team" not in json.dumps(releases)
    assert [deployment["rid"] for deployment in serving["deployments"]] == [scenarios.DEPLOYMENT]


def test_a_user_who_may_read_no_dag_sees_no_release_no_group_and_no_deployment(client, records, serving_cache):
    records.run("retrain_then_deploy", scenarios.success())

    releases = client("/api/releases", user="outsider").json()
    serving = client("/api/serving", user="outsider").json()

    assert (releases["releases"], releases["groups"], releases["runs_read"]) == ([], [], 0)
    assert serving == {"deployments": []}


def test_the_page_comes_with_a_policy_that_allows_no_inline_script(client):
    answer = client("/")

    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
