"""Reading answers defensively: bounded size, bounded JSON nesting, and no secret quoted back.

Both transports hand every answer's raw bytes to an :class:`AnswerReader` (which decodes ``gzip`` and
``deflate`` itself, counting decoded bytes, so compression cannot get round the size limit), parse it with
:func:`parse_json`, and quote any of it in a message only through :func:`redact`. This module raises plain
exceptions; :mod:`~airflow_provider_modelstudio.foundry.protocol` turns them into the provider's errors.
It does not know HTTP libraries, endpoints or retries.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""The largest answer read (decoded). Foundry's largest answers here (a page of 100 runs, a getBatch of 100
builds) are well under 1 MB."""

MAX_JSON_DEPTH = 64
"""The deepest JSON nesting read. Foundry's answers nest fewer than 10 levels."""

MAX_JSON_VALUES = 200_000
"""The most JSON values (objects, arrays, strings, numbers, literals) read in one answer, counted before parsing
(see :func:`json_values_at_most`). Foundry's largest answers here (a page of 100 runs, a getBatch of 100 builds)
count about 1 500 in the emulator; parsed, 200 000 values take at most about 30 MB."""

SMALL_ANSWER_BYTES = 64 * 1024
"""Answers up to this size, not compressed, are decoded and parsed where they arrive (in the event loop, for the
async transport); larger or compressed ones elsewhere (a thread)."""

READ_CHUNK = 64 * 1024
"""Bytes asked of the network per read."""

ACCEPT_ENCODING = "gzip, deflate"
"""The content codings :class:`AnswerReader` decodes, sent as ``Accept-Encoding`` on every request."""

QUOTE_LIMIT = 200
"""The most characters of one text from an answer that a message quotes."""

_BEARER = re.compile(r"(?i)\bbearer\s+[^\s\"'<>,;]+")
_GZIP = ("gzip", "x-gzip")


class AnswerTooLarge(Exception):
    """The answer is larger than the limit (said by its ``Content-Length``, or found while reading it)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        super().__init__(f"answer larger than {limit} bytes")
        self.limit = limit
        self.declared = declared


class UnreadableAnswer(Exception):
    """The answer's bytes cannot be decoded: an unknown or corrupt content coding, or a cut-off stream."""


class UnreadableJson(ValueError):
    """A body that is not complete JSON, or JSON nested deeper than :data:`MAX_JSON_DEPTH`."""


class TooManyValues(UnreadableJson):
    """JSON holding more values than :data:`MAX_JSON_VALUES` (refused before parsing, like an answer too large)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON of more than {limit} values")
        self.limit = limit


class AnswerReader:
    """Collects one answer's body as it arrives, decoding it and refusing it past ``limit`` decoded bytes.

    :param headers: the answer's headers (a case-insensitive mapping)
    :param limit: the most decoded bytes accepted
    :raises AnswerTooLarge: at once when ``Content-Length`` announces more than ``limit``
    :raises UnreadableAnswer: at once for a content coding it cannot decode
    """

    def __init__(self, headers: Mapping[str, str], limit: int = MAX_ANSWER_BYTES) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._held: list[bytes] = []
        self._held_size = 0
        self._fed = False
        self._start = b""
        declared = _content_length(headers.get("Content-Length"))
        if declared is not None and declared > limit:
            raise AnswerTooLarge(limit, declared)
        codings = [c.strip().lower() for c in (headers.get("Content-Encoding") or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in (*_GZIP, "deflate")):
            raise UnreadableAnswer(
                f"the answer uses Content-Encoding {headers.get('Content-Encoding', '')[:QUOTE_LIMIT]!r}, which was "
                f"not asked for (this client accepts {ACCEPT_ENCODING})"
            )
        self._coding = codings[0] if codings else ""
        self._inflater = _new_inflater(self._coding) if self._coding else None

    def feed(self, chunk: bytes) -> None:
        """Add the next bytes received."""
        if not chunk:
            return
        before, self._start = self._start, (self._start + chunk)[:2]
        self._fed = True
        if self._inflater is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._inflater.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                if self._coding == "deflate" and len(before) < 2:
                    # The zlib header is wrong: some servers send raw deflate without it (browsers accept that).
                    self._coding = "raw deflate"
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    data = before + chunk
                    continue
                raise UnreadableAnswer(f"the {self._coding} answer is corrupt ({exc})") from None
            self._keep(out)
            if not self._inflater.eof:
                data = self._inflater.unconsumed_tail
            elif self._coding in _GZIP and self._inflater.unused_data:
                data = self._inflater.unused_data  # a further gzip member
                self._inflater = _new_inflater(self._coding)
            else:
                data = b""

    def hold(self, chunk: bytes) -> None:
        """Keep the next bytes received as they are, to decode in :meth:`body` (which may then run in a thread)."""
        self._held_size += len(chunk)
        if self._held_size > self._limit:
            raise AnswerTooLarge(self._limit)
        if chunk:
            self._held.append(chunk)

    @property
    def small(self) -> bool:
        """Whether the bytes held so far need no decoding and are at most :data:`SMALL_ANSWER_BYTES`."""
        return self._inflater is None and self._held_size <= SMALL_ANSWER_BYTES

    def body(self) -> bytes:
        """The whole decoded body (the bytes held decoded first), once the transport has read to the end."""
        held, self._held = self._held, []
        for chunk in held:
            self.feed(chunk)
        if self._inflater is not None and self._fed and not self._inflater.eof:
            raise UnreadableAnswer(f"the {self._coding} answer ends before its compressed stream does")
        return b"".join(self._parts)

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise AnswerTooLarge(self._limit)
        if data:
            self._parts.append(data)


def _new_inflater(coding: str) -> Any:
    return zlib.decompressobj(16 + zlib.MAX_WBITS if coding in _GZIP else zlib.MAX_WBITS)


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_json(body: bytes | str) -> Any:
    """Parse JSON defensively.

    :raises TooManyValues: for JSON that may hold more than :data:`MAX_JSON_VALUES` values (before parsing it)
    :raises UnreadableJson: for anything that is not complete JSON, including JSON nested so deep that
        parsing or printing it would exhaust the interpreter's stack
    """
    if json_values_at_most(body) > MAX_JSON_VALUES:
        raise TooManyValues(MAX_JSON_VALUES)
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise UnreadableJson("not complete JSON") from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise UnreadableJson(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def json_values_at_most(text: bytes | str) -> int:
    """At least the number of values in the JSON ``text``, counted without parsing it: one, plus each ``{``,
    ``[`` and ``,`` (every value but the outermost is the first of its container or follows a comma). Those
    inside strings are counted too, so the count errs high, by the punctuation of the text's strings."""
    data = text.encode() if isinstance(text, str) else text
    return 1 + data.count(b"{") + data.count(b"[") + data.count(b",")


def _deeper_than(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every secret (as sent: plain, percent-encoded, JSON-escaped) and any ``Bearer <x>`` replaced
    by ``***``. Apply it to every text quoted from an answer; it does not shorten the text."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1])):
            text = text.replace(form, "***")
    return _BEARER.sub("Bearer ***", text)


def redacted(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """A parsed answer with :func:`redact` applied to every string in it, keys included; the same object when
    nothing changed. Every answer the hook returns goes through it, so no caller can log, return or store a
    secret that the server echoed in a success body."""
    known = [s for s in secrets if s]
    if isinstance(value, str):
        return redact(value, known)
    if isinstance(value, dict):
        return {redacted(key, known): redacted(item, known) for key, item in value.items()}
    if isinstance(value, list):
        return [redacted(item, known) for item in value]
    return value


def quoted(value: Any, secrets: Iterable[str | None] = (), limit: int = QUOTE_LIMIT) -> str:
    """A text from an answer, fit for a message: one line, secrets redacted, at most ``limit`` characters."""
    text = value if isinstance(value, str) else _compact(value)
    text = redact(" ".join(text.split()), secrets)
    return text if len(text) <= limit else text[:limit] + "..."


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return f"<{type(value).__name__}>"
