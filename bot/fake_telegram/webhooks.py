"""Webhook delivery of the HTTP Bot API fake: queued updates POSTed to the bot, like Telegram.

Once the bot called ``setWebhook``, :class:`WebhookDelivery` posts each queued update as JSON
to the webhook URL, with the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was
registered. Updates go one at a time, in the order they were queued; an update leaves the
queue only when the bot answered 2xx. Any other status, a timeout or a refused connection is
retried (the same update, so later ones wait behind it) after a backoff that doubles up to a
ceiling, as Telegram does (its own backoff is slower; tests need it quick).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

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
    """

    def __init__(
        self,
        fake: FakeBotApi,
        *,
        first_retry: float = 0.05,
        max_retry: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.fake = fake
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.timeout = timeout
        self.attempts: list[Delivery] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin delivering (in the running loop)."""
        self.fake._update_waiters.add(self._wake)  # queue_update wakes us like a long poll
        self._task = asyncio.create_task(self._run(), name="fake-telegram-webhook-delivery")

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

    async def _run(self) -> None:
        delay = self.first_retry
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while True:
                fake = self.fake
                if not fake.webhook_url or not fake._pending_updates:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 0.05)  # setWebhook sets none
                    continue
                update = fake._pending_updates[0]
                began = time.perf_counter()
                outcome = await self._post(client, fake.webhook_url, fake.webhook_secret, update)
                took = time.perf_counter() - began
                attempt = Delivery(int(update["update_id"]), outcome, took)
                self.attempts.append(attempt)
                if attempt.ok:
                    with contextlib.suppress(ValueError):  # deleteWebhook may have dropped it
                        fake._pending_updates.remove(update)
                    delay = self.first_retry
                    continue
                log.info("webhook delivery of %s failed (%s)", attempt.update_id, outcome)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry)

    @staticmethod
    async def _post(
        client: httpx.AsyncClient, url: str, secret: str, update: dict[str, object]
    ) -> int | str:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        try:
            response = await client.post(url, content=json.dumps(update), headers=headers)
        except httpx.HTTPError as error:
            return type(error).__name__
        return response.status_code


__all__ = ["SECRET_HEADER", "Delivery", "WebhookDelivery"]
