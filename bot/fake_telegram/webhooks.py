"""Webhook delivery of the HTTP Bot API fake: queued updates POSTed to the bot, like Telegram.

Once the bot called ``setWebhook``, :class:`WebhookDelivery` posts each queued update as JSON
to the webhook URL, with the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was
registered. By default updates go one at a time, in the order they were queued (benchmarks
may allow several connections, as Telegram does, keeping each user's updates in order); an
update leaves the queue only when the bot answered 2xx. Any other status, a timeout or a
refused connection is retried (the same update, so later ones wait behind it) after a
backoff that doubles up to a ceiling, as Telegram does (its own backoff is slower; tests
need it quick).

The posts go over kept-alive connections by a small HTTP/1.1 client of its own
(:class:`_Poster`), not httpx: benchmarks run this fake on the bot's cores, and httpx's
layers cost the fake more CPU per update than the bot's webhook server spends taking it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.webhook_front import user_of

if TYPE_CHECKING:
    from bot.fake_telegram.api import FakeBotApi

log = logging.getLogger("bot.fake_telegram.webhooks")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an update: its id and the status, or the error's name."""

    update_id: int
    outcome: int | str
    seconds: float = 0.0
    """How long the bot took to answer (or to fail)."""

    @property
    def ok(self) -> bool:
        """True when the bot took the update (a 2xx answer)."""
        return isinstance(self.outcome, int) and 200 <= self.outcome < 300


class WebhookDelivery:
    """Posts ``fake``'s queued updates to its webhook URL while running (see module doc).

    Args:
        fake: The Bot API fake whose queue and webhook settings are used.
        first_retry: Seconds before the first retry of a failed update.
        max_retry: The longest wait between retries.
        timeout: Seconds the bot may take to answer one delivery.
        task_name: The name of its tasks (a driver that waits for the bot's tasks skips
            the fake's by name).
        connections: Deliveries at once (``setWebhook``'s ``max_connections``, which is
            40 unless set). With 1, every update waits for the one before it; with more,
            only the updates of the same user do (one user's stay in order, in flight
            one at a time), so one user's failing update holds up only that user.
    """

    def __init__(
        self,
        fake: FakeBotApi,
        *,
        first_retry: float = 0.05,
        max_retry: float = 1.0,
        timeout: float = 10.0,
        connections: int = 1,
        task_name: str = "fake-telegram-webhook-delivery",
    ) -> None:
        self.fake = fake
        self.task_name = task_name
        self.connections = connections
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.timeout = timeout
        self.attempts: list[Delivery] = []
        self._retry_at: dict[object, float] = {}  # key -> when its first update is tried again
        self._delay: dict[object, float] = {}  # key -> its next backoff
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin delivering (in the running loop)."""
        self.fake._update_waiters.add(self._wake)  # queue_update wakes us like a long poll
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def close(self) -> None:
        """Stop delivering; an update in flight stays queued."""
        self.fake._update_waiters.discard(self._wake)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def delivered(self) -> list[int]:
        """Ids of the updates the bot took, in order."""
        return [attempt.update_id for attempt in self.attempts if attempt.ok]

    def _key(self, update: dict[str, Any]) -> object:
        """Updates of one key go one at a time, in order: all of them on one connection."""
        return None if self.connections == 1 else ("user", user_of(update))

    def _next(self, busy: set[object], now: float) -> dict[str, Any] | None:
        """The first queued update whose key has none in flight and no retry pending."""
        blocked = set(busy)
        for update in self.fake._pending_updates:
            key = self._key(update)
            if key in blocked:
                continue
            if self._retry_at.get(key, 0.0) > now:
                blocked.add(key)  # its later updates wait behind the one to retry
                continue
            return update
        return None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        busy: set[object] = set()
        tasks: set[asyncio.Task[None]] = set()
        client = _Poster(self.timeout)
        try:
            while True:
                self._wake.clear()
                fake = self.fake
                update = None
                if fake.webhook_url and len(busy) < self.connections:
                    update = self._next(busy, loop.time())
                if update is None:
                    waits = [at - loop.time() for at in self._retry_at.values()]
                    pause = min([0.05, *(w for w in waits if w > 0)])
                    # A timer, not wait_for: idle, the delivery starts no task (a driver
                    # waiting for the bot's tasks to finish would wait forever).
                    timer = loop.call_later(pause, self._wake.set)
                    try:
                        await self._wake.wait()
                    finally:
                        timer.cancel()
                    continue
                key = self._key(update)
                busy.add(key)
                task = asyncio.create_task(
                    self._deliver(client, update, key, busy), name=self.task_name
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            client.close()

    async def _deliver(
        self, client: _Poster, update: dict[str, Any], key: object, busy: set[object]
    ) -> None:
        fake = self.fake
        try:
            began = time.perf_counter()
            outcome = await self._post(client, fake.webhook_url, fake.webhook_secret, update)
            attempt = Delivery(int(update["update_id"]), outcome, time.perf_counter() - began)
            self.attempts.append(attempt)
            if attempt.ok:
                with contextlib.suppress(ValueError):  # deleteWebhook may have dropped it
                    fake._pending_updates.remove(update)
                self._retry_at.pop(key, None)
                self._delay.pop(key, None)
                return
            log.info("webhook delivery of %s failed (%s)", attempt.update_id, outcome)
            delay = self._delay.get(key, self.first_retry)
            self._retry_at[key] = asyncio.get_running_loop().time() + delay
            self._delay[key] = min(delay * 2, self.max_retry)
        finally:
            busy.discard(key)
            self._wake.set()

    @staticmethod
    async def _post(client: _Poster, url: str, secret: str, update: dict[str, object]) -> int | str:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        return await client.post(url, json.dumps(update).encode(), headers)


class _Poster:
    """POSTs over kept-alive HTTP/1.1 connections (plain http, as the tests' webhooks are).

    A connection carries one request at a time and goes back to the idle ones when its
    answer was read whole; a failure or a timeout closes it. The outcome is the status, or
    the failure's name (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``).
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
        self._idle = {}

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int | str:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        idle = self._idle.setdefault((host, port), [])
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    reused = bool(idle)
                    if reused:
                        reader, writer = idle.pop()
                    else:
                        try:
                            reader, writer = await asyncio.open_connection(host, port)
                        except OSError:
                            return "ConnectError"
                    writer.write(request)
                    try:
                        status, keep = await _read_answer(reader)
                    except (ConnectionError, asyncio.IncompleteReadError):
                        writer.transport.abort()
                        writer = None
                        if reused:
                            continue  # the server closed a kept-alive connection: a new one
                        return "RemoteProtocolError"
                    if keep:
                        idle.append((reader, writer))
                    else:
                        writer.close()
                    return status
        except TimeoutError:
            if writer is not None:
                writer.transport.abort()
            return "ReadTimeout"
        except ValueError:  # not an HTTP answer
            if writer is not None:
                writer.transport.abort()
            return "RemoteProtocolError"

    def close(self) -> None:
        """Close every idle connection."""
        for connections in self._idle.values():
            for _, writer in connections:
                writer.transport.abort()
        self._idle.clear()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of one HTTP/1.1 answer (its body read and dropped), and whether the
    connection may carry another request."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip().lower()
    if "content-length" in fields:
        length = int(fields["content-length"])
        if length:
            await reader.readexactly(length)
        return status, fields.get("connection") != "close"
    # No length (chunked, or until the end): read no further, use the connection no more.
    return status, False


__all__ = ["SECRET_HEADER", "Delivery", "WebhookDelivery"]
