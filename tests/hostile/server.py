"""A deliberately hostile HTTP server on 127.0.0.1, scripted per test.

It speaks just enough HTTP/1.1 to be reached by ``requests`` and ``httpx``, then answers whatever a test
scripts, byte by byte if need be: pages that trickle, answers too large, bombs, redirects, echoes of the
request's headers, garbage. ``on(method, path, *answers)`` scripts a route; the answers are used in order and
the last one repeats. An answer is a callable that writes to an :class:`Exchange`; the builders below make
the usual ones. Unscripted requests get ``418``. :meth:`HostileServer.stop` ends every connection, so an
answer left trickling ends with the test.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Request:
    """One request the server received (header names in lower case)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def head_text(self) -> str:
        """The request's headers as text, as a proxy echoing them would show them."""
        return "\n".join(f"{name}: {value}" for name, value in self.headers.items())


class Exchange:
    """One client connection, as an answer sees it.

    :param sock: the connected socket
    :param server: the server, for its state and its stop signal
    """

    def __init__(self, sock: socket.socket, server: HostileServer) -> None:
        self.sock = sock
        self.server = server
        self.request: Request | None = None

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False when the server is stopping meanwhile."""
        return not self.server.stopping.wait(seconds)


Answer = Callable[[Exchange], bool]
"""Writes an answer; returns whether the connection stays open for another request."""


def head(status: int, headers: Mapping[str, str] | None = None) -> bytes:
    """A status line and headers, ready to send."""
    lines = [f"HTTP/1.1 {status} Hostile", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(status: int, body: Any = None, headers: Mapping[str, str] | None = None, *, close: bool = False) -> Answer:
    """A complete answer: ``body`` is bytes, None (no body) or any JSON value (sent as JSON)."""
    data, extra = _body(body)
    all_headers = {**extra, **(headers or {}), "Content-Length": str(len(data))}
    if close:
        all_headers["Connection"] = "close"

    def answer(exchange: Exchange) -> bool:
        exchange.send(head(status, all_headers) + data)
        return not close

    return answer


def envelope(status: int, code: str, name: str, **parameters: Any) -> Answer:
    """Foundry's JSON error envelope."""
    return reply(
        status,
        {"errorCode": code, "errorName": name, "errorInstanceId": "hostile-1", "parameters": parameters},
    )


def drop() -> Answer:
    """Close the connection without answering."""
    return lambda exchange: False


def trickle(data: bytes, interval: float, *, first: bytes = b"") -> Answer:
    """Send ``first`` at once, then ``data`` one byte every ``interval`` seconds."""

    def answer(exchange: Exchange) -> bool:
        exchange.send(first)
        for i in range(len(data)):
            if not exchange.pause(interval):
                return False
            exchange.send(data[i : i + 1])
        return False

    return answer


def stream(status: int, chunks: Iterable[bytes], headers: Mapping[str, str] | None = None) -> Answer:
    """A chunked answer of unannounced length, chunk after chunk, until the client stops reading."""

    def answer(exchange: Exchange) -> bool:
        exchange.send(head(status, {**(headers or {}), "Transfer-Encoding": "chunked"}))
        for chunk in chunks:
            if exchange.server.stopping.is_set():
                return False
            exchange.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        exchange.send(b"0\r\n\r\n")
        return False

    return answer


def gzipped(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Answer:
    """An answer compressed with gzip (``Content-Encoding: gzip``)."""
    data, extra = _body(body)
    return reply(status, gzip.compress(data, compresslevel=9), {**extra, "Content-Encoding": "gzip", **(headers or {})})


def echo(status: int, content_type: str = "text/html") -> Answer:
    """An error page quoting the request's headers and body, as a misconfigured proxy's debug page does."""

    def answer(exchange: Exchange) -> bool:
        assert exchange.request is not None
        text = f"<html><pre>{exchange.request.body.decode()}\n\n{exchange.request.head_text()}</pre></html>"
        return reply(status, text.encode(), {"Content-Type": content_type})(exchange)

    return answer


def _body(body: Any) -> tuple[bytes, dict[str, str]]:
    if body is None:
        return b"", {}
    if isinstance(body, bytes):
        return body, {}
    return json.dumps(body).encode(), {"Content-Type": "application/json"}


@dataclass
class HostileServer:
    """The server. Start it with :meth:`start` (or use the ``hostile`` fixture).

    :param tls: a server-side TLS context, for an https server
    """

    tls: ssl.SSLContext | None = None
    url: str = ""
    seen: list[Request] = field(default_factory=list)
    connections: int = 0
    routes: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _listener: socket.socket | None = None
    _sockets: list[socket.socket] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.routes[(method, path)] = list(answers)

    def requests_to(self, path: str, method: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.seen if r.path == path and method in (None, r.method)]

    def start(self) -> HostileServer:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.05)
        self._listener = listener
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{listener.getsockname()[1]}"
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self._sockets.append(sock)
            self._spawn(self._serve, sock)

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock.settimeout(5)
                sock = self.tls.wrap_socket(sock, server_side=True)
                with self.lock:
                    self._sockets.append(sock)
            sock.settimeout(None)
            exchange = Exchange(sock, self)
            buffer = b""
            while not self.stopping.is_set():
                request, buffer = _read_request(sock, buffer)
                if request is None:
                    return
                exchange.request = request
                with self.lock:
                    self.seen.append(request)
                if not self._answer(request)(exchange):
                    return
        except (OSError, ValueError):
            return
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _answer(self, request: Request) -> Answer:
        with self.lock:
            answers = self.routes.get((request.method, request.path))
            if not answers:
                return reply(418, b"unscripted")
            return answers.pop(0) if len(answers) > 1 else answers[0]


def _read_request(sock: socket.socket, buffer: bytes) -> tuple[Request | None, bytes]:
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_HEAD:
            raise ValueError("request head too large")
        data = sock.recv(65536)
        if not data:
            return None, b""
        buffer += data
    raw_head, buffer = buffer.split(b"\r\n\r\n", 1)
    request_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(buffer) < length:
        data = sock.recv(65536)
        if not data:
            return None, b""
        buffer += data
    body, buffer = buffer[:length], buffer[length:]
    parts = urlsplit(target)
    return Request(method, parts.path, dict(parse_qsl(parts.query)), headers, body), buffer
