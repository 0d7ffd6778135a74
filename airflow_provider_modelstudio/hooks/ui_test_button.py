"""Makes the Airflow UI's connection Test button work for Foundry connections on Airflow 3.3.

The UI's Test button posts ``port: Number(connection.port)``, which is ``0`` for a connection saved without a
port (the Foundry form has none), together with the masked password ``***``. Airflow 3.3 compares that ``0``
with the stored ``NULL``, decides the test targets another destination, refuses to reuse the stored secret and
answers 400 "The host or port to test differs from the stored connection" before the hook is called.

:class:`FoundryTestButtonMiddleware` removes ``port: 0`` from that request when its ``conn_type`` is
``foundry``, so the stored connection (and its secret) is tested. Port 0 is never a destination: the hook
reads it as "no port" either way. It changes no other request, no other connection type and no other
field; a host or a non-zero port that differs from the stored one is still refused by Airflow.
:class:`ModelStudioPlugin` installs it in the API server (entry point ``airflow.plugins``).
"""

from __future__ import annotations

import json
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_modelstudio.foundry.settings import CONN_TYPE

TEST_PATH = "/api/v2/connections/test"
_MAX_BODY = 1_000_000

Scope = dict[str, Any]
Message = dict[str, Any]


def without_zero_port(body: bytes) -> bytes:
    """The request body with ``port: 0`` removed when it tests a Foundry connection; otherwise unchanged.

    :param body: the JSON body the UI posted
    """
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if not isinstance(payload, dict) or payload.get("conn_type") != CONN_TYPE or payload.get("port") != 0:
        return body
    del payload["port"]
    return json.dumps(payload).encode()


class FoundryTestButtonMiddleware:
    """ASGI middleware: rewrites only ``POST /api/v2/connections/test`` bodies (see the module docstring).

    :param app: the ASGI application it wraps
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(TEST_PATH):
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        while size <= _MAX_BODY:
            message: Message = await receive()
            received.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
            size += len(message.get("body", b""))
        body = b"".join(message.get("body", b"") for message in received)
        rewritten = without_zero_port(body) if received[-1]["type"] == "http.request" and size <= _MAX_BODY else body
        if rewritten == body:
            await self.app(scope, _replay(received, receive), send)
            return
        headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"content-length"]
        headers.append((b"content-length", str(len(rewritten)).encode()))
        request = {"type": "http.request", "body": rewritten, "more_body": False}
        await self.app({**scope, "headers": headers}, _replay([request], receive), send)


def _replay(messages: list[Message], receive: Any) -> Any:
    """A ``receive`` that hands the app the messages already read, then defers to the real ``receive``."""
    pending = list(messages)

    async def _receive() -> Message:
        if pending:
            return pending.pop(0)
        result: Message = await receive()
        return result

    return _receive


class ModelStudioPlugin(AirflowPlugin):
    """Installs :class:`FoundryTestButtonMiddleware` in Airflow's API server."""

    name = "modelstudio_test_button"
    fastapi_root_middlewares = [{"name": "Foundry connection Test button", "middleware": FoundryTestButtonMiddleware}]
