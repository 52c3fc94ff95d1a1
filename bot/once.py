"""Updates acted on once across processes and restarts (see :mod:`tutor.deliveries`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update

from tutor.deliveries import CLAIM, UpdateHandled, UpdateLog, digest_of

log = logging.getLogger("bot.once")


async def once(updates: UpdateLog, update: object, coroutine: Awaitable[Any]) -> None:
    """Run ``coroutine`` (the handling of ``update``) unless a process handled it already,
    or is handling it now; an update's row is marked done once its handlers finished.

    The update is recorded as begun by the first write transaction of its handling, or just
    before its first call to Telegram (:func:`tutor.deliveries.settle`); found handled
    there, it stops before it acted (that transaction rolls back, that call is not made).
    """
    if not isinstance(update, Update):
        await coroutine
        return
    claim = updates.claim(update.update_id, digest_of(update.to_json()))
    token = CLAIM.set(claim)
    try:
        await coroutine  # cancelled or failed, it stays unfinished: a redelivery runs it again
    except UpdateHandled:
        log.info("update %s was handled already: acknowledged and skipped", update.update_id)
        return
    finally:
        CLAIM.reset(token)
        if claim.state == "pending":
            claim.state = "closed"  # wrote and sent nothing: nothing to record
    if claim.state == "claimed":
        updates.done(update.update_id)
