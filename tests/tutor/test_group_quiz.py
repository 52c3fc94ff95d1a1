"""Group quizzes in the service: steps claimed once, polls, members' answers as their attempts."""

from __future__ import annotations

import pytest

from storage import group_quizzes as quiz_rows
from tests.conftest import FakeClock
from tests.tutor.conftest import sample_deck_bytes
from tutor.group_quiz import AnswerOutcome, Step
from tutor.groups import NoGroupDecks, QuizRunning
from tutor.service import TutorService

CHAT = -100500


@pytest.fixture
async def group_service(service: TutorService) -> TutorService:
    """The sample deck, in a group that studies it."""
    report = await service.import_file(sample_deck_bytes(), "sample.json")
    await service.groups.joined(CHAT, "History class", "en")
    await service.groups.add_deck(CHAT, report.deck.id)
    return service


async def send(service: TutorService, step: Step, poll_id: str) -> None:
    assert step.poll is not None
    await service.group_quizzes.sent(step.poll, poll_id, message_id=int(poll_id[1:]))


async def count(service: TutorService, sql: str, *params: object) -> int:
    async with service.db.read() as conn, conn.execute(sql, params) as cur:
        row = await cur.fetchone()
    return int(row[0])


async def test_a_quiz_needs_decks_and_runs_one_at_a_time(service: TutorService) -> None:
    await service.groups.joined(CHAT, "Empty", "en")
    with pytest.raises(NoGroupDecks):
        await service.group_quizzes.start(CHAT, 3)
    report = await service.import_file(sample_deck_bytes(), "sample.json")
    await service.groups.add_deck(CHAT, report.deck.id)
    await service.group_quizzes.start(CHAT, 3)
    with pytest.raises(QuizRunning):
        await service.group_quizzes.start(CHAT, 3)


async def test_the_flashcard_is_never_asked_and_typed_answers_get_distractors(
    group_service: TutorService, clock: FakeClock
) -> None:
    service = group_service
    started = await service.group_quizzes.start(CHAT, 6)
    asked = []
    for number in range(1, 7):
        step = await service.group_quizzes.step(started.quiz_id)
        assert step is not None
        if step.poll is None:
            break
        poll = step.poll
        asked.append(poll.question)
        assert 2 <= len(poll.options) <= 12
        assert poll.options[poll.correct]
        await send(service, step, f"p{number}")
        clock.advance(seconds=poll.open_seconds + 2)
    # the two clozes, the typed, multiple-choice and true/false items make polls; the
    # flashcard does not, so the quiz of six ends after five
    assert len(asked) == 5
    assert "Magna Carta" not in asked
    assert step is not None and step.end is not None and step.end.ran_out
    assert step.end.asked == 5


async def test_a_step_is_claimed_once_and_a_lost_send_is_never_resent(
    group_service: TutorService, clock: FakeClock
) -> None:
    service = group_service
    started = await service.group_quizzes.start(CHAT, 3)
    first = await service.group_quizzes.step(started.quiz_id)
    assert first is not None and first.poll is not None
    # the same step again (another job, another process): not ours
    assert await service.group_quizzes.step(started.quiz_id) is None
    # the process dies before sendPoll returned; after the lease another takes over
    clock.advance(minutes=3)
    again = await service.group_quizzes.step(started.quiz_id)
    assert again is not None and again.poll is not None
    assert again.poll.number == 2 and again.poll.row_id != first.poll.row_id
    async with service.db.read() as conn:
        lost = await quiz_rows.last_poll(conn, started.quiz_id)
        statuses = await conn.execute_fetchall(
            "SELECT number, status FROM group_polls WHERE quiz_id = ? ORDER BY number",
            (started.quiz_id,),
        )
    assert lost is not None
    assert [tuple(row) for row in statuses] == [(1, "lost"), (2, "sending")]


async def test_members_answers_are_their_attempts_once_and_new_members_get_no_private_chat(
    group_service: TutorService, clock: FakeClock
) -> None:
    service = group_service
    await service.register(7, 7, "Ada", "en")  # started the bot privately
    started = await service.group_quizzes.start(CHAT, 2)
    step = await service.group_quizzes.step(started.quiz_id)
    assert step is not None and step.poll is not None
    await send(service, step, "p1")
    right, wrong = step.poll.correct, (step.poll.correct + 1) % len(step.poll.options)
    answer = service.group_quizzes.answer
    assert await answer("p1", 7, "Ada", "en", [right]) is AnswerOutcome.LOGGED
    assert await answer("p1", 8, "Bo", "en", [wrong]) is AnswerOutcome.LOGGED
    assert await answer("p1", 8, "Bo", "en", [right]) is AnswerOutcome.DUPLICATE
    assert await answer("nope", 8, "Bo", "en", [right]) is AnswerOutcome.UNKNOWN_POLL
    assert await count(service, "SELECT COUNT(*) FROM attempts") == 2
    assert await count(service, "SELECT COUNT(*) FROM attempts WHERE user_id = 8") == 1
    assert await count(service, "SELECT correct FROM attempts WHERE user_id = 8") == 0
    assert await count(service, "SELECT COUNT(*) FROM memory WHERE user_id = 8") == 1
    # Bo never started the bot: a user row that gets nothing privately
    assert await count(service, "SELECT private_chat FROM users WHERE id = 8") == 0
    assert await count(service, "SELECT private_chat FROM users WHERE id = 7") == 1
    clock.advance(seconds=step.poll.open_seconds + 2)
    nxt = await service.group_quizzes.step(started.quiz_id)
    assert nxt is not None and nxt.result is not None
    assert (nxt.result.answered, nxt.result.correct) == (2, 1)
    # Bo's stats count the group answer
    stats = await service.stats(8)
    assert stats.answers_today == 1
    # when Bo starts the bot, they get private messages from then on
    await service.register(8, 8, "Bo", "en")
    assert await count(service, "SELECT private_chat FROM users WHERE id = 8") == 1


async def test_the_quiz_ends_with_the_members_scores(
    group_service: TutorService, clock: FakeClock
) -> None:
    service = group_service
    started = await service.group_quizzes.start(CHAT, 2)
    for number in (1, 2):
        step = await service.group_quizzes.step(started.quiz_id)
        assert step is not None and step.poll is not None
        await send(service, step, f"p{number}")
        await service.group_quizzes.answer(f"p{number}", 1, "Ann", "en", [step.poll.correct])
        clock.advance(seconds=step.poll.open_seconds + 2)
    end = await service.group_quizzes.step(started.quiz_id)
    assert end is not None and end.end is not None and end.result is not None
    assert end.end.scores == [("Ann", 2, 2)]
    assert end.end.asked == 2
    ranking = await service.groups.ranking(CHAT)
    assert [(r.first_name, r.correct, r.streak) for r in ranking.week] == [("Ann", 2, 1)]


async def test_removing_the_bot_stops_the_quiz_and_rejoining_keeps_settings(
    group_service: TutorService, clock: FakeClock
) -> None:
    service = group_service
    await service.groups.update(CHAT, daily_length=7)
    started = await service.group_quizzes.start(CHAT, 2)
    await service.groups.left(CHAT)
    assert await service.group_quizzes.step(started.quiz_id) is None
    group, new = await service.groups.joined(CHAT, "History class", "en")
    assert not new and group.daily_length == 7 and group.deck_ids


async def test_a_migrated_group_keeps_its_settings_and_history(
    group_service: TutorService, clock: FakeClock
) -> None:
    service = group_service
    await service.groups.update(CHAT, daily_length=4)
    moved = await service.groups.migrated(CHAT, -1009999)
    assert moved is not None and moved.chat_id == -1009999 and moved.daily_length == 4
    assert await service.groups.group(CHAT) is None
    started = await service.group_quizzes.start(-1009999, 1)
    assert started.group.id == moved.id


async def test_the_reminder_queue_never_messages_a_member_known_only_from_groups(
    group_service: TutorService, clock: FakeClock
) -> None:
    from storage import reminders as reminder_rows
    from tutor.clock import to_millis
    from tutor.reminder_queue import ReminderQueue

    service = group_service
    started = await service.group_quizzes.start(CHAT, 1)
    step = await service.group_quizzes.step(started.quiz_id)
    assert step is not None and step.poll is not None
    await send(service, step, "p1")
    await service.group_quizzes.answer("p1", 8, "Bo", "en", [0])
    async with service.db.transaction() as conn:
        # a daily time and a due nudge, as if they had somehow been set
        await conn.execute("UPDATE users SET daily_quiz_time = '09:30' WHERE id = 8")
        await reminder_rows.plan(conn, [(8, "nudge", "x", to_millis(clock()))])
    queue = ReminderQueue(service.db, clock=clock)
    assert await queue.active_students() == []
    assert await queue.plan_daily() == 0
    claim = await queue.claim()
    assert claim.to_send == [] and [s.user_id for s in claim.settled] == [8]
