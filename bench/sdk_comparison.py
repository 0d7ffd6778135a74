"""Measured comparison of the provider's own Foundry client with Palantir's ``foundry-platform-sdk``.

The figures quoted in ``docs/why-our-own-client.md`` come from this script. Three sections, each
runnable alone:

- ``imports``: what importing the SDK costs on top of ``import airflow.sdk``, against our hook and
  operator modules. Every sample is a fresh Python process that imports ``airflow.sdk`` first (untimed),
  then times one statement with ``time.perf_counter``; the sets run interleaved after one warm-up round,
  and the median is reported.
- ``deps``: what the SDK adds to an Airflow installation. Creates a throw-away venv under ``/tmp``,
  installs ``apache-airflow`` from PyPI, then this repository, then the SDK, and compares ``pip list``
  and ``du -sk`` of ``site-packages`` after each step. Deletes the venv at the end (``--keep`` keeps it).
  Needs PyPI and several minutes.
- ``behaviour``: the same faults, injected by the local emulator on loopback, met by the SDK's
  ``FoundryClient`` / ``AsyncFoundryClient`` and by our ``ModelStudioHook``, both with their default
  settings: which requests are retried, how often, whether ``Retry-After`` is honoured, what a hanging
  server does, a 401 for an OAuth2 token the server no longer accepts, a launch whose answer is lost,
  and a list endpoint that keeps answering the same ``nextPageToken`` (a stub server on loopback).

The raw figures of each section that ran replace that section's in ``bench/results/sdk_comparison.json``
(so the sections can be run one at a time); the Markdown report of all of them is printed and written to
``bench/results/sdk_comparison.md``. It changes nothing outside ``/tmp`` and that
file, sends traffic only to loopback and PyPI (``deps``), and every loop is bounded.

Usage: ``.venv/bin/python bench/sdk_comparison.py [imports] [deps] [behaviour] [--rounds 9] [--keep]``
(no section named: all three).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results" / "sdk_comparison.md"
RAW = BENCH / "results" / "sdk_comparison.json"
AIRFLOW_VERSION = "3.3.2"
SDK_VERSION = "1.111.0"
OURS = "airflow_provider_modelstudio"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Import cost ---------------------------------------------------------------------------------------------------

_SDK_CLIENT = (
    "from foundry_sdk import FoundryClient, UserTokenAuth\n"
    "client = FoundryClient(auth=UserTokenAuth('t'), hostname='foundry.example.com')\n"
    "client.models.ModelStudio, client.orchestration.Build"
)
IMPORT_SETS: dict[str, str] = {
    "ours: `import ...hooks.modelstudio`": f"import {OURS}.hooks.modelstudio",
    "ours: `import ...operators.modelstudio`": f"import {OURS}.operators.modelstudio",
    "ours: hook + its `requests` client (what a task run adds)": (
        f"import {OURS}.hooks.modelstudio, {OURS}.foundry.sync_client"
    ),
    "SDK: `import foundry_sdk`": "import foundry_sdk",
    "SDK: models + orchestration clients only": (
        "from foundry_sdk.v2.models.model_studio import ModelStudioClient\n"
        "from foundry_sdk.v2.orchestration.build import BuildClient"
    ),
    "SDK: `FoundryClient(...)` with `.models.ModelStudio` and `.orchestration.Build`": _SDK_CLIENT,
}

_IMPORT_PROBE = """
import json, resource, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
before = set(sys.modules)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
exec(compile({statement!r}, "<probe>", "exec"))
t2 = time.perf_counter()
print("PROBE " + json.dumps({{"ms": (t2 - t1) * 1000, "airflow_sdk_ms": (t1 - t0) * 1000,
    "new_modules": len(set(sys.modules) - before), "pydantic_before": "pydantic" in before,
    "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss}}))
"""


def _probe(code: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("PROBE "):
            result: dict[str, Any] = json.loads(line.removeprefix("PROBE "))
            return result
    raise RuntimeError(f"probe failed (exit {done.returncode}): {done.stderr[-2000:]}")


def measure_imports(rounds: int) -> dict[str, Any]:
    """Median milliseconds and newly imported modules of each set, over ``rounds`` fresh processes."""
    with tempfile.TemporaryDirectory(prefix="sdk-imports-") as home:
        env = {**os.environ, "AIRFLOW_HOME": home}
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in IMPORT_SETS}
        for round_number in range(rounds + 1):
            for name, statement in IMPORT_SETS.items():
                result = _probe(_IMPORT_PROBE.format(statement=statement), env)
                if round_number:
                    samples[name].append(result)
            log(f"imports: round {round_number}/{rounds}{' (warm-up)' if not round_number else ''}")
    return {
        name: {
            "median_ms": round(statistics.median(s["ms"] for s in runs), 1),
            "min_ms": round(min(s["ms"] for s in runs), 1),
            "max_ms": round(max(s["ms"] for s in runs), 1),
            "new_modules": max(s["new_modules"] for s in runs),
            "peak_rss_mib": round(statistics.median(s["peak_rss_kib"] for s in runs) / 1024, 1),
            "airflow_sdk_median_ms": round(statistics.median(s["airflow_sdk_ms"] for s in runs)),
            "pydantic_loaded_by_airflow_sdk": all(s["pydantic_before"] for s in runs),
            "rounds": len(runs),
        }
        for name, runs in samples.items()
    }


# Dependency weight ---------------------------------------------------------------------------------------------


def _pip(python: Path, *args: str) -> str:
    command = [str(python), "-m", "pip", "--disable-pip-version-check", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=1800).stdout


def _snapshot(python: Path, site_packages: Path) -> dict[str, Any]:
    listed = json.loads(_pip(python, "list", "--format=json"))
    du = subprocess.run(["du", "-sk", str(site_packages)], capture_output=True, text=True, check=True).stdout
    return {"packages": {p["name"].lower(): p["version"] for p in listed}, "kib": int(du.split()[0])}


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    old, new = before["packages"], after["packages"]
    return {
        "added": {name: version for name, version in sorted(new.items()) if name not in old},
        "changed": {name: f"{old[name]} -> {v}" for name, v in sorted(new.items()) if name in old and old[name] != v},
        "added_mib": round((after["kib"] - before["kib"]) / 1024, 1),
    }


def measure_deps(airflow_version: str, sdk_version: str, keep: bool) -> dict[str, Any]:
    """Packages and disk space that the SDK, and this provider, add to a fresh Airflow installation."""
    root = Path(tempfile.mkdtemp(prefix="sdk-deps-", dir="/tmp"))
    venv = root / "venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        python = venv / "bin" / "python"
        site = Path(
            subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        log(f"deps: installing apache-airflow=={airflow_version} into {venv} (minutes)")
        _pip(python, "install", "--quiet", f"apache-airflow=={airflow_version}")
        airflow = _snapshot(python, site)
        log("deps: installing this provider (non-editable)")
        _pip(python, "install", "--quiet", str(REPO))
        ours = _snapshot(python, site)
        log(f"deps: installing foundry-platform-sdk=={sdk_version}")
        _pip(python, "install", "--quiet", f"foundry-platform-sdk=={sdk_version}")
        sdk = _snapshot(python, site)
        sdk_dir = subprocess.run(
            ["du", "-sk", str(site / "foundry_sdk")], capture_output=True, text=True, check=True
        ).stdout
        return {
            "airflow": {"version": airflow_version, "packages": len(airflow["packages"]), "mib": airflow["kib"] / 1024},
            "ours": _delta(airflow, ours),
            "sdk": {**_delta(ours, sdk), "foundry_sdk_dir_mib": round(int(sdk_dir.split()[0]) / 1024, 1)},
            "venv": str(venv) if keep else "deleted",
        }
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


# Behaviour -----------------------------------------------------------------------------------------------------


def _requests(emu: Any, endpoint: str) -> dict[str, int]:
    counts: dict[str, int] = emu.counters()["requests"].get(endpoint, {})
    return counts


def _outcome(call: Callable[[], Any]) -> tuple[str, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return type(exc).__name__, round(time.monotonic() - started, 2)
    return "ok", round(time.monotonic() - started, 2)


@contextmanager
def _emulator(**scenario: Any) -> Iterator[Any]:
    from airflow_provider_modelstudio.emulator import FoundryEmulator

    with FoundryEmulator(scenario or None) as emu:
        yield emu


def _sdk(emu: Any, auth: Any = None) -> Any:
    from foundry_sdk import Config, FoundryClient, UserTokenAuth

    from airflow_provider_modelstudio.emulator import STATIC_TOKEN

    return FoundryClient(auth or UserTokenAuth(STATIC_TOKEN), f"{emu.host}:{emu.port}", Config(scheme="http"))


def _hook(connection: str) -> Any:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    os.environ["AIRFLOW_CONN_FOUNDRY_DEFAULT"] = connection
    return ModelStudioHook()


def _with_extra(emu: Any, auth: str = "token", **extra: Any) -> str:
    connection = emu.connection(auth)
    connection["extra"] = {**connection.get("extra", {}), **extra}
    return json.dumps(connection)


def _fault_case(endpoint: str, faults: dict[str, Any], call: str) -> dict[str, Any]:
    """One fault on one endpoint, met by the SDK and then by our hook (a fresh emulator each).

    :param call: ``get`` (get the studio) or ``launch`` (launch a run of it)
    """
    from airflow_provider_modelstudio.emulator import DEMO_STUDIO

    result: dict[str, Any] = {"endpoint": endpoint, "faults": faults}
    for who in ("sdk", "ours"):
        with _emulator() as emu:
            emu.set_faults(endpoint, **faults)
            if who == "sdk":
                studios = _sdk(emu).models.ModelStudio
                target = studios.get if call == "get" else studios.launch
                outcome, seconds = _outcome(partial(target, DEMO_STUDIO, preview=True))
            else:
                hook = _hook(emu.connection_env())
                target = hook.get_model_studio if call == "get" else hook.launch_model_studio
                outcome, seconds = _outcome(partial(target, DEMO_STUDIO))
            result[who] = {
                "outcome": outcome,
                "seconds": seconds,
                "requests": _requests(emu, endpoint),
                "runs_created": len(emu.runs(DEMO_STUDIO)),
            }
        log(f"behaviour: {endpoint} {faults} {who}: {result[who]}")
    return result


def _async_sdk_429() -> dict[str, Any]:
    """The SDK's async client under a permanent 429."""
    from foundry_sdk import AsyncFoundryClient, Config, UserTokenAuth

    from airflow_provider_modelstudio.emulator import DEMO_STUDIO, STATIC_TOKEN

    with _emulator() as emu:
        emu.set_faults("get_model_studio", rate_429=1.0)

        async def call() -> Any:
            client = AsyncFoundryClient(
                UserTokenAuth(STATIC_TOKEN), f"{emu.host}:{emu.port}", Config(scheme="http"), preview=True
            )
            return await client.models.ModelStudio.get(DEMO_STUDIO, preview=True)

        outcome, seconds = _outcome(lambda: asyncio.run(call()))
        return {"outcome": outcome, "seconds": seconds, "requests": _requests(emu, "get_model_studio")}


def _async_ours_429() -> dict[str, Any]:
    """Our async transport (the triggerer's) under a permanent 429."""
    from airflow_provider_modelstudio.emulator import DEMO_STUDIO
    from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient

    with _emulator() as emu:
        emu.set_faults("get_model_studio", rate_429=1.0)
        settings = _hook(emu.connection_env()).settings

        async def call() -> Any:
            client = AsyncFoundryClient(settings)
            try:
                return await client.call("get_model_studio", {"modelStudioRid": DEMO_STUDIO})
            finally:
                await client.aclose()

        outcome, seconds = _outcome(lambda: asyncio.run(call()))
        return {"outcome": outcome, "seconds": seconds, "requests": _requests(emu, "get_model_studio")}


def _hang() -> dict[str, Any]:
    """A server that answers only after 15 s: the SDK with its default timeout, ours with a 3 s timeout."""
    from airflow_provider_modelstudio.emulator import DEMO_STUDIO

    hang = {"rate_hang": 1.0, "hang_seconds": 15.0}
    result: dict[str, Any] = {"faults": hang}
    with _emulator() as emu:
        emu.set_faults("get_model_studio", **hang)
        client = _sdk(emu)
        result["sdk_httpx_timeout"] = repr(client.models.ModelStudio._api_client._session.timeout)
        outcome, seconds = _outcome(lambda: client.models.ModelStudio.get(DEMO_STUDIO, preview=True))
        result["sdk"] = {"outcome": outcome, "seconds": seconds}
    with _emulator() as emu:
        emu.set_faults("get_model_studio", **hang)
        hook = _hook(_with_extra(emu, timeout=3))
        hook.retry = type(hook.retry)(max_attempts=1)
        outcome, seconds = _outcome(lambda: hook.get_model_studio(DEMO_STUDIO))
        result["ours_timeout_3s_one_attempt"] = {"outcome": outcome, "seconds": seconds}
    defaults = _hook(emu.connection_env()).settings
    result["ours_defaults"] = {"read_timeout": defaults.timeout, "connect_timeout": defaults.connect_timeout}
    log(f"behaviour: hang: {result}")
    return result


def _expired_token() -> dict[str, Any]:
    """OAuth2 client credentials; the server stops accepting the token (expired on its clock) between calls."""
    from foundry_sdk import ConfidentialClientAuth

    from airflow_provider_modelstudio.emulator import CLIENT_ID, CLIENT_SECRET, DEMO_STUDIO

    result: dict[str, Any] = {}
    with _emulator() as emu:
        threads = threading.active_count()
        client = _sdk(emu, ConfidentialClientAuth(CLIENT_ID, CLIENT_SECRET, scopes=["api:models-read"]))
        first = _outcome(lambda: client.models.ModelStudio.get(DEMO_STUDIO, preview=True))[0]
        extra_threads = threading.active_count() - threads
        emu.advance(3601)
        second = _outcome(lambda: client.models.ModelStudio.get(DEMO_STUDIO, preview=True))[0]
        third = _outcome(lambda: client.models.ModelStudio.get(DEMO_STUDIO, preview=True))[0]
        result["sdk"] = {
            "calls": [first, second, third],
            "tokens_issued": emu.counters()["tokens_issued"],
            "requests": _requests(emu, "get_model_studio"),
            "background_threads_started": extra_threads,
        }
    with _emulator() as emu:
        hook = _hook(emu.connection_env("oauth2"))
        first = _outcome(lambda: hook.get_model_studio(DEMO_STUDIO))[0]
        emu.advance(3601)
        second = _outcome(lambda: hook.get_model_studio(DEMO_STUDIO))[0]
        third = _outcome(lambda: hook.get_model_studio(DEMO_STUDIO))[0]
        result["ours"] = {
            "calls": [first, second, third],
            "tokens_issued": emu.counters()["tokens_issued"],
            "requests": _requests(emu, "get_model_studio"),
        }
    log(f"behaviour: expired token: {result}")
    return result


class _SamePageToken(BaseHTTPRequestHandler):
    """Answers every GET with an empty page and the same ``nextPageToken``, up to ``LIMIT`` times."""

    LIMIT = 50
    served = 0

    def do_GET(self) -> None:
        type(self).served += 1
        page: dict[str, Any] = {"data": []}
        if type(self).served < self.LIMIT:
            page["nextPageToken"] = "same-token"
        body = json.dumps(page).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def _every_item(pages: Callable[[], Any]) -> list[Any]:
    return list(pages())


def _repeated_page_token() -> dict[str, Any]:
    """How many pages each client asks for when the server repeats one ``nextPageToken`` (stops at 50)."""
    from foundry_sdk import Config, FoundryClient, UserTokenAuth

    from airflow_provider_modelstudio.emulator import DEMO_STUDIO, STATIC_TOKEN

    result: dict[str, Any] = {"server_gives_up_after": _SamePageToken.LIMIT}
    for who in ("sdk", "ours"):
        _SamePageToken.served = 0
        server = ThreadingHTTPServer(("127.0.0.1", 0), _SamePageToken)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_address[1]
        try:
            if who == "sdk":
                runs = FoundryClient(UserTokenAuth(STATIC_TOKEN), f"127.0.0.1:{port}", Config(scheme="http"))
                pages = partial(runs.models.ModelStudio.Run.list, DEMO_STUDIO, preview=True)
            else:
                connection = {"conn_type": "foundry", "host": f"http://127.0.0.1:{port}", "password": STATIC_TOKEN}
                pages = partial(_hook(json.dumps(connection)).list_model_studio_runs, DEMO_STUDIO)
            outcome = _outcome(partial(_every_item, pages))[0]
        finally:
            server.shutdown()
            server.server_close()
        result[who] = {"outcome": outcome, "pages_requested": _SamePageToken.served}
    log(f"behaviour: repeated page token: {result}")
    return result


def measure_behaviour() -> dict[str, Any]:
    """Every behaviour experiment; each starts its own emulator (or stub server) on loopback."""
    import logging

    logging.disable(logging.WARNING)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="sdk-behaviour-"))
    return {
        "429_retry_after_2s_get": _fault_case("get_model_studio", {"rate_429": 1.0, "retry_after_seconds": 2}, "get"),
        "503_launch": _fault_case("launch_model_studio", {"rate_503": 1.0}, "launch"),
        "500_get": _fault_case("get_model_studio", {"rate_500": 1.0}, "get"),
        "502_get": _fault_case("get_model_studio", {"rate_502": 1.0}, "get"),
        "drop_get": _fault_case("get_model_studio", {"rate_drop": 1.0}, "get"),
        "launch_answer_lost": _fault_case("launch_model_studio", {"drop_after_create": 1.0}, "launch"),
        "async_sdk_429": _async_sdk_429(),
        "async_ours_429": _async_ours_429(),
        "hang": _hang(),
        "expired_token": _expired_token(),
        "repeated_page_token": _repeated_page_token(),
    }


# Report --------------------------------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    """Markdown of every section measured so far, each with its date and machine."""
    lines = ["# Our client vs foundry-platform-sdk: raw figures", "", "Written by `bench/sdk_comparison.py`.", ""]
    for section in ("imports", "deps", "behaviour"):
        if section not in results:
            continue
        entry = results[section]
        lines += [f"## {section}", "", f"Measured {entry['measured']} on {entry['machine']}.", ""]
        if section == "imports":
            lines += [
                "Fresh process per sample; `import airflow.sdk` first, untimed; `time.perf_counter` around the",
                "statement; sets interleaved; warm-up round discarded.",
                "",
                "| On top of `import airflow.sdk` | Median ms | Min - max ms | New modules | Peak RSS + MiB |",
                "|---|---:|---:|---:|---:|",
            ]
            for name, r in entry["figures"].items():
                lines.append(
                    f"| {name} | {r['median_ms']} | {r['min_ms']} - {r['max_ms']} | {r['new_modules']} "
                    f"| {r['peak_rss_mib']} |"
                )
            lines.append("")
        lines += ["```json", json.dumps(entry["figures"], indent=2), "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", choices=["imports", "deps", "behaviour"], default=[])
    parser.add_argument("--rounds", type=int, default=9, help="measured processes per import set (default 9)")
    parser.add_argument("--keep", action="store_true", help="keep the deps venv under /tmp")
    args = parser.parse_args()
    sections = args.sections or ["imports", "deps", "behaviour"]
    uname = os.uname()
    stamp = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{uname.sysname} {uname.machine}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
    }
    measures: dict[str, Callable[[], dict[str, Any]]] = {
        "imports": lambda: measure_imports(args.rounds),
        "deps": lambda: measure_deps(AIRFLOW_VERSION, SDK_VERSION, args.keep),
        "behaviour": measure_behaviour,
    }
    for section in sections:
        figures = measures[section]()
        results: dict[str, Any] = json.loads(RAW.read_text()) if RAW.exists() else {}
        results[section] = {**stamp, "figures": figures}
        RAW.write_text(json.dumps(results, indent=2) + "\n")
    text = report(json.loads(RAW.read_text()))
    print(text)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
