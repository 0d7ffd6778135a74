"""Promoting a model version without ever making two copies.

``promoteVersion`` is not idempotent: each call makes a new version under a new RID. After a failure that may
have reached Foundry (see :func:`~.writes.may_have_written`), the target branch is listed again for a
settling window: a new version promoted from the same source is adopted; none means promoting again is safe;
several (someone else promoted the same version meanwhile) is an error naming them. Versions carry their
origin (``source.previousModelVersionRid``), so unlike runs they can be told apart exactly. This module does
not decide whether to promote (see :mod:`airflow_provider_modelstudio.deploys.promotion`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from airflow_provider_modelstudio.foundry.errors import FoundryError, PromotionOutcomeUnknown
from airflow_provider_modelstudio.foundry.writes import may_have_written

log = logging.getLogger(__name__)

SETTLE_SECONDS = 10.0
"""How long a lost promotion is looked for before promoting again."""


def promoted_from(version: Any, source_version_rid: str) -> bool:
    """Whether ``version`` is a copy promoted from ``source_version_rid``."""
    source = version.get("source") if isinstance(version, dict) else None
    return (
        isinstance(source, dict)
        and source.get("type") == "promoted"
        and source.get("previousModelVersionRid") == source_version_rid
    )


def promote_once(
    promote: Callable[[], dict[str, Any]],
    list_branch: Callable[[], list[dict[str, Any]]],
    source_version_rid: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    settle: float = SETTLE_SECONDS,
) -> dict[str, Any]:
    """Promote once and return the new ``ModelVersion``; never two copies from one call.

    :param promote: sends ``promoteVersion`` (one attempt and its safe retries)
    :param list_branch: lists the target branch's versions
    :param source_version_rid: the version promoted, to recognise its copy
    :param sleep: how to wait while looking for a lost promotion
    :param settle: seconds to look for it
    """
    known = {str(v.get("rid")) for v in list_branch()}
    failure: FoundryError | None = None
    for _attempt in range(2):
        try:
            return promote()
        except FoundryError as exc:
            if not may_have_written(exc):
                raise
            failure = exc
        copies = _new_copies(list_branch, known, source_version_rid, sleep, settle)
        if len(copies) == 1:
            log.warning(
                "The promotion's answer was lost (%s), but Foundry made version %s: adopting it.",
                failure,
                copies[0].get("rid"),
            )
            return copies[0]
        if copies:
            raise PromotionOutcomeUnknown(
                f"The promotion of {source_version_rid} got no answer ({failure}) and {len(copies)} copies of it "
                f"appeared meanwhile ({', '.join(str(c.get('rid')) for c in copies)}); someone else promoted it "
                "too. Nothing was promoted again: check the model's versions in Foundry."
            ) from failure
        log.warning("The promotion failed (%s) and made no copy; promoting again.", failure)
    raise PromotionOutcomeUnknown(
        f"The promotion of {source_version_rid} failed twice ({failure}) and no copy of it appeared. Nothing else "
        "was promoted; retry the task once Foundry answers again."
    ) from failure


def _new_copies(
    list_branch: Callable[[], list[dict[str, Any]]],
    known: set[str],
    source_version_rid: str,
    sleep: Callable[[float], None],
    settle: float,
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + settle
    while True:
        try:
            versions = list_branch()
        except FoundryError as exc:
            raise PromotionOutcomeUnknown(
                f"The promotion of {source_version_rid} got no answer, and the branch's versions could not be listed "
                f"to find out whether it happened ({exc}). Nothing was promoted again: check the model in Foundry."
            ) from exc
        copies = [v for v in versions if str(v.get("rid")) not in known and promoted_from(v, source_version_rid)]
        remaining = deadline - time.monotonic()
        if copies or remaining <= 0:
            return copies
        sleep(min(1.0, remaining))
