"""What serves now: read through the hook's async reads, at most once per deployment per page view and per TTL,
and "unknown" (never an error) when Foundry cannot be read."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelstudio.emulator import DEMO_CHAMPION_VERSION, DEMO_DEPLOYMENT, DEMO_PROD_MODEL
from tests.releases import scenarios


@pytest.fixture
def two_releases(records):
    records.run("retrain_then_deploy", scenarios.success())
    records.run("retrain_then_deploy", scenarios.rollback())


def deployment_reads(emulator) -> int:
    return sum(emulator.counters()["requests"].get("get_live_deployment", {}).values())


def test_it_names_the_version_the_deployment_serves_and_links_to_foundry(client, two_releases, foundry_connection):
    emulator = foundry_connection
    (serving,) = client("/api/serving").json()["deployments"]

    assert serving["known"] is True
    assert (serving["rid"], serving["version_rid"], serving["model_rid"]) == (
        DEMO_DEPLOYMENT,
        DEMO_CHAMPION_VERSION,
        DEMO_PROD_MODEL,
    )
    assert (serving["state"], serving["ready"]) == ("ACTIVE", True)
    assert serving["live_deployment_url"].startswith(emulator.url)
    assert DEMO_CHAMPION_VERSION in serving["model_version_url"]


def test_a_page_view_reads_each_deployment_once_and_views_within_the_ttl_read_none(
    client, two_releases, foundry_connection, clock
):
    emulator = foundry_connection
    before = deployment_reads(emulator)
    client("/api/serving")
    assert deployment_reads(emulator) - before == 1  # two releases, one deployment

    clock.now += 14
    client("/api/serving")
    assert deployment_reads(emulator) - before == 1

    clock.now += 2
    client("/api/serving")
    assert deployment_reads(emulator) - before == 2


def test_an_unreachable_foundry_is_unknown_not_an_error(client, two_releases, set_connection):
    set_connection(host="http://127.0.0.1:9", password="a-secret-token")

    answer = client("/api/serving")

    assert answer.status_code == 200
    (serving,) = answer.json()["deployments"]
    assert (serving["known"], serving["rid"]) == (False, DEMO_DEPLOYMENT)
    assert serving["reason"] == "Foundry could not be reached"


def test_a_missing_connection_is_unknown(client, two_releases, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", raising=False)

    (serving,) = client("/api/serving").json()["deployments"]

    assert (serving["known"], serving["reason"]) == (False, "the connection is not defined")


def test_no_connection_secret_reaches_a_response(client, two_releases, foundry_emulator, set_connection):
    conn = foundry_emulator.connection("oauth2")
    set_connection(raw=json.dumps(conn))
    secret = conn["password"]

    bodies = [client(path).text for path in ("/api/releases", "/api/serving", "/", "/releases.js")]

    assert json.loads(bodies[1])["deployments"][0]["known"] is True
    assert not [body for body in bodies if secret in body]
