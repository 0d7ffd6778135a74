"""What a request to the admin API must carry, so that a web page cannot steer the emulator.

A page the user visits may send "simple" cross-origin requests (a ``text/plain`` POST, say) to a loopback
port without asking first. Every admin request must therefore carry :data:`ADMIN_HEADER` (``1``), and a
body must be ``application/json``: a browser sends neither cross-origin without a CORS preflight, and the
emulator approves none. This is not authentication (any local process may still call the admin API);
it imports no HTTP framework, so clients may import it cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping

ADMIN_PREFIX = "/_emulator"
"""The admin API's path prefix (no real Foundry uses it)."""

ADMIN_HEADER = "X-Foundry-Emulator-Admin"
ADMIN_HEADERS: Mapping[str, str] = {ADMIN_HEADER: "1"}
"""Headers every admin request carries."""

_JSON = "application/json"


def refusal(headers: Mapping[str, str], body: bytes) -> str | None:
    """Why an admin request is refused, or None when it may proceed.

    :param headers: the request's headers (looked up by lower-case name, as ASGI frameworks allow).
    :param body: the request's body; an empty one needs no content type.
    """
    if headers.get(ADMIN_HEADER.lower()) != "1":
        return (
            f"admin requests must carry the header '{ADMIN_HEADER}: 1' (a web page cannot send it to another "
            "site without a CORS preflight, which the emulator never approves)"
        )
    content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if body and content_type != _JSON:
        return f"an admin request body must be sent with 'Content-Type: {_JSON}', not {content_type or 'none'!r}"
    return None
