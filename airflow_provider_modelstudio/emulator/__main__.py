"""Command line: ``python -m airflow_provider_modelstudio.emulator [--port 0] [--scenario FILE.json] ...``.

Starts the emulator in the foreground. The first line printed is exactly
``Foundry emulator listening on http://<host>:<port>``; the next lines are ready-to-paste
``export AIRFLOW_CONN_FOUNDRY_DEFAULT=...`` lines for the static token and for OAuth2. Ctrl-C or SIGTERM
stops it with exit status 0. It refuses a non-loopback ``--host`` unless ``--allow-remote`` is given: the
emulator has no real security.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from types import FrameType

from airflow_provider_modelstudio.emulator.parsing import ScenarioError
from airflow_provider_modelstudio.emulator.scenario import Scenario
from airflow_provider_modelstudio.emulator.server import LOOPBACK, FoundryEmulator, check_bind_host


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_modelstudio.emulator",
        description="Run a local Foundry emulator for the Model Studio endpoints.",
    )
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default: 0)")
    parser.add_argument("--scenario", metavar="FILE.json", help="scenario file (default: the built-in scenario)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="emulator seconds per real second (default: 1)")
    parser.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--print-scenario", action="store_true", help="print the scenario as JSON (a template) and exit"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    :return: the exit status.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        check_bind_host(args.host, allow_remote=args.allow_remote)
    except ValueError as error:
        parser.error(str(error))
    if args.time_scale <= 0:
        parser.error("--time-scale must be > 0")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be within 0..65535")
    try:
        scenario = Scenario.from_file(args.scenario) if args.scenario else Scenario.default()
    except (OSError, ValueError, ScenarioError) as error:
        parser.error(f"cannot read the scenario {args.scenario}: {error}")
    if args.print_scenario:
        print(json.dumps(scenario.to_dict(), indent=2))
        return 0
    if args.access_log:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    emulator = FoundryEmulator(
        scenario,
        args.time_scale,
        host=args.host,
        port=args.port,
        access_log=args.access_log,
        allow_remote=args.allow_remote,
    )
    try:
        emulator.start()
    except OSError as error:
        print(f"cannot bind {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    try:
        print(f"Foundry emulator listening on {emulator.url}", flush=True)
        print("# Paste into the shell that runs Airflow:")
        if scenario.static_tokens:
            print(f"export AIRFLOW_CONN_FOUNDRY_DEFAULT='{emulator.connection_env('token')}'")
        if scenario.clients:
            print("# or, with OAuth2 client credentials:")
            print(f"export AIRFLOW_CONN_FOUNDRY_DEFAULT='{emulator.connection_env('oauth2')}'")
        print("# Ctrl-C stops the emulator.", flush=True)
        stop.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
