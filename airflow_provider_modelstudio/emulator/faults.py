"""Fault injection: which fault (if any) hits a request, and what the faulty answers look like.

One uniform draw per request from the scenario-seeded ``random.Random`` picks at most one fault kind,
so each kind happens at its configured rate and a run with the same seed and request order repeats
exactly. ``latency`` is not drawn: it applies to every request of the endpoint. This module decides and
describes; the app carries faults out (sleeping, dropping connections, cutting bodies).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field

from airflow_provider_modelstudio.emulator.errors import ErrorAnswer
from airflow_provider_modelstudio.emulator.scenario import CREATING_ENDPOINTS, FaultSettings

DROP = "drop"
HANG = "hang"
LATENCY = "latency"
HTML = "html"
TRUNCATED_JSON = "truncated_json"
DROP_AFTER_CREATE = "drop_after_create"
ANSWERING_KINDS = frozenset({"429", "503", "500", "502", "504", HTML})
"""Fault kinds answered instead of processing the request."""

_HTML_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one request.

    :param kind: the fault kind drawn, or None.
    :param latency_seconds: real seconds to wait before anything else.
    :param settings: the settings the plan came from.
    """

    kind: str | None = None
    latency_seconds: float = 0.0
    settings: FaultSettings = field(default_factory=FaultSettings)


NO_FAULT = FaultPlan()


@dataclass(frozen=True)
class FaultAnswer:
    """A faulty HTTP answer.

    :param status: HTTP status.
    :param headers: extra headers.
    :param body: the body.
    :param media_type: its content type, if it has one.
    """

    status: int
    headers: dict[str, str]
    body: bytes = b""
    media_type: str | None = None


def draw(settings: FaultSettings, endpoint: str, rng: random.Random) -> FaultPlan:
    """Draw the fault for one request.

    :param settings: the endpoint's fault settings.
    :param endpoint: the endpoint name (``drop_after_create`` applies to creating endpoints only).
    :param rng: the seeded generator.
    """
    rates = [(kind, rate) for kind, rate in settings.rates() if rate > 0]
    if endpoint not in CREATING_ENDPOINTS:
        rates = [(kind, rate) for kind, rate in rates if kind != DROP_AFTER_CREATE]
    kind = None
    if rates:
        roll = rng.random()
        for candidate, rate in rates:
            if roll < rate:
                kind = candidate
                break
            roll -= rate
    return FaultPlan(kind, settings.latency_seconds, settings)


def answer(kind: str, settings: FaultSettings) -> FaultAnswer:
    """The answer for a fault kind in :data:`ANSWERING_KINDS`.

    429 and 503 are QoS answers with an empty body (``Retry-After`` and ``QoS-Retry-Hint`` as configured);
    500 carries an INTERNAL envelope; 502 and 504 are empty; ``html`` is a proxy's 502 page.

    :param kind: the fault kind.
    :param settings: the settings it was drawn from.
    """
    if kind in ("429", "503"):
        headers = {}
        if settings.retry_after_seconds is not None:
            headers["Retry-After"] = str(math.ceil(settings.retry_after_seconds))
        if settings.do_not_retry_hint:
            headers["QoS-Retry-Hint"] = "do-not-retry"
        return FaultAnswer(int(kind), headers)
    if kind == "500":
        envelope = ErrorAnswer("Default:Internal").envelope()
        return FaultAnswer(500, {}, json.dumps(envelope).encode(), "application/json")
    if kind == HTML:
        return FaultAnswer(502, {}, _HTML_PAGE, "text/html")
    return FaultAnswer(int(kind), {})


def truncate(body: bytes) -> bytes:
    """The first half of a body.

    :param body: the full body.
    """
    return body[: len(body) // 2]
