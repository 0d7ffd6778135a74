"""Resource identifier (RID) validation, done before any request is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError

RID_PATTERN = re.compile(r"^ri\.[a-z][a-z0-9-]*\.([a-z0-9][a-z0-9\-]*)?\.[a-z][a-z0-9-]*\.[a-zA-Z0-9._-]+$")


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
LIVE_DEPLOYMENT = RidKind(
    "live deployment",
    ("foundry-ml-live", "models"),
    "live-deployment",
    "copy it from the live deployment's page in Foundry (ri.foundry-ml-live.main.live-deployment.<uuid>)",
)


def validate_rid(value: object, kind: RidKind, *, field: str) -> str:
    """Return ``value`` when it is a well-formed RID of ``kind``, else raise :class:`FoundryConfigError`.

    :param value: the value to check (anything: a user typed it)
    :param kind: the kind of RID expected
    :param field: the argument or field name, for the message
    """
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and RID_PATTERN.match(text):
        service, _, type_name = text.split(".")[1:4]
        if service in kind.services and type_name == kind.type_name:
            return text
    raise FoundryConfigError(
        f"{field}={value!r} is not a {kind.label} RID. Expected the form {kind.expected_form} "
        f"(for example ri.{kind.services[0]}.main.{kind.type_name}.1a2b3c4d-...); {kind.where_to_find}."
    )
