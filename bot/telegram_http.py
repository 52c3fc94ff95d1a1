"""A lean HTTP/1.1 keep-alive client for the Bot API, behind PTB's ``BaseRequest``.

PTB's default :class:`telegram.request.HTTPXRequest` goes through httpx, httpcore and anyio
for every call: about a third of the bot process's CPU per answer (docs/performance.md).
:class:`KeepAliveRequest` does the same job on asyncio streams: a pool of keep-alive
connections per host, a form-encoded POST (or a GET for downloads), the response read by its
``Content-Length`` (or chunked, or to the end). Only :meth:`do_request` is ours: PTB's
``BaseRequest`` still turns the status and body into results and errors (``RetryAfter`` for
a 429, ``NetworkError`` for a 5xx, ``Forbidden``, ``BadRequest``...).

What it keeps from ``HTTPXRequest``: the same default timeouts, with ``TimedOut`` when the
connection, the write, the read or a free connection takes longer (the pool's message is
PTB's); ``NetworkError`` for a refused, reset or dropped connection; a connection that
failed or timed out is closed, never reused, so a late answer cannot be taken for the next
call's. File uploads (multipart) are handed to an ``HTTPXRequest`` of the same settings:
they are rare, and its encoding is the one Telegram has always received from us. A proxy is
httpx's business: :func:`bot.app.build_application` uses PTB's request then.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import urllib.parse
import zlib
from dataclasses import dataclass

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)
"""PTB's own text for a pool timeout (callers and logs see the same words)."""
MAX_HEAD = 64 * 1024
"""Longest response head accepted (status line and headers)."""
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept for reuse (httpx's default): an older one may have been
dropped on the way without a word, and a call on it would wait for its read timeout."""


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one URL goes: the pool key and the request line's parts."""

    key: tuple[str, str, int]
    host_header: str
    path: str


@functools.lru_cache(maxsize=512)
def _target(url: str) -> _Target:
    """``url`` parsed once (the bot calls a few dozen distinct URLs, one per API method)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise NetworkError(f"unsupported URL for the Bot API: {scheme}://...")
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default else f"{shown}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target((scheme, host, port), host_header, path)


class _Connection:
    """One open keep-alive connection."""

    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def reusable(self, now: float, expiry: float) -> bool:
        """Still open, the server has not hung up while it was idle, and not idle too long."""
        return (
            now - self.idle_since <= expiry
            and not self.writer.is_closing()
            and not self.reader.at_eof()
        )

    def abort(self) -> None:
        """Close at once, whatever is in flight."""
        self.writer.transport.abort()


class KeepAliveRequest(BaseRequest):
    """Bot API calls over pooled HTTP/1.1 keep-alive connections (see the module's notes).

    Args:
        connection_pool_size: Connections open at once (PTB's default for the bot: 256; 1
            for ``getUpdates``).
        read_timeout: Seconds to wait for the answer (None: forever); as the other timeouts,
            PTB's defaults.
        write_timeout: Seconds the request may take to send.
        connect_timeout: Seconds a new connection may take to open.
        pool_timeout: Seconds to wait for a free connection when all are busy.
        media_write_timeout: The write timeout of uploads.
        keepalive_expiry: Seconds an idle connection is kept for the next call.
    """

    __slots__ = (
        "_connect_timeout",
        "_idle",
        "_keepalive_expiry",
        "_media_write_timeout",
        "_open",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_slots",
        "_ssl",
        "_uploads",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._open = True
        self._pool_size = connection_pool_size
        self._media_write_timeout = media_write_timeout
        self._keepalive_expiry = keepalive_expiry
        self._uploads: HTTPXRequest | None = None  # made at the first upload

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (``getUpdates`` adds its long-poll time to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Ready again after :meth:`shutdown` (connections open on first use)."""
        self._open = True
        if self._uploads is not None:
            await self._uploads.initialize()

    async def shutdown(self) -> None:
        """Close every idle connection; calls after this fail until :meth:`initialize`."""
        self._open = False
        for connections in self._idle.values():
            for connection in connections:
                connection.abort()
        self._idle.clear()
        if self._uploads is not None:
            await self._uploads.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One call: (HTTP status, body). Timeouts raise ``TimedOut``, a failed connection
        ``NetworkError``."""
        if not self._open:
            raise RuntimeError("This KeepAliveRequest is not initialized!")
        if request_data is not None and request_data.contains_files:
            return await self._upload_request().do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        target = _target(url)
        head = f"{method} {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
        head += f"User-Agent: {self.USER_AGENT}\r\nAccept: */*\r\n"
        body = b""
        if method == "POST":
            params = request_data.json_parameters if request_data is not None else {}
            body = urllib.parse.urlencode(params).encode() if params else b""
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
            head += f"Content-Length: {len(body)}\r\n"
        request = (head + "\r\n").encode("latin-1") + body
        slots = self._slots
        if slots.locked():
            try:
                async with asyncio.timeout(_value(pool_timeout, self._pool_timeout)):
                    await slots.acquire()
            except TimeoutError:
                raise TimedOut(message=POOL_TIMEOUT_MESSAGE) from None
        else:
            await slots.acquire()
        try:
            connection = self._idle_connection(target.key)
            if connection is None:
                connection = await self._connect(target.key, connect_timeout)
            try:
                status, payload, keep = await self._exchange(
                    connection, request, write_timeout, read_timeout
                )
            except BaseException:
                connection.abort()  # never reuse a connection in an unknown state
                raise
            if keep and self._open:
                connection.idle_since = time.monotonic()
                self._idle.setdefault(target.key, []).append(connection)
            else:
                connection.abort()
            return status, payload
        finally:
            slots.release()

    def _upload_request(self) -> HTTPXRequest:
        if self._uploads is None:
            self._uploads = HTTPXRequest(
                connection_pool_size=self._pool_size,
                read_timeout=self._read_timeout,
                write_timeout=self._write_timeout,
                connect_timeout=self._connect_timeout,
                pool_timeout=self._pool_timeout,
                media_write_timeout=self._media_write_timeout,
            )
        return self._uploads

    def _idle_connection(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable(now, self._keepalive_expiry):
                return connection
            connection.abort()
        return None

    async def _connect(
        self, key: tuple[str, str, int], connect_timeout: ODVInput[float]
    ) -> _Connection:
        scheme, host, port = key
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = _ssl_context()
            context = self._ssl
        try:
            async with asyncio.timeout(_value(connect_timeout, self._connect_timeout)):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=context, limit=MAX_HEAD
                )
        except TimeoutError as error:
            raise TimedOut from error
        except (OSError, ssl.SSLError) as error:
            raise NetworkError(f"ConnectError: {error}") from error
        return _Connection(reader, writer)

    async def _exchange(
        self,
        connection: _Connection,
        request: bytes,
        write_timeout: ODVInput[float],
        read_timeout: ODVInput[float],
    ) -> tuple[int, bytes, bool]:
        """Send ``request`` and read the answer: (status, body, whether to keep the line)."""
        try:
            connection.writer.write(request)
            if connection.writer.transport.get_write_buffer_size():
                async with asyncio.timeout(_value(write_timeout, self._write_timeout)):
                    await connection.writer.drain()
            async with asyncio.timeout(_value(read_timeout, self._read_timeout)):
                return await _read_response(connection.reader)
        except TimeoutError as error:
            raise TimedOut from error
        except asyncio.IncompleteReadError as error:
            raise NetworkError(
                "RemoteProtocolError: Server disconnected without sending a complete response."
            ) from error
        except (OSError, asyncio.LimitOverrunError, ValueError, zlib.error) as error:
            raise NetworkError(f"{type(error).__name__}: {error}") from error


def _value(given: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(given, DefaultValue) else given


def _ssl_context() -> ssl.SSLContext:
    """Certificates as httpx verifies them (certifi's bundle)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and keep-alive of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:  # the body runs to the end of the connection
        body = await reader.read()
        keep = False
    encoding = headers.get("content-encoding", "identity").lower()
    if encoding in ("gzip", "deflate"):  # not asked for, but decoded should a server send it
        body = zlib.decompress(body, 31 if encoding == "gzip" else zlib.MAX_WBITS)
    elif encoding != "identity":
        raise ValueError(f"unsupported content encoding {encoding!r}")
    return status, body, keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


__all__ = ["POOL_TIMEOUT_MESSAGE", "KeepAliveRequest"]
