"""The fake's groups and quiz polls follow Telegram's rules (limits, closing, migration)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.groups import AlreadyVoted, PollClosed
from bot.fake_telegram.objects import FakeChat, FakeUser
from tests.conftest import FakeClock

ADA = FakeUser(11, "Ada")
BO = FakeUser(12, "Bo")
CLASS = FakeChat(-300, "Class")


@pytest.fixture
async def bot(fake_api: FakeBotApi) -> AsyncIterator[Bot]:
    fake_api.set_member(CLASS, ADA, "creator")
    fake_api.set_member(CLASS, BO)
    async with Bot(fake_api.token, request=fake_api, get_updates_request=fake_api) as running:
        yield running


async def quiz(bot: Bot, **changes: object) -> object:
    params: dict[str, object] = {
        "chat_id": CLASS.id,
        "question": "Capital of France?",
        "options": ["Paris", "Lyon", "Nice"],
        "type": "quiz",
        "is_anonymous": False,
        "correct_option_ids": [0],
        "open_period": 30,
    }
    params.update(changes)
    return await bot.send_poll(**params)  # type: ignore[arg-type]


async def test_quiz_poll_limits(bot: Bot) -> None:
    message = await quiz(bot, explanation="Paris it is.")
    assert message.poll.type == "quiz" and message.poll.correct_option_ids == (0,)  # type: ignore[attr-defined]
    for changes, error in [
        ({"options": ["only one"]}, "POLL_ANSWERS_INVALID"),
        ({"options": [f"o{k}" for k in range(13)]}, "POLL_ANSWERS_INVALID"),
        ({"question": "x" * 301}, "POLL_QUESTION_INVALID"),
        ({"options": ["Paris", "y" * 101]}, "POLL_ANSWER_INVALID"),
        ({"correct_option_ids": [3]}, "wrong correct option"),
        ({"correct_option_ids": None}, "wrong correct option"),
        ({"explanation": "e" * 201}, "explanation is too long"),
        ({"explanation": "a\nb\nc\nd"}, "explanation is too long"),
        ({"open_period": 4}, "POLL_CLOSE_PERIOD_INVALID"),
    ]:
        with pytest.raises(BadRequest, match=f"(?i){error}"):
            await quiz(bot, **changes)
    twelve = await quiz(bot, options=[f"o{k}" for k in range(12)], correct_option_ids=[11])
    assert len(twelve.poll.options) == 12  # type: ignore[attr-defined]


async def test_votes_once_and_only_while_open(
    bot: Bot, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    message = await quiz(bot)
    sent = fake_api.last_message(CLASS.id)
    update = Update.de_json(fake_api.user_poll_answer(ADA, sent, 1), bot)
    assert update.poll_answer is not None and update.poll_answer.option_ids == (1,)
    assert update.poll_answer.user is not None and update.poll_answer.user.id == ADA.id
    with pytest.raises(AlreadyVoted):
        fake_api.user_poll_answer(ADA, sent, 0)
    clock.advance(seconds=31)
    with pytest.raises(PollClosed):
        fake_api.user_poll_answer(BO, sent, 0)
    with pytest.raises(BadRequest, match="already been closed"):
        await bot.stop_poll(CLASS.id, message.message_id)  # type: ignore[attr-defined]


async def test_admins_removal_and_migration(bot: Bot, fake_api: FakeBotApi) -> None:
    update = Update.de_json(fake_api.bot_added(CLASS, ADA), bot)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "member"
    assert (await bot.get_chat_member(CLASS.id, ADA.id)).status == "creator"
    assert (await bot.get_chat_member(CLASS.id, BO.id)).status == "member"
    admins = await bot.get_chat_administrators(CLASS.id)
    assert [a.user.id for a in admins] == [ADA.id]
    supergroup = FakeChat(-100300, "Class", type="supergroup")
    old, new = fake_api.migrate_group(CLASS, supergroup, ADA)
    assert old["message"]["migrate_to_chat_id"] == supergroup.id
    assert new["message"]["migrate_from_chat_id"] == CLASS.id
    with pytest.raises(ChatMigrated) as moved:
        await bot.send_message(CLASS.id, "hello")
    assert moved.value.new_chat_id == supergroup.id
    await quiz(bot, chat_id=supergroup.id)
    fake_api.bot_removed(supergroup, ADA)
    with pytest.raises(Forbidden, match="kicked"):
        await quiz(bot, chat_id=supergroup.id)
