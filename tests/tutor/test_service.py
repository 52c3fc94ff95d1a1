"""The tutor service, as the bot uses it: students, decks, quizzes, stats."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from tests.conftest import FakeClock
from tests.tutor.conftest import sample_deck_bytes
from tutor.clock import NaiveDatetimeError
from tutor.errors import (
    ContentRejected,
    InvalidAnswer,
    InvalidSetting,
    NotEnrolled,
    QuestionNotFound,
    StaleQuestion,
    UnknownDeck,
)
from tutor.items import Grade, ItemKind
from tutor.service import TutorService
from tutor.students import QuietHours, StudentStatus, parse_hhmm
from tutor.views import Answer, ChoiceReason, Question


def right_answer(question: Question) -> Answer:
    """The answer a student who knows the item gives."""
    item = question.item
    if item.kind in (ItemKind.MULTIPLE_CHOICE, ItemKind.TRUE_FALSE):
        return Answer(choice=question.choices.index(item.correct_text))
    if item.kind is ItemKind.TYPED:
        return Answer(text=f"  {item.accepted[0]}. ")
    return Answer(grade=Grade.GOOD)


def wrong_answer(question: Question) -> Answer:
    """An answer that is certainly wrong."""
    item = question.item
    if item.kind in (ItemKind.MULTIPLE_CHOICE, ItemKind.TRUE_FALSE):
        right = question.choices.index(item.correct_text)
        return Answer(choice=(right + 1) % len(question.choices))
    if item.kind is ItemKind.TYPED:
        return Answer(text="no idea")
    return Answer(grade=Grade.AGAIN)


async def attempts_logged(service: TutorService) -> int:
    async with service.db.read() as conn, conn.execute("SELECT COUNT(*) FROM attempts") as cur:
        row = await cur.fetchone()
    return int(row[0])


async def test_first_contact_preselects_language_and_returning_keeps_progress(
    service: TutorService,
) -> None:
    student = await service.register(1, 1, "Li", "zh-hans")
    assert student.language == "zh" and not student.onboarded
    await service.update_settings(1, daily_goal=30, onboarded=True, timezone="Asia/Shanghai")
    again = await service.register(1, 1, "Li Wei", "en")
    assert (again.language, again.daily_goal, again.onboarded) == ("zh", 30, True)
    assert again.first_name == "Li Wei" and again.timezone == "Asia/Shanghai"


async def test_a_blocked_student_who_writes_again_is_active(service: TutorService) -> None:
    await service.register(2, 2, "Bo", None)
    await service.set_status(2, StudentStatus.BLOCKED)
    assert (await service.register(2, 2, "Bo", None)).status is StudentStatus.ACTIVE


async def test_bad_settings_are_rejected_by_name(service: TutorService) -> None:
    await service.register(3, 3, "Cy", "en")
    for kwargs, setting in [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"language": "fr"}, "language"),
        ({"daily_goal": 0}, "daily_goal"),
        ({"quiet_hours": QuietHours(parse_hhmm("22:00"), parse_hhmm("22:00"))}, "quiet_hours"),
    ]:
        with pytest.raises(InvalidSetting) as caught:
            await service.update_settings(3, **kwargs)  # type: ignore[arg-type]
        assert caught.value.params["setting"] == setting


async def test_quiz_without_a_deck_says_so(service: TutorService) -> None:
    await service.register(4, 4, "Di", "en")
    with pytest.raises(NotEnrolled):
        await service.start_quiz(4)


async def test_a_quiz_asks_every_kind_and_logs_each_answer_once(studying: TutorService) -> None:
    question = await studying.start_quiz(100, 5)
    kinds = set()
    while question is not None:
        kinds.add(question.item.kind)
        assert question.reason is ChoiceReason.NEW
        feedback = await studying.answer(100, question.id, right_answer(question))
        assert feedback.correct and not feedback.duplicate
        assert feedback.next_review_at is not None and feedback.next_review_at > studying.now()
        question = await studying.next_question(100)
    assert kinds == set(ItemKind)
    assert await attempts_logged(studying) == 5


async def test_double_press_is_logged_once(studying: TutorService) -> None:
    question = await studying.start_quiz(100, 3)
    assert question is not None
    first = await studying.answer(100, question.id, wrong_answer(question))
    second = await studying.answer(100, question.id, right_answer(question))
    assert not first.correct and second.duplicate and not second.correct
    assert await attempts_logged(studying) == 1


async def test_someone_elses_or_made_up_question_is_refused(studying: TutorService) -> None:
    question = await studying.start_quiz(100, 3)
    assert question is not None
    await studying.register(200, 200, "Eve", "en")
    with pytest.raises(QuestionNotFound):
        await studying.answer(200, question.id, right_answer(question))
    with pytest.raises(QuestionNotFound):
        await studying.answer(100, 99_999, Answer(choice=0))
    assert await attempts_logged(studying) == 0


async def test_question_of_a_stopped_quiz_is_stale(studying: TutorService) -> None:
    question = await studying.start_quiz(100, 3)
    assert question is not None
    progress = await studying.stop_quiz(100)
    assert progress is not None and progress.answered == 0
    with pytest.raises(StaleQuestion):
        await studying.answer(100, question.id, right_answer(question))
    assert await studying.stop_quiz(100) is None


async def test_an_answer_that_does_not_fit_is_invalid(studying: TutorService) -> None:
    question = await studying.start_quiz(100, 1)
    assert question is not None
    with pytest.raises(InvalidAnswer):
        await studying.answer(100, question.id, Answer(choice=99, text=None))
    assert await attempts_logged(studying) == 0


async def test_a_missed_item_comes_back_in_the_session_but_never_twice_in_a_row(
    studying: TutorService,
) -> None:
    question = await studying.start_quiz(100, 8)
    assert question is not None
    missed = question.item.id
    await studying.answer(100, question.id, wrong_answer(question))
    asked = [missed]
    while (question := await studying.next_question(100)) is not None:
        asked.append(question.item.id)
        await studying.answer(100, question.id, right_answer(question))
    assert all(a != b for a, b in itertools.pairwise(asked))
    assert asked.count(missed) >= 2
    assert asked.index(missed, 1) <= 4


async def test_reviews_come_back_when_due(studying: TutorService, clock: FakeClock) -> None:
    question = await studying.start_quiz(100, 5)
    while question is not None:
        await studying.answer(100, question.id, right_answer(question))
        question = await studying.next_question(100)
    clock.advance(days=2)
    question = await studying.start_quiz(100, 1)
    assert question is not None and question.reason is ChoiceReason.REVIEW


async def test_deleted_deck_makes_its_open_question_stale(studying: TutorService) -> None:
    question = await studying.start_quiz(100, 2)
    assert question is not None
    async with studying.db.transaction() as conn:
        await conn.execute("UPDATE decks SET deleted_ms = 1")
    with pytest.raises(StaleQuestion):
        await studying.answer(100, question.id, right_answer(question))


async def test_stats_count_today_streak_and_exam_forecast(
    studying: TutorService, clock: FakeClock
) -> None:
    await studying.set_exam(100, date(2026, 3, 20), "sample")
    for _ in range(3):
        question = await studying.start_quiz(100, 2)
        while question is not None:
            await studying.answer(100, question.id, right_answer(question))
            question = await studying.next_question(100)
        clock.advance(days=1)
    stats = await studying.stats(100)
    assert stats.answers_today == 0 and stats.answers_week == 6
    assert stats.streak_days == 3 and stats.accuracy_week == 1.0
    assert stats.items_total == 6 and 1 <= stats.items_learned <= 6
    (exam,) = stats.exams
    assert exam.exam_date == date(2026, 3, 20)
    assert 0.0 < exam.expected_recall <= exam.higher_expected_recall <= 1.0
    assert exam.higher_minutes_per_day > exam.minutes_per_day


async def test_exam_date_must_be_in_the_future(studying: TutorService) -> None:
    with pytest.raises(InvalidSetting):
        await studying.set_exam(100, date(2026, 3, 1))
    (info,) = await studying.set_exam(100, date(2026, 4, 1))
    assert info.exam_date == date(2026, 4, 1)
    (info,) = await studying.set_exam(100, None)
    assert info.exam_date is None


async def test_reimport_updates_in_place(studying: TutorService) -> None:
    report = await studying.import_file(sample_deck_bytes(), "sample.json")
    assert (report.added, report.updated, report.unchanged) == (0, 0, 6)
    (info,) = [i for i in await studying.decks(100) if i.deck.slug == "sample"]
    assert info.n_items == 6 and info.n_students == 1 and info.enrolled


async def test_a_bad_file_changes_nothing(studying: TutorService) -> None:
    before = await studying.decks()
    with pytest.raises(ContentRejected):
        await studying.import_file(sample_deck_bytes(items=[{"id": "x"}]), "sample.json")
    with pytest.raises(ContentRejected):
        await studying.import_file(b"\xff\xfe\x00bad", "broken.csv")
    assert await studying.decks() == before


async def test_export_imports_back_to_the_same_items(studying: TutorService) -> None:
    for fmt in ("json", "csv", "tsv"):
        name, data = await studying.export_deck("sample", fmt)
        assert name == f"sample.{fmt}"
        report = await studying.import_file(data, name, deck_name="Sample")
        assert (report.added, report.updated, report.unchanged) == (0, 0, 6)


async def test_unknown_deck_reference(studying: TutorService) -> None:
    with pytest.raises(UnknownDeck):
        await studying.enrol(100, "no-such-deck")
    deck = await studying.find_deck("deck_1")
    assert deck.slug == "sample"


async def test_a_naive_clock_is_refused(service: TutorService) -> None:
    broken = TutorService(service.db, clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(NaiveDatetimeError):
        await broken.register(9, 9, "Naive", "en")
    aware = TutorService(service.db, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    assert (await aware.register(9, 9, "Aware", "en")).id == 9


async def test_a_redelivered_typed_answer_is_not_marked_against_the_next_question(
    studying: TutorService,
) -> None:
    question = await studying.start_quiz(100, 5)
    while question is not None and question.item.kind is not ItemKind.TYPED:
        await studying.answer(100, question.id, right_answer(question))
        question = await studying.next_question(100)
    assert question is not None
    first = await studying.answer(100, question.id, Answer(text="1066"), update_key="m100:7")
    following = await studying.next_question(100)
    assert following is not None and following.id != question.id
    again = await studying.answer(100, following.id, Answer(text="1066"), update_key="m100:7")
    assert first.correct and again.duplicate and again.question.id == question.id
    assert await studying.open_question(100) == following


async def test_a_repeat_answer_is_resent_until_what_follows_it_was_shown(
    studying: TutorService,
) -> None:
    first = await studying.start_quiz(100, 2)
    assert first is not None and not first.shown  # no message id stored yet
    await studying.set_message(first.id, 501)
    await studying.answer(100, first.id, right_answer(first))
    # Nothing was asked after the answer: a repeat is to be shown again, the quiz stalled.
    repeat = await studying.answer(100, first.id, right_answer(first))
    assert repeat.duplicate and repeat.resend and repeat.correct
    stalled = await studying.stalled_quiz(100)
    assert stalled is not None and stalled.running and stalled.feedback is not None
    assert stalled.feedback.question.id == first.id and stalled.feedback.progress.answered == 1
    # The next question is chosen but not shown: still so.
    second = await studying.next_question(100)
    assert second is not None and not second.shown
    assert (await studying.answer(100, first.id, right_answer(first))).resend
    assert await studying.stalled_quiz(100) is not None
    # Shown: a repeat is a plain repeat, and nothing is stalled.
    await studying.set_message(second.id, 502)
    open_question = await studying.open_question(100)
    assert open_question is not None and open_question.shown
    assert not (await studying.answer(100, first.id, right_answer(first))).resend
    assert await studying.stalled_quiz(100) is None
    # The last answer ends the quiz: until its summary is shown, it is to be shown again.
    await studying.answer(100, second.id, wrong_answer(second))
    repeat = await studying.answer(100, second.id, wrong_answer(second))
    assert repeat.resend and repeat.progress.finished and not repeat.correct
    stalled = await studying.stalled_quiz(100)
    assert stalled is not None and not stalled.running and stalled.feedback is not None
    assert stalled.feedback.question.id == second.id
    await studying.summary_shown(second.id)
    assert not (await studying.answer(100, second.id, wrong_answer(second))).resend
    assert await studying.stalled_quiz(100) is None
    assert await attempts_logged(studying) == 2


async def test_stop_or_a_new_quiz_is_moving_on_not_a_stall(studying: TutorService) -> None:
    question = await studying.start_quiz(100, 3)
    assert question is not None
    await studying.answer(100, question.id, right_answer(question))
    assert await studying.stop_quiz(100) is not None
    assert not (await studying.answer(100, question.id, right_answer(question))).resend
    assert await studying.stalled_quiz(100) is None
    question = await studying.start_quiz(100, 1)
    assert question is not None
    await studying.answer(100, question.id, right_answer(question))  # ends that quiz
    newer = await studying.start_quiz(100, 2)
    assert newer is not None
    assert not (await studying.answer(100, question.id, right_answer(question))).resend
    stalled = await studying.stalled_quiz(100)  # the new quiz's first question: not shown
    assert stalled is not None and stalled.running and stalled.feedback is None
