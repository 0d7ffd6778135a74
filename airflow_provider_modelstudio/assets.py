"""The ``foundry`` asset URI scheme: one Airflow asset per Foundry model (optionally per branch of it).

``foundry://<host>/models/<modelRid>`` names a model of the Foundry at ``<host>`` (``host[:port]``, lower
case, without the default port); ``foundry://<host>/models/<modelRid>/branches/<branch>`` names one branch of
it (the branch percent-encoded). Airflow learns the scheme from the provider info (``asset-uris``):
:func:`sanitize_uri` checks and normalises every ``foundry://`` URI an ``Asset`` is made with,
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
from airflow_provider_modelstudio.foundry.rids import MODEL, validate_rid
from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID, is_loopback_host, normalise_host

if TYPE_CHECKING:
    from openlineage.client.event_v2 import Dataset as OpenLineageDataset

SCHEME = "foundry"
ASSET_GROUP = "model"
"""The group of every model asset (Airflow's UI groups assets by it)."""
_DEFAULT_PORTS = {"https": 443, "http": 80}
_FORM = f"{SCHEME}://<host>/models/<modelRid>[/branches/<branch>]"


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
    uri = model_asset_uri(host if host is not None else _connection_host(foundry_conn_id), model_rid, branch)
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
        ``foundry://<host>/models/<modelRid>[/branches/<branch>]``
    """
    return urlsplit(_read(uri, uri.geturl()).uri)


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

    :param asset: an asset with a ``foundry://`` URI
    :param lineage_context: unused (Airflow passes the hook lineage context)
    """
    from openlineage.client.event_v2 import Dataset

    ref = read_model_asset_uri(asset.uri)
    name = ref.model_rid if ref.branch is None else f"{ref.model_rid}/branches/{ref.branch}"
    return Dataset(namespace=ref.namespace, name=name)


def _read(parts: SplitResult, uri: str) -> ModelAssetRef:
    if parts.scheme.lower() != SCHEME:
        raise FoundryConfigError(f"Asset URI {uri!r} is not a {SCHEME}:// URI; expected {_FORM}.")
    if parts.username is not None or parts.password is not None:
        raise FoundryConfigError(
            f"Asset URI {uri!r} holds credentials; an asset names a model, write {_FORM} without them."
        )
    if parts.query:
        raise FoundryConfigError(f"Asset URI {uri!r} has a query ({parts.query!r}); expected {_FORM}.")
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


def _connection_host(conn_id: str) -> str:
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
            f"model_asset: connection {conn_id!r} is not defined where this DAG is parsed, so the asset's Foundry "
            f"host is unknown. Define it for the dag-processor too (e.g. AIRFLOW_CONN_{conn_id.upper()}), or pass "
            "host='<your-stack>.palantirfoundry.com'."
        ) from None
    return normalise_host(conn_id, conn.host, conn.port)
