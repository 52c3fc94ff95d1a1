"""The offline Bot API fake served over real HTTP, for tests that run the bot as a process.

:class:`HttpBotApi` wraps a :class:`bot.fake_telegram.api.FakeBotApi` (all state and Telegram rules
live there) in a small HTTP/1.1 server on ``asyncio.start_server``. Point the bot at it with
``TELEGRAM_API_BASE_URL=http://127.0.0.1:<port>/bot`` (and the file URL likewise): it answers
``POST /bot<token>/<method>`` (form-encoded or multipart, as PTB sends them) and
``GET /file/bot<token>/<path>`` downloads.

Faults that only exist on a wire are added here: :meth:`HttpBotApi.drop_next` closes the
connection without an answer (a dropped connection), :meth:`HttpBotApi.hang_next` answers
only after a delay (a timeout on the client's side). The fake's own ``fail_next`` faults
("timeout", "network") turn into a hang and a drop respectively.

Long polling (``getUpdates`` with a timeout) is answered as soon as an update is queued and
given up when the client goes away, so a bot killed mid-poll leaves nothing waiting. After
``setWebhook``, queued updates are POSTed to the webhook instead
(:class:`bot.fake_telegram.webhooks.WebhookDelivery`, :attr:`HttpBotApi.webhooks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import json
import logging
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, cast

from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.webhooks import WebhookDelivery

log = logging.getLogger("bot.fake_telegram.http_server")

MAX_BODY = 64 * 1024 * 1024
CONNECTION_TASK = "fake-telegram-http-connection"
"""Name of the server's task per client connection (it lives as long as the keep-alive)."""
# Parameters that are plain strings on the wire; everything else PTB sends JSON-encoded.
_TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "parse_mode",
        "url",
        "action",
        "language_code",
        "secret_token",
        "file_id",
        "inline_message_id",
        "photo",
        "document",
        "audio",
        "voice",
        "emoji",
        "description",
        "short_description",
        "name",
        "title",
        "question",
        "explanation",
        "explanation_parse_mode",
        "question_parse_mode",
        "type",
    }
)
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


@dataclass
class _WireFault:
    method: str
    kind: str  # "drop" or "hang"
    seconds: float
    remaining: int


class _WireRequestData:
    """What :func:`bot.fake_telegram.api._decode` reads from a PTB ``RequestData``."""

    def __init__(self, parameters: dict[str, Any], files: dict[str, tuple[str, bytes, str]]):
        self.parameters = parameters
        self.multipart_data = files
        self.json_payload = b""


def decode_value(name: str, raw: str) -> Any:
    """A form value as PTB meant it: JSON for structured parameters, else the string."""
    if name in _TEXT_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_form(
    content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes, str]]]:
    """Parameters and uploaded files of a urlencoded or multipart body."""
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                files[str(name)] = (filename, payload, part.get_content_type())
            else:
                params[str(name)] = decode_value(str(name), payload.decode("utf-8"))
    elif body:
        for name, value in urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            params[name] = decode_value(name, value)
    return params, files


class HttpBotApi:
    """Serves a :class:`FakeBotApi` over HTTP on ``host``:``port`` (0 picks a free port)."""

    def __init__(
        self, fake: FakeBotApi | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.fake = fake or FakeBotApi(require_known_chat=False)
        self.host = host
        self.port = port
        self.requests = 0
        self.dropped = 0
        self.arrivals: list[tuple[float, str]] = []
        """(``time.perf_counter()``, Bot API method) of every call as it arrives: a long poll
        is only logged by the fake once answered, its arrival is the moment polling began."""
        self._server: asyncio.Server | None = None
        self._faults: list[_WireFault] = []
        self._connections: set[asyncio.Task[None]] = set()
        self.webhooks = WebhookDelivery(self.fake, task_name=CONNECTION_TASK)
        """Delivers queued updates once the bot set a webhook; its ``attempts`` log each try."""

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> HttpBotApi:
        """Listen; returns self."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self.webhooks.start()
        return self

    async def close(self) -> None:
        """Stop delivering and listening, and drop every open connection."""
        await self.webhooks.close()
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> HttpBotApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """The value for ``TELEGRAM_API_BASE_URL``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        """The value for ``TELEGRAM_API_FILE_BASE_URL``."""
        return f"http://{self.host}:{self.port}/file/bot"

    # -- wire faults ------------------------------------------------------------------------

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """Close the connection of the next ``times`` calls of ``method`` without answering."""
        self._faults.append(_WireFault(method, "drop", 0.0, times))

    def hang_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` only after ``seconds``."""
        self._faults.append(_WireFault(method, "hang", seconds, times))

    def _wire_fault(self, method: str) -> _WireFault | None:
        for fault in self._faults:
            if fault.method in ("*", method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- HTTP -------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        task.set_name(CONNECTION_TASK)  # a driver waiting for the bot's work skips these
        self._connections.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, target, headers, body = request
                self.requests += 1
                answer = await self._answer(method, target, headers, body, reader)
                if answer is None:  # drop the connection: no status line at all
                    self.dropped += 1
                    writer.transport.abort()
                    break
                status, payload = answer
                reason = _REASONS.get(status, "Error")
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        finally:
            self._connections.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        reader: asyncio.StreamReader,
    ) -> tuple[int, bytes] | None:
        url = f"http://{self.host}:{self.port}{target}"
        path = urllib.parse.urlsplit(target).path
        if method == "GET" and path.startswith("/file/"):
            try:
                return self.fake._download(url)
            except TimedOut:
                await asyncio.sleep(3600)  # the client times out first and goes away
                return None
            except NetworkError:
                return None
        api_method = path.rstrip("/").rsplit("/", 1)[-1]
        self.arrivals.append((time.perf_counter(), api_method))
        params, files = parse_form(headers.get("content-type", ""), body)
        if method == "GET":
            query = urllib.parse.urlsplit(target).query
            for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
                params[name] = decode_value(name, value)
        fault = self._wire_fault(api_method)
        if fault is not None and fault.kind == "drop":
            return None
        if fault is not None and fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
        if api_method == "getUpdates" and params.get("timeout"):
            await self._long_poll(params, reader)
            if reader.at_eof():  # the client went away (killed): nobody to answer
                return None
            params["timeout"] = 0  # answered now: the fake must not wait again
        data = cast(RequestData, _WireRequestData(params, files))
        try:
            return await self.fake.do_request(url, "POST", data)
        except TimedOut:
            await asyncio.sleep(3600)  # the client times out first and goes away
            return None
        except NetworkError:
            return None

    async def _long_poll(self, params: dict[str, Any], reader: asyncio.StreamReader) -> None:
        """Wait until an update at or above ``offset`` is queued, the timeout, or a hang-up."""
        offset = int(params.get("offset") or 0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params["timeout"])
        while loop.time() < deadline:
            if any(u["update_id"] >= offset for u in self.fake._pending_updates):
                return
            if reader.at_eof():
                return
            await asyncio.sleep(0.01)


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    """One request (method, target, lower-cased headers, body); None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise ConnectionError("header too large") from None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if length > MAX_BODY:
        raise ConnectionError("body too large")
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body


__all__ = ["CONNECTION_TASK", "HttpBotApi", "decode_value", "parse_form"]
