"""Updates acted on once across processes and restarts (see :mod:`tutor.deliveries`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update

from tutor.deliveries import CLAIM, UpdateHandled, UpdateLog, digest_of

log = logging.getLogger("bot.once")


def update_digest(update: Update) -> str:
    """The fingerprint that tells a redelivery of ``update`` (the same content) from a new
    update that reuses its id: the ids Telegram gave its content (a message's chat, number
    and date; a button press's query id; a poll answer's poll, user and options), not the
    whole update serialised again (0.3-0.7 ms of CPU per update here)."""
    message = update.message  # an edited message would need its edit date as well
    if message is not None:
        content = f"m:{message.chat.id}:{message.message_id}:{message.date.timestamp():.0f}"
    elif update.callback_query is not None:
        content = f"c:{update.callback_query.id}"
    elif update.poll_answer is not None:
        answer = update.poll_answer
        who = answer.user.id if answer.user else answer.voter_chat.id if answer.voter_chat else 0
        content = f"p:{answer.poll_id}:{who}:{list(answer.option_ids)}"
    elif update.my_chat_member is not None:
        member = update.my_chat_member
        new = member.new_chat_member
        stamp = f"{member.date.timestamp():.0f}"
        content = f"k:{member.chat.id}:{member.from_user.id}:{stamp}:{new.status}"
    else:
        content = update.to_json()
    return digest_of(content)


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
    claim = updates.claim(update.update_id, update_digest(update))
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
