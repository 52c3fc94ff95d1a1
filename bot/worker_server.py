"""A worker's end of ``serve --workers N``: updates the front forwards, queued for the bot.

Each worker listens on 127.0.0.1 at its own port (:data:`bot.webhook_front.WORKER_PATH`),
checks the webhook's secret token header like PTB's own webhook server, and puts each update
on the application's update queue before answering 200: the front tells Telegram only then.
Workers never call ``setWebhook``; the front registered the webhook once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.ext import Application

from bot.webhook_front import SECRET_HEADER, WORKER_PATH, log_refusals

log = logging.getLogger("bot.worker_server")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class WorkerState:
    """Whether the worker still takes updates (not once it began to stop)."""

    def __init__(self) -> None:
        self.stopping = False


class _UpdateHandler(tornado.web.RequestHandler):
    """The front's POST of one update."""

    def initialize(self, bot_application: AnyApplication, secret: str, state: WorkerState) -> None:
        self.application_ = bot_application
        self.secret = secret
        self.state = state

    async def post(self) -> None:
        if self.request.headers.get(SECRET_HEADER) != self.secret:
            self.set_status(403)
            return
        if self.state.stopping:  # queued now, it might never be handled: the front retries
            self.set_status(503)
            return
        try:
            update = Update.de_json(json.loads(self.request.body), self.application_.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("an update that is not one was refused")
            self.set_status(400)
            return
        await self.application_.update_queue.put(update)


class WorkerServer:
    """Listens on 127.0.0.1:``port`` for forwarded updates of ``application``."""

    def __init__(self, application: AnyApplication, port: int, secret: str) -> None:
        self.state = WorkerState()
        arguments = {"bot_application": application, "secret": secret, "state": self.state}
        app = tornado.web.Application(
            [(WORKER_PATH, _UpdateHandler, arguments)], log_function=log_refusals
        )
        self._server = tornado.httpserver.HTTPServer(app)
        self._port = port

    def start(self) -> None:
        """Listen (raises OSError if the port is taken)."""
        self._server.listen(self._port, "127.0.0.1")

    async def stop(self) -> None:
        """Take no more updates: refuse on open connections, then close them."""
        self.state.stopping = True
        self._server.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.close_all_connections(), 5)


__all__ = ["WorkerServer", "WorkerState"]
