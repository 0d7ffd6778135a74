"""How a wait can end badly, which of those endings Airflow may retry, and what the failed task says.

A task that fails for a reason this provider understands says so once: one exception, no chained cause and
no frames from this provider's internals, with the fix first. What this module does not do: it does not
cancel anything; :mod:`.ownership` decides what happens to a build when a task gives up on it.
"""

from __future__ import annotations

from airflow_provider_modelstudio.foundry.errors import (
    FoundryApiError,
    FoundryError,
    FoundryRateLimited,
    FoundryServerError,
    FoundryTransportError,
)


class RunFailedError(FoundryError):
    """The run's build ended FAILED or CANCELED, or succeeded without the model output asked for."""


class RunTimedOutError(FoundryError):
    """The run did not finish within the wait's ``timeout``."""


class PollingFailedError(FoundryError):
    """Checking the build kept failing for a transient reason; the run itself may be fine."""


def is_transient(exc: BaseException) -> bool:
    """Failures a wait rides out: lost connections, timeouts, rate limits and server errors."""
    return isinstance(exc, FoundryTransportError | FoundryRateLimited | FoundryServerError | PollingFailedError)


def failure_message(exc: FoundryError) -> str:
    """What a failed task says about ``exc``: for Foundry's answers the fix first, then what happened (the
    error's name, the request, the status and ``errorInstanceId``); other errors' messages as they are.

    :param exc: what went wrong
    """
    if isinstance(exc, FoundryApiError) and exc.hint:
        return f"{exc.hint} ({exc.summary})"
    if isinstance(exc, FoundryApiError):
        return exc.summary
    return str(exc)


def as_task_failure(exc: FoundryError, *, retry_allowed: bool) -> BaseException:
    """The exception a task raises for ``exc``; raise it ``from None``.

    Transient failures stay retryable (the caller makes sure a retry cannot launch a second run). Everything
    else (a run Foundry failed, a timeout, bad input, a permission or a missing studio) fails the task without
    Airflow retries, unless ``retry_allowed`` for run failures and timeouts. Either way the exception carries
    no traceback yet, so the task log shows the message without this provider's internal frames.

    :param exc: what went wrong
    :param retry_allowed: the user opted in to retrying failed runs and timeouts
    """
    from airflow_provider_modelstudio._compat import AirflowFailException

    if is_transient(exc) or (retry_allowed and isinstance(exc, RunFailedError | RunTimedOutError)):
        return exc.with_traceback(None)
    return AirflowFailException(failure_message(exc))
