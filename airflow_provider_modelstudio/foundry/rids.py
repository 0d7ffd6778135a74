"""Resource identifier (RID) validation: of RIDs from users before any request is sent, and of RIDs read from
Foundry's answers (one rule for both) before they are used or announced."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from airflow_provider_modelstudio.foundry.answers import quoted
from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError, FoundryConfigError

RID_PATTERN = re.compile(r"^ri\.[a-z][a-z0-9-]*\.([a-z0-9][a-z0-9\-]*)?\.[a-z][a-z0-9-]*\.[a-zA-Z0-9._-]+$")

MAX_RID_LENGTH = 256
"""The longest RID accepted. Foundry's RIDs (a UUID as locator) are under 100 characters."""


@dataclass(frozen=True)
class RidKind:
    """What one kind of RID looks like: accepted services, its type segment and a readable form."""

    label: str
    services: tuple[str, ...]
    type_name: str
    where_to_find: str

    @property
    def expected_form(self) -> str:
        return f"ri.{self.services[0]}.<instance>.{self.type_name}.<locator>"


MODEL_STUDIO = RidKind("Model Studio", ("models",), "model-studio", "copy it from the studio's URL in Foundry")
MODEL = RidKind("model", ("models",), "model", "it is the modelRid of a run's resolved output")
MODEL_VERSION = RidKind(
    "model version", ("models",), "model-version", "it is the modelVersionRid of a run's resolved output"
)
BUILD = RidKind("build", ("foundry-build", "foundry"), "build", "it is the buildRid the launch returned")
EXPERIMENT = RidKind("experiment", ("models",), "experiment", "it is the linkedExperiment of a model version")
DATASET = RidKind(
    "dataset", ("foundry",), "dataset", "copy it from the dataset's URL in Foundry (ri.foundry.main.dataset.<uuid>)"
)
TRANSACTION = RidKind(
    "transaction", ("foundry",), "transaction", "it is the transactionRid of a dataset branch or of a commit"
)
LIVE_DEPLOYMENT = RidKind(
    "live deployment",
    ("foundry-ml-live", "models"),
    "live-deployment",
    "copy it from the live deployment's page in Foundry (ri.foundry-ml-live.main.live-deployment.<uuid>)",
)


def is_rid(value: object, kind: RidKind) -> bool:
    """Whether ``value`` is, exactly (no surrounding whitespace), a well-formed RID of ``kind``."""
    if not isinstance(value, str) or len(value) > MAX_RID_LENGTH or not RID_PATTERN.fullmatch(value):
        return False
    service, _, type_name = value.split(".")[1:4]
    return service in kind.services and type_name == kind.type_name


def validate_rid(value: object, kind: RidKind, *, field: str) -> str:
    """Return ``value`` when it is a well-formed RID of ``kind``, else raise :class:`FoundryConfigError`.

    :param value: the value to check (anything: a user typed it)
    :param kind: the kind of RID expected
    :param field: the argument or field name, for the message
    """
    text = value.strip() if isinstance(value, str) else value
    if is_rid(text, kind):
        return str(text)
    shown = repr(value)
    raise FoundryConfigError(
        f"{field}={shown if len(shown) <= 100 else shown[:100] + '...'} is not a {kind.label} RID. Expected the form "
        f"{kind.expected_form} (for example ri.{kind.services[0]}.main.{kind.type_name}.1a2b3c4d-...); "
        f"{kind.where_to_find}."
    )


def answered_rid(value: object, kind: RidKind, *, field: str, what: str, secrets: Iterable[str] = ()) -> str:
    """Return ``value``, read from Foundry's answer to ``what``, when it is a well-formed RID of ``kind``; else
    raise :class:`FoundryAnswerError` quoting it short and redacted.

    :param value: the value read
    :param kind: the kind of RID expected
    :param field: the answer's field, for the message
    :param what: the request answered, for the message (e.g. ``"promoteVersion of ri...."``)
    :param secrets: never quoted back
    """
    if is_rid(value, kind):
        return str(value)
    shown = "nothing" if value is None else quoted(value, secrets, limit=100)
    raise FoundryAnswerError(
        f"Foundry's answer to {what} holds {shown} as {field}, which is not a {kind.label} RID "
        f"({kind.expected_form}), so it is neither used nor announced. A proxy or a server that is not Foundry may "
        "have answered: check the connection's host, and the result in Foundry."
    )
