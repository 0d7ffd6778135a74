"""One way of waiting, whichever process waits: the policy, the failure count, and the worker's loop.

The worker (:func:`wait_in_worker`), the sensor's pokes and the trigger all take a :class:`WaitPolicy` and
count failed status checks with a :class:`FailedChecks`, so a wait gives up for the same reasons and after
the same number of failures everywhere. What this module does not do: it does not defer (see
:mod:`.deferral`) and it does not decide what happens to the build when a wait gives up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError
from airflow_provider_modelstudio.runs.errors import PollingFailedError, RunTimedOutError, is_transient
from airflow_provider_modelstudio.runs.status import Verdict

if TYPE_CHECKING:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.runs.progress import StatusWatch

MAX_CONSECUTIVE_POLL_FAILURES = 10
"""Status checks that may fail in a row (after each one's own retries) before a wait gives up."""


@dataclass(frozen=True, slots=True)
class WaitPolicy:
    """How one wait polls and when it gives up. Plain numbers, so it travels to the triggerer.

    :param poll_interval: seconds between status checks
    :param deadline: UNIX time at which to stop waiting; None waits without limit
    :param max_consecutive_failures: failed checks in a row (each after its own request retries) that end
        the wait
    :param heartbeat: seconds between "still running" log lines at first (see :mod:`.progress`); 0 for none
    """

    poll_interval: float
    deadline: float | None = None
    max_consecutive_failures: int = MAX_CONSECUTIVE_POLL_FAILURES
    heartbeat: float = 60.0

    def __post_init__(self) -> None:
        count = self.max_consecutive_failures
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FoundryConfigError(
                f"max_consecutive_failures={count!r} must be a whole number of at least 1, e.g. 10."
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def remaining(self) -> float | None:
        """Seconds until the deadline (negative once past), None without one."""
        return None if self.deadline is None else self.deadline - time.time()


class FailedChecks:
    """Consecutive failed status checks of one wait.

    :param limit: how many in a row end the wait
    :param what: what is checked, for the message (e.g. ``"build ri.foundry..."``)
    """

    __slots__ = ("count", "limit", "what")

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.count = 0

    def passed(self) -> None:
        self.count = 0

    def failed(self, problem: FoundryError, *, all_transient: bool = False) -> FoundryError | None:
        """Count a failed check; return the error that ends the wait, or None to keep waiting.

        :param problem: what went wrong
        :param all_transient: treat every failure as transient (the triggerer: one bad batch answer must not
            end every wait sharing it)
        """
        self.count += 1
        if not (all_transient or is_transient(problem)):
            return problem
        if self.count >= self.limit:
            return PollingFailedError(f"Stopped waiting after {self.count} failed check(s) of {self.what}: {problem}")
        return None

    def absorb(self, problem: FoundryError) -> None:
        """Count a failed check of a wait in the worker: raise what ends the wait, or return to wait on."""
        ending = self.failed(problem)
        if ending is problem:
            raise problem
        if ending is not None:
            raise ending from problem


def wait_in_worker(
    hook: ModelStudioHook,
    build_rid: str,
    watch: StatusWatch,
    policy: WaitPolicy,
    *,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """Poll a build until it is final; return its status.

    Raises :class:`RunTimedOutError` at the policy's deadline, and the ending error of :class:`FailedChecks`.

    :param hook: the hook
    :param build_rid: the build
    :param watch: logs and judges each status
    :param policy: interval, deadline and failure limit
    :param sleep: how to wait between checks (default ``time.sleep``)
    """
    pause = sleep or time.sleep
    failures = FailedChecks(policy.max_consecutive_failures, f"build {build_rid}")
    while True:
        try:
            status = hook.get_build(build_rid).status
            if status is None:
                raise PollingFailedError(f"Foundry's answer for build {build_rid} has no usable status.")
        except FoundryError as exc:
            failures.absorb(exc)
            watch.log.warning("Status check %d failed (%s); will check again.", failures.count, exc)
        else:
            failures.passed()
            if watch.observe(status) is not Verdict.WAIT:
                return status
        remaining = policy.remaining()
        if remaining is not None and remaining <= 0:
            raise RunTimedOutError(f"Build {build_rid} did not finish before the wait's timeout. {watch.build_url}")
        pause(policy.poll_interval if remaining is None else min(policy.poll_interval, remaining))
