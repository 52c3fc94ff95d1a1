"""The bot layer's ceiling: the bot's wire traffic with no tutor behind it."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.bot_ceiling import Presser, ceiling_application, run_ceiling_level
from benchmarks.cpu_split import CpuSplit
from benchmarks.end_to_end import bench_settings
from benchmarks.simulated_traffic import DistantBotApi, drive


async def test_each_press_costs_one_update_and_the_quiz_handlers_three_calls() -> None:
    split = CpuSplit()
    fake = DistantBotApi(0.0, split)
    app = ceiling_application(bench_settings(), fake)
    drivers = [Presser(app, fake, user_id, split) for user_id in (7, 8)]
    async with app:
        measured = await drive(split, drivers, [d.run(3) for d in drivers])
    assert measured["answers"] == 6 and measured["updates"] == 8  # + one /quiz each
    methods = Counter(call.method for call in fake.calls if call.method != "getMe")
    assert methods == {
        "answerCallbackQuery": 6,
        "editMessageText": 6,  # the question into its feedback, its buttons gone
        "sendMessage": 2 + 6,  # first questions, then the next question per answer
    }
    assert all(call.ok for call in fake.calls) and not fake.unanswered_callbacks()
    for user_id in (7, 8):  # only the newest question still shows buttons
        shown = [m for m in fake.messages(user_id) if m.buttons]
        assert len(shown) == 1 and len(shown[0].buttons) == 4


async def test_the_split_accounts_for_all_the_cpu_with_no_service_or_database() -> None:
    result = await run_ceiling_level(2, 20, bench_settings())
    assert result["answers"] == 40 and result["calls_per_answer"] == pytest.approx(3.0)
    assert result["failed_calls"] == 0 and result["unanswered_presses"] == 0
    assert result["service_cpu_ms_per_answer"] == 0
    assert result["bot_cpu_ms_per_answer"] > 0 and result["fake_api_cpu_ms_per_answer"] > 0
    parts = sum(
        result[f"{name}_cpu_ms_per_answer"]
        for name in ("bot", "loop", "fake_api", "driver", "other_threads")
    )
    assert parts == pytest.approx(result["process_cpu_ms_per_answer"])
    assert abs(result["other_threads_cpu_ms_per_answer"]) < 0.2  # no other thread works


async def test_over_http_the_fake_runs_in_a_child_process_and_reports_its_cpu() -> None:
    from benchmarks.bot_ceiling_http import run_http_ceiling_level

    result = await run_http_ceiling_level(2, 3, bench_settings())
    assert result["answers"] == 6 and result["updates"] == 8
    assert result["calls_per_answer"] == pytest.approx(3.0) and result["failed_calls"] == 0
    assert result["fake_api_cpu_ms_per_answer"] == 0  # not in this process any more
    assert result["server_cpu_ms_per_answer"] > 0 and result["bot_cpu_ms_per_answer"] > 0
