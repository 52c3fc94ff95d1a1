"""A worker's end of ``serve --workers N``: updates the front forwards, queued for the bot.

Each worker listens on 127.0.0.1 at its own port (:data:`bot.webhook_front.WORKER_PATH`),
checks the webhook's secret token header like PTB's own webhook server, and puts each update
on the application's update queue before answering 200: the front tells Telegram only then.
Workers never call ``setWebhook``; the front registered the webhook once.
"""

from __future__ import annotations

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


class _UpdateHandler(tornado.web.RequestHandler):
    """The front's POST of one update."""

    def initialize(self, bot_application: AnyApplication, secret: str) -> None:
        self.application_ = bot_application
        self.secret = secret

    async def post(self) -> None:
        if self.request.headers.get(SECRET_HEADER) != self.secret:
            self.set_status(403)
            return
        try:
            update = Update.de_json(json.loads(self.request.body), self.application_.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("an update that is not one was refused")
            self.set_status(400)
            return
        await self.application_.update_queue.put(update)


async def start_worker_server(
    application: AnyApplication, port: int, secret: str
) -> tornado.httpserver.HTTPServer:
    """Listen on 127.0.0.1:``port`` for forwarded updates of ``application``."""
    app = tornado.web.Application(
        [(WORKER_PATH, _UpdateHandler, {"bot_application": application, "secret": secret})],
        log_function=log_refusals,
    )
    server = tornado.httpserver.HTTPServer(app)
    server.listen(port, "127.0.0.1")
    return server


__all__ = ["start_worker_server"]
