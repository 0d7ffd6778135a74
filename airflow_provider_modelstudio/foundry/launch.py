"""Launching a run without ever starting two.

Launch is not idempotent and carries no client-chosen key, so after a failure that may have reached
Foundry (no answer, a dropped connection, 500/502/504) a blind retry could start a second training run.
Before launching, the studio's run ids are noted; after such a failure the runs are listed again:
exactly one new run is adopted, none means launching again is safe, several (another launcher was busy
on the same studio) is an error that lists them. This module does not wait for runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.errors import (
    DuplicateRunsError,
    FoundryApiError,
    FoundryError,
    FoundryTransportError,
)
from airflow_provider_modelstudio.foundry.retry import SERVER_STATUSES, plan_retry

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.sync_client import FoundryClient

log = logging.getLogger(__name__)


def may_have_created_run(exc: FoundryError) -> bool:
    """Whether a failed launch may nevertheless have started a run."""
    if isinstance(exc, FoundryTransportError):
        return exc.may_have_reached_server
    return isinstance(exc, FoundryApiError) and exc.status_code in SERVER_STATUSES


def run_ids(client: FoundryClient, studio_rid: str) -> set[str]:
    runs = client.paged("list_model_studio_runs", {"modelStudioRid": studio_rid}, {})
    return {str(run.get("runId")) for run in runs if isinstance(run, dict)}


def launch_once(client: FoundryClient, studio_rid: str, sleep: Callable[[float], None]) -> dict[str, Any]:
    """Launch a run of ``studio_rid`` and return it (``ModelStudioRun`` JSON), never creating two.

    After a failure that may have reached Foundry, the studio's runs are watched for a settling window
    (see :func:`_new_runs`) before launching again.

    :param client: the sync client
    :param studio_rid: a checked Model Studio RID
    :param sleep: how to wait between launch attempts
    """
    started = time.monotonic()
    known = run_ids(client, studio_rid)
    attempt = 0
    while True:
        attempt += 1
        try:
            run = client.call("launch_model_studio", {"modelStudioRid": studio_rid})
        except FoundryError as exc:
            if not may_have_created_run(exc):
                raise
            failure = exc
        else:
            return _checked(run, studio_rid)
        new_runs = _new_runs(client, studio_rid, known, failure, sleep)
        if len(new_runs) == 1:
            log.warning(
                "The launch answer was lost (%s), but Foundry created run %s: adopting it instead of launching again.",
                failure,
                new_runs[0].get("runId"),
            )
            return new_runs[0]
        if new_runs:
            ids = [str(r.get("runId")) for r in new_runs]
            raise DuplicateRunsError(
                f"The launch of {studio_rid} got no answer ({failure}), and meanwhile {len(ids)} new runs "
                f"appeared: {', '.join(ids)}. Another task or person launched the same studio, so which run "
                "is this task's is unknown; nothing was launched again. Check the runs in Foundry and cancel "
                "any that are not wanted.",
                ids,
            )
        delay = plan_retry(client.retry, attempt=attempt, elapsed=time.monotonic() - started)
        if delay is None:
            raise failure
        log.warning("The launch failed (%s) and created no run; launching again in %.1f s.", failure, delay)
        sleep(delay)


def _checked(run: Any, studio_rid: str) -> dict[str, Any]:
    if not isinstance(run, dict) or not isinstance(run.get("buildRid"), str):
        raise FoundryError(
            f"Foundry accepted the launch of {studio_rid} but its answer has no buildRid to follow: {run!r:.300}. "
            "Check the studio's runs in Foundry; a newer API version may have changed the answer."
        )
    return run


def _new_runs(
    client: FoundryClient,
    studio_rid: str,
    known: set[str],
    failure: FoundryError,
    sleep: Callable[[float], None],
) -> list[dict[str, Any]]:
    """Runs that appeared since ``known``, watched for a settling window before concluding there are none.

    Foundry may still be creating the run when the client gave up waiting for the answer, so the runs are
    listed again for twice the read timeout (at least 2 s) before "no new run" is believed; after a server
    error answer (500/502/504), for 2 s.
    """
    settle = 2.0 if isinstance(failure, FoundryApiError) else max(2.0, 2 * client.settings.timeout)
    deadline = time.monotonic() + settle
    while True:
        try:
            runs = list(client.paged("list_model_studio_runs", {"modelStudioRid": studio_rid}, {}))
        except FoundryError as exc:
            raise FoundryError(
                f"The launch of {studio_rid} got no answer ({failure}), and the studio's runs could not be listed "
                f"to find out whether a run was created ({exc}). Nothing was launched again: check the studio's "
                "runs in Foundry before retrying the task."
            ) from exc
        new = [run for run in runs if isinstance(run, dict) and str(run.get("runId")) not in known]
        remaining = deadline - time.monotonic()
        if new or remaining <= 0:
            return new
        sleep(min(max(settle / 8, 0.25), remaining))
