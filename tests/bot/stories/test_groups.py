"""Group study stories: a class with the bot, through the offline Bot API.

Ms Lee adds the bot to her class group and picks a deck; Ada, Bo and Cy answer quiz polls.
Time is the test's clock: the fake closes polls on it, and the bot's outgoing limits and
pacing wait on it too (a wait moves the clock), so a 30-second poll costs no real time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import build_application, rate_limiter
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.groups import AlreadyVoted, PollClosed
from bot.fake_telegram.objects import FakeChat, FakeUser, SentMessage
from bot.group_quizzes import RUNNER_KEY, GroupQuizRunner
from bot.i18n import plain
from bot.sender import Pacer
from tests.bot.stories.conftest import story_settings
from tests.conftest import FakeClock
from tutor.service import TutorService

TEACHER = FakeUser(900, "Ms Lee", language_code="en")
ADA = FakeUser(901, "Ada", language_code="en")
BO = FakeUser(902, "Bo", language_code="en")
CY = FakeUser(903, "Cy", language_code="zh-hans")
CLASS = FakeChat(-4001, "History 9B")
SUPER = FakeChat(-1004001, "History 9B", type="supergroup")

CAPITALS: dict[str, Any] = {
    "metatutor": 1,
    "deck": {"slug": "capitals", "name": "Capitals", "language": "en"},
    "items": [
        {
            "id": f"c{k}",
            "type": "multiple_choice",
            "question": f"What is the capital of {country}?",
            "options": [capital, *others],
            "answer": capital,
            "explanation": f"{capital} is the capital of {country}.",
            "tags": [f"region{k % 2}"],
        }
        for k, (country, capital, others) in enumerate(
            [
                ("France", "Paris", ["Lyon", "Nice"]),
                ("Japan", "Tokyo", ["Osaka", "Kyoto"]),
                ("Kenya", "Nairobi", ["Mombasa", "Kisumu"]),
                ("Peru", "Lima", ["Cusco", "Arequipa"]),
                ("Canada", "Ottawa", ["Toronto", "Montreal"]),
            ]
        )
    ],
}


def seconds(clock: FakeClock) -> float:
    return clock().timestamp()


def virtual_sleep(clock: FakeClock) -> Any:
    async def sleep(delay: float) -> None:
        if delay > 0:
            clock.advance(seconds=delay)
        await asyncio.sleep(0)

    return sleep


@pytest.fixture
async def tutor(service_factory: Any) -> TutorService:
    service: TutorService = await service_factory()
    await service.import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    return service


@pytest.fixture
def fake(clock: FakeClock) -> FakeBotApi:
    api = FakeBotApi(clock=clock)
    api.rate_limit(max_per_second=30, per_group_per_minute=20)  # Telegram's limits, enforced
    return api


def group_bot(
    tutor: TutorService, fake: FakeBotApi, clock: FakeClock, **settings_changes: Any
) -> Any:
    """The bot on the fake, its limiter and the group pacer on the test's clock."""
    timing = {"clock": lambda: seconds(clock), "sleep": virtual_sleep(clock)}
    settings = story_settings().model_copy(update=settings_changes)
    application = build_application(
        settings, tutor, request=fake, limiter=rate_limiter(settings, **timing)
    )
    pacer = Pacer(settings.broadcast_rate, 1.0, timing["clock"], timing["sleep"])
    application.bot_data[RUNNER_KEY] = GroupQuizRunner(tutor, application.bot, pacer)
    return application


@pytest.fixture
async def chat(
    tutor: TutorService, fake: FakeBotApi, clock: FakeClock
) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(group_bot(tutor, fake, clock)) as driver:
        yield driver


def runner(chat: ChatDriver) -> GroupQuizRunner:
    found = chat.application.bot_data[RUNNER_KEY]
    assert isinstance(found, GroupQuizRunner)
    return found


def polls(chat: ChatDriver, group: FakeChat = CLASS) -> list[SentMessage]:
    return [m for m in chat.messages(group) if m.poll is not None]


def right_option(message: SentMessage) -> int:
    assert message.poll is not None
    return message.poll.correct_option_ids[0]


async def attempts_of(tutor: TutorService, user: FakeUser) -> list[tuple[str, int]]:
    async with (
        tutor.db.read() as conn,
        conn.execute(
            "SELECT idempotency_key, correct FROM attempts WHERE user_id = ? ORDER BY id",
            (user.id,),
        ) as cur,
    ):
        return [(row[0], row[1]) for row in await cur.fetchall()]


async def set_up_class(chat: ChatDriver) -> None:
    """Ms Lee adds the bot, is the group's admin, and picks the Capitals deck."""
    chat.fake.set_member(CLASS, TEACHER, "creator")
    for student in (ADA, BO, CY):
        chat.fake.set_member(CLASS, student)
    turn = await chat.feed(chat.fake.bot_added(CLASS, TEACHER))
    assert "Hello, History 9B!" in turn.text and len(turn.new) == 1
    await chat.send(TEACHER, "/group_settings", chat=CLASS)
    await chat.press(TEACHER, "➕ Capitals", chat=CLASS)


async def test_the_bot_joins_says_hello_once_and_leaving_stops_everything(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    await set_up_class(chat)
    await chat.send(TEACHER, "/group_settings time 18:00", chat=CLASS)
    await chat.send(ADA, "/quiz 3", chat=CLASS)
    assert len(polls(chat)) == 1
    turn = await chat.feed(chat.fake.bot_removed(CLASS, TEACHER))
    assert turn.new == []
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and not group.active
    # the running quiz is over and nothing more goes to the group, now or at 18:00
    clock.advance(hours=10)
    turn = await chat.run(runner(chat).tick())
    assert turn.calls == []
    async with tutor.db.read() as conn, conn.execute("SELECT status FROM group_quizzes") as cur:
        assert [row[0] for row in await cur.fetchall()] == ["stopped"]
    # added again: hello again, the deck and daily time kept
    turn = await chat.feed(chat.fake.bot_added(CLASS, TEACHER))
    assert "Hello" in turn.text
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and group.active and group.deck_ids and group.daily_quiz_time


async def test_a_member_who_is_not_an_admin_is_refused_at_group_settings(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await set_up_class(chat)
    before = await tutor.groups.group(CLASS.id)
    turn = await chat.send(ADA, "/group_settings time 06:00", chat=CLASS)
    assert turn.text == "Only this group's admins can do that. Nothing was changed."
    turn = await chat.send(ADA, "/group_settings", chat=CLASS)
    assert "admins" in turn.text and not turn.new[0].buttons
    # a press on the admin's settings message is refused too, with a toast
    message = chat.message_with_button(CLASS, "c:len:10")
    turn = await chat.press(ADA, "c:len:10", message=message)
    assert turn.answer is not None and turn.answer.text == (
        "Only this group's admins can change its settings."
    )
    assert await tutor.groups.group(CLASS.id) == before
    # the admin's own press works
    turn = await chat.press(TEACHER, "c:len:10", message=message)
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and group.daily_length == 10
    # ending a quiz is the admins' too
    await chat.send(ADA, "/quiz 2", chat=CLASS)
    turn = await chat.send(ADA, "/stop", chat=CLASS)
    assert turn.text == "Only this group's admins can do that. Nothing was changed."
    turn = await chat.send(TEACHER, "/stop", chat=CLASS)
    assert turn.text == "Quiz stopped. /top shows the ranking."


async def test_a_quiz_of_three_with_every_member_answering(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    await set_up_class(chat)
    turn = await chat.send(BO, "/quiz 3", chat=CLASS)
    [first] = [m for m in turn.new if m.poll is not None]
    poll = first.poll
    assert poll is not None and poll.type == "quiz" and not poll.is_anonymous
    assert poll.open_period == 30 and poll.question.startswith("1/3 · What is the capital")
    right = right_option(first)
    wrong = (right + 1) % len(poll.options)
    # Ada and Cy right, Bo wrong; Bo tries to change his answer: Telegram does not let him
    await chat.feed(chat.fake.user_poll_answer(ADA, first, right))
    await chat.feed(chat.fake.user_poll_answer(BO, first, wrong))
    with pytest.raises(AlreadyVoted):
        chat.fake.user_poll_answer(BO, first, right)
    await chat.feed(chat.fake.user_poll_answer(CY, first, right))
    # 30 s later the poll is closed: one result line and the next poll
    clock.advance(seconds=32)
    turn = await chat.run(runner(chat).tick())
    assert [m.poll is None for m in turn.new] == [True, False]
    assert turn.new[0].plain.startswith("Question 1/3: 2 of 3 right. Answer: ")
    second = turn.new[1]
    for user in (ADA, BO):
        await chat.feed(chat.fake.user_poll_answer(user, second, right_option(second)))
    clock.advance(seconds=32)
    # Cy is too late: the poll is closed and Telegram refuses the vote, so nothing is logged
    with pytest.raises(PollClosed):
        chat.fake.user_poll_answer(CY, second, right_option(second))
    turn = await chat.run(runner(chat).tick())
    third = polls(chat)[-1]
    assert "Question 2/3: 2 of 2 right." in turn.text
    await chat.feed(chat.fake.user_poll_answer(ADA, third, right_option(third)))
    clock.advance(seconds=32)
    turn = await chat.run(runner(chat).tick())
    # the last result and the ranking come in one message
    [end] = turn.new
    assert "Question 3/3: 1 of 1 right." in end.plain and "Quiz over: 3 questions." in end.plain
    assert end.plain.splitlines()[-3:] == ["🥇 Ada: 3/3", "🥈 Cy: 1/1", "🥉 Bo: 1/2"]
    # every answer is the member's own attempt, once; the late one is not there
    assert [c for _, c in await attempts_of(tutor, ADA)] == [1, 1, 1]
    assert [c for _, c in await attempts_of(tutor, BO)] == [0, 1]
    assert [c for _, c in await attempts_of(tutor, CY)] == [1]
    # none of them started the bot: nothing was ever sent to their private chats
    for user in (ADA, BO, CY):
        assert chat.messages(user) == []
    # /top: this week and all time, first names only
    turn = await chat.send(CY, "/top", chat=CLASS)
    assert turn.text.splitlines()[:2] == ["This week", "🥇 Ada: 3 right of 3"]
    # Telegram's limits held: no 429 anywhere
    assert all(call.error is None or "Too Many" not in call.error for call in chat.fake.calls)


async def test_a_members_group_answers_count_in_their_private_study(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    await set_up_class(chat)
    await chat.send(ADA, "/quiz 1", chat=CLASS)
    [first] = polls(chat)
    await chat.feed(chat.fake.user_poll_answer(ADA, first, right_option(first)))
    turn = await chat.send(ADA, "/stats")
    assert "Answers today: 1" in turn.text
    turn = await chat.send(ADA, "/mydata")
    document = turn.new[-1].document
    assert document is not None and b"What is the capital" in document


async def test_a_group_upgraded_to_a_supergroup_keeps_its_quiz_and_settings(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    await set_up_class(chat)
    await chat.send(TEACHER, "/group_settings time 18:00", chat=CLASS)
    await chat.send(ADA, "/quiz 2", chat=CLASS)
    [first] = polls(chat)
    await chat.feed(chat.fake.user_poll_answer(ADA, first, right_option(first)))
    old_message, new_message = chat.fake.migrate_group(CLASS, SUPER, TEACHER)
    # the bot learns of the upgrade only when a send to the old id fails (the service
    # messages arrive later): the quiz goes on in the supergroup
    clock.advance(seconds=32)
    turn = await chat.run(runner(chat).tick())
    assert any(c.error and "upgraded to a supergroup" in c.error for c in turn.calls)
    assert [m.poll is None for m in turn.new] == [True, False]
    assert {m.chat_id for m in turn.new} == {SUPER.id}
    await chat.feed(old_message, new_message)
    group = await tutor.groups.group(SUPER.id)
    assert group is not None and group.deck_ids and group.daily_quiz_time is not None
    assert await tutor.groups.group(CLASS.id) is None
    turn = await chat.send(ADA, "/top", chat=SUPER)
    assert "Ada: 1 right of 1" in turn.text


async def test_a_daily_group_quiz_survives_a_restart(
    chat: ChatDriver, tutor: TutorService, fake: FakeBotApi, clock: FakeClock, service_factory: Any
) -> None:
    await set_up_class(chat)
    await chat.send(TEACHER, "/group_settings time 18:00", chat=CLASS)
    await chat.send(TEACHER, "/group_settings length 3", chat=CLASS)
    turn = await chat.run(runner(chat).tick())  # 09:00: the slot is planned, nothing sent
    assert turn.new == []
    clock.set(clock().replace(hour=18, minute=0, second=5))
    turn = await chat.run(runner(chat).tick())
    [first] = turn.new
    assert first.poll is not None and first.poll.question.startswith("1/3 · ")
    await chat.feed(fake.user_poll_answer(ADA, first, right_option(first)))
    # 30 s on, the process writes the next poll and dies before Telegram has it
    clock.advance(seconds=32)
    async with tutor.db.read() as conn, conn.execute("SELECT id FROM group_quizzes") as cur:
        [(quiz_id,)] = list(await cur.fetchall())
    dying = await tutor.group_quizzes.step(quiz_id)
    assert dying is not None and dying.poll is not None and dying.poll.number == 2
    # a new process on the same database and the same Telegram, a few seconds later
    clock.advance(seconds=5)
    restarted = await service_factory()
    async with ChatDriver(group_bot(restarted, fake, clock)) as again:
        turn = await again.run(runner(again).tick())
        # the poll that may have reached Telegram is not sent again: the quiz goes on at 3/3
        [third] = turn.new
        assert third.poll is not None and third.poll.question.startswith("3/3 · ")
        await again.feed(fake.user_poll_answer(BO, third, right_option(third)))
        clock.advance(seconds=32)
        turn = await again.run(runner(again).tick())
        assert "Quiz over: 2 questions." in turn.text
        assert "🥇 Ada: 1/1" in turn.text and "🥈 Bo: 1/1" in turn.text
        # later runs (and later restarts) never start the 18:00 quiz again
        clock.advance(minutes=30)
        turn = await again.run(runner(again).tick())
        assert turn.new == []
    async with (
        tutor.db.read() as conn,
        conn.execute("SELECT slot, status FROM group_slots WHERE status != 'pending'") as cur,
    ):
        assert [tuple(row) for row in await cur.fetchall()] == [("2026-03-02", "started")]
    async with (
        tutor.db.read() as conn,
        conn.execute("SELECT number, status FROM group_polls ORDER BY number") as cur,
    ):
        assert [tuple(row) for row in await cur.fetchall()] == [
            (1, "closed"),
            (2, "lost"),
            (3, "closed"),
        ]
    # the next day's slot comes at 18:00 the next day
    clock.set(clock().replace(day=3, hour=18, minute=0, second=5))
    async with ChatDriver(group_bot(restarted, fake, clock)) as third_run:
        turn = await third_run.run(runner(third_run).tick())
        assert [m.poll is not None for m in turn.new] == [True]


async def test_forget_erases_a_members_group_answers_too(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await set_up_class(chat)
    await chat.send(ADA, "/quiz 1", chat=CLASS)
    [first] = polls(chat)
    for user in (ADA, BO):
        await chat.feed(chat.fake.user_poll_answer(user, first, right_option(first)))
    await chat.send(ADA, "/forget")
    await chat.press(ADA, "Erase everything")
    assert await attempts_of(tutor, ADA) == []
    async with tutor.db.read() as conn, conn.execute("SELECT user_id FROM group_answers") as cur:
        assert [row[0] for row in await cur.fetchall()] == [BO.id]
    turn = await chat.send(BO, "/top", chat=CLASS)
    assert "Ada" not in turn.text and "Bo" in turn.text


async def test_the_bots_admins_see_groups_in_admin_stats(
    tutor: TutorService, fake: FakeBotApi, clock: FakeClock
) -> None:
    application = group_bot(tutor, fake, clock, admin_ids=frozenset({TEACHER.id}))
    async with ChatDriver(application) as chat:
        await set_up_class(chat)
        await chat.send(ADA, "/quiz 1", chat=CLASS)
        [first] = polls(chat)
        await chat.feed(fake.user_poll_answer(ADA, first, right_option(first)))
        await chat.feed(fake.user_poll_answer(BO, first, (right_option(first) + 1) % 3))
        turn = await chat.send(TEACHER, "/admin_stats")
    lines = turn.new[0].plain.splitlines()
    at = lines.index("Groups (this week)")
    assert lines[at + 1] == (
        "History 9B: 2 members active, 1 quizzes (1 in all), 2 answers, accuracy 50%"
    )


async def test_typed_group_settings_and_their_mistakes(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await set_up_class(chat)
    for typed in ("tz Asia/Shanghai", "time 7:45", "exam 2026-06-15", "members off", "lang zh"):
        await chat.send(TEACHER, f"/group_settings {typed}", chat=CLASS)
    group = await tutor.groups.group(CLASS.id)
    assert group is not None
    assert (group.timezone, str(group.daily_quiz_time), str(group.exam_date)) == (
        "Asia/Shanghai",
        "07:45:00",
        "2026-06-15",
    )
    assert not group.members_start and group.language == "zh"
    turn = await chat.send(TEACHER, "/group_settings", chat=CLASS)
    assert "每日测验：07:45（Asia/Shanghai），5 道题，每题 30 秒" in turn.text
    # members may no longer start quizzes; mistakes change nothing and say so
    turn = await chat.send(ADA, "/quiz", chat=CLASS)
    assert turn.text == "本群只有管理员可以发起测验。请联系管理员，或等待每日测验。"
    await chat.send(TEACHER, "/group_settings lang en", chat=CLASS)
    group = await tutor.groups.group(CLASS.id)
    for wrong, says in [
        ("tz Mars/Olympus", "I do not know the time zone “Mars/Olympus”."),
        ("time 25:00", "“25:00” is not a time."),
        ("exam 2020-01-01", "“2020-01-01” is not a date after today."),
        ("length 99", "“99” questions is not possible: choose 1 to 20"),
        ("members maybe", "Write on or off"),
        ("deck nosuch", "I do not know the deck “nosuch”."),
        ("colour blue", "I do not know that setting."),
    ]:
        turn = await chat.send(TEACHER, f"/group_settings {wrong}", chat=CLASS)
        assert len(turn.new) == 1 and turn.text.startswith(says), (wrong, turn.text)
    assert await tutor.groups.group(CLASS.id) == group
    # times are read as they are written anywhere else in the tutor
    for typed, meant in [("7:45pm", "19:45:00"), ("19.45", "19:45:00"), ("晚上8点", "20:00:00")]:
        await chat.send(TEACHER, f"/group_settings time {typed}", chat=CLASS)
        group = await tutor.groups.group(CLASS.id)
        assert group is not None and str(group.daily_quiz_time) == meant, typed


GROUP_FAIL_ONCE = ("sendPoll", "getChatMember")
"""The group calls whose one failure the stories below tell (test_each_method_fails_once
checks every Bot API method the stories use has such a story)."""


@pytest.mark.parametrize("fault", [502, "timeout"])
async def test_a_poll_that_fails_once_is_followed_by_the_next_one(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock, fault: int | str
) -> None:
    await set_up_class(chat)
    chat.fake.fail_next("sendPoll", fault)
    turn = await chat.send(ADA, "/quiz 2", chat=CLASS)
    assert polls(chat) == [] and turn.text == ""  # nothing in the group, no apology either
    # A few seconds later the quiz goes on with a poll; it then runs to its end.
    clock.advance(seconds=6)
    await chat.run(runner(chat).tick())
    [poll] = polls(chat)
    await chat.feed(chat.fake.user_poll_answer(ADA, poll, right_option(poll)))
    for _ in range(3):
        clock.advance(seconds=32)
        await chat.run(runner(chat).tick())
    assert "Quiz over" in chat.last(CLASS).plain
    assert [c for _, c in await attempts_of(tutor, ADA)][:1] == [1]


async def test_an_admin_check_telegram_cannot_answer_changes_nothing_and_says_so(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await set_up_class(chat)
    before = await tutor.groups.group(CLASS.id)
    chat.fake.fail_next("getChatMember", 502)
    turn = await chat.send(TEACHER, "/group_settings time 06:00", chat=CLASS)
    assert turn.text.startswith("I could not ask Telegram who this group's admins are")
    assert await tutor.groups.group(CLASS.id) == before
    turn = await chat.send(TEACHER, "/group_settings time 06:00", chat=CLASS)
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and str(group.daily_quiz_time) == "06:00:00"


FORUM = FakeChat(-1004002, "History 9B", type="supergroup", is_forum=True)


async def test_in_a_forum_each_quiz_stays_in_its_topic_and_a_deleted_topic_falls_back(
    chat: ChatDriver, tutor: TutorService, fake: FakeBotApi, clock: FakeClock
) -> None:
    fake.set_member(FORUM, TEACHER, "creator")
    for student in (ADA, BO):
        fake.set_member(FORUM, student)
    await chat.feed(fake.bot_added(FORUM, TEACHER))
    quizzes, homework = fake.open_topic(FORUM), fake.open_topic(FORUM)
    # Ms Lee sets the group up in the "Quizzes" topic: the replies come there, not to General
    turn = await chat.send(TEACHER, "/group_settings", chat=FORUM, topic=quizzes)
    assert [m.thread_id for m in turn.new] == [quizzes]
    await chat.press(TEACHER, "➕ Capitals", chat=FORUM)
    await chat.send(TEACHER, "/group_settings time 18:00", chat=FORUM, topic=quizzes)
    # Ada starts a quiz from the homework topic: every poll and result line goes there
    turn = await chat.send(ADA, "/quiz 2", chat=FORUM, topic=homework)
    [first] = [m for m in turn.new if m.poll is not None]
    assert first.thread_id == homework
    await chat.feed(fake.user_poll_answer(ADA, first, right_option(first)))
    clock.advance(seconds=32)
    turn = await chat.run(runner(chat).tick())
    assert [m.thread_id for m in turn.new] == [homework, homework]
    # an admin deletes the homework topic mid-quiz: the quiz ends in the main chat
    fake.delete_topic(FORUM, homework)
    clock.advance(seconds=32)
    turn = await chat.run(runner(chat).tick())
    assert "Quiz over: 2 questions." in turn.text
    assert [m.thread_id for m in turn.new] == [None]
    # the daily quiz goes to the topic where the settings were changed
    clock.set(clock().replace(hour=18, minute=0, second=5))
    turn = await chat.run(runner(chat).tick())
    [daily] = turn.new
    assert daily.poll is not None and daily.thread_id == quizzes
    # that topic deleted too: the next poll of the daily quiz comes to the main chat, and
    # the daily quizzes after it as well
    fake.delete_topic(FORUM, quizzes)
    clock.advance(seconds=32)
    turn = await chat.run(runner(chat).tick())
    assert turn.new and all(m.thread_id is None for m in turn.new)
    group = await tutor.groups.group(FORUM.id)
    assert group is not None and group.topic_id is None


async def test_group_help_a_bad_quiz_length_and_stop_without_a_quiz(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await set_up_class(chat)
    turn = await chat.send(ADA, "/help", chat=CLASS)
    assert turn.text.startswith("Group quizzes\n/quiz [n]") and "/top" in turn.text
    for wrong in ("/quiz 0", "/quiz many", "/quiz 21", "/quiz 2 3"):
        turn = await chat.send(ADA, wrong, chat=CLASS)
        assert turn.text == "Say how many questions, from 1 to 20: for example /quiz 5.", wrong
    assert polls(chat) == []
    turn = await chat.send(TEACHER, "/stop", chat=CLASS)
    assert turn.text == "No quiz is running. Start one with /quiz 5."
    # The same in a group that speaks Chinese.
    await chat.send(TEACHER, "/group_settings lang zh", chat=CLASS)
    turn = await chat.send(CY, "/help", chat=CLASS)
    assert turn.text.startswith("群测验\n/quiz [n]")
    turn = await chat.send(CY, "/quiz 0", chat=CLASS)
    assert turn.text == "请说明题数，1 到 20 之间：例如 /quiz 5。"
    turn = await chat.send(TEACHER, "/stop", chat=CLASS)
    assert turn.text == "目前没有进行中的测验。发送 /quiz 5 开始一个。"
    assert polls(chat) == []


async def test_the_group_settings_buttons(chat: ChatDriver, tutor: TutorService) -> None:
    await set_up_class(chat)  # Ms Lee tapped ➕ Capitals
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and len(group.deck_ids) == 1
    turn = await chat.press(TEACHER, "🕒 18:00", chat=CLASS)
    assert turn.answer is not None and turn.answer.text == "Saved."
    assert "Daily quiz: 18:00 (UTC), 5 questions, 30 s each" in turn.edited[-1].plain
    turn = await chat.press(TEACHER, "15 s each", chat=CLASS)
    assert "Daily quiz: 18:00 (UTC), 5 questions, 15 s each" in turn.edited[-1].plain
    turn = await chat.press(TEACHER, "Only admins start quizzes", chat=CLASS)
    assert "Members may start quizzes: off" in turn.edited[-1].plain
    assert "Let members start quizzes" in chat.buttons(CLASS)
    turn = await chat.press(TEACHER, "c:time:off", chat=CLASS)
    assert "Daily quiz: off (UTC)" in turn.edited[-1].plain
    group = await tutor.groups.group(CLASS.id)
    assert group is not None
    assert (group.daily_quiz_time, group.question_seconds, group.members_start) == (None, 15, False)
    # Typed, the seconds and the deck work as well (the deck toggles: off, then on again).
    await chat.send(TEACHER, "/group_settings seconds 45", chat=CLASS)
    turn = await chat.send(TEACHER, "/group_settings deck Capitals", chat=CLASS)
    assert "Decks: Capitals" not in turn.text
    turn = await chat.press(TEACHER, "➕ Capitals", chat=CLASS)
    assert "Decks: Capitals" in turn.edited[-1].plain
    turn = await chat.press(TEACHER, "✅ Capitals", chat=CLASS)
    assert "Decks: Capitals" not in turn.edited[-1].plain
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and group.question_seconds == 45 and group.deck_ids == ()
    # The language button: the settings in Chinese, and the button back to English.
    turn = await chat.press(TEACHER, "简体中文", chat=CLASS)
    assert turn.answer is not None and turn.answer.text == "已保存。"
    assert "语言：简体中文" in turn.edited[-1].plain and "English" in chat.buttons(CLASS)
    # A group settings button pressed in a private chat does nothing there.
    before = await tutor.groups.group(CLASS.id)
    private = (await chat.send(TEACHER, "/help")).new[0]
    turn = await chat.press_data(TEACHER, private, "c:len:10")
    assert turn.answer is not None and turn.answer.text == plain("en", "callback.invalid")
    assert turn.new == [] and await tutor.groups.group(CLASS.id) == before
