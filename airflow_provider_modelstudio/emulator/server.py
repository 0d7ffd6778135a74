"""Run the emulator in a background thread and control it from the calling process.

:class:`FoundryEmulator` binds a socket (a free loopback port by default), serves the app with uvicorn on
its own thread and event loop, returns once connections are accepted, and stops and joins on exit. Its
methods are thread-safe (they go through the state's lock). uvicorn and FastAPI are imported only when the
emulator starts. It does not install signal handlers; the CLI does that. :func:`check_bind_host` is the
loopback rule both it and the CLI apply: the emulator is not a security boundary.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.emulator.ids import new_rid
from airflow_provider_modelstudio.emulator.model_settings import LiveDeploymentSettings, new_version_settings
from airflow_provider_modelstudio.emulator.parsing import parse_flat
from airflow_provider_modelstudio.emulator.scenario import FaultSettings, Scenario, StudioSettings
from airflow_provider_modelstudio.emulator.state import EmulatorState
from airflow_provider_modelstudio.foundry.settings import is_loopback_host

if TYPE_CHECKING:
    import uvicorn

    from airflow_provider_modelstudio.emulator.app import EmulatorApp

LOOPBACK = "127.0.0.1"
_START_TIMEOUT_SECONDS = 10.0
_STOP_TIMEOUT_SECONDS = 5.0
KEEPALIVE_SECONDS = 120
"""How long an idle client connection stays open: longer than a poll interval, so that a triggerer's poll rounds
reuse one connection (uvicorn's default, 5 s, closed it between rounds)."""


def check_bind_host(host: str, *, allow_remote: bool) -> None:
    """Refuse to bind a non-loopback address unless told to: anyone who reaches the emulator can steer it.

    :param host: the address to bind.
    :param allow_remote: bind a non-loopback address anyway.
    :raises ValueError: for a non-loopback ``host`` without ``allow_remote``; it does not resolve names
        other than ``localhost``.
    """
    if not allow_remote and not is_loopback_host(host):
        raise ValueError(
            f"host={host!r} is not a loopback address and the emulator has no real security: bind {LOOPBACK} "
            "(or ::1), or pass allow_remote=True (--allow-remote on the command line) to bind it anyway"
        )


def as_scenario(scenario: Scenario | Mapping[str, Any] | None) -> Scenario:
    """Accept a scenario, a JSON-like dict of one, or None for the default.

    :param scenario: what the caller gave.
    """
    if scenario is None:
        return Scenario.default()
    if isinstance(scenario, Scenario):
        return scenario
    return Scenario.from_dict(scenario)


class FoundryEmulator:
    """A local, fault-injectable Foundry serving the Model Studio, build, model and live deployment endpoints.

    ``with FoundryEmulator() as emu:`` starts it on ``127.0.0.1`` with a free port.

    :param scenario: the scenario (a :class:`Scenario` or its dict); None for the default.
    :param time_scale: emulator seconds per real second (10 makes a 5 s build finish in 0.5 s).
    :param host: address to bind; a loopback address unless ``allow_remote``.
    :param port: port to bind; 0 picks a free one.
    :param access_log: log every request (uvicorn's access log).
    :param allow_remote: allow a non-loopback ``host`` (every client that reaches it can steer the emulator).
    :raises ValueError: for a non-loopback ``host`` without ``allow_remote``.
    """

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | None = None,
        time_scale: float = 1.0,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        access_log: bool = False,
        allow_remote: bool = False,
    ) -> None:
        check_bind_host(host, allow_remote=allow_remote)
        self._state = EmulatorState(as_scenario(scenario), time_scale)
        self._bind_host = host
        self._bind_port = port
        self._access_log = access_log
        self._address: tuple[str, int] | None = None
        self._server: uvicorn.Server | None = None
        self._app: EmulatorApp | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle ------------------------------------------------------------------------------------------------

    def start(self) -> FoundryEmulator:
        """Start serving; return once connections are accepted.

        :raises OSError: when the address cannot be bound.
        :raises RuntimeError: when the server does not come up.
        """
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        import uvicorn

        from airflow_provider_modelstudio.emulator.app import EmulatorApp

        family = socket.AF_INET6 if ":" in self._bind_host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._bind_host, self._bind_port))
        except OSError:
            sock.close()
            raise
        bound_host, bound_port = sock.getsockname()[:2]
        self._address = (bound_host, bound_port)
        self._app = EmulatorApp(self._state)
        config = uvicorn.Config(
            self._app,
            log_config=None,
            log_level="info" if self._access_log else "warning",
            access_log=self._access_log,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=2,
            timeout_keep_alive=KEEPALIVE_SECONDS,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"foundry-emulator-{bound_port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator's server did not start; see the log for uvicorn's error")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and join the server thread (pending hangs and latencies end at once)."""
        server, thread, app = self._server, self._thread, self._app
        self._server = self._thread = self._app = None
        if server is None or thread is None or app is None:
            return
        app.wake_sleepers()
        server.should_exit = True
        thread.join(_STOP_TIMEOUT_SECONDS)
        if thread.is_alive():
            server.force_exit = True
            thread.join()

    def __enter__(self) -> FoundryEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # Where and how to connect -------------------------------------------------------------------------------

    def _bound(self) -> tuple[str, int]:
        if self._address is None:
            raise RuntimeError("the emulator has not been started")
        return self._address

    @property
    def host(self) -> str:
        """The bound address, as the socket reports it (``localhost`` reads ``127.0.0.1``, a wildcard stays one).

        :raises RuntimeError: before :meth:`start`.
        """
        return self._bound()[0]

    @property
    def port(self) -> int:
        """The bound port.

        :raises RuntimeError: before :meth:`start`.
        """
        return self._bound()[1]

    @property
    def url(self) -> str:
        """``http://<bound address>:<port>``, e.g. ``http://127.0.0.1:41234`` (IPv6 in brackets).

        :raises RuntimeError: before :meth:`start`.
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def connection(self, auth: str = "token") -> dict[str, Any]:
        """The Airflow connection for this emulator, as a JSON-able dict.

        :param auth: ``"token"`` (the scenario's first static token) or ``"oauth2"`` (its first client, asking
            for every scope the client was granted).
        :raises ValueError: for another ``auth``, or when the scenario has no such credential.
        """
        scenario = self._state.scenario
        if auth == "token" and scenario.static_tokens:
            token = next(iter(scenario.static_tokens))
            return {"conn_type": "foundry", "host": self.url, "password": token}
        if auth == "oauth2" and scenario.clients:
            client_id, client = next(iter(scenario.clients.items()))
            return {
                "conn_type": "foundry",
                "host": self.url,
                "login": client_id,
                "password": client.secret,
                "extra": {"auth_type": "oauth2", "scopes": " ".join(client.scopes)},
            }
        raise ValueError(f"no {auth!r} credentials: auth must be 'token' or 'oauth2' and the scenario must have one")

    def connection_env(self, auth: str = "token") -> str:
        """The connection as the JSON value of an ``AIRFLOW_CONN_<ID>`` variable.

        :param auth: ``"token"`` or ``"oauth2"``.
        """
        return json.dumps(self.connection(auth))

    # Control ---------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the scenario given at start: no runs or builds, counters zeroed, faults as in that scenario."""
        self._state.reset()

    def set_scenario(self, scenario: Scenario | Mapping[str, Any]) -> None:
        """Serve another scenario (existing runs, builds and counters stay).

        :param scenario: a :class:`Scenario` or its dict.
        """
        self._state.set_scenario(as_scenario(scenario))

    def add_studio(self, rid: str, **studio_settings: Any) -> None:
        """Add or replace a studio, e.g. ``add_studio(rid, outcome="FAILED", duration_seconds=2)``.

        :param rid: the studio's RID.
        :param studio_settings: :class:`StudioSettings` fields.
        """
        self._state.add_studio(rid, StudioSettings.from_dict(studio_settings, f"studio {rid!r}"))

    def set_faults(self, endpoint: str, **fault_settings: Any) -> None:
        """Replace one endpoint's faults, e.g. ``set_faults("get_build", rate_503=0.3)``.

        :param endpoint: an endpoint name or ``"*"`` (every endpoint without its own settings).
        :param fault_settings: :class:`FaultSettings` fields.
        """
        self._state.set_faults(endpoint, FaultSettings.from_dict(fault_settings, f"faults[{endpoint!r}]"))

    def clear_faults(self) -> None:
        """Remove every fault setting."""
        self._state.clear_faults()

    def advance(self, seconds: float) -> None:
        """Move the emulator clock forward (builds finish, cancels land, tokens expire).

        :param seconds: emulator seconds, >= 0.
        """
        self._state.advance(seconds)

    def now(self) -> float:
        """The emulator clock, UNIX seconds."""
        return self._state.now()

    # Inspection ------------------------------------------------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        """``{"requests": {endpoint: {"<status>" or "dropped": n}}, "tokens_issued": n,
        "launches": {studio_rid: n}, "cancels": {build_rid: n}, "faults_injected": {endpoint: {kind: n}}}``.
        """
        return self._state.counters()

    def runs(self, studio_rid: str | None = None) -> list[dict[str, Any]]:
        """Runs (``ModelStudioRun`` JSON as served now), newest first.

        :param studio_rid: only this studio's runs; None: all.
        """
        return self._state.runs(studio_rid)

    def builds(self) -> dict[str, dict[str, Any]]:
        """Every build (``Build`` JSON as served now) by RID."""
        return self._state.builds()

    def build_finished_at(self, build_rid: str) -> float | None:
        """Emulator-clock UNIX time the build reached its final status, or None while it runs.

        :param build_rid: the build.
        :raises KeyError: for an unknown build.
        """
        return self._state.build_finished_at(build_rid)

    def create_runs(self, studio_rid: str, n: int) -> list[dict[str, Any]]:
        """Create runs without HTTP (not counted as launches), for tests and benchmarks with many waits.

        :param studio_rid: a studio of the current scenario.
        :param n: how many.
        """
        return self._state.create_runs(studio_rid, n)

    def set_build_status(self, build_rid: str, status: str) -> None:
        """Force a build's status, any string (a final one finishes it now; e.g. ``"QUEUED"`` for tests).

        :param build_rid: the build.
        :param status: the status to report.
        """
        self._state.set_build_status(build_rid, status)

    # Datasets -----------------------------------------------------------------------------------------------

    def add_dataset(self, rid: str | None = None, branch: str = "master") -> str:
        """Add a dataset (or a branch of one) holding one committed SNAPSHOT; return its RID.

        :param rid: its RID; None: a fresh ``ri.foundry.main.dataset.<uuid>``.
        :param branch: the branch.
        """
        dataset_rid = rid if rid is not None else new_rid("foundry", "dataset")
        self._state.add_dataset(dataset_rid, branch)
        return dataset_rid

    def open_transaction(self, dataset_rid: str, branch: str = "master", transaction_type: str = "APPEND") -> str:
        """Open a transaction on a dataset's branch (the branch points at it from now on); return its RID."""
        rid: str = self._state.open_transaction(dataset_rid, branch, transaction_type)["rid"]
        return rid

    def commit_transaction(self, dataset_rid: str, transaction_rid: str) -> None:
        self._state.close_transaction(dataset_rid, transaction_rid, commit=True)

    def abort_transaction(self, dataset_rid: str, transaction_rid: str) -> None:
        """Abort an open transaction: the branch points at the one before again."""
        self._state.close_transaction(dataset_rid, transaction_rid, commit=False)

    def commit(self, dataset_rid: str, branch: str = "master", transaction_type: str = "APPEND") -> str:
        """Open and commit one transaction, as a pipeline writing the dataset would; return its RID."""
        rid = self.open_transaction(dataset_rid, branch, transaction_type)
        self.commit_transaction(dataset_rid, rid)
        return rid

    def delete_dataset_branch(self, dataset_rid: str, branch: str) -> None:
        self._state.delete_dataset_branch(dataset_rid, branch)

    # Models, experiments and live deployments --------------------------------------------------------------

    def add_model(self, rid: str | None = None, *, promote_denied: bool = False, name: str | None = None) -> str:
        """Add a model (or change ``promote_denied`` and the name of an existing one); return its RID.

        :param rid: its RID; None: a fresh ``ri.models.main.model.<uuid>``.
        :param promote_denied: promoting into it answers 403 PromoteVersionModelPermissionDenied.
        :param name: its name in ``get_model`` answers; None keeps the one it has (none for a new model).
        """
        model_rid = rid if rid is not None else new_rid("models", "model")
        self._state.add_model(model_rid, promote_denied, name)
        return model_rid

    def add_model_version(self, model_rid: str, **version_settings: Any) -> dict[str, Any]:
        """Add a version that lands now, e.g. ``add_model_version(model, metrics={"val_auc": 0.9})``; return its
        ``ModelVersion`` JSON. With ``metrics`` it gets a linked experiment holding them.

        :param model_rid: its model (see :meth:`add_model`).
        :param version_settings: :class:`~.model_settings.ModelVersionSettings` fields: ``rid`` (default: a
            fresh one), ``branch``, ``studio`` or ``promoted_from``, ``metrics``, ``breaks_deployments``.
        :raises KeyError: for an unknown model or ``promoted_from`` version.
        """
        settings = new_version_settings(version_settings, f"model version of {model_rid!r}")
        return self._state.add_model_version(model_rid, settings)

    def add_experiment(
        self, model_rid: str, metrics: Mapping[str, float], linked_model_version: str | None = None
    ) -> dict[str, Any]:
        """Add a SUCCEEDED experiment to a model; return its ``Experiment`` JSON.

        :param model_rid: its model.
        :param metrics: metric name to last value.
        :param linked_model_version: the version it names as ``linkedModelVersion``, if any.
        :raises KeyError: for an unknown model.
        """
        return self._state.add_experiment(model_rid, metrics, linked_model_version)

    def add_live_deployment(
        self, model_rid: str, *, rid: str | None = None, **deployment_settings: Any
    ) -> dict[str, Any]:
        """Add a direct live deployment serving (ACTIVE and ready) the latest version on its branch; return its
        ``LiveDeployment`` JSON.

        :param model_rid: the model it deploys (with a version on the branch).
        :param rid: its RID; None: a fresh ``ri.foundry-ml-live.main.live-deployment.<uuid>``.
        :param deployment_settings: :class:`~.model_settings.LiveDeploymentSettings` fields: ``branch``,
            ``ready_seconds``, ``inference_timeout``, ``start_denied``, ``transform_denied``.
        """
        settings = parse_flat(
            LiveDeploymentSettings, {**deployment_settings, "model": model_rid}, f"live deployment of {model_rid!r}"
        )
        return self._state.add_live_deployment(rid or new_rid("foundry-ml-live", "live-deployment"), settings)

    def model_versions(self, model_rid: str, branch: str | None = None) -> list[dict[str, Any]]:
        """A model's versions on their branch now (``ModelVersion`` JSON), newest first.

        :param model_rid: the model.
        :param branch: only this branch; None: all.
        :raises KeyError: for an unknown model.
        """
        return self._state.model_versions(model_rid, branch)

    def experiments(self, model_rid: str) -> list[dict[str, Any]]:
        """A model's experiments (``Experiment`` JSON as served now), newest first.

        :param model_rid: the model.
        :raises KeyError: for an unknown model.
        """
        return self._state.experiments(model_rid)

    def live_deployments(self) -> dict[str, dict[str, Any]]:
        """Every live deployment (``LiveDeployment`` JSON as served now) by RID."""
        return self._state.live_deployments()

    def set_live_deployment_status(self, rid: str, state: str, is_ready: bool) -> None:
        """Force a deployment's status (e.g. ``"DEGRADED"``) until the next version lands or the next start.

        :param rid: the deployment.
        :param state: ACTIVE, STARTING, DEGRADED, DISABLED or FAILED.
        :param is_ready: whether it reports ready.
        :raises KeyError: for an unknown deployment.
        """
        self._state.set_live_deployment_status(rid, state, is_ready)
