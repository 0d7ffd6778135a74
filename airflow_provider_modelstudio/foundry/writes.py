"""The one rule for writes Foundry cannot deduplicate (launch, promoteVersion, and every create to come).

Such a request is never repeated before it is reconciled. The transports repeat it only when it never left
(see :func:`~.retry.is_retryable`); every other failure that :func:`may_have_written` cannot rule out goes
to the caller's reconciliation (list what exists, adopt what the failed request made) before anything is
sent again. This module does not list or adopt anything itself (see :mod:`.launch`, :mod:`.promote`).
"""

from __future__ import annotations

from airflow_provider_modelstudio.foundry.errors import (
    FoundryAnswerError,
    FoundryAnswerTooLarge,
    FoundryApiError,
    FoundryError,
    FoundryTransportError,
)

REFUSAL_EXCEPTIONS = frozenset({408, 429})
"""4xx statuses that do not prove a refusal: a timeout, and a rate limit that may come after the work."""


def may_have_written(exc: FoundryError) -> bool:
    """Whether a failed non-idempotent request may nevertheless have been carried out.

    Only a proof counts as "no": the request never left; a redirect (nothing was forwarded); a refusal of
    the request as it stands (any 4xx but 408 and 429, from Foundry or a proxy in front of it); anything
    raised before sending. Everything else may have written: a lost, unreadable or too large answer, an
    answer whose content cannot be used, a 408, and every 429 and 5xx, Foundry's own error envelope
    included (a gateway or a service may answer 503 after the write was committed).
    """
    if isinstance(exc, FoundryTransportError):
        return exc.may_have_reached_server
    if isinstance(exc, FoundryAnswerTooLarge | FoundryAnswerError):
        return True
    if isinstance(exc, FoundryApiError):
        return exc.status_code >= 500 or exc.status_code in REFUSAL_EXCEPTIONS
    return False
