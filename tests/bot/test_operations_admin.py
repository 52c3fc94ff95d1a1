"""``metatutor users`` and ``metatutor remind --dry-run`` on a database file."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.operations_admin import groups_summary, remind_dry_run, users_summary
from bot.settings import Settings
from tests.conftest import FakeClock
from tutor.own_cards import OwnCards, parse_line
from tutor.service import TutorService
from tutor.students import QuietHours, StudentStatus


def settings_for(path: Path) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=None, database=path)  # type: ignore[call-arg]


async def test_users_summary_counts_by_status(
    service: TutorService, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for user_id in (1, 2, 3):
        await service.register(user_id, user_id, "S", "en")
    await service.set_status(2, StudentStatus.PAUSED)
    await service.set_status(3, StudentStatus.BLOCKED)
    await OwnCards(service).add(1, parse_line("Secret front | secret back"))
    assert await users_summary(settings_for(db_path)) == 0
    out = capsys.readouterr().out
    assert "students       3" in out
    assert "  paused       1" in out and "  blocked      1" in out
    assert "own cards      1  (from 1 students)" in out and "ecret" not in out


async def test_remind_dry_run_shows_who_and_why(
    service: TutorService, db_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    clock.set(clock().replace(hour=9, minute=0))
    await service.register(1, 1, "Due", "en")
    await service.update_settings(1, daily_quiz_time=time(9, 30))
    await service.register(2, 2, "Later", "en")
    await service.update_settings(2, daily_quiz_time=time(15, 0))
    await service.register(3, 3, "Quiet", "en")
    await service.update_settings(
        3, daily_quiz_time=time(9, 45), quiet_hours=QuietHours.parse("09:40-11:00")
    )
    # The dry run uses the real clock; compare with what the queue says for the test clock.
    from tutor.reminder_queue import ReminderQueue

    lines = await ReminderQueue(service.db, clock=clock).dry_run(1)
    assert [(line.user_id, line.verdict) for line in lines] == [(1, "send (on_time)")]
    assert await remind_dry_run(settings_for(db_path), hours=24) == 0
    out = capsys.readouterr().out
    assert "would be sent" in out
    rows = [line for line in out.splitlines() if "  daily  " in line]
    assert len(rows) == 3  # every student with a daily time, within a day
    quiet = [row.split() for row in rows if row.split()[2] == "3"]
    assert quiet and quiet[0][1] == "11:00"  # moved out of the quiet hours


async def test_a_dry_run_judges_tomorrows_slot_by_tomorrows_answers(
    service: TutorService, clock: FakeClock
) -> None:
    """Today's goal is met; tomorrow's daily quiz still goes out (no answers yet then)."""
    from tutor.reminder_queue import ReminderQueue
    from tutor.views import Answer

    deck = (
        "id,type,question,answer\n"
        "t1,true_false,The Sun is a star.,true\n"
        "t2,true_false,Water is dry.,false\n"
    )
    await service.import_file(deck.encode(), "tiny.csv", deck_name="Tiny")
    for user_id, at in ((1, time(9, 30)), (2, time(15, 0))):
        await service.register(user_id, user_id, f"S{user_id}", "en")
        await service.update_settings(user_id, daily_quiz_time=at, daily_goal=2)
        await service.enrol(user_id, "Tiny")
        question = await service.start_quiz(user_id, 2)
        while question is not None:
            await service.answer(user_id, question.id, Answer(choice=0))
            question = await service.next_question(user_id)
    clock.set(clock().replace(hour=10, minute=0))  # 2026-03-02, after student 1's slot
    lines = await ReminderQueue(service.db, clock=clock).dry_run(26)
    verdicts = [(line.user_id, line.slot, line.verdict) for line in lines]
    assert verdicts == [
        (2, "2026-03-02", "skip (goal_met)"),  # later today: today's two answers count
        (1, "2026-03-03", "send (on_time)"),  # tomorrow starts from nothing
    ]


async def test_groups_lists_every_group_with_its_quizzes(
    service: TutorService, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.tutor.conftest import sample_deck_bytes

    assert await groups_summary(settings_for(db_path)) == 0
    assert "in no group yet" in capsys.readouterr().out
    report = await service.import_file(sample_deck_bytes(), "sample.json")
    for chat_id, title in ((-1, "Class A"), (-2, "Class B")):
        await service.groups.joined(chat_id, title, "en")
        await service.groups.add_deck(chat_id, report.deck.id)
    await service.group_quizzes.start(-1, 2)
    await service.groups.left(-2)
    assert await groups_summary(settings_for(db_path)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("groups 2 (1 with the bot in them)")
    assert out[1].startswith("Class A: 0 members active, ") and "(1 in all)" in out[1]
    assert out[2].startswith("Class B (bot removed): ")
