"""A real Airflow deployment on loopback against a local Foundry emulator, for `make e2e` and people who click.

:class:`AirflowDeployment` runs ``airflow api-server``, ``scheduler`` (LocalExecutor), ``dag-processor`` and
``triggerer`` as separate processes on a throw-away ``AIRFLOW_HOME`` with SQLite, tuned for a 2-core machine,
with a ``foundry_default`` connection (OAuth2 client credentials) in the environment of every process, or in
the deployment's database, where the UI shows it.
:class:`AirflowApi` talks to its REST API (``/api/v2``, no token: every user is an admin). Every service runs in
its own process group with its output in ``AIRFLOW_HOME/logs/services/<name>.log``; leaving the ``with`` block
stops all of them and every process they started (task processes included), whatever happened.

    python scripts/airflow_deployment.py                 # `make airflow`: emulator + Airflow with example_dags/
    python scripts/airflow_deployment.py --dags e2e/dags --port 8080 --home /tmp/airflow-e2e

It is not a production setup (SQLite, every user an admin, secrets generated per start) and binds loopback only.
It does not survive a SIGKILL of the controlling process: then its processes must be stopped by hand.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
# The health endpoint's name for each kind of service that heartbeats (the api-server answers it itself).
HEALTH_COMPONENTS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}
# A service named "<kind>-<n>" is one more instance of that kind (e.g. "triggerer-2"); "celery-worker" is a
# Celery worker of the CeleryExecutor.
CELERY_WORKER = "celery-worker"
SWEEP_ROUNDS = 5
START_TIMEOUT = 180.0
MIGRATE_TIMEOUT = 300.0
STOP_GRACE_SECONDS = 15.0
LOG_TAIL_LINES = 40
# SQLite answers "database is locked" beyond ~16 parallel tasks; 8 keeps 2 cores responsive.
PARALLELISM = 8
TRIGGERER_HEARTBEAT_SECONDS = 1
# A SIGKILLed triggerer's triggers move to the next one once its last heartbeat is this old (default 30 s).
TRIGGERER_HEALTH_THRESHOLD_SECONDS = 8
API_TIMEOUT = 30.0
CLI_TIMEOUT = 120.0
CONN_ID = "foundry_default"
STUDIO_RID = re.compile(r"ri\.models\.[a-z0-9-]+\.model-studio\.[A-Za-z0-9._-]*[A-Za-z0-9]")

_T = TypeVar("_T")


class DeploymentError(RuntimeError):
    """The deployment could not start, a service died, or its API answered an error; the message says which."""


def wait_until(what: str, probe: Callable[[], _T | None], timeout: float, interval: float = 0.5) -> _T:
    """Call ``probe`` until it returns something other than None (or False) and return that.

    :param what: what is awaited, for the error message.
    :param probe: returns the awaited value, or None/False while it is not there yet.
    :param timeout: seconds before giving up.
    :param interval: seconds between calls.
    :raises TimeoutError: naming ``what`` when the time is up.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# The REST API ------------------------------------------------------------------------------------------------


class AirflowApi:
    """A small client of Airflow 3.3's REST API (``/api/v2``) for a deployment where every user is an admin.

    It sends no token unless given one (:meth:`login`) and does not retry; errors raise :class:`DeploymentError`
    with the status and body.

    :param base_url: ``http://127.0.0.1:<port>``.
    :param token: a JWT sent as ``Authorization: Bearer`` (a deployment with logins); None sends none.
    """

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> AirflowApi:
        """A client with the token the simple auth manager issues for this user (``POST /auth/token``).

        :param base_url: ``http://127.0.0.1:<port>``.
        :param username: a user of ``[core] simple_auth_manager_users``.
        :param password: their password.
        """
        answer = cls(base_url).request("POST", "/auth/token", {"username": username, "password": password})
        return cls(base_url, token=str(answer["access_token"]))

    def request(self, method: str, path: str, body: Any = None, *, query: Mapping[str, Any] | None = None) -> Any:
        """Send one request and return the parsed JSON answer (None for an empty one).

        :param method: the HTTP method.
        :param path: the path under the base URL, e.g. ``/api/v2/dags``.
        :param body: a JSON-able body, or None for none.
        :param query: query parameters.
        :raises DeploymentError: for an answer other than 2xx, naming method, path, status and body.
        """
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if self.token is not None:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=API_TIMEOUT) as answer:  # loopback only
                raw = answer.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:2000]
            raise DeploymentError(f"{method} {path} answered {error.code}: {detail}") from None
        return json.loads(raw) if raw else None

    def health(self) -> dict[str, Any]:
        """``GET /api/v2/monitor/health``: the metadatabase, scheduler, triggerer and dag-processor status."""
        answer: dict[str, Any] = self.request("GET", "/api/v2/monitor/health")
        return answer

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        """The DAG as the api-server knows it, or None while it has not been parsed.

        :param dag_id: the DAG.
        """
        try:
            answer: dict[str, Any] = self.request("GET", f"/api/v2/dags/{_quote(dag_id)}")
        except DeploymentError as error:
            if " answered 404:" in str(error):
                return None
            raise
        return answer

    def set_paused(self, dag_id: str, paused: bool) -> None:
        """Pause or unpause a DAG; unpausing also asks for its file to be parsed at once (the UI's "Reparse
        Dag"): Airflow registers the asset watchers of unpaused DAGs only, when their file is next parsed, which
        would otherwise wait for ``min_file_process_interval`` (30 s by default).

        :param dag_id: the DAG.
        :param paused: True to pause it.
        """
        answer = self.request("PATCH", f"/api/v2/dags/{_quote(dag_id)}", {"is_paused": paused})
        if not paused:
            self.request("PUT", f"/api/v2/parseDagFile/{_quote(answer['file_token'])}")

    def trigger_dag_run(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Start a manual DAG run and return its run id.

        :param dag_id: the DAG (it must be parsed and not paused to run).
        :param conf: the run's ``conf`` (DAG params).
        """
        answer = self.request(
            "POST", f"/api/v2/dags/{_quote(dag_id)}/dagRuns", {"logical_date": None, "conf": dict(conf or {})}
        )
        run_id: str = answer["dag_run_id"]
        return run_id

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """The DAG run (``state`` is queued, running, success or failed).

        :param dag_id: the DAG.
        :param run_id: the run.
        """
        answer: dict[str, Any] = self.request("GET", f"/api/v2/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}")
        return answer

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (mapped ones one per map index), with ``state`` and ``try_number``.

        :param dag_id: the DAG.
        :param run_id: the run.
        """
        answer = self.request(
            "GET", f"/api/v2/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances", query={"limit": 1000}
        )
        instances: list[dict[str, Any]] = answer["task_instances"]
        return instances

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """One unmapped task instance.

        :param dag_id: the DAG.
        :param run_id: the run.
        :param task_id: the task.
        """
        answer: dict[str, Any] = self.request("GET", _ti_path(dag_id, run_id, task_id))
        return answer

    def task_instance_tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """Every try of an unmapped task instance (earlier tries from the history, then the current one).

        :param dag_id: the DAG.
        :param run_id: the run.
        :param task_id: the task.
        """
        answer = self.request("GET", _ti_path(dag_id, run_id, task_id) + "/tries")
        tries: list[dict[str, Any]] = answer["task_instances"]
        return tries

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1
    ) -> list[dict[str, Any]]:
        """The log of one try of a task instance, the worker's and the triggerer's lines, as events.

        :param dag_id: the DAG.
        :param run_id: the run.
        :param task_id: the task.
        :param try_number: the try.
        :param map_index: the mapped instance; -1 for an unmapped task.
        """
        answer = self.request(
            "GET",
            _ti_path(dag_id, run_id, task_id) + f"/logs/{try_number}",
            query={"full_content": "true", "map_index": map_index},
        )
        return [event for event in answer["content"] if isinstance(event, dict)]

    def clear_task_instances(self, dag_id: str, run_id: str, task_ids: list[str]) -> list[dict[str, Any]]:
        """Clear task instances whatever their state (the UI's "Clear"), so that they run again.

        :param dag_id: the DAG.
        :param run_id: the run.
        :param task_ids: the tasks.
        :return: the task instances cleared.
        """
        body = {"dry_run": False, "dag_run_id": run_id, "task_ids": task_ids, "only_failed": False}
        answer = self.request("POST", f"/api/v2/dags/{_quote(dag_id)}/clearTaskInstances", body)
        cleared: list[dict[str, Any]] = answer["task_instances"]
        return cleared

    def set_task_instance_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> None:
        """Mark an unmapped task instance ``failed``, ``success`` or ``skipped`` (the UI's "Mark as ...").

        :param dag_id: the DAG.
        :param run_id: the run.
        :param task_id: the task.
        :param state: the new state.
        """
        self.request("PATCH", _ti_path(dag_id, run_id, task_id), {"new_state": state})

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """An XCom value as the task pushed it (deserialised JSON).

        :param dag_id: the DAG.
        :param run_id: the run.
        :param task_id: the task.
        :param key: the XCom key.
        :param map_index: the map index of a mapped task; -1 otherwise.
        """
        answer = self.request(
            "GET",
            _ti_path(dag_id, run_id, task_id) + f"/xcomEntries/{_quote(key)}",
            query={"map_index": map_index, "deserialize": "true"},
        )
        return answer["value"]


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _ti_path(dag_id: str, run_id: str, task_id: str) -> str:
    return f"/api/v2/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}/taskInstances/{_quote(task_id)}"


# The deployment ----------------------------------------------------------------------------------------------


@dataclass
class _Service:
    name: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: datetime | None = None
    session: int | None = None


@dataclass
class AirflowDeployment:
    """Airflow's four services as separate processes on ``home``, against the Foundry at ``connection["host"]``.

    ``with AirflowDeployment(home=..., dags_folder=..., connection=...) as airflow:`` migrates the database,
    starts every service, waits until each is healthy, and on exit stops them all. It does not wait for DAGs
    (see :meth:`wait_for_dags`), does not delete ``home``, and does not start the emulator.

    :param home: the ``AIRFLOW_HOME`` (created if missing; its SQLite database is migrated on start).
    :param dags_folder: the DAGs folder.
    :param connection: the ``foundry_default`` connection as JSON (``conn_type``, ``host``, ``login``, ...).
    :param port: the api-server's port; 0 picks a free one.
    :param extra_env: more environment variables for every service (e.g. ``MODELSTUDIO_POLL_SECONDS``).
    :param connection_in_db: store the connection in the database with ``airflow connections add`` (the UI shows
        and edits it there) instead of the services' environment (where the UI cannot see it).
    :param services: the services to run; another instance of a kind is named ``<kind>-<n>`` (``triggerer-2``),
        and ``celery-worker`` is a worker of the CeleryExecutor.
    :param database_url: SQLAlchemy URL of the metadata database; None: SQLite under ``home``.
    :param celery_broker_url: the Celery broker; set, the deployment runs the CeleryExecutor (results in the
        metadata database), else the LocalExecutor.
    """

    home: Path
    dags_folder: Path
    connection: Mapping[str, Any]
    port: int = 0
    extra_env: Mapping[str, str] = field(default_factory=dict)
    connection_in_db: bool = False
    services: tuple[str, ...] = SERVICES
    database_url: str | None = None
    celery_broker_url: str | None = None
    _services: dict[str, _Service] = field(default_factory=dict, init=False, repr=False)
    _secrets: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _log_server_ports: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.home = self.home.resolve()
        self.dags_folder = self.dags_folder.resolve()
        if not self.port:
            self.port = free_port()
        self.api = AirflowApi(self.url)
        self._services = {
            name: _Service(name, self.home / "logs" / "services" / f"{name}.log") for name in self.services
        }
        # Where the executor's and the triggerer's log servers listen (Airflow's defaults, 8793 and 8794, would
        # collide with any other deployment on the machine: make e2e runs three at once).
        self._log_server_ports = {
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
        # Generated once, shared by every service and kept across restarts (Airflow's own keys, not Foundry's).
        self._secrets = {
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        }

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the UI and the REST API."""
        return f"http://{LOOPBACK}:{self.port}"

    def service_log(self, name: str) -> Path:
        """The file holding a service's output.

        :param name: one of the deployment's services.
        """
        return self._services[name].log_path

    def environment(self) -> dict[str, str]:
        """The environment of every service: this process's without any Airflow setting, plus the deployment's."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        if not self.connection_in_db:
            env[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(dict(self.connection))
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if self.celery_broker_url else "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url or f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__HOST": LOOPBACK,
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": str(TRIGGERER_HEARTBEAT_SECONDS),
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_THRESHOLD_SECONDS),
            }
        )
        if self.celery_broker_url:
            env["AIRFLOW__CELERY__BROKER_URL"] = self.celery_broker_url
            env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
            env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = str(PARALLELISM)
        env.update(self._log_server_ports)
        env.update(self._secrets)
        env.update(self.extra_env)
        return env

    # Lifecycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> AirflowDeployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Migrate the database, start the four services, wait until each is healthy.

        :raises DeploymentError: when the migration fails or a service exits or stays unhealthy.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        self.run_cli("db", "migrate", timeout=MIGRATE_TIMEOUT)
        if self.connection_in_db:
            add = ("connections", "add", CONN_ID, "--conn-json", json.dumps(dict(self.connection)))
            if self.run_cli(*add, check=False) != 0:  # a kept home holds it from last time
                self.run_cli("connections", "delete", CONN_ID)
                self.run_cli(*add)
        env = self.environment()
        for name in self.services:
            self._spawn(name, env)
        for name in self.services:
            self.wait_ready(name)

    def stop(self) -> None:
        """Stop every service and every process they started: SIGTERM, then SIGKILL after a grace period.

        Safe to call more than once and after a failed start; an interrupt during the grace period only
        shortens it.
        """
        try:
            self._terminate()
        finally:
            for name in self.services:
                self._kill(name)

    def kill(self, name: str) -> None:
        """SIGKILL a service and every process it started (a crash: no cleanup runs); wait until it is gone.

        :param name: one of the deployment's services.
        """
        if self._services[name].process is None:
            raise DeploymentError(f"service {name!r} is not running; start() or restart() it first")
        self._kill(name)

    def restart(self, name: str) -> None:
        """Start a service again (after :meth:`kill`, or stopping a running one first) and wait until healthy.

        :param name: one of the deployment's services.
        """
        if self._services[name].process is not None:
            self.kill(name)
        self._spawn(name, self.environment())
        self.wait_ready(name)

    def wait_ready(self, name: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until a service answers (api-server) or heartbeats since it started (the others).

        :param name: one of the deployment's services.
        :param timeout: seconds.
        :raises DeploymentError: when it exits or stays unhealthy; the message holds its log's tail.
        """
        service = self._services[name]

        def ready() -> bool:
            if service.process is None or service.process.poll() is not None:
                code = None if service.process is None else service.process.returncode
                raise DeploymentError(
                    f"airflow {name} exited (status {code}); {service.log_path}:\n{_tail(service.log_path)}"
                )
            try:
                health = self.api.health()
            except (OSError, DeploymentError):
                return False
            component = HEALTH_COMPONENTS.get(_kind(name))
            if component is None:
                return True
            status = health.get(component) or {}
            heartbeat = status.get(f"latest_{component}_heartbeat")
            started_at = service.started_at
            return (
                status.get("status") == "healthy"
                and heartbeat is not None
                and started_at is not None
                and datetime.fromisoformat(heartbeat) >= started_at
            )

        try:
            wait_until(f"airflow {name} to be healthy", ready, timeout)
        except TimeoutError as error:
            raise DeploymentError(f"{error}; {service.log_path}:\n{_tail(service.log_path)}") from None

    def wait_for_dags(self, dag_ids: list[str], timeout: float = START_TIMEOUT) -> None:
        """Wait until the dag-processor has parsed and stored every DAG named.

        :param dag_ids: the DAGs.
        :param timeout: seconds.
        :raises DeploymentError: naming the DAGs not parsed yet, with the import errors Airflow recorded.
        """

        def missing() -> list[str]:
            return [dag_id for dag_id in dag_ids if self.api.dag(dag_id) is None]

        try:
            wait_until(f"the DAGs {', '.join(dag_ids)} to be parsed", lambda: not missing(), timeout)
        except TimeoutError as error:
            errors = self.api.request("GET", "/api/v2/importErrors")["import_errors"]
            details = "\n".join(f"{e['filename']}: {e['stack_trace']}" for e in errors) or "none"
            raise DeploymentError(f"{error}; not parsed: {', '.join(missing())}; import errors: {details}") from None

    def wait_for_dag_files(self, timeout: float = START_TIMEOUT) -> list[str]:
        """Wait until every Python file of the DAGs folder has a parsed DAG or an import error.

        :param timeout: seconds.
        :return: the DAG ids, sorted.
        :raises DeploymentError: naming the files still not parsed.
        """
        files = {str(path) for path in self.dags_folder.rglob("*.py") if not path.name.startswith("_")}

        def parsed() -> list[str] | None:
            dags = self.api.request("GET", "/api/v2/dags", query={"limit": 1000})["dags"]
            errors = self.api.request("GET", "/api/v2/importErrors")["import_errors"]
            seen = {dag["fileloc"] for dag in dags} | {error["filename"] for error in errors}
            return sorted(dag["dag_id"] for dag in dags) if files <= seen else None

        try:
            return wait_until("every DAG file to be parsed", parsed, timeout)
        except TimeoutError as error:
            raise DeploymentError(f"{error}; see {self.service_log('dag-processor')}") from None

    def files_containing(self, needles: Mapping[str, str]) -> dict[str, list[str]]:
        """Search every file under ``home`` (logs and the database included) for secrets.

        :param needles: label (never the secret itself) -> secret.
        :return: label -> files holding that secret (relative to ``home``); empty when none is found.
        """
        found: dict[str, list[str]] = {}
        encoded = {label: secret.encode() for label, secret in needles.items() if secret}
        for path in sorted(self.home.rglob("*")):
            if not path.is_file():
                continue
            content = path.read_bytes()
            for label, secret in encoded.items():
                if secret in content:
                    found.setdefault(label, []).append(str(path.relative_to(self.home)))
        return found

    # Internals -------------------------------------------------------------------------------------------

    def _terminate(self) -> None:
        running = [s for s in self._services.values() if s.process is not None and s.process.poll() is None]
        for service in running:
            _signal_group(service, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for service in running:
            assert service.process is not None
            try:
                service.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(service, signal.SIGKILL)

    def run_cli(self, *args: str, timeout: float = CLI_TIMEOUT, check: bool = True) -> int:
        """Run one ``airflow`` command with the deployment's environment; its output goes to
        ``logs/services/cli-<command>.log``.

        :param args: the command's arguments, e.g. ``("db", "migrate")``.
        :param timeout: seconds before giving up.
        :param check: raise when it exits non-zero.
        :return: its exit status.
        :raises DeploymentError: when it takes too long, or fails with ``check``; the message holds its log's tail.
        """
        command = f"airflow {' '.join(args[:2])}"
        log = self.home / "logs" / "services" / f"cli-{'-'.join(args[:2])}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            try:
                result = subprocess.run(
                    [sys.executable, "-m", "airflow", *args],
                    env=self.environment(),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.home,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise DeploymentError(f"`{command}` took over {timeout:g} s; see {log}") from None
        if check and result.returncode != 0:
            raise DeploymentError(f"`{command}` failed (status {result.returncode}); {log}:\n{_tail(log)}")
        return result.returncode

    def _spawn(self, name: str, env: Mapping[str, str]) -> None:
        service = self._services[name]
        service.log_path.parent.mkdir(parents=True, exist_ok=True)
        kind = _kind(name)
        argv = [sys.executable, "-m", "airflow", *(["celery", "worker"] if kind == CELERY_WORKER else [kind])]
        if kind == "api-server":
            argv += ["--host", LOOPBACK, "--port", str(self.port)]
        if kind in ("scheduler", "triggerer", CELERY_WORKER):
            # Their log servers would listen on every interface, on fixed ports; the api-server reads the
            # log files directly on this machine.
            argv.append("--skip-serve-logs")
        service.started_at = datetime.now().astimezone()
        with service.log_path.open("ab") as output:
            service.process = subprocess.Popen(
                argv,
                env=dict(env),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.home,
                start_new_session=True,  # its own session and group: found and killed as one, spared Ctrl-C
            )
        service.session = service.process.pid

    def _kill(self, name: str) -> None:
        """SIGKILL a service's process group, wait for it, then every process left in its session (task
        processes make process groups of their own, in the same session). The group is signalled only while its
        leader is not reaped, so that its id cannot belong to anyone else yet."""
        service = self._services[name]
        if service.process is not None:
            if service.process.returncode is None:
                _signal_group(service, signal.SIGKILL)
            service.process.wait()
            service.process = None
        if service.session is not None:
            for _ in range(SWEEP_ROUNDS):  # a process may fork while the sweep runs: sweep until none is left
                left = _pids_in_session(service.session)
                if not left:
                    break
                for pid in left:
                    with suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.1)
            service.session = None


def _kind(name: str) -> str:
    """The kind of a service: ``triggerer`` for ``triggerer-2``."""
    base, _, number = name.rpartition("-")
    return base if number.isdigit() else name


def _signal_group(service: _Service, signum: int) -> None:
    if service.process is None:
        return
    try:
        os.killpg(service.process.pid, signum)
    except (ProcessLookupError, PermissionError):
        return


def _pids_in_session(session: int) -> list[int]:
    """Living processes of a session (Linux ``/proc``; elsewhere none), this process excepted."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (command) state ppid pgrp session ...": the command may hold spaces and parentheses.
        state, _ppid, _pgrp, session_id = stat.rpartition(")")[2].split()[:4]
        if int(session_id) == session and state != "Z" and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


@contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt while inside, so that ``finally`` blocks stop everything.

    SIGINT counts even when this process was started with it ignored (a background job of a script). Only from
    the main thread; elsewhere it changes nothing.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# Command line ------------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python scripts/airflow_deployment.py",
        description="Run Airflow (api-server, scheduler, dag-processor, triggerer) and a Foundry emulator on "
        "loopback until Ctrl-C.",
    )
    parser.add_argument("--dags", type=Path, default=REPO / "example_dags", help="DAGs folder (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="the Airflow UI's port; 0: a free one (default: 8080)")
    parser.add_argument(
        "--home", type=Path, help="AIRFLOW_HOME to use and keep (default: a temporary one, deleted at exit)"
    )
    parser.add_argument(
        "--poll-seconds", default="1", help="MODELSTUDIO_POLL_SECONDS for the example DAGs (default: %(default)s)"
    )
    return parser


def studios_named_in(folder: Path) -> set[str]:
    """Every Model Studio RID written in the Python files of ``folder``.

    :param folder: a DAGs folder.
    """
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        found.update(STUDIO_RID.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


def main(argv: list[str] | None = None) -> int:
    """Start the emulator and the deployment, print where to click, run until Ctrl-C or SIGTERM.

    Every Model Studio RID written in the DAG files exists in the emulator (the default scenario's studios as
    they are, any other one with runs that succeed after 5 s); the connection ``foundry_default`` is stored in
    the deployment's database, so the UI lists it, and the UI's connection Test button is enabled.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    :return: the exit status.
    """
    from airflow_provider_modelstudio.emulator import FoundryEmulator, Scenario

    args = _parser().parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="airflow-modelstudio-"))
    try:
        with stop_signals_interrupt(), FoundryEmulator() as emulator:
            for studio in sorted(studios_named_in(args.dags) - set(Scenario.default().studios)):
                emulator.add_studio(studio)
            deployment = AirflowDeployment(
                home=home,
                dags_folder=args.dags,
                connection=emulator.connection("oauth2"),
                port=args.port,
                extra_env={"MODELSTUDIO_POLL_SECONDS": args.poll_seconds, "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
                connection_in_db=True,
            )
            print(f"Starting Airflow {version('apache-airflow')} in {home} (about a minute) ...", flush=True)
            with deployment:
                dag_ids = deployment.wait_for_dag_files()
                print(
                    "\n".join(
                        (
                            f"Airflow UI         {deployment.url}",
                            "Login              none: every visitor is an admin (Airflow's simple auth manager)",
                            f"Foundry emulator   {emulator.url}",
                            f"Connection         {CONN_ID} (Admin > Connections), OAuth2 client of the emulator",
                            f"DAGs               {', '.join(dag_ids)} from {args.dags}",
                            f"Service logs       {home / 'logs' / 'services'}",
                            "Ctrl-C stops everything.",
                        )
                    ),
                    flush=True,
                )
                while True:
                    time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)
    except DeploymentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
