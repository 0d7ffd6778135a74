"""Launching a run without ever starting two.

Launch is not idempotent and carries no client-chosen key, so after a failure that may have reached
Foundry (see :func:`~.writes.may_have_written`: no answer, an unreadable answer, a 5xx, any 429) a blind
retry could start a second training run. Before launching, the studio's run ids are noted; after such
a failure the runs are listed again: exactly one new run is adopted, none means launching again is safe,
several (another launcher was busy on the same studio) is an error that lists them, and a listing that
fails is :class:`~.errors.LaunchOutcomeUnknown`. After a launch again, the runs are watched a while longer:
a run the lost attempt created late is surplus, and its build is cancelled. This module does not wait for
runs to finish.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.answers import quoted
from airflow_provider_modelstudio.foundry.auth import known_secrets
from airflow_provider_modelstudio.foundry.errors import (
    DuplicateRunsError,
    FoundryApiError,
    FoundryError,
    LaunchOutcomeUnknown,
)
from airflow_provider_modelstudio.foundry.retry import plan_retry
from airflow_provider_modelstudio.foundry.rids import BUILD, answered_rid
from airflow_provider_modelstudio.foundry.shapes import Run, read_run
from airflow_provider_modelstudio.foundry.writes import may_have_written

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.sync_client import FoundryClient

log = logging.getLogger(__name__)

SURPLUS_WATCH_MIN = 5.0
"""Seconds; the shortest watch for a surplus run after a launch again (see :meth:`_Launch.cancel_surplus`)."""


def launch_once(client: FoundryClient, studio_rid: str, sleep: Callable[[float], None]) -> Run:
    """Launch a run of ``studio_rid`` and return it, never creating two.

    After a failure that may have reached Foundry, the studio's runs are watched for a settling window
    (see :meth:`_Launch.new_runs`) before launching again; after launching again, for a surplus run (see
    :meth:`_Launch.cancel_surplus`).

    :param client: the sync client
    :param studio_rid: a checked Model Studio RID
    :param sleep: how to wait between launch attempts and listings
    :raises LaunchOutcomeUnknown: when a launch may have started a run and the runs could not be listed
    :raises DuplicateRunsError: when several new runs appeared after a launch that may have started one
    """
    started = time.monotonic()
    launch = _Launch(client, studio_rid, sleep, known_secrets(client.settings))
    attempt = 0
    unresolved = 0  # failed launches after which no run appeared within the settling window
    watch = 0.0
    while True:
        attempt += 1
        try:
            run = _checked(
                client.call("launch_model_studio", {"modelStudioRid": studio_rid}), studio_rid, launch.secrets
            )
        except FoundryError as exc:
            if not may_have_written(exc):
                raise
            failure = exc
        else:
            if unresolved:
                launch.cancel_surplus(run, unresolved, watch)
            return read_run(run, what=f"the launch of {studio_rid}")
        settle = _settling_window(client, failure)
        new_runs = launch.new_runs(failure, settle)
        if len(new_runs) == 1:
            run = _checked(new_runs[0], studio_rid, launch.secrets)
            log.warning(
                "The launch answer was lost (%s), but Foundry created run %s: adopting it instead of launching again.",
                failure,
                launch.show(run.get("runId")),
            )
            if unresolved:
                launch.cancel_surplus(run, unresolved, watch)
            return read_run(run, what=f"the runs of {studio_rid}")
        if new_runs:
            ids = [launch.show(r.get("runId")) for r in new_runs]
            raise DuplicateRunsError(
                f"The launch of {studio_rid} got no answer ({failure}), and meanwhile {len(ids)} new runs "
                f"appeared: {', '.join(ids)}. Another task or person launched the same studio, so which run "
                "is this task's is unknown; nothing was launched again. Check the runs in Foundry and cancel "
                "any that are not wanted.",
                ids,
            )
        unresolved += 1
        watch = max(SURPLUS_WATCH_MIN, settle)
        delay = plan_retry(
            client.retry,
            attempt=attempt,
            elapsed=time.monotonic() - started,
            retry_after=getattr(failure, "retry_after", None),
        )
        if delay is None:
            raise failure
        log.warning("The launch failed (%s) and created no run; launching again in %.1f s.", failure, delay)
        sleep(delay)


def _checked(run: Any, studio_rid: str, secrets: Iterable[str]) -> dict[str, Any]:
    """``run`` when it has a build to follow, named by a build RID; an answer naming something else as its build
    raises :class:`~.errors.FoundryAnswerError` (the launch may have started a run: it is reconciled)."""
    if not isinstance(run, dict) or not isinstance(run.get("buildRid"), str):
        raise FoundryError(
            f"Foundry accepted the launch of {studio_rid} but its answer has no buildRid to follow: "
            f"{quoted(run, secrets, limit=300)}. Check the studio's runs in Foundry; a newer API version may have "
            "changed the answer."
        )
    answered_rid(run["buildRid"], BUILD, field="buildRid", what=f"the launch of {studio_rid}", secrets=secrets)
    return run


def _settling_window(client: FoundryClient, failure: FoundryError) -> float:
    """How long "no new run" must hold before it is believed: Foundry may still be creating the run when the
    client stopped waiting. Twice the read timeout (at least 2 s) after a lost answer; 2 s after an error
    answer, which Foundry (or a proxy) sent once it had stopped working on the request."""
    return 2.0 if isinstance(failure, FoundryApiError) else max(2.0, 2 * client.settings.timeout)


class _Launch:
    """The studio's runs as one launch call sees them: those noted before it, and what appeared since.

    :param client: the sync client
    :param studio_rid: the studio
    :param sleep: how to wait between listings
    :param secrets: never quoted back from an answer
    """

    def __init__(
        self, client: FoundryClient, studio_rid: str, sleep: Callable[[float], None], secrets: Iterable[str]
    ) -> None:
        self.client = client
        self.studio_rid = studio_rid
        self.sleep = sleep
        self.secrets = secrets
        self.known = {str(run.get("runId")) for run in self.list_runs()}

    def show(self, value: Any) -> str:
        """A value from an answer (a run id), fit for a message."""
        return quoted(str(value), self.secrets, limit=100)

    def list_runs(self) -> list[dict[str, Any]]:
        runs = self.client.paged("list_model_studio_runs", {"modelStudioRid": self.studio_rid}, {})
        return [run for run in runs if isinstance(run, dict)]

    def new_runs(self, failure: FoundryError, settle: float) -> list[dict[str, Any]]:
        """Runs that appeared since the launch began, watched for ``settle`` seconds before concluding there
        are none."""
        deadline = time.monotonic() + settle
        while True:
            try:
                runs = self.list_runs()
            except FoundryError as exc:
                raise LaunchOutcomeUnknown(
                    f"The launch of {self.studio_rid} got no usable answer ({failure}), and the studio's runs could "
                    f"not be listed to find out whether a run was created ({exc}). Nothing was launched again: check "
                    "the studio's runs in Foundry before retrying the task."
                ) from exc
            new = [run for run in runs if str(run.get("runId")) not in self.known]
            remaining = deadline - time.monotonic()
            if new or remaining <= 0:
                return new
            self.sleep(min(max(settle / 8, 0.25), remaining))

    def cancel_surplus(self, ours: dict[str, Any], unresolved: int, watch: float) -> None:
        """After launching again, find runs the earlier, failed launches created late, and cancel their builds.

        Each of the ``unresolved`` failed launches may have created at most one run that the settling window
        missed (a listing that lags, or Foundry still at work). The runs are listed for ``watch`` seconds
        counted from when the listing first shows ``ours`` (a listing that does not show it yet is behind), at
        most twice that in all, or until ``unresolved`` surplus runs were found. A new run started by another
        user (its ``startedBy`` differs from ours) is not ours to cancel. When more new runs turn up than the
        failed launches could have created, another launcher is busy on the studio: they are named, not
        cancelled. Failures here are logged, never raised: ``ours`` is running and stays the result.
        """
        ours_id = str(ours.get("runId"))
        owner = ours.get("startedBy")
        started = time.monotonic()
        seen_ours_at: float | None = None
        surplus: dict[str, dict[str, Any]] = {}
        while True:
            try:
                runs = self.list_runs()
            except FoundryError as exc:
                log.warning(
                    "Launched run %s of %s after a launch that may have created a run, but the studio's runs could "
                    "not be listed to look for that run (%s). Check the studio's runs in Foundry and cancel any this "
                    "task did not return.",
                    self.show(ours_id),
                    self.studio_rid,
                    exc,
                )
                return
            now = time.monotonic()
            for run in runs:
                run_id = str(run.get("runId"))
                if run_id == ours_id:
                    seen_ours_at = now if seen_ours_at is None else seen_ours_at
                elif run_id not in self.known and (owner is None or run.get("startedBy") in (owner, None)):
                    surplus.setdefault(run_id, run)
            watched_enough = seen_ours_at is not None and now - seen_ours_at >= watch
            if len(surplus) >= unresolved or watched_enough or now - started >= 2 * watch:
                break
            self.sleep(min(max(watch / 8, 0.25), 2 * watch - (now - started)))
        if len(surplus) > unresolved:
            log.warning(
                "After launching %s again (run %s), %d other new runs appeared (%s), more than this task's %d failed "
                "launch(es) could have created: another launcher is busy on this studio, so none was cancelled. "
                "Check them in Foundry.",
                self.studio_rid,
                self.show(ours_id),
                len(surplus),
                ", ".join(self.show(run_id) for run_id in surplus),
                unresolved,
            )
            return
        for run_id, run in surplus.items():
            self.cancel(ours_id, run_id, run)

    def cancel(self, ours_id: str, run_id: str, run: dict[str, Any]) -> None:
        """Cancel the build of surplus run ``run_id``, and say so (or say that it failed)."""
        build = run.get("buildRid")
        try:
            if not isinstance(build, str):
                raise FoundryError("the run has no buildRid")
            self.client.call("cancel_build", {"buildRid": build})
        except FoundryError as exc:
            log.warning(
                "Run %s of %s appeared late: an earlier launch of this task, whose answer was lost, created it after "
                "all, while this task continues with run %s. Cancelling its build failed (%s): cancel run %s in "
                "Foundry.",
                self.show(run_id),
                self.studio_rid,
                self.show(ours_id),
                exc,
                self.show(run_id),
            )
            return
        log.warning(
            "Run %s of %s appeared late: an earlier launch of this task, whose answer was lost, created it after "
            "all. This task continues with run %s; the build of run %s (%s) was cancelled so that one launch makes "
            "one run.",
            self.show(run_id),
            self.studio_rid,
            self.show(ours_id),
            self.show(run_id),
            self.show(build),
        )
