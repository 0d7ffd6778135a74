"""What each live deployment serves now, read through the hook's async reads and cached briefly.

:class:`ServingCache` reads a deployment at most once per ``ttl`` seconds (15 by default), whoever asks: one page
view reads each of its deployments at most once, and page views within the TTL read none. A read that fails
(Foundry unreachable or slow, a refused token, a missing connection) is cached as well, as ``known: false`` with
a short reason that quotes nothing from the answer or the connection: the page shows "unknown", never an error,
and an unreachable Foundry costs each page view no more than one timed-out read per TTL.

Reads get one attempt and ``timeout`` seconds (5 by default): the page waits for them, Foundry's retries would
make it wait minutes. It reads; it never starts, promotes or changes anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from airflow_provider_modelstudio.foundry.errors import FoundryApiError, FoundryAuthError, FoundryConfigError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy

Serving = dict[str, Any]


class ServingCache:
    """Cached reads of live deployments, by connection id and deployment RID.

    :param ttl: seconds a read (or a failed read) is reused
    :param timeout: seconds one read may take
    :param clock: monotonic seconds (a test's fake clock)
    """

    def __init__(self, ttl: float = 15.0, timeout: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self.clock = clock
        self._known: dict[tuple[str, str], tuple[float, Serving]] = {}

    async def read_all(self, deployments: Iterable[tuple[str, str]]) -> list[Serving]:
        """Each deployment's :meth:`read`, in the order given, duplicates read once.

        :param deployments: ``(connection id, live deployment RID)`` pairs
        """
        unique = list(dict.fromkeys(deployments))
        return list(await asyncio.gather(*(self.read(conn_id, rid) for conn_id, rid in unique)))

    async def read(self, conn_id: str, rid: str) -> Serving:
        """What ``rid`` serves, from the cache when read less than ``ttl`` seconds ago.

        :param conn_id: the ``foundry`` connection to read through
        :param rid: the live deployment
        """
        now = self.clock()
        cached = self._known.get((conn_id, rid))
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        serving = await self._read(conn_id, rid)
        self._known[(conn_id, rid)] = (self.clock(), serving)
        return serving

    async def _read(self, conn_id: str, rid: str) -> Serving:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

        retry = RetryPolicy(max_attempts=1, max_elapsed=self.timeout)
        hook = ModelStudioHook(conn_id, retry=retry)
        read_at = time.time()
        try:
            deployment = await asyncio.wait_for(hook.aget_live_deployment(rid), self.timeout)
            settings = await hook.asettings()
        except Exception as exc:  # any failure is "unknown" on the page, with a reason that quotes nothing
            return {"rid": rid, "foundry_conn_id": conn_id, "known": False, "reason": why(exc, self.timeout)}
        finally:
            await hook.aclose()
        version_url = None
        if deployment.model_rid and deployment.version_rid:
            version_url = settings.model_version_url(deployment.model_rid, deployment.version_rid)
        return {
            "rid": rid,
            "foundry_conn_id": conn_id,
            "known": True,
            "state": deployment.state,
            "ready": deployment.ready,
            "model_rid": deployment.model_rid,
            "version_rid": deployment.version_rid,
            "branch": deployment.branch,
            "read_at": read_at,
            "live_deployment_url": settings.live_deployment_url(rid),
            "model_version_url": version_url,
        }


def why(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed read, naming no URL, token or message from the answer.

    :param exc: what the read raised
    :param timeout: the read's time limit, for the message
    """
    if isinstance(exc, TimeoutError):
        return f"Foundry did not answer within {timeout:g} s"
    if isinstance(exc, FoundryAuthError):
        return "the connection could not authenticate"
    if isinstance(exc, FoundryApiError):
        return f"Foundry answered HTTP {exc.status_code}"
    if isinstance(exc, FoundryConfigError):
        return "the connection or the RID is not usable"
    if type(exc).__name__ == "AirflowNotFoundException":
        return "the connection is not defined"
    return "Foundry could not be reached"
