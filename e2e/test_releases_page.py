"""The Model releases page in a real deployment, driven in headless Chromium (Playwright, Debian's chromium).

A deployment of its own, with logins: the simple auth manager with users ``admin`` (role admin) and
``outsider`` (a viewer whom ``e2e.dag_access.DagAccessAuthManager`` lets read no DAG), and an emulator of its
own (the demo's three runs change what its live deployment serves, which the session's other tests rely on).
``retrain_then_deploy`` runs three times in a row: a better model (deployed), a worse one (stopped by the
gate) and one that breaks the deployment (rolled back). The success run's model is named with markup.

Screenshots of the page (in Airflow's UI, and alone in the dark theme) go to ``.airflow-test/screenshots/``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from airflow_deployment import REPO, AirflowApi, AirflowDeployment, DeploymentError, stop_signals_interrupt

from airflow_provider_modelstudio.emulator import (
    CLIENT_ID,
    DEMO_BREAKS_STUDIO,
    DEMO_DEPLOYMENT,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    DEMO_WORSE_STUDIO,
    FoundryEmulator,
    Scenario,
)
from airflow_provider_modelstudio.emulator.scenario import ClientSettings
from airflow_provider_modelstudio.releases.plugin import URL_PREFIX
from e2e.support import wait_for_run_end

DAG_ID = "retrain_then_deploy"
DAGS_FOLDER = Path(__file__).resolve().parent / "dags"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / ".airflow-test" / "screenshots"
HOSTILE_NAME = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> churn model'
SCENARIOS = {"success": DEMO_STUDIO, "worse": DEMO_WORSE_STUDIO, "rollback": DEMO_BREAKS_STUDIO}
OUTCOMES = {
    "success": ("PASS", "deployed"),
    "worse": ("FAIL", "stopped by the gate"),
    "rollback": ("PASS", "rolled back"),
}
PAGE_SECONDS = 60.0


@dataclass(frozen=True)
class Site:
    """The deployment, its users' passwords, and the three runs: scenario -> (run id, candidate version)."""

    airflow: AirflowDeployment
    passwords: dict[str, str]
    runs: dict[str, tuple[str, str]]

    def token(self, username: str) -> str:
        token = AirflowApi.login(self.airflow.url, username, self.passwords[username]).token
        assert token is not None
        return token


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make e2e` installs Debian's chromium (apt-get install chromium)")
    home = tmp_path_factory.mktemp("airflow-releases")
    passwords = {"admin": secrets.token_urlsafe(12), "outsider": secrets.token_urlsafe(12)}
    (home / "passwords.json").write_text(json.dumps(passwords))
    scenario = Scenario(clients={CLIENT_ID: ClientSettings(secret=secrets.token_hex(16))})
    with FoundryEmulator(scenario) as emulator:
        emulator.add_model(DEMO_STUDIO_MODEL, name=HOSTILE_NAME)
        deployment = AirflowDeployment(
            home=home,
            dags_folder=DAGS_FOLDER,
            connection=emulator.connection("oauth2"),
            extra_env={
                "MODELSTUDIO_POLL_SECONDS": "1",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,outsider:viewer",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__CORE__AUTH_MANAGER": "e2e.dag_access.DagAccessAuthManager",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            },
        )
        with stop_signals_interrupt(), deployment:
            deployment.api = AirflowApi.login(deployment.url, "admin", passwords["admin"])
            deployment.wait_for_dags([DAG_ID])
            runs = {}
            for name, studio in SCENARIOS.items():  # one after another: one deploy at a time per deployment
                run_id = deployment.api.trigger_dag_run(DAG_ID, {"model_studio_rid": studio})
                wait_for_run_end(deployment, DAG_ID, run_id)
                trained = deployment.api.xcom(DAG_ID, run_id, "train")
                runs[name] = (run_id, trained["model_version_rid"])
            yield Site(deployment, passwords, runs)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_in(browser: Any, site: Site, username: str) -> Any:
    """A browser page whose cookie is ``username``'s token, as Airflow's login leaves it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "_token", "value": site.token(username), "url": site.airflow.url}])
    page = context.new_page()
    page.set_default_timeout(PAGE_SECONDS * 1000)
    return page


@pytest.fixture(scope="module")
def admin_view(browser: Any, site: Site) -> Iterator[Any]:
    """The page as the admin sees it in Airflow's UI (the menu entry's route): the page's frame."""
    page = signed_in(browser, site, "admin")
    page.goto(f"{site.airflow.url}/plugin/model-releases")
    frame = page.frame_locator(f"iframe[src*='{URL_PREFIX}']")
    frame.locator("body[data-loaded='true']").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "releases-in-airflow.png", full_page=True)
    yield page, frame
    page.context.close()


def test_the_page_lists_the_three_runs_with_their_verdicts_and_versions(admin_view: Any, site: Site) -> None:
    _, frame = admin_view
    group = frame.locator(f"section[data-kind='deployment'][data-group='{DEMO_DEPLOYMENT}']")
    for name, (run_id, version) in site.runs.items():
        row = group.locator(f"tr.release[data-run='{run_id}']")
        verdict, outcome = OUTCOMES[name]
        assert row.get_attribute("data-outcome") == outcome, name
        assert row.locator("td.gate summary .badge").inner_text() == verdict, name
        assert row.locator("[data-version]").first.get_attribute("data-version") == version, name
    assert group.locator("tr.release").count() == 3


def test_the_chart_has_one_point_per_retrain_naming_version_and_run(admin_view: Any, site: Site) -> None:
    _, frame = admin_view
    chart = frame.locator(f"section[data-group='{DEMO_DEPLOYMENT}'] figure[data-metric='val_auc:LAST']")
    points = chart.locator("circle.point")
    assert points.count() == 3
    assert sorted(points.nth(i).get_attribute("data-run") for i in range(3)) == sorted(
        run_id for run_id, _ in site.runs.values()
    )
    points.first.hover()
    tooltip = frame.locator("#tooltip").inner_text()
    first_run, first_version = site.runs["success"]
    assert first_version in tooltip and first_run in tooltip


def test_a_model_name_with_markup_is_shown_as_text(admin_view: Any, site: Site) -> None:
    _, frame = admin_view
    run_id, _ = site.runs["success"]
    name = frame.locator(f"tr.release[data-run='{run_id}'] .model-name")
    assert name.inner_text() == HOSTILE_NAME
    assert frame.locator("script").count() == 3  # the page's own three files only
    assert frame.locator("img").count() == 0
    pwned = frame.locator("body").evaluate("() => window.__pwned ?? null")
    assert pwned is None


def test_what_serves_now_names_the_deployments_current_version(admin_view: Any) -> None:
    _, frame = admin_view
    row = frame.locator(f"#serving-table tr[data-deployment='{DEMO_DEPLOYMENT}']")
    assert "ACTIVE" in row.inner_text()
    assert row.locator("[data-version]").get_attribute("data-version").startswith("ri.models.main.model-version.")


def test_links_open_the_task_instance_in_airflow_and_the_build_in_foundry(browser: Any, site: Site) -> None:
    """Airflow's iframe is sandboxed without allow-top-navigation and allow-popups: the links still work."""
    page = signed_in(browser, site, "admin")
    page.goto(f"{site.airflow.url}/plugin/model-releases")
    frame = page.frame_locator(f"iframe[src*='{URL_PREFIX}']")
    run_id, _ = site.runs["success"]
    row = frame.locator(f"tr.release[data-run='{run_id}']")
    build = row.locator("text=Foundry: build")
    with page.context.expect_page() as opened:
        build.click()
    assert opened.value.url == build.get_attribute("href")
    task = row.locator("a.task-link", has_text="deploy task")
    target = task.get_attribute("href")
    assert target == f"{site.airflow.url}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}/tasks/deploy"
    task.click()
    page.wait_for_url(target)
    page.context.close()


def test_the_page_follows_airflows_dark_theme(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "admin")
    page.add_init_script("window.localStorage.setItem('theme', 'dark')")  # Airflow 3.3's UI keeps its theme there
    page.goto(f"{site.airflow.url}/plugin/model-releases")
    frame = page.frame_locator(f"iframe[src*='{URL_PREFIX}']")
    frame.locator("body[data-loaded='true']").wait_for()
    theme = frame.locator("html").get_attribute("data-theme")
    background = frame.locator("body").evaluate("body => getComputedStyle(body).backgroundColor")
    page.screenshot(path=SCREENSHOTS / "releases-in-airflow-dark.png")
    page.goto(f"{site.airflow.url}{URL_PREFIX}/?theme=dark")
    page.locator("body[data-loaded='true']").wait_for()
    page.screenshot(path=SCREENSHOTS / "releases-dark.png", full_page=True)
    page.context.close()
    print(f"screenshots in {SCREENSHOTS}")
    assert (theme, background) == ("dark", "rgb(17, 20, 24)")


def test_a_user_who_may_not_read_the_dag_sees_none_of_it(browser: Any, site: Site) -> None:
    page = signed_in(browser, site, "outsider")
    page.goto(f"{site.airflow.url}{URL_PREFIX}/")
    page.locator("body[data-loaded='true']").wait_for()
    text = page.locator("body").inner_text()
    page.screenshot(path=SCREENSHOTS / "releases-outsider.png", full_page=True)
    page.context.close()
    assert page_shows_nothing(text, site)
    answer = AirflowApi(site.airflow.url, token=site.token("outsider")).request("GET", f"{URL_PREFIX}/api/releases")
    assert (answer["releases"], answer["groups"]) == ([], [])


def page_shows_nothing(text: str, site: Site) -> bool:
    leaked = [value for run_id, version in site.runs.values() for value in (run_id, version) if value in text]
    return not leaked and "No releases yet" in text and DEMO_DEPLOYMENT not in text


@pytest.mark.parametrize("path", ["/api/releases", "/api/serving", "/"])
def test_a_request_without_credentials_gets_401_or_403(site: Site, path: str) -> None:
    with pytest.raises(DeploymentError, match=r" answered (401|403):"):
        AirflowApi(site.airflow.url).request("GET", URL_PREFIX + path)
