"""Assets that fire on new commits to Foundry datasets: what a DAG is scheduled on to retrain on new data.

:func:`watched_dataset` is the asset of one dataset branch with a :class:`FoundryDatasetTrigger` watching it;
:func:`training_data` is the watched assets of a studio's training datasets, read from its latest
configuration. Schedule a DAG on them (``schedule=training_data(studio)``, or ``schedule=asset_a | asset_b``)
and it runs once per new commit to any of them.

:func:`training_data` reads Foundry when the DAG file is parsed, which Airflow does every few seconds: the
answer is kept in a file for :data:`REREAD_SECONDS`, and when Foundry cannot be read the last answer is used (an
import error only when there never was one), so an outage neither floods Foundry nor unschedules the DAG.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError, FoundryTransportError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.rids import MODEL_STUDIO, validate_rid
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Asset

log = logging.getLogger(__name__)

REREAD_SECONDS = 600.0
"""How long a studio's training datasets, read when a DAG file is parsed, are used before Foundry is asked again."""
CACHE_DIRECTORY = Path(tempfile.gettempdir()) / "airflow-provider-modelstudio"
PARSE_TIMEOUT = 4.0
"""Read timeout (seconds) of the reads made while a DAG file is parsed, whatever the connection says: with
:data:`PARSE_RETRY`, a Foundry that hangs or fails costs a parse at most about 25 s, inside Airflow's default
``dagbag_import_timeout`` of 30 s, so the last answer is used instead of the file failing to import."""
PARSE_RETRY = RetryPolicy(max_attempts=2, backoff_initial=0.5, backoff_max=1.0, max_elapsed=5.0)
"""Retries of the reads made while a DAG file is parsed: one more attempt, never after 5 s (a long
``Retry-After`` is not waited for)."""
PARSE_ADVICE = (
    "This read was made while the DAG file was parsed, which waits on Foundry at most {timeout:g} s and tries "
    "twice whatever the connection's timeout, so that the file imports within Airflow's dagbag_import_timeout: "
    "check that Foundry is reachable from the dag-processor; the DAG is scheduled at the first parse after it "
    "answers."
)
"""The fix a failed parse-time read names, instead of the connection's timeout, which does not bound it."""


def watched_dataset(
    dataset_rid: str,
    *,
    branch: str = "master",
    foundry_conn_id: str = DEFAULT_CONN_ID,
    poll_interval: float = 60.0,
    host: str | None = None,
) -> Asset:
    """The asset of a dataset branch, watched: a DAG scheduled on it runs once per new commit to the branch.

    The asset's URI is ``foundry://<host>/datasets/<datasetRid>/branches/<branch>``; each event's extra holds
    the trigger's payload (dataset, branch, transaction RID, type, closing time; see :class:`FoundryDatasetTrigger`).

    :param dataset_rid: the dataset, ``ri.foundry.<instance>.dataset.<locator>``
    :param branch: its branch
    :param foundry_conn_id: a connection of type ``foundry`` whose token has the ``api:datasets-read`` scope
    :param poll_interval: seconds between checks of the branch
    :param host: the Foundry's host, to skip reading the connection when the DAG is parsed
    :raises FoundryConfigError: for a value that is not a dataset RID, an empty branch, a bad interval, or a
        connection that cannot be read
    """
    from airflow.sdk import Asset, AssetWatcher

    from airflow_provider_modelstudio.assets import DATASET_ASSET_GROUP, connection_host, dataset_asset_uri
    from airflow_provider_modelstudio.triggers.dataset_watcher import FoundryDatasetTrigger

    trigger = FoundryDatasetTrigger(
        dataset_rid=dataset_rid, branch=branch, foundry_conn_id=foundry_conn_id, poll_interval=poll_interval
    )
    uri = dataset_asset_uri(host if host is not None else connection_host(foundry_conn_id), dataset_rid, branch)
    watcher = AssetWatcher(name=f"foundry_dataset_{_digest(uri)}", trigger=trigger)
    return Asset(name=uri, uri=uri, group=DATASET_ASSET_GROUP, watchers=[watcher])


def training_data(
    model_studio_rid: str,
    *,
    branch: str = "master",
    foundry_conn_id: str = DEFAULT_CONN_ID,
    poll_interval: float = 60.0,
) -> list[Asset]:
    """The watched assets of the dataset inputs of a studio's latest configuration (the datasets its launches
    train on, and OpenLineage reports as their inputs), each on ``branch``.

    :param model_studio_rid: the studio, ``ri.models.<instance>.model-studio.<locator>``
    :param branch: the branch of each dataset to watch
    :param foundry_conn_id: a connection of type ``foundry`` (``api:models-read`` to read the configuration,
        ``api:datasets-read`` for the watchers)
    :param poll_interval: seconds between checks of each branch
    :raises FoundryConfigError: for a studio without a configuration or dataset inputs, a bad argument, or a
        Foundry that cannot be read and was never read before
    """
    validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
    host, datasets = _studio_datasets(model_studio_rid, foundry_conn_id)
    return [
        watched_dataset(rid, branch=branch, foundry_conn_id=foundry_conn_id, poll_interval=poll_interval, host=host)
        for rid in datasets
    ]


def _studio_datasets(model_studio_rid: str, conn_id: str) -> tuple[str, list[str]]:
    """The connection's host and the studio's dataset inputs: from the file when fresh, else from Foundry, else
    from the file however old."""
    from airflow_provider_modelstudio.assets import connection_host

    cache = (
        CACHE_DIRECTORY / f"training-data-{_digest(f'{connection_host(conn_id)} {conn_id} {model_studio_rid}')}.json"
    )
    kept = _read_cache(cache)
    if kept is not None and time.time() - kept["read_at"] < REREAD_SECONDS:
        return kept["host"], kept["datasets"]
    try:
        host, datasets = _read_foundry(model_studio_rid, conn_id)
    except FoundryError as exc:
        failure = (
            exc.advising(PARSE_ADVICE.format(timeout=PARSE_TIMEOUT)) if isinstance(exc, FoundryTransportError) else exc
        )
        if kept is None or isinstance(exc, FoundryConfigError):
            raise failure from None
        log.warning(
            "Could not read the configuration of %s (%s); watching the datasets read %.0f s ago.",
            model_studio_rid,
            failure,
            time.time() - kept["read_at"],
        )
        return kept["host"], kept["datasets"]
    _write_cache(cache, {"host": host, "datasets": datasets, "read_at": time.time()})
    return host, datasets


def _read_foundry(model_studio_rid: str, conn_id: str) -> tuple[str, list[str]]:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    hook = ModelStudioHook(conn_id, retry=PARSE_RETRY)
    hook.__dict__["settings"] = dataclasses.replace(hook.settings, timeout=min(hook.settings.timeout, PARSE_TIMEOUT))
    latest = hook.get_latest_config_version(model_studio_rid)
    if latest is None or not latest.datasets:
        what = "has no configuration yet" if latest is None else f"configuration v{latest.version} has no dataset input"
        raise FoundryConfigError(
            f"Model studio {model_studio_rid} {what}, so it has no training data to watch; configure its inputs "
            "in Foundry, or watch datasets by RID with watched_dataset()."
        )
    return hook.settings.base_url, list(latest.datasets)


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    valid = (
        isinstance(kept, dict)
        and isinstance(kept.get("host"), str)
        and isinstance(kept.get("read_at"), int | float)
        and isinstance(kept.get("datasets"), list)
        and all(isinstance(rid, str) for rid in kept["datasets"])
    )
    return kept if valid else None


def _write_cache(path: Path, value: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(value))
        scratch.replace(path)
    except OSError as exc:
        log.warning("Could not keep the training datasets in %s (%s); Foundry is read at every parse.", path, exc)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
