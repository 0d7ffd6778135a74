"""Identifiers: RID checks (with the contract's pattern), fresh RIDs, stable derived ids and run ids.

Fresh RIDs use ``uuid4`` (unique across emulators in one process); derived ids (model RIDs, folder RIDs,
user ids, the models behind studio outputs) use ``uuid5`` so they are the same on every start. This module does no I/O.
"""

from __future__ import annotations

import hashlib
import uuid

from airflow_provider_modelstudio.foundry.rids import RID_PATTERN

_NAMESPACE = uuid.UUID("6f1c2a4e-5b7d-4c1e-9a3f-0d8e2b6c4a10")


def is_rid(value: str) -> bool:
    """Tell whether ``value`` is a well-formed Foundry RID.

    :param value: the candidate.
    """
    return RID_PATTERN.match(value) is not None


def new_rid(service: str, kind: str) -> str:
    """Make a fresh RID such as ``ri.foundry-build.main.build.<uuid4>``.

    :param service: the RID's service part.
    :param kind: the RID's type part.
    """
    return f"ri.{service}.main.{kind}.{uuid.uuid4()}"


def derived_uuid(*parts: str) -> str:
    """A UUID that depends only on ``parts`` (stable across restarts).

    :param parts: the names it is derived from.
    """
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def derived_rid(service: str, kind: str, *parts: str) -> str:
    """A RID whose locator depends only on ``parts``.

    :param service: the RID's service part.
    :param kind: the RID's type part.
    :param parts: the names the locator is derived from.
    """
    return f"ri.{service}.main.{kind}.{derived_uuid(kind, *parts)}"


def studio_output_model_rid(studio_rid: str, alias: str) -> str:
    """The fixed model RID behind one output alias of a studio (where its runs write model versions).

    :param studio_rid: the studio.
    :param alias: the output alias.
    """
    return derived_rid("models", "model", studio_rid, alias)


def run_id(studio_rid: str, config_version: int, build_rid: str) -> str:
    """A run id (12 hex characters) derived from the studio, config version and build, like Foundry's.

    :param studio_rid: the studio's RID.
    :param config_version: the config version the run uses.
    :param build_rid: the run's build RID.
    """
    return hashlib.sha256(f"{studio_rid}:{config_version}:{build_rid}".encode()).hexdigest()[:12]
