"""What one dense answer costs: 2.5 million empty JSON objects, 7.5 MB (under the 16 MiB size limit), gzipped.

A loopback server answers every request with that body. Each client runs in a fresh process of its own: the
sync client (a worker) and the async client (the triggerer), each asking getBatch once. Reported per client:
the outcome (the error raised), the wall time of the call, the process's peak RSS increase over the call
(``ru_maxrss``), and for the async client the longest time the event loop went without running a 5 ms
ticker (how long other triggers would have waited). Not part of ``make bench``; run it on its own:
``.venv/bin/python bench/dense_answer.py``. Run it with ``PYTHONPATH`` pointing at an older checkout to
compare.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import resource
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY = gzip.compress(b"[" + b",".join([b"{}"] * 2_500_000) + b"]", compresslevel=9)


class _Dense(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: Any) -> None:
        return


def _settings(url: str) -> Any:
    from airflow.models.connection import Connection

    from airflow_provider_modelstudio.foundry.settings import FoundrySettings

    return FoundrySettings.from_connection(Connection(conn_id="dense", conn_type="foundry", host=url, password="t"))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, url: str) -> dict[str, Any]:
    """In this process: one getBatch with the ``kind`` client; what it cost."""
    from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
    from airflow_provider_modelstudio.foundry.retry import RetryPolicy
    from airflow_provider_modelstudio.foundry.sync_client import FoundryClient

    settings, retry = _settings(url), RetryPolicy(max_attempts=1)
    body = [{"buildRid": "ri.foundry.main.build.dense"}]
    outcome, longest_block = "answered", 0.0
    before = _peak_rss_mb()
    started = time.perf_counter()
    if kind == "sync":
        client = FoundryClient(settings, retry=retry)
        try:
            client.call("get_builds_batch", json_body=body)
        except Exception as exc:
            outcome = type(exc).__name__
        client.close()
    else:

        async def call() -> tuple[str, float]:
            blocks: list[float] = []
            stop = asyncio.Event()

            async def ticker() -> None:
                while not stop.is_set():
                    tick = time.perf_counter()
                    await asyncio.sleep(0.005)
                    blocks.append(time.perf_counter() - tick - 0.005)

            ticking = asyncio.create_task(ticker())
            client = AsyncFoundryClient(settings, retry=retry)
            result = "answered"
            try:
                await client.call("get_builds_batch", json_body=body)
            except Exception as exc:
                result = type(exc).__name__
            await client.aclose()
            stop.set()
            await ticking
            return result, max(blocks, default=0.0)

        outcome, longest_block = asyncio.run(call())
    return {
        "client": kind,
        "outcome": outcome,
        "seconds": round(time.perf_counter() - started, 3),
        "peak_rss_increase_mb": round(_peak_rss_mb() - before, 1),
        "longest_loop_block_s": round(longest_block, 3) if kind == "async" else None,
    }


def main() -> None:
    if len(sys.argv) == 3:
        print(json.dumps(measure(sys.argv[1], sys.argv[2])))
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Dense)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"answer: {len(BODY)} bytes gzipped, 2,500,000 empty objects")
    for kind in ("sync", "async"):
        done = subprocess.run(
            [sys.executable, __file__, kind, url], capture_output=True, text=True, timeout=300, check=True
        )
        print(done.stdout.strip().splitlines()[-1])
    server.shutdown()


if __name__ == "__main__":
    main()
