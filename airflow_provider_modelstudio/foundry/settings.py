"""The Foundry connection: what users store in Airflow, read and checked once.

The stored form is a public contract (users write it in environment variables and secrets backends):

- ``host``: the hostname, optionally with scheme and port. ``http://`` only for loopback hosts; no scheme
  means ``https://``, except for a loopback host (the local emulator, which serves plain http), where it
  means ``http://``: write ``https://`` for a TLS endpoint on loopback
- ``password``: the static token, or the OAuth2 client secret
- ``login``: the OAuth2 client id (empty for token auth)
- ``extra``: ``auth_type`` (``token`` | ``oauth2``), ``scopes`` (space-separated), ``timeout`` (seconds),
  ``verify`` (TLS verification), ``build_url_template``, ``model_version_url_template``,
  ``live_deployment_url_template``. Unknown keys are refused; ``null`` means unset.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from airflow_provider_modelstudio.foundry.endpoints import REQUIRED_SCOPES
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError

CONN_TYPE = "foundry"
DEFAULT_CONN_ID = "foundry_default"
DEFAULT_TIMEOUT = 30.0
CONNECT_TIMEOUT_CAP = 10.0
DEFAULT_BUILD_URL_TEMPLATE = "{base_url}/workspace/data-integration/job-tracker/builds/{build_rid}"
DEFAULT_MODEL_VERSION_URL_TEMPLATE = "{base_url}/workspace/models/{model_rid}/versions/{model_version_rid}"
DEFAULT_LIVE_DEPLOYMENT_URL_TEMPLATE = "{base_url}/workspace/models/live-deployments/{live_deployment_rid}"
EXTRA_KEYS = (
    "auth_type",
    "scopes",
    "timeout",
    "verify",
    "build_url_template",
    "model_version_url_template",
    "live_deployment_url_template",
)
AUTH_TYPES = ("token", "oauth2")
_LEGACY_PREFIX = f"extra__{CONN_TYPE}__"


class ConnectionLike(Protocol):
    """What is read from an Airflow ``Connection``."""

    conn_id: str
    conn_type: str | None
    host: str | None
    login: str | None
    password: str | None
    port: int | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FoundrySettings:
    """A checked Foundry connection. Its repr never shows the secret.

    :param conn_id: the Airflow connection id, for messages
    :param base_url: ``https://host[:port]`` (or ``http://`` for loopback)
    :param auth_type: ``token`` or ``oauth2``
    :param secret: the static token or the OAuth2 client secret
    :param client_id: the OAuth2 client id
    :param scopes: OAuth2 scopes requested
    :param timeout: read timeout in seconds; the connect timeout is the smaller of this and 10 s
    :param verify: TLS certificate verification
    :param build_url_template: link to a build page, with ``{base_url}``, ``{host}`` and ``{build_rid}``
    :param model_version_url_template: link to a model version, with ``{base_url}``, ``{host}``,
        ``{model_rid}`` and ``{model_version_rid}``
    :param live_deployment_url_template: link to a live deployment, with ``{base_url}``, ``{host}`` and
        ``{live_deployment_rid}``
    """

    conn_id: str
    base_url: str
    auth_type: str
    secret: str = field(repr=False)
    client_id: str | None = None
    scopes: tuple[str, ...] = REQUIRED_SCOPES
    timeout: float = DEFAULT_TIMEOUT
    verify: bool = True
    build_url_template: str = DEFAULT_BUILD_URL_TEMPLATE
    model_version_url_template: str = DEFAULT_MODEL_VERSION_URL_TEMPLATE
    live_deployment_url_template: str = DEFAULT_LIVE_DEPLOYMENT_URL_TEMPLATE

    @property
    def is_local(self) -> bool:
        """Whether the host is plain ``http://`` on loopback: the local emulator, never Foundry itself."""
        return urlsplit(self.base_url).scheme == "http"

    @property
    def connect_timeout(self) -> float:
        return min(self.timeout, CONNECT_TIMEOUT_CAP)

    @property
    def attempt_limit(self) -> float:
        """Seconds one attempt may take in all (connecting, sending, and reading the whole answer): the connect
        timeout plus twice the read timeout. The read timeout alone bounds only each wait for the next bytes,
        so a server trickling bytes could otherwise hold a request forever."""
        return self.connect_timeout + 2 * self.timeout

    @property
    def token_cache_key(self) -> tuple[str, str, str, tuple[str, ...], str]:
        """Tokens are shared by every hook in the process with the same host, client, scopes and secret.

        The secret is in the key as a fingerprint, so a connection with a wrong or revoked secret never
        borrows a token that another connection fetched with the right one.
        """
        import hashlib

        fingerprint = hashlib.sha256(self.secret.encode()).hexdigest()[:16]
        return (self.base_url, self.auth_type, self.client_id or "", self.scopes, fingerprint)

    def build_url(self, build_rid: str) -> str:
        """The Foundry page of a build, for logs and the task's extra link."""
        return BUILD_LINK.render(
            self.conn_id,
            self.build_url_template,
            base_url=self.base_url,
            host=urlsplit(self.base_url).netloc,
            build_rid=build_rid,
        )

    def model_version_url(self, model_rid: str, model_version_rid: str) -> str:
        """The Foundry page of a model version, for logs and extra links."""
        return MODEL_VERSION_LINK.render(
            self.conn_id,
            self.model_version_url_template,
            base_url=self.base_url,
            host=urlsplit(self.base_url).netloc,
            model_rid=model_rid,
            model_version_rid=model_version_rid,
        )

    def live_deployment_url(self, live_deployment_rid: str) -> str:
        """The Foundry page of a live deployment, for logs and extra links."""
        return LIVE_DEPLOYMENT_LINK.render(
            self.conn_id,
            self.live_deployment_url_template,
            base_url=self.base_url,
            host=urlsplit(self.base_url).netloc,
            live_deployment_rid=live_deployment_rid,
        )

    @classmethod
    def from_connection(cls, conn: ConnectionLike) -> FoundrySettings:
        """Check an Airflow connection and read it. Raises :class:`FoundryConfigError` naming the field."""
        cid = conn.conn_id
        if conn.conn_type != CONN_TYPE:
            raise FoundryConfigError(
                f"Connection {cid!r} has type {conn.conn_type!r}; it must be of type {CONN_TYPE!r} "
                "(Palantir Foundry). Edit the connection and choose that type, or set conn_type "
                f"'{CONN_TYPE}' in its JSON."
            )
        extra = _read_extra(cid, conn.extra_dejson)
        base_url = normalise_host(cid, conn.host, conn.port)
        login = (conn.login or "").strip() or None
        secret = _read_password(cid, conn.password)
        auth_type = extra.get("auth_type") or ("oauth2" if login else "token")
        if auth_type not in AUTH_TYPES:
            raise FoundryConfigError(
                f"Connection {cid!r}: extra field auth_type={auth_type!r} is not one of {list(AUTH_TYPES)}."
            )
        if auth_type == "oauth2" and not (login and secret):
            missing = " and ".join(n for n, v in (("login (client id)", login), ("password", secret)) if not v)
            raise FoundryConfigError(
                f"Connection {cid!r} uses OAuth2 client credentials but its {missing} is empty. Put the "
                "third-party application's client id in Client ID (login) and its secret in Client Secret "
                "(password)."
            )
        if auth_type == "token" and not secret:
            raise FoundryConfigError(
                f"Connection {cid!r} uses a static token but its password (Token) is empty. Paste a Foundry "
                "token there, or fill Client ID and Client Secret and set auth_type to oauth2."
            )
        templates = {
            link.field: extra.get(link.field) or link.default
            for link in (BUILD_LINK, MODEL_VERSION_LINK, LIVE_DEPLOYMENT_LINK)
        }
        for link in (BUILD_LINK, MODEL_VERSION_LINK, LIVE_DEPLOYMENT_LINK):
            link.check(cid, templates[link.field], base_url=base_url, host=urlsplit(base_url).netloc)
        return cls(
            conn_id=cid,
            base_url=base_url,
            auth_type=auth_type,
            secret=secret,
            client_id=login if auth_type == "oauth2" else None,
            scopes=_read_scopes(cid, extra.get("scopes")),
            timeout=_read_timeout(cid, extra.get("timeout")),
            verify=_read_verify(cid, extra.get("verify")),
            **templates,
        )


def _read_extra(cid: str, raw: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.removeprefix(_LEGACY_PREFIX)
        if name not in EXTRA_KEYS:
            raise FoundryConfigError(
                f"Connection {cid!r}: unknown extra field {key!r}. Known fields: {', '.join(EXTRA_KEYS)}. "
                "Check its spelling; an unknown field would otherwise be silently ignored."
            )
        if value is not None and value != "":
            extra[name] = value
    return extra


_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _is_hostname(hostname: str) -> bool:
    """A DNS name of valid labels, or an IP address."""
    import ipaddress

    try:
        ipaddress.ip_address(hostname)
        return True
    except ValueError:
        pass
    labels = hostname.removesuffix(".").split(".")
    return len(hostname) <= 253 and all(_LABEL.match(label) for label in labels)  # an empty label never matches


def is_loopback_host(hostname: str) -> bool:
    """Whether ``hostname`` is ``localhost`` or a loopback IP address (no DNS lookup is made)."""
    if hostname == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def normalise_host(cid: str, host: str | None, port: int | None = None) -> str:
    """Turn what a user typed in the host field into ``scheme://host[:port]``.

    Without a scheme: ``https://``, or ``http://`` for a loopback host (``airflow connections add
    --conn-host 127.0.0.1 --conn-port 8765`` reaches the local emulator). An http request to loopback never
    leaves the machine.
    """
    text = (host or "").strip()
    if not text:
        raise FoundryConfigError(
            f"Connection {cid!r}: host is empty. Enter your Foundry hostname, e.g. example.palantirfoundry.com."
        )
    scheme_given = "://" in text
    if not scheme_given:
        text = "https://" + text
    example = "enter only the hostname, e.g. example.palantirfoundry.com"
    try:
        parts = urlsplit(text)
        hostname = parts.hostname or ""
    except ValueError as exc:
        raise FoundryConfigError(f"Connection {cid!r}: host={host!r} is not a hostname ({exc}); {example}.") from exc
    scheme = parts.scheme.lower()
    if not scheme_given and is_loopback_host(hostname):
        scheme = "http"
    if scheme not in ("https", "http") or not _is_hostname(hostname):
        raise FoundryConfigError(f"Connection {cid!r}: host={host!r} is not a hostname; {example}.")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise FoundryConfigError(
            f"Connection {cid!r}: host={host!r} contains a path or query ({parts.path!r}); {example}."
        )
    if parts.username or parts.password:
        raise FoundryConfigError(
            f"Connection {cid!r}: host must not contain credentials; put the token in the password field."
        )
    if scheme == "http" and not is_loopback_host(hostname):
        raise FoundryConfigError(
            f"Connection {cid!r}: host={host!r} uses http://, which is allowed only for loopback hosts (the "
            "local emulator). Use https:// (or no scheme) for Foundry."
        )
    try:
        explicit_port = parts.port
    except ValueError as exc:
        raise FoundryConfigError(f"Connection {cid!r}: host={host!r} has an invalid port.") from exc
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    final_port = explicit_port or port
    if final_port:
        netloc += f":{final_port}"
    return f"{scheme}://{netloc}"


def _read_scopes(cid: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return REQUIRED_SCOPES
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(s, str) and s for s in items):
        raise FoundryConfigError(
            f"Connection {cid!r}: extra field scopes={value!r} must be space-separated scope names, "
            f"e.g. {' '.join(REQUIRED_SCOPES)!r}."
        )
    return tuple(dict.fromkeys(items))


def _read_timeout(cid: str, value: Any) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or not 0 < seconds <= 600:
        raise FoundryConfigError(
            f"Connection {cid!r}: extra field timeout={value!r} must be a number of seconds between 0 and 600 "
            f"(default {DEFAULT_TIMEOUT:g})."
        )
    return seconds


def _read_verify(cid: str, value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise FoundryConfigError(f"Connection {cid!r}: extra field verify={value!r} must be true or false.")


def _read_password(cid: str, value: str | None) -> str:
    """The password as stored; refused when it could never be sent or could not be meant."""
    secret = value or ""
    if secret and not secret.strip():
        raise FoundryConfigError(
            f"Connection {cid!r}: password holds only whitespace. Paste the Foundry token (or, for OAuth2, the "
            "client secret) itself."
        )
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in secret):
        raise FoundryConfigError(
            f"Connection {cid!r}: password contains a line break or another control character (often a newline "
            "pasted along with the token). It would corrupt the request's headers; paste the token or client "
            "secret again without it."
        )
    return secret


@dataclass(frozen=True)
class LinkTemplate:
    """A connection field holding a link template, and the placeholders it may use.

    Rendering fills plain ``{name}`` placeholders only: no attribute or index access, no conversion, no format
    spec (``str.format`` would let a template reach into Python objects), and the result must be an http(s)
    URL. It does not check that the page exists.

    :param field: the extra field's name, for messages
    :param placeholders: the names a template may use
    :param default: the default template, shown as an example
    """

    field: str
    placeholders: tuple[str, ...]
    default: str

    def check(self, cid: str, template: Any, **values: str) -> None:
        """Refuse a template that is not a string, uses anything but the placeholders, or renders to no http(s)
        URL. ``values`` are used for the trial rendering; missing ones are filled with a RID-like sample."""
        samples = {name: values.get(name, "ri.sample.main.sample.0") for name in self.placeholders}
        self.render(cid, template, **samples)

    def render(self, cid: str, template: Any, **values: str) -> str:
        """The link, with each placeholder replaced by its value."""
        parts: list[str] = []
        try:
            if not isinstance(template, str):
                raise ValueError("not a string")
            for literal, name, spec, conversion in string.Formatter().parse(template):
                parts.append(literal)
                if name is None:
                    continue
                if name not in self.placeholders or spec or conversion:
                    raise ValueError(f"placeholder {{{name}}} is not one of the plain placeholders allowed")
                parts.append(values[name])
        except ValueError as exc:
            raise self._refused(cid, template, str(exc)) from None
        link = "".join(parts)
        scheme = urlsplit(link).scheme.lower()
        if scheme not in ("http", "https") or not urlsplit(link).netloc:
            raise self._refused(cid, template, f"it renders to {link[:100]!r}, which is not an http(s) URL")
        return link

    def _refused(self, cid: str, template: Any, reason: str) -> FoundryConfigError:
        names = ", ".join(f"{{{name}}}" for name in self.placeholders)
        return FoundryConfigError(
            f"Connection {cid!r}: extra field {self.field}={template!r} is not a valid link template ({reason}). "
            f"Use only the placeholders {names}, e.g. {self.default!r}."
        )


BUILD_LINK = LinkTemplate("build_url_template", ("base_url", "host", "build_rid"), DEFAULT_BUILD_URL_TEMPLATE)
MODEL_VERSION_LINK = LinkTemplate(
    "model_version_url_template",
    ("base_url", "host", "model_rid", "model_version_rid"),
    DEFAULT_MODEL_VERSION_URL_TEMPLATE,
)
LIVE_DEPLOYMENT_LINK = LinkTemplate(
    "live_deployment_url_template",
    ("base_url", "host", "live_deployment_rid"),
    DEFAULT_LIVE_DEPLOYMENT_URL_TEMPLATE,
)
"""The build page link: ``{base_url}``, ``{host}`` and ``{build_rid}``."""
