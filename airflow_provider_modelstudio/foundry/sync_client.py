"""The synchronous transport (``requests``), used by the hook in workers.

It sends each attempt, never following a redirect, and reads the answer through the shared
:class:`~airflow_provider_modelstudio.foundry.answers.AnswerReader`. ``requests`` has no bound on an attempt's
total duration (its read timeout only bounds each wait for the next bytes), so a :class:`_Watchdog` shuts the
attempt's socket down when :attr:`~airflow_provider_modelstudio.foundry.settings.FoundrySettings.attempt_limit`
has passed; the blocked read then fails at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.poolmanager import PoolManager

from airflow_provider_modelstudio.foundry import operations
from airflow_provider_modelstudio.foundry.answers import ACCEPT_ENCODING, READ_CHUNK, AnswerReader
from airflow_provider_modelstudio.foundry.auth import (
    TOKEN_CACHE,
    forget_refused,
    keep_grant,
    known_secrets,
    ready_token,
    token_form,
)
from airflow_provider_modelstudio.foundry.protocol import (
    ApiCall,
    Attempts,
    AttemptTooLong,
    Done,
    Reauthenticate,
    Wait,
    causes,
    prepare,
    user_agent,
    warn_if_unverified,
)
from airflow_provider_modelstudio.foundry.retry import FailureKind, RetryPolicy
from airflow_provider_modelstudio.foundry.settings import FoundrySettings


def classify(exc: Exception) -> tuple[FailureKind, str]:
    """Tell a request that never left from one whose answer was lost."""
    if isinstance(exc, requests.ConnectTimeout):
        return "not_sent", "connect timeout"
    if isinstance(exc, requests.ReadTimeout):
        return "no_answer", "no answer within the read timeout"
    for cause in causes(exc):
        if isinstance(cause, NewConnectionError | ConnectTimeoutError):
            return "not_sent", f"could not connect ({type(cause).__name__})"
    if isinstance(exc, requests.RequestException):
        return "no_answer", f"connection lost before the answer ({type(exc).__name__})"
    return "no_answer", f"unexpected {type(exc).__name__} while sending or reading ({exc})"


class _Watchdog:
    """Ends one attempt at its deadline by shutting its sockets down.

    Entered around one attempt in the thread that makes it; the connections that thread uses meanwhile
    register their sockets (see :class:`_WatchedConnection`). It shuts down the sockets it was shown, never a
    connection's later one: urllib3 reconnects a closed connection object in place, and the next attempt's
    socket must survive this attempt's deadline. Once the attempt is over, the deadline does nothing. It does
    not close anything itself: the transport reads :attr:`expired` and reports the attempt as too long.
    """

    _current = threading.local()

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.expired = False
        self._over = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(limit, self._expire)
        self._timer.daemon = True

    @classmethod
    def current(cls) -> _Watchdog | None:
        watchdog: _Watchdog | None = getattr(cls._current, "watchdog", None)
        return watchdog

    def watch(self, connection: HTTPConnection) -> None:
        sock = connection.sock
        if sock is None:
            return
        with self._lock:
            if any(seen is sock for seen in self._sockets):
                return
            self._sockets.append(sock)
            if self.expired:
                _shut_down(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            for sock in self._sockets:
                _shut_down(sock)

    def __enter__(self) -> _Watchdog:
        self._current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._timer.cancel()
        with self._lock:
            self._over = True
        self._current.watchdog = None


def _shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedConnection(HTTPConnection):
    """Registers with the thread's :class:`_Watchdog` when it connects and before each request."""

    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    """The same over TLS."""


def _watch(connection: HTTPConnection) -> None:
    watchdog = _Watchdog.current()
    if watchdog is not None:
        watchdog.watch(connection)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections (direct or through an HTTP proxy) a :class:`_Watchdog` can end.

    Connections through a SOCKS proxy keep urllib3's own classes: the watchdog cannot end them early, and
    only the connect and read timeouts bound them.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_watched_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            _use_watched_pools(manager)
        return manager


def _use_watched_pools(manager: PoolManager) -> None:
    manager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


def _read(response: requests.Response) -> bytes:
    """The whole body, raw from the socket through an :class:`AnswerReader`. A body read to its end leaves
    the connection to the pool for the next request; one that is not is closed."""
    try:
        reader = AnswerReader(response.headers)
        for chunk in response.raw.stream(READ_CHUNK, decode_content=False):
            reader.feed(chunk)
        return reader.body()
    except BaseException:
        response.close()
        raise


wait_between_attempts: Callable[[float], None] = time.sleep
"""How a client made without ``sleep`` waits before another attempt (``time.sleep`` as imported). Looked up when
waiting, so tests can replace it for clients made elsewhere (by the hook)."""


class FoundryClient:
    """Calls Foundry for one connection: retries, token renewal and error mapping included.

    :param settings: the checked connection
    :param retry: retry bounds
    :param sleep: how to wait between attempts (tests pass a fake); None: :data:`wait_between_attempts`
    """

    def __init__(
        self,
        settings: FoundrySettings,
        *,
        retry: RetryPolicy | None = None,
        sleep: Any = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent()
        self._session.headers["Accept-Encoding"] = ACCEPT_ENCODING
        adapter = _WatchedAdapter()
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        warn_if_unverified(settings)

    def close(self) -> None:
        self._session.close()

    def call(
        self,
        name: str,
        path_params: Mapping[str, str | int] | None = None,
        query: Mapping[str, str | int | None] | None = None,
        json_body: Any = None,
    ) -> Any:
        """Call endpoint ``name`` and return its parsed JSON (None for an empty answer)."""
        return self.answer(name, path_params, query, json_body).value

    def answer(
        self,
        name: str,
        path_params: Mapping[str, str | int] | None = None,
        query: Mapping[str, str | int | None] | None = None,
        json_body: Any = None,
    ) -> Done:
        """Call endpoint ``name`` and return its parsed JSON and size."""
        return self._send(prepare(name, path_params, query, json_body))

    def paged(
        self,
        name: str,
        path_params: Mapping[str, str | int],
        query: Mapping[str, Any],
        body: Mapping[str, Any] | None = None,
        *,
        in_body: bool = False,
    ) -> Iterator[Any]:
        """Every item of a paged endpoint, page after page (a listing that never ends is refused).

        :param in_body: the endpoint pages through its JSON ``body`` (``pageSize``, ``pageToken``), not its query
        """

        def fetch(paging: Mapping[str, Any]) -> Done:
            return self.answer(name, path_params, query, paging) if in_body else self.answer(name, path_params, paging)

        return operations.iterate_pages(
            fetch,
            (body or {}) if in_body else query,
            what=str(prepare(name, path_params)),
            secrets=known_secrets(self.settings),
        )

    def _send(self, call: ApiCall) -> Done:
        attempts = Attempts(
            call,
            self.retry,
            conn_id=self.settings.conn_id,
            can_renew_token=self.settings.auth_type == "oauth2",
            base_url=self.settings.base_url,
            secrets=(self.settings.secret,),
        )
        while True:
            token = self._token() if call.authenticated else None
            attempts.begin(token)
            try:
                status, headers, body = self._attempt(call, token)
            except Exception as exc:
                step = attempts.failed_on(exc, *classify(exc))
            else:
                step = attempts.answered(status, headers, body)
            if isinstance(step, Done):
                return step
            if isinstance(step, Reauthenticate):
                forget_refused(self.settings, token)
            elif isinstance(step, Wait):
                (self._sleep or wait_between_attempts)(step.seconds)

    def _attempt(self, call: ApiCall, token: str | None) -> tuple[int, Mapping[str, str], bytes]:
        """Send ``call`` once and read the whole answer, within the attempt's time bound."""
        limit = self.settings.attempt_limit
        with _Watchdog(limit) as watchdog:
            try:
                response = self._session.request(
                    call.method,
                    self.settings.base_url + call.path,
                    params=call.params,
                    json=call.json_body,
                    data=call.form_body,
                    headers={"Authorization": f"Bearer {token}"} if token else {},
                    timeout=(self.settings.connect_timeout, self.settings.timeout),
                    verify=self.settings.verify,
                    allow_redirects=False,
                    stream=True,
                )
                body = _read(response)
            except Exception as exc:
                if watchdog.expired:
                    raise AttemptTooLong(limit) from exc
                raise
            if watchdog.expired:
                raise AttemptTooLong(limit)
        return response.status_code, response.headers, body

    def _token(self) -> str:
        token = ready_token(self.settings)
        if token:
            return token
        with TOKEN_CACHE.thread_lock(self.settings.token_cache_key):
            token = ready_token(self.settings)
            if token:
                return token
            answer = self._send(prepare("oauth2_token", form_body=token_form(self.settings)))
            return keep_grant(self.settings, answer.value)
