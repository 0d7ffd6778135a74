"""Fixtures shared by the whole test suite.

- ``AIRFLOW_HOME`` points at a throw-away directory for the session (set before Airflow is imported).
- The process-wide OAuth2 token cache is emptied before every test.
- ``set_connection`` writes an ``AIRFLOW_CONN_<ID>`` environment variable (no database is used).
- ``launch_clock`` runs a launch's waits (settling windows, surplus watch, backoff between launches) on a
  fake clock that moves only when slept on, instead of waiting them out.
- ``attempt_waits`` records the waits between a client's attempts (backoff, ``Retry-After``) instead of waiting.
- ``stub_foundry`` is a tiny scripted HTTP server on 127.0.0.1 for answers the emulator cannot give
  (a 204 without body, exact request bodies); everything else runs against the Foundry emulator.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import pytest

if TYPE_CHECKING:
    from airflow_provider_modelstudio.emulator import FoundryEmulator
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="modelstudio-tests-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME  # before anything imports Airflow, which reads it once

pytest_plugins = ["airflow_provider_modelstudio.emulator.pytest_plugin"]


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _empty_token_cache() -> Iterator[None]:
    from airflow_provider_modelstudio.foundry.auth import TOKEN_CACHE

    TOKEN_CACHE.clear()
    yield
    TOKEN_CACHE.clear()


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Store a connection in ``AIRFLOW_CONN_<ID>``; JSON from keyword fields, or a raw URI/JSON string."""

    def _set(conn_id: str = "foundry_default", raw: str | None = None, **fields: Any) -> str:
        value = raw if raw is not None else json.dumps({"conn_type": "foundry", **fields})
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
        return conn_id

    return _set


# The Foundry emulator ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _session_emulator() -> Iterator[FoundryEmulator]:
    from airflow_provider_modelstudio.emulator import FoundryEmulator

    with FoundryEmulator() as emu:
        yield emu


@pytest.fixture
def emulator(_session_emulator: FoundryEmulator) -> Iterator[FoundryEmulator]:
    """One emulator for the session (real-time clock), reset to the default scenario around each test.

    Tests that leave requests hanging inside the emulator use the plugin's per-test ``foundry_emulator``
    instead, whose shutdown ends them.
    """
    _session_emulator.reset()
    yield _session_emulator
    _session_emulator.reset()


def emulator_connection(emu: FoundryEmulator, auth: str = "token", **extra: Any) -> dict[str, Any]:
    """The emulator's connection JSON with ``extra`` fields merged in."""
    conn = emu.connection(auth)
    if extra:
        conn["extra"] = {**conn.get("extra", {}), **extra}
    return conn


@pytest.fixture
def connect(set_connection: Callable[..., str]) -> Callable[..., ModelStudioHook]:
    """``connect(emu, auth="token", conn_id="foundry_default", **extra)``: store the emulator's connection
    and return a ``ModelStudioHook`` on it with fast retries."""
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from tests.foundry.support import FAST_RETRY

    def _connect(
        emu: FoundryEmulator, auth: str = "token", conn_id: str = "foundry_default", **extra: Any
    ) -> ModelStudioHook:
        set_connection(conn_id, raw=json.dumps(emulator_connection(emu, auth, **extra)))
        return ModelStudioHook(conn_id, retry=FAST_RETRY)

    return _connect


@pytest.fixture
def fail_first() -> Callable[..., None]:
    """``fail_first(emu, endpoint, "rate_502", **settings)``: the next request to ``endpoint`` meets that
    fault and the one after it does not.

    Faults are drawn from the scenario's seeded generator: with seed 1 the first two draws are 0.13 and
    0.85, so a rate of 0.5 hits the first request only. Tests read ``faults_injected`` to be sure.
    """

    def _fail_first(emu: FoundryEmulator, endpoint: str, rate: str, **settings: Any) -> None:
        emu.set_scenario({"seed": 1})
        emu.set_faults(endpoint, **{rate: 0.5}, **settings)

    return _fail_first


class LaunchClock:
    """Stands in for the ``time`` module where a launch waits: ``monotonic()`` reads ``now``, ``sleep()`` records the
    wait and moves ``now`` on at once; anything else is the real ``time``. Each thread has a clock of its own (one
    launch per thread, as workers launch), starting at 1000."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.slept: list[float] = []

    @property
    def now(self) -> float:
        return float(getattr(self._local, "now", 1000.0))

    @now.setter
    def now(self, value: float) -> None:
        self._local.now = value

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def launch_clock(monkeypatch: pytest.MonkeyPatch) -> LaunchClock:
    """Launches by the hook wait on a :class:`LaunchClock`: ``foundry.launch`` reads its deadlines from it, and the
    hook's ``launch_once(..., sleep=time.sleep)`` sleeps on it. HTTP requests, the emulator and run waits keep real
    time. Not for tests that need a lost request to land while the launch waits (a hang is real time)."""
    from airflow_provider_modelstudio.foundry import launch
    from airflow_provider_modelstudio.hooks import modelstudio

    clock = LaunchClock()
    monkeypatch.setattr(launch, "time", clock)
    monkeypatch.setattr(modelstudio, "time", clock)
    return clock


class AttemptWaits:
    """Stands in for the waits between a client's attempts: records them and returns at once (``sleep`` for the sync
    client, ``asleep`` for the async one)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)  # still a point where other tasks run, as a real wait is


@pytest.fixture
def attempt_waits(monkeypatch: pytest.MonkeyPatch) -> AttemptWaits:
    """Clients made anywhere (by the hook, in a trigger) retry without waiting out backoff or ``Retry-After``;
    requests, timeouts and the emulator keep real time."""
    from airflow_provider_modelstudio.foundry import async_client, sync_client

    waits = AttemptWaits()
    monkeypatch.setattr(sync_client, "wait_between_attempts", waits.sleep)
    monkeypatch.setattr(async_client, "wait_between_attempts", waits.asleep)
    return waits


# A scripted Foundry stand-in ------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request the stub received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StubFoundry:
    """Answers ``(method, path)`` from scripted answers, in order; the last one repeats.

    An answer is ``(status, body, headers)`` where body is bytes, or any JSON value (sent as JSON), or None
    for no body. Unscripted requests get ``418`` so that a test sees them.
    """

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    routes: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, method: str, path: str, *answers: Any) -> None:
        self.routes[(method, path)] = list(answers)

    def next_answer(self, method: str, path: str) -> Any:
        with self.lock:
            answers = self.routes.get((method, path))
            if not answers:
                return (418, b"", {})
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def _handler(stub: StubFoundry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with stub.lock:
                stub.seen.append(
                    Seen(self.command, parts.path, dict(parse_qsl(parts.query)), dict(self.headers.items()), body)
                )
            status, payload, headers = stub.next_answer(self.command, parts.path)
            if payload is None:
                data, content_type = b"", None
            elif isinstance(payload, bytes):
                data, content_type = payload, headers.get("Content-Type")
            else:
                data, content_type = json.dumps(payload).encode(), "application/json"
            self.send_response(status)
            for name, value in headers.items():
                if name != "Content-Type":
                    self.send_header(name, value)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def stub_foundry() -> Iterator[StubFoundry]:
    stub = StubFoundry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()


StartEmulator = Callable[..., "FoundryEmulator"]
"""The ``start_emulator`` fixture: start an emulator of one's own with FoundryEmulator's arguments."""


@pytest.fixture
def start_emulator() -> Iterator[StartEmulator]:
    """Start emulators of one's own (a scenario, time scale or faults of their own); all stop after the test,
    which also ends requests left hanging inside them."""
    from airflow_provider_modelstudio.emulator import FoundryEmulator

    started: list[FoundryEmulator] = []

    def start(*args: Any, **kwargs: Any) -> FoundryEmulator:
        emulator = FoundryEmulator(*args, **kwargs).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
