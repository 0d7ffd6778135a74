"""HTTP answers shared by the Foundry routes and the admin routes: compact JSON, and the dropped connection.

Dropping a connection without an answer needs the socket, which ASGI does not expose. The emulator's
outermost ASGI wrapper stores uvicorn's transport in the scope under :data:`TRANSPORT_KEY` (uvicorn's
``send`` is a bound method of its request cycle, which holds the transport); :class:`DropConnection`
closes that transport before any response byte is written, so ``requests`` raises ``ConnectionError``
and ``httpx`` raises ``RemoteProtocolError``. This works under uvicorn only.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

TRANSPORT_KEY = "foundry_emulator.transport"


def json_response(status: int, content: Any) -> Response:
    """A compact JSON answer.

    :param status: HTTP status.
    :param content: the JSON-able body.
    """
    return Response(json.dumps(content, separators=(",", ":")).encode(), status, media_type="application/json")


class DropConnection(Response):
    """An "answer" that closes the connection before any response byte is sent."""

    def __init__(self) -> None:
        super().__init__(status_code=499)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope.get(TRANSPORT_KEY)
        if transport is None:
            raise RuntimeError("dropping a connection needs the emulator to run under uvicorn")
        transport.close()
        # Return only once the server has seen the disconnect, so it does not answer in our place.
        while (await receive())["type"] != "http.disconnect":
            pass
