"""What a dataset watcher tells a person when it cannot check its branch, so that it is never a silent watcher.

A watcher runs for as long as its DAG is deployed, so it does not give up: it keeps checking, and says why no
event can fire. A failure that will not pass by itself (the branch or dataset is gone, the connection lost the
``api:datasets-read`` scope, an answer that cannot be read) is an error at once; passing ones (timeouts, rate
limits, server errors) a warning from the third in a row. Either is repeated every :data:`REMINDER_SECONDS`
while it lasts, and the first good check after them says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from airflow_provider_modelstudio.foundry.errors import FoundryApiError, FoundryError
from airflow_provider_modelstudio.runs.errors import failure_message, is_transient

TRANSIENT_FAILURES_BEFORE_WARNING = 3
REMINDER_SECONDS = 600.0


class WatchHealth:
    """The failed checks of one watcher, and the lines they are worth.

    :param what: the branch watched, for the message (``dataset ri... branch master``)
    :param interval: seconds between checks, for the message
    :param log: where to log
    :param clock: seconds (``time.monotonic``)
    """

    def __init__(self, what: str, interval: float, log: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.interval = interval
        self.log = log
        self.clock = clock
        self.failures = 0
        self._last_line: float | None = None
        self._last_kind = ""

    def failed(self, problem: FoundryError) -> None:
        """Count a failed check; log it when a person should hear of it now."""
        self.failures += 1
        message = failure_message(problem)
        transient = is_transient(problem)
        if transient and self.failures < TRANSIENT_FAILURES_BEFORE_WARNING:
            return
        now, kind = self.clock(), _kind(problem)
        if kind == self._last_kind and self._last_line is not None and now - self._last_line < REMINDER_SECONDS:
            return
        self._last_line, self._last_kind = now, kind
        line = (
            "Watching %s: %d check(s) in a row failed, the last with: %s. No event fires until a check succeeds; "
            "checking again every %s s."
        )
        (self.log.warning if transient else self.log.error)(line, self.what, self.failures, message, self.interval)

    def answered(self) -> None:
        """A good check: say so when failures were reported."""
        if self._last_line is not None:
            self.log.info("Watching %s: checks succeed again after %d failed.", self.what, self.failures)
        self.failures = 0
        self._last_line = None
        self._last_kind = ""


def _kind(problem: FoundryError) -> str:
    """What a failure is, apart from what differs each time (Foundry's error instance id, timings)."""
    if isinstance(problem, FoundryApiError):
        return f"{problem.status_code} {problem.error_name}"
    return type(problem).__name__
