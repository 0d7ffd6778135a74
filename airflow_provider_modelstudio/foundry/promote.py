"""Promoting a model version without ever making two copies.

``promoteVersion`` is not idempotent: each call makes a new version under a new RID. After a failure that may
have reached Foundry (see :func:`~.writes.may_have_written`), the target branch is listed again for a
settling window: a new version promoted from the same source is adopted; none means promoting again is safe;
several (someone else promoted the same version meanwhile) is an error naming them. Versions carry their
origin (``source.previousModelVersionRid``), so unlike runs they can be told apart exactly. After promoting
again, the branch is watched a while longer for a copy the failed request made late: versions cannot be
deleted through the API, so such a surplus copy is named in a warning, and the copy returned is the branch's
latest copy of the source (the one a deployment of the branch serves). A copy's ``rid`` is checked as
strictly as a user's RID; an answer without one is reconciled like a lost answer. This module does not
decide whether to promote (see :mod:`airflow_provider_modelstudio.deploys.promotion`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from airflow_provider_modelstudio.foundry.answers import quoted
from airflow_provider_modelstudio.foundry.errors import FoundryError, PromotionOutcomeUnknown
from airflow_provider_modelstudio.foundry.rids import MODEL_VERSION, answered_rid
from airflow_provider_modelstudio.foundry.shapes import ModelVersion, epoch_seconds
from airflow_provider_modelstudio.foundry.writes import may_have_written

log = logging.getLogger(__name__)

SETTLE_SECONDS = 10.0
"""How long a lost promotion is looked for before promoting again."""


def promote_once(
    promote: Callable[[], ModelVersion],
    list_branch: Callable[[], Sequence[ModelVersion]],
    source_version_rid: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    settle: float = SETTLE_SECONDS,
    secrets: Iterable[str] = (),
) -> ModelVersion:
    """Promote once and return the new ``ModelVersion``; never two copies from one call without naming both.

    :param promote: sends ``promoteVersion`` (one attempt and its safe retries)
    :param list_branch: lists the target branch's versions, newest first
    :param source_version_rid: the version promoted, to recognise its copy
    :param sleep: how to wait while looking for a lost promotion
    :param settle: seconds to look for it; after promoting again, seconds to watch for a late copy
    :param secrets: never quoted back from an answer
    :raises FoundryAnswerError: when the copy found names no model version RID
    """
    what = f"promoteVersion of {source_version_rid}"
    known = {str(v.rid) for v in list_branch()}
    failure: FoundryError | None = None
    for attempt in range(2):
        try:
            copy = _checked(promote(), what, secrets)
        except FoundryError as exc:
            if not may_have_written(exc):
                raise
            failure = exc
        else:
            if failure is None:
                return copy
            return _Branch(list_branch, known, source_version_rid, sleep, secrets).latest_copy(copy, failure, settle)
        copies = _new_copies(list_branch, known, source_version_rid, sleep, settle)
        if len(copies) == 1:
            copy = _checked(copies[0], what, secrets)
            log.warning(
                "The promotion's answer was lost (%s), but Foundry made version %s: adopting it.", failure, copy.rid
            )
            if attempt == 0:
                return copy
            return _Branch(list_branch, known, source_version_rid, sleep, secrets).latest_copy(copy, failure, settle)
        if copies:
            raise PromotionOutcomeUnknown(
                f"The promotion of {source_version_rid} got no answer ({failure}) and {len(copies)} copies of it "
                f"appeared meanwhile ({', '.join(quoted(str(c.rid), secrets, limit=100) for c in copies)}); "
                "someone else promoted it too. Nothing was promoted again: check the model's versions in Foundry."
            ) from failure
        log.warning("The promotion failed (%s) and made no copy; promoting again.", failure)
    raise PromotionOutcomeUnknown(
        f"The promotion of {source_version_rid} failed twice ({failure}) and no copy of it appeared. Nothing else "
        "was promoted; retry the task once Foundry answers again."
    ) from failure


def _checked(copy: ModelVersion, what: str, secrets: Iterable[str]) -> ModelVersion:
    answered_rid(copy.rid, MODEL_VERSION, field="rid", what=what, secrets=secrets)
    return copy


def _new_copies(
    list_branch: Callable[[], Sequence[ModelVersion]],
    known: set[str],
    source_version_rid: str,
    sleep: Callable[[float], None],
    settle: float,
) -> list[ModelVersion]:
    deadline = time.monotonic() + settle
    while True:
        try:
            versions = list_branch()
        except FoundryError as exc:
            raise PromotionOutcomeUnknown(
                f"The promotion of {source_version_rid} got no answer, and the branch's versions could not be listed "
                f"to find out whether it happened ({exc}). Nothing was promoted again: check the model in Foundry."
            ) from exc
        copies = [v for v in versions if str(v.rid) not in known and v.promoted_from(source_version_rid)]
        remaining = deadline - time.monotonic()
        if copies or remaining <= 0:
            return copies
        sleep(min(1.0, remaining))


class _Branch:
    """The target branch after promoting again, watched for the copy the failed promotion may make late.

    :param list_branch: lists the branch's versions, newest first
    :param known: the RIDs the branch held before the first promotion
    :param source_version_rid: the version promoted
    :param sleep: how to wait between listings
    :param secrets: never quoted back
    """

    def __init__(
        self,
        list_branch: Callable[[], Sequence[ModelVersion]],
        known: set[str],
        source_version_rid: str,
        sleep: Callable[[float], None],
        secrets: Iterable[str],
    ) -> None:
        self.list_branch = list_branch
        self.known = known
        self.source = source_version_rid
        self.sleep = sleep
        self.secrets = secrets

    def latest_copy(self, ours: ModelVersion, failure: FoundryError, watch: float) -> ModelVersion:
        """``ours``, or a late copy when the branch lists it as newer; a late copy is named in a warning.

        The branch is listed for ``watch`` seconds counted from when it first shows ``ours`` (a listing that does
        not show it yet is behind), at most twice that in all, or until a late copy appears. A listing that fails
        is logged, not raised: ``ours`` is a good copy.
        """
        ours_rid = ours.rid
        started = time.monotonic()
        seen_ours_at: float | None = None
        while True:
            try:
                versions = self.list_branch()
            except FoundryError as exc:
                log.warning(
                    "Promoted %s as version %s after a promotion that may have made a copy, but the branch's versions "
                    "could not be listed to look for that copy (%s). Check the model's versions in Foundry: a second "
                    "copy of %s there was made by the failed promotion.",
                    self.source,
                    ours_rid,
                    exc,
                    self.source,
                )
                return ours
            now = time.monotonic()
            copies = [v for v in versions if v.promoted_from(self.source) and str(v.rid) not in self.known]
            if seen_ours_at is None and any(v.rid == ours_rid for v in copies):
                seen_ours_at = now
            late = [v for v in copies if v.rid != ours_rid]
            if late and seen_ours_at is not None:
                return self.named(copies, failure)
            if (seen_ours_at is not None and now - seen_ours_at >= watch) or now - started >= 2 * watch:
                return self.named([ours, *late], failure) if late else ours
            self.sleep(min(1.0, 2 * watch - (now - started)))

    def named(self, copies: list[ModelVersion], failure: FoundryError) -> ModelVersion:
        """The newest of ``copies`` by ``createdTime`` (the branch's latest copy of the source; Foundry does not
        document the listing's order, so on equal or unreadable times the first listed), with a warning naming
        the others."""
        newest = max(copies, key=_created)
        latest = _checked(newest, f"the branch listing after promoteVersion of {self.source}", self.secrets)
        surplus = ", ".join(quoted(str(v.rid), self.secrets, limit=100) for v in copies if v is not newest)
        log.warning(
            "The promotion of %s whose answer failed (%s) made a copy after all, found after this task promoted "
            "again: the branch holds %d copies of it. Versions cannot be deleted through Foundry's API. This task "
            "continues with %s, the branch's latest (the one a deployment of the branch serves); surplus: %s. "
            "Archive or ignore it in Foundry.",
            self.source,
            failure,
            len(copies),
            latest.rid,
            surplus,
        )
        return latest


def _created(version: ModelVersion) -> float:
    """A version's ``createdTime`` as UNIX time; unreadable or absent sorts first."""
    seconds = epoch_seconds(version.created_time)
    return float("-inf") if seconds is None else seconds
