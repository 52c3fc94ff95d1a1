"""Updates acted on once across processes and restarts (see :mod:`tutor.deliveries`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram import Update

from tutor.deliveries import UpdateLog, digest_of

log = logging.getLogger("bot.once")


async def once(updates: UpdateLog, update: object, coroutine: Awaitable[Any]) -> None:
    """Run ``coroutine`` (the handling of ``update``) unless a process handled it already,
    or is handling it now; an update's row is marked done once its handlers finished."""
    if not isinstance(update, Update):
        await coroutine
        return
    if not await updates.begin(update.update_id, digest_of(update.to_json())):
        if isinstance(coroutine, Coroutine):
            coroutine.close()  # never started: nothing ran
        log.info("update %s was handled already: acknowledged and skipped", update.update_id)
        return
    await coroutine  # cancelled or failed, it stays unfinished: a redelivery runs it again
    updates.done(update.update_id)
