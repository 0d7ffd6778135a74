"""The closed vocabulary of build statuses, and the one function that judges them.

Only ``SUCCEEDED``, ``FAILED`` and ``CANCELED`` are final. Anything else, including a status Foundry adds
later, means "keep waiting": a new value must never fail or end a wait.
"""

from __future__ import annotations

from enum import Enum, StrEnum


class BuildStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class Verdict(Enum):
    WAIT = "wait"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


KNOWN = frozenset(s.value for s in BuildStatus)


def judge(status: object) -> Verdict:
    """Keep waiting, succeeded or failed, for a build status as Foundry sent it (any value)."""
    if status == BuildStatus.SUCCEEDED.value:
        return Verdict.SUCCEEDED
    if status in (BuildStatus.FAILED.value, BuildStatus.CANCELED.value):
        return Verdict.FAILED
    return Verdict.WAIT


def is_unknown(status: object) -> bool:
    """Whether Foundry sent a status this provider does not know (it is waited on, and logged once)."""
    return status not in KNOWN
