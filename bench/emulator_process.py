"""A Foundry emulator in a child process, driven through its in-process handle over a pipe.

The benchmarks measure the CPU and memory of the process that waits; a server in the same process would
pollute both (and share its GIL). :class:`EmulatorProcess` starts a ``spawn`` child that runs a
:class:`~airflow_provider_modelstudio.emulator.FoundryEmulator` and executes the handle's methods
(``create_runs``, ``counters``, ``build_finished_at``, ``reset``, ...) sent over a ``multiprocessing`` pipe.
The child exits when the pipe closes, so it cannot outlive the benchmark.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

_START_TIMEOUT = 60.0
_CALL_TIMEOUT = 120.0


def _serve(conn: Connection, scenario: dict[str, Any] | None, time_scale: float) -> None:
    """Child process: run the emulator and answer ``(method, args, kwargs)`` messages until told to stop."""
    from airflow_provider_modelstudio.emulator import FoundryEmulator

    emulator = FoundryEmulator(scenario, time_scale)
    try:
        emulator.start()
        conn.send(
            (
                "ok",
                {
                    "url": emulator.url,
                    "oauth2": emulator.connection_env("oauth2"),
                    "token": emulator.connection_env("token"),
                },
            )
        )
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message is None:
                return
            name, args, kwargs = message
            try:
                if name == "build_finished_times":
                    value: Any = {rid: emulator.build_finished_at(rid) for rid in args[0]}
                else:
                    value = getattr(emulator, name)(*args, **kwargs)
            except Exception as exc:  # reported to the parent, which raises it
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
            else:
                conn.send(("ok", value))
    finally:
        emulator.stop()
        conn.close()


class EmulatorProcess:
    """``with EmulatorProcess(scenario, time_scale) as emu:`` — an emulator in a child process.

    :param scenario: the scenario dict (None: the default scenario)
    :param time_scale: emulator seconds per real second
    """

    def __init__(self, scenario: dict[str, Any] | None = None, time_scale: float = 1.0) -> None:
        self._scenario = scenario
        self._time_scale = time_scale
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self.url = ""
        self.connection_env: dict[str, str] = {}

    def __enter__(self) -> EmulatorProcess:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self._scenario, self._time_scale), name="foundry-emulator", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(_START_TIMEOUT):
            self.__exit__(None, None, None)
            raise RuntimeError("the emulator process did not start")
        _, info = parent.recv()
        self.url = info["url"]
        self.connection_env = {"oauth2": info["oauth2"], "token": info["token"]}
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(10)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(5)
            self._process = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``FoundryEmulator.<name>(*args, **kwargs)`` in the child and return its result."""
        if self._conn is None:
            raise RuntimeError("the emulator process is not running")
        self._conn.send((name, args, kwargs))
        if not self._conn.poll(_CALL_TIMEOUT):
            raise RuntimeError(f"the emulator process did not answer {name} within {_CALL_TIMEOUT:g} s")
        status, value = self._conn.recv()
        if status == "error":
            raise RuntimeError(f"emulator.{name} failed: {value}")
        return value

    def build_finished_times(self, build_rids: list[str]) -> dict[str, float | None]:
        """Emulator-clock finish time of each build (None while it runs), in one round trip."""
        result: dict[str, float | None] = self.call("build_finished_times", build_rids)
        return result
