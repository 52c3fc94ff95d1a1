"""The webhook front of ``serve --workers N``: takes Telegram's updates, hands each to a worker.

Telegram posts every update to one URL. The front listens there, checks the secret token
header, and forwards the update's bytes unchanged to one of N worker processes, chosen by a
stable hash of the update's route (:func:`route_of`): a private chat's and a poll answer's
user, so one student's updates always reach the same worker and the worker's per-user order
holds across processes; a group's chat, so every update in one group reaches the same
worker, whichever member sent it, and what a worker keeps per group in memory (the group's
outgoing limit of twenty messages a minute; the order of its commands) holds for the whole
group. Updates without either go to worker 0.

Telegram gets 200 only once the worker took the update; otherwise 503, and Telegram delivers
it again later. Order within a worker is kept even when Telegram sends updates concurrently:
forwards to one worker go one at a time over one kept-alive connection, in arrival order, and
when a forward fails, every update already waiting for that worker is refused too (else a
later update of the same student could overtake the one Telegram will redeliver).

The front parses each update's JSON only to find the user; it runs no handlers and loads no
model, so its CPU per update stays small next to a worker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import tornado.httpserver
import tornado.web

log = logging.getLogger("bot.webhook_front")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WORKER_PATH = "/update"
"""The path each worker takes forwarded updates at (on 127.0.0.1)."""
WORKER_WAIT = 5.0
"""Seconds a forward waits for a worker that is down (restarting) before Telegram gets 503."""
_UNAVAILABLE = 503


def user_of(update: dict[str, Any]) -> int | None:
    """The id of the user an update comes from (its chat's id if it names no user)."""
    for key, value in update.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        for field in ("from", "user"):
            person = value.get(field)
            if isinstance(person, dict) and isinstance(person.get("id"), int):
                return int(person["id"])
        chat = value.get("chat")
        if not isinstance(chat, dict) and isinstance(value.get("message"), dict):
            chat = value["message"].get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
    return None


def group_of(update: dict[str, Any]) -> int | None:
    """The id of the group (or channel) chat an update happens in; None in a private chat."""
    for key, value in update.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        chat = value.get("chat")
        if not isinstance(chat, dict) and isinstance(value.get("message"), dict):
            chat = value["message"].get("chat")  # a button pressed under a message
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"]) if chat.get("type", "private") != "private" else None
    return None


def route_of(update: dict[str, Any]) -> int | None:
    """What picks an update's worker: its group chat's id in a group, else its user's id."""
    group = group_of(update)
    return group if group is not None else user_of(update)


def worker_for(user_id: int | None, workers: int) -> int:
    """The worker (0 .. workers-1) that serves ``user_id``: the same one every time."""
    if user_id is None:
        return 0
    # Python's hash of an int is the int itself: stable across processes and runs.
    return hash(user_id) % workers


class WorkerLink:
    """Forwards updates to one worker, one at a time, over a kept-alive local connection."""

    def __init__(self, index: int, port: int, secret: str) -> None:
        self.index = index
        self.port = port
        self.secret = secret
        self.forwarded = 0
        self._lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._arrived = 0  # updates that came for this worker so far
        self._refuse_upto = 0  # those arrived up to here are refused: one before them failed

    async def forward(self, body: bytes) -> int | None:
        """Hand ``body`` to the worker: its status (2xx: it queued the update), None if down."""
        self._arrived += 1
        number = self._arrived
        async with self._lock:
            if number <= self._refuse_upto:
                return None
            status = await self._send(body)
            if status is not None and status < 500:
                self.forwarded += status < 300
                return status
            # Those already waiting were sent after this one: Telegram must redeliver them
            # after it, not before.
            self._refuse_upto = self._arrived
            return None

    async def _send(self, body: bytes) -> int | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WORKER_WAIT
        head = (
            f"POST {WORKER_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\n{SECRET_HEADER}: {self.secret}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        while True:
            try:
                if self._writer is None:
                    self._reader, self._writer = await asyncio.open_connection(
                        "127.0.0.1", self.port
                    )
                assert self._reader is not None
                self._writer.write(head + body)
                return await asyncio.wait_for(_read_status(self._reader), WORKER_WAIT)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
                # Not listening (starting or restarting), or it died holding the update: try
                # again until the deadline. Had it queued the update before dying, this is a
                # second delivery, as when Telegram redelivers: the bot knows answers by key.
                self.close()
                if loop.time() >= deadline:
                    log.warning("worker %d did not take an update (%r)", self.index, error)
                    return None
                await asyncio.sleep(0.05)

    def close(self) -> None:
        """Drop the connection (the next forward opens a new one)."""
        if self._writer is not None:
            self._writer.transport.abort()
        self._reader = self._writer = None


async def _read_status(reader: asyncio.StreamReader) -> int:
    """The status of one HTTP/1.1 answer, its body read and discarded."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def log_refusals(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log for refusals only: a line per update would cost CPU for nothing."""
    status = handler.get_status()
    if status >= 400:
        request = handler.request
        log.warning("%d %s %s (%s)", status, request.method, request.path, request.remote_ip)


class _FrontHandler(tornado.web.RequestHandler):
    """Telegram's POST of one update."""

    def initialize(self, front: WebhookFront) -> None:
        self.front = front

    async def post(self) -> None:
        front = self.front
        if self.request.headers.get(SECRET_HEADER) != front.secret:
            self.set_status(403)
            return
        body = self.request.body
        try:
            update = json.loads(body)
        except ValueError:
            update = None
        if not isinstance(update, dict):
            self.set_status(400)  # not an update: no retry can make it one
            return
        link = front.links[worker_for(route_of(update), len(front.links))]
        status = await link.forward(body)
        # A worker's 4xx (not an update it can read) is final; down or 5xx: Telegram retries.
        self.set_status(_UNAVAILABLE if status is None else status)


class WebhookFront:
    """Listens at ``listen``:``port`` on ``path`` and forwards to ``worker_ports`` in order."""

    def __init__(
        self, *, listen: str, port: int, path: str, secret: str, worker_ports: list[int]
    ) -> None:
        self.listen = listen
        self.port = port
        self.path = "/" + path.lstrip("/")
        self.secret = secret
        self.links = [WorkerLink(i, p, secret) for i, p in enumerate(worker_ports)]
        self._server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> None:
        """Listen (in the running loop)."""
        app = tornado.web.Application(
            [(self.path, _FrontHandler, {"front": self})], log_function=log_refusals
        )
        self._server = tornado.httpserver.HTTPServer(app, xheaders=False)
        self._server.listen(self.port, self.listen)

    async def stop(self) -> None:
        """Stop taking updates (Telegram gets refused connections and retries later)."""
        if self._server is not None:
            self._server.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.close_all_connections(), 5)
            self._server = None
        for link in self.links:
            link.close()


__all__ = [
    "SECRET_HEADER",
    "WORKER_PATH",
    "WebhookFront",
    "WorkerLink",
    "group_of",
    "log_refusals",
    "route_of",
    "user_of",
    "worker_for",
]
