"""How many GET build requests per second the in-process Foundry emulator answers.

Starts a ``FoundryEmulator`` on loopback, creates a few runs, then sends a fixed number of
``GET /api/v2/orchestration/builds/{rid}`` requests from concurrent httpx async clients in this same process
(so client and server share the GIL, and httpx's async pool slows down as concurrency grows: the figure
is a lower bound for the server) and prints requests/second. Every answer must be 200. Bounded: at most
``--requests`` requests and ``--max-seconds`` seconds, loopback only.

Usage: ``.venv/bin/python bench/emulator_throughput.py [--requests 4000] [--concurrency 4]``
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from airflow_provider_modelstudio.emulator import DEMO_STUDIO, STATIC_TOKEN, FoundryEmulator


async def hammer(
    url: str, build_rids: list[str], requests: int, concurrency: int, max_seconds: float
) -> tuple[int, float]:
    """Send up to ``requests`` GET build requests from ``concurrency`` workers; return (answered, seconds)."""
    remaining = requests
    answered = 0
    deadline = time.monotonic() + max_seconds
    headers = {"Authorization": f"Bearer {STATIC_TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=10) as client:

        async def worker(index: int) -> None:
            nonlocal remaining, answered
            while remaining > 0 and time.monotonic() < deadline:
                remaining -= 1
                answer = await client.get(f"/api/v2/orchestration/builds/{build_rids[index % len(build_rids)]}")
                if answer.status_code != 200:
                    raise RuntimeError(f"unexpected answer {answer.status_code}: {answer.text}")
                answered += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(index) for index in range(concurrency)))
        return answered, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests to send (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default: %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=60, help="stop after this long (default: %(default)s)")
    args = parser.parse_args()

    with FoundryEmulator() as emulator:
        build_rids = [run["buildRid"] for run in emulator.create_runs(DEMO_STUDIO, 100)]
        asyncio.run(hammer(emulator.url, build_rids, 200, args.concurrency, args.max_seconds))  # warm-up
        answered, seconds = asyncio.run(
            hammer(emulator.url, build_rids, args.requests, args.concurrency, args.max_seconds)
        )
    print(f"{answered} GET build requests in {seconds:.2f} s with {args.concurrency} in flight")
    print(f"{answered / seconds:.0f} requests/s")


if __name__ == "__main__":
    main()
