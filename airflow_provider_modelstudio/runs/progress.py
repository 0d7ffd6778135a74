"""What a person watching a wait reads: each status change, a heartbeat while nothing changes, the link, and
one line naming the new model version when the run succeeded.

Elapsed time counts from the run's ``startedTime`` (so it survives a triggerer restart or a reattach), or
from when the watch began when Foundry gave no start time. Heartbeats grow sparser as the run ages (at most
every ``heartbeat`` seconds, and no more often than a fifth of the run's age), so a ten-hour run logs a few
dozen lines, not thousands. It does not judge statuses (see :mod:`.status`) and sends no request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.runs.errors import RunTimedOutError
from airflow_provider_modelstudio.runs.status import Verdict, is_unknown, judge

HEARTBEAT_GROWTH = 0.2
"""A heartbeat is due when the time since the last line exceeds this share of the run's age."""


def clock(seconds: float) -> str:
    """``H:MM:SS``."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"


class StatusWatch:
    """Logs one wait on a build and judges each status it is shown (the build's
    :class:`~airflow_provider_modelstudio.waits.waitable.Watch`).

    :param build_rid: the build watched
    :param build_url: its link
    :param poll_interval: seconds between checks, for the log lines
    :param log: where to log
    :param started_at: UNIX time the run started (its ``startedTime``); None counts from now
    :param heartbeat: seconds between "still running" lines at first (they grow sparser with the run's age);
        0 turns them off
    """

    __slots__ = (
        "_last_line",
        "build_rid",
        "build_url",
        "heartbeat",
        "last_status",
        "log",
        "poll_interval",
        "started_at",
        "warned_unknown",
    )

    def __init__(
        self,
        build_rid: str,
        build_url: str,
        poll_interval: float,
        log: logging.Logger | Any,
        *,
        started_at: float | None = None,
        heartbeat: float = 60.0,
    ) -> None:
        self.build_rid = build_rid
        self.build_url = build_url
        self.poll_interval = poll_interval
        self.log = log
        self.started_at = time.time() if started_at is None else started_at
        self.heartbeat = heartbeat
        self.last_status: object = None
        self.warned_unknown: set[str] = set()
        self._last_line = 0.0

    @property
    def rid(self) -> str:
        return self.build_rid

    def check_failed(self, count: int, problem: FoundryError) -> None:
        self.log.warning("Status check %d failed (%s); will check again.", count, problem)

    def timed_out(self) -> RunTimedOutError:
        return RunTimedOutError(f"Build {self.build_rid} did not finish before the wait's timeout. {self.build_url}")

    def observe(self, status: object) -> Verdict:
        """Record a status; log it when it changed or a heartbeat is due; judge it."""
        verdict = judge(status)
        now = time.time()
        if status != self.last_status:
            follow = "" if verdict is not Verdict.WAIT else f"; next check in {self.poll_interval:g} s"
            self.log.info(
                "Build %s is %s after %s%s. %s",
                self.build_rid,
                status,
                clock(now - self.started_at),
                follow,
                self.build_url,
            )
            self.last_status = status
            self._last_line = now
        elif verdict is Verdict.WAIT and self._heartbeat_due(now):
            self.log.info(
                "Build %s still %s after %s; checking every %g s. %s",
                self.build_rid,
                status,
                clock(now - self.started_at),
                self.poll_interval,
                self.build_url,
            )
            self._last_line = now
        if verdict is Verdict.WAIT and is_unknown(status) and str(status) not in self.warned_unknown:
            self.warned_unknown.add(str(status))
            self.log.warning(
                "Foundry reported build status %r, which this provider does not know; treating it as not "
                "finished and waiting on.",
                status,
            )
        return verdict

    def _heartbeat_due(self, now: float) -> bool:
        if self.heartbeat <= 0:
            return False
        quiet = now - self._last_line
        return quiet >= max(self.heartbeat, HEARTBEAT_GROWTH * (now - self.started_at))


def report_success(log: logging.Logger | Any, result: dict[str, Any], version_url: Callable[[str, str], str]) -> None:
    """Log the one line that says what a successful run produced: each new model version and its link.

    :param log: where to log
    :param result: the task's result (see :mod:`.result`)
    :param version_url: the link of a model version, from its model RID and version RID
    """
    outputs = result["model_outputs"]
    produced = [
        (alias, output["model_version_rid"], _link(output, version_url))
        for alias, output in outputs.items()
        if output["model_version_rid"]
    ]
    run = f"Run {result['run_id']} of {result['model_studio_rid'] or 'its studio'}"
    if not produced:
        log.info("%s %s without a model output. %s", run, result["build_status"], result["build_url"])
    elif len(produced) == 1:
        _alias, version, link = produced[0]
        log.info("%s %s: new model version %s%s", run, result["build_status"], version, link)
    else:
        versions = "; ".join(f"{alias}: {version}{link}" for alias, version, link in produced)
        log.info("%s %s: new model versions %s", run, result["build_status"], versions)


def _link(output: Mapping[str, Any], version_url: Callable[[str, str], str]) -> str:
    if not output.get("model_rid"):
        return ""
    return f" {version_url(output['model_rid'], output['model_version_rid'])}"
