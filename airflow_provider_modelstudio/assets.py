"""The ``foundry`` asset URI scheme: one Airflow asset per Foundry model (optionally per branch of it), and one
per branch of a Foundry dataset.

``foundry://<host>/models/<modelRid>`` names a model of the Foundry at ``<host>`` (``host[:port]``, lower
case, without the default port); ``foundry://<host>/models/<modelRid>/branches/<branch>`` names one branch of
it (the branch percent-encoded); ``foundry://<host>/datasets/<datasetRid>/branches/<branch>`` names a branch of a
dataset (what a dataset watcher watches, :mod:`.datasets.watchers`). Airflow learns the scheme from the provider
info (``asset-uris``): :func:`sanitize_uri` checks and normalises every ``foundry://`` URI an ``Asset`` is made with,
:func:`create_asset` is the factory hook lineage uses, and :func:`convert_asset_to_openlineage` turns such an
asset into an OpenLineage dataset (namespace ``foundry://<host>``, name the model RID).

Users build these assets with :func:`model_asset` (from a connection and a model RID), never by hand. This
module only names models: which task emits events for them, and with what, is in :mod:`.lineage`. Importing
it costs next to nothing (no OpenLineage, no HTTP client): Airflow imports it whenever a DAG makes any asset
with a URI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import SplitResult, quote, unquote, urlsplit

from airflow.sdk import Asset

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.rids import DATASET, MODEL, validate_rid
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID, is_loopback_host, normalise_host

if TYPE_CHECKING:
    from openlineage.client.event_v2 import Dataset as OpenLineageDataset

SCHEME = "foundry"
ASSET_GROUP = "model"
"""The group of every model asset (Airflow's UI groups assets by it)."""
_DEFAULT_PORTS = {"https": 443, "http": 80}
_FORM = f"{SCHEME}://<host>/models/<modelRid>[/branches/<branch>]"
_DATASET_FORM = f"{SCHEME}://<host>/datasets/<datasetRid>/branches/<branch>"
DATASET_ASSET_GROUP = "dataset"


class ModelAssetRef(NamedTuple):
    """What a ``foundry://`` URI names.

    :param authority: ``host[:port]`` of the Foundry, lower case, without the default port
    :param model_rid: the model
    :param branch: the branch, or None for the model as a whole (any branch)
    """

    authority: str
    model_rid: str
    branch: str | None = None

    @property
    def uri(self) -> str:
        """The canonical URI."""
        path = f"/models/{self.model_rid}"
        if self.branch is not None:
            path += f"/branches/{quote(self.branch, safe='')}"
        return f"{SCHEME}://{self.authority}{path}"

    @property
    def namespace(self) -> str:
        """The OpenLineage namespace of everything in this Foundry: ``foundry://<host>``."""
        return f"{SCHEME}://{self.authority}"


class DatasetAssetRef(NamedTuple):
    """What a ``foundry://<host>/datasets/...`` URI names.

    :param authority: ``host[:port]`` of the Foundry, as in :class:`ModelAssetRef`
    :param dataset_rid: the dataset
    :param branch: its branch
    """

    authority: str
    dataset_rid: str
    branch: str

    @property
    def uri(self) -> str:
        """The canonical URI."""
        return f"{SCHEME}://{self.authority}/datasets/{self.dataset_rid}/branches/{quote(self.branch, safe='')}"

    @property
    def namespace(self) -> str:
        """The OpenLineage namespace: ``foundry://<host>``."""
        return f"{SCHEME}://{self.authority}"


def dataset_asset_uri(host: str, dataset_rid: str, branch: str) -> str:
    """The URI of a dataset branch's asset: ``foundry://<host>/datasets/<datasetRid>/branches/<branch>``.

    :param host: the Foundry's host or base URL (see :func:`authority_of`)
    :param dataset_rid: the dataset, ``ri.foundry.<instance>.dataset.<locator>``
    :param branch: its branch
    :raises FoundryConfigError: for a value that is not a dataset RID, an empty branch or a host-less ``host``
    """
    checked = _branch(branch)
    if checked is None:
        raise FoundryConfigError("branch=None: a dataset asset names one branch, e.g. 'master'.")
    return DatasetAssetRef(authority_of(host), validate_rid(dataset_rid, DATASET, field="dataset_rid"), checked).uri


def lineage_namespace(host: str) -> str:
    """The OpenLineage namespace of a Foundry's datasets, model versions and deployments: ``foundry://<host>``.

    :param host: the Foundry's host or base URL (see :func:`authority_of`)
    """
    return f"{SCHEME}://{authority_of(host)}"


def authority_of(host: str) -> str:
    """``host[:port]`` of a Foundry as asset URIs and OpenLineage namespaces write it.

    :param host: a base URL (``https://stack.palantirfoundry.com``) or a bare host (``stack.palantirfoundry.com``,
        ``127.0.0.1:8080``), as a connection's host field holds it
    :raises FoundryConfigError: for a value that has no host
    """
    text = host.strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    try:
        hostname, port = parts.hostname, parts.port
    except ValueError as exc:
        raise FoundryConfigError(f"host={host!r} has an invalid port ({exc}); write host[:port].") from None
    if not hostname:
        raise FoundryConfigError(f"host={host!r} names no host; write it as in the connection, e.g. stack.example.com.")
    scheme = parts.scheme.lower() if "://" in text else _implied_scheme(hostname)
    return _authority(hostname, port, scheme)


def _implied_scheme(hostname: str) -> str:
    """The scheme a host without one is reached by: ``http`` for loopback (the emulator), else ``https``."""
    return "http" if is_loopback_host(hostname) else "https"


def _authority(hostname: str, port: int | None, scheme: str) -> str:
    """``host[:port]``, the host lower-cased and the scheme's default port left out."""
    name = f"[{hostname}]" if ":" in hostname else hostname.lower()
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return name
    return f"{name}:{port}"


def model_asset_uri(host: str, model_rid: str, branch: str | None = None) -> str:
    """The URI of a model's asset: ``foundry://<host>/models/<modelRid>`` (``/branches/<branch>`` with a branch).

    :param host: the Foundry's host or base URL (see :func:`authority_of`)
    :param model_rid: the model, ``ri.models.<instance>.model.<locator>``
    :param branch: a branch of the model; None names the model whatever branch a version lands on
    :raises FoundryConfigError: for a value that is not a model RID, an empty branch or a host-less ``host``
    """
    return ModelAssetRef(authority_of(host), validate_rid(model_rid, MODEL, field="model_rid"), _branch(branch)).uri


def model_asset(
    model_rid: str,
    *,
    foundry_conn_id: str = DEFAULT_CONN_ID,
    branch: str | None = None,
    host: str | None = None,
) -> Asset:
    """The Airflow asset of a Foundry model, for a producer's ``outlets`` and a consumer's ``schedule``.

    Reads the connection's host when the DAG is parsed (one connection lookup, from wherever Airflow keeps
    connections); pass ``host`` to skip that lookup. The producer and its consumers must name the same model
    (and branch) on the same Foundry host to meet. It does not check that the model exists.

    :param model_rid: the model, ``ri.models.<instance>.model.<locator>``
    :param foundry_conn_id: a connection of type ``foundry``: its host is the asset's host
    :param branch: a branch of the model; None: any new version of the model
    :param host: the Foundry's host instead of the connection's (e.g. ``stack.palantirfoundry.com``)
    :raises FoundryConfigError: for a model RID or branch that is not one, or a connection that cannot be read
    """
    uri = model_asset_uri(host if host is not None else connection_host(foundry_conn_id), model_rid, branch)
    return Asset(name=uri, uri=uri, group=ASSET_GROUP)


def read_model_asset_uri(uri: str) -> ModelAssetRef:
    """What a ``foundry://`` URI names; raises :class:`FoundryConfigError` (a ``ValueError``) for another form.

    :param uri: the URI, e.g. an asset's ``uri``
    """
    return _read(urlsplit(uri), uri)


def model_asset_ref(obj: Any) -> ModelAssetRef | None:
    """The model an Airflow ``Asset`` with a ``foundry://`` URI names; None for anything else (other schemes,
    aliases, references by name)."""
    uri = getattr(obj, "uri", None) if isinstance(obj, Asset) else None
    if not isinstance(uri, str) or urlsplit(uri).scheme.lower() != SCHEME:
        return None
    return read_model_asset_uri(uri)


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI handler for ``foundry``: check the form and return the canonical URI's parts.

    Lower-cases the host, drops a default port, and percent-encodes the branch one way. Airflow has already
    lower-cased the scheme, stripped trailing slashes and dropped a fragment.

    :param uri: the URI's parts
    :raises FoundryConfigError: (a ``ValueError``, as Airflow expects) for a URI not of the form
        ``foundry://<host>/models/<modelRid>[/branches/<branch>]`` or
        ``foundry://<host>/datasets/<datasetRid>/branches/<branch>``
    """
    return urlsplit(_read_any(uri, uri.geturl()).uri)


def create_asset(*, host: str, model_rid: str, branch: str | None = None, extra: dict[str, Any] | None = None) -> Asset:
    """Airflow's asset factory for ``foundry`` (used by hook lineage): the asset of a model.

    :param host: the Foundry's host or base URL
    :param model_rid: the model
    :param branch: a branch of the model, or None
    :param extra: the asset's extra
    """
    uri = model_asset_uri(host, model_rid, branch)
    return Asset(name=uri, uri=uri, group=ASSET_GROUP, extra=extra)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> OpenLineageDataset:
    """Airflow's OpenLineage converter for ``foundry``: a model asset as a dataset.

    Namespace ``foundry://<host>``; name the model RID, or ``<modelRid>/branches/<branch>`` for a branch.
    Imports the OpenLineage client, so only the OpenLineage provider calls it.

    A dataset branch's asset is the dataset itself (name the dataset RID), as the launch reports its training
    datasets, so that lineage joins the watched dataset to the training run.

    :param asset: an asset with a ``foundry://`` URI
    :param lineage_context: unused (Airflow passes the hook lineage context)
    """
    from openlineage.client.event_v2 import Dataset

    ref = _read_any(urlsplit(asset.uri), asset.uri)
    if isinstance(ref, DatasetAssetRef):
        return Dataset(namespace=ref.namespace, name=ref.dataset_rid)
    name = ref.model_rid if ref.branch is None else f"{ref.model_rid}/branches/{ref.branch}"
    return Dataset(namespace=ref.namespace, name=name)


def _read_any(parts: SplitResult, uri: str) -> ModelAssetRef | DatasetAssetRef:
    """A model's or a dataset branch's URI, read."""
    segments = parts.path.strip("/").split("/")
    if segments[0] != "datasets":
        return _read(parts, uri)
    _check_scheme_and_parts(parts, uri, _DATASET_FORM)
    if len(segments) != 4 or segments[2] != "branches":
        raise FoundryConfigError(
            f"Asset URI {uri!r} has the path {parts.path!r}; expected {_DATASET_FORM}. Build it with "
            "airflow_provider_modelstudio.datasets.watchers.watched_dataset(dataset_rid) instead of by hand."
        )
    dataset_rid = validate_rid(segments[1], DATASET, field=f"the dataset RID of asset URI {uri!r}")
    branch = _branch(unquote(segments[3]))
    assert branch is not None
    return DatasetAssetRef(_written_authority(parts, uri), dataset_rid, branch)


def _check_scheme_and_parts(parts: SplitResult, uri: str, form: str) -> None:
    if parts.scheme.lower() != SCHEME:
        raise FoundryConfigError(f"Asset URI {uri!r} is not a {SCHEME}:// URI; expected {form}.")
    if parts.username is not None or parts.password is not None:
        raise FoundryConfigError(f"Asset URI {uri!r} holds credentials; write {form} without them.")
    if parts.query:
        raise FoundryConfigError(f"Asset URI {uri!r} has a query ({parts.query!r}); expected {form}.")


def _read(parts: SplitResult, uri: str) -> ModelAssetRef:
    _check_scheme_and_parts(parts, uri, _FORM)
    segments = parts.path.strip("/").split("/")
    shape_ok = (len(segments) == 2 and segments[0] == "models") or (
        len(segments) == 4 and segments[0] == "models" and segments[2] == "branches"
    )
    if not shape_ok:
        raise FoundryConfigError(
            f"Asset URI {uri!r} has the path {parts.path!r}; expected {_FORM}. Build it with "
            "airflow_provider_modelstudio.assets.model_asset(model_rid) instead of by hand."
        )
    model_rid = validate_rid(segments[1], MODEL, field=f"the model RID of asset URI {uri!r}")
    branch = _branch(unquote(segments[3])) if len(segments) == 4 else None
    return ModelAssetRef(_written_authority(parts, uri), model_rid, branch)


def _written_authority(parts: SplitResult, uri: str) -> str:
    """The URI's ``host[:port]``, host lower-cased and the default port of the scheme the host is reached by
    left out (``:443``, or ``:80`` for a loopback host), as :func:`authority_of` writes it."""
    try:
        hostname, port = parts.hostname, parts.port
    except ValueError as exc:
        raise FoundryConfigError(f"Asset URI {uri!r} has an invalid port ({exc}); expected {_FORM}.") from None
    if not hostname:
        raise FoundryConfigError(f"Asset URI {uri!r} names no Foundry host; expected {_FORM}.")
    return _authority(hostname, port, _implied_scheme(hostname))


def _branch(branch: str | None) -> str | None:
    if branch is not None and (not isinstance(branch, str) or not branch.strip()):
        raise FoundryConfigError(
            f"branch={branch!r} is not a branch name; name the branch (e.g. 'master') or pass None for any branch."
        )
    return branch


def connection_host(conn_id: str) -> str:
    """The host of a ``foundry`` connection, checked; raises :class:`FoundryConfigError` naming the connection."""
    from airflow.sdk import BaseHook

    try:
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # Airflow < 3.2
        from airflow.exceptions import AirflowNotFoundException  # type: ignore[attr-defined,no-redef]

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise FoundryConfigError(
            f"Connection {conn_id!r} is not defined where this DAG is parsed, so the Foundry host of its assets "
            f"is unknown. Define it for the dag-processor too (e.g. AIRFLOW_CONN_{conn_id.upper()}), or pass "
            "host='<your-stack>.palantirfoundry.com' to model_asset() or watched_dataset()."
        ) from None
    return normalise_host(conn_id, conn.host, conn.port)
