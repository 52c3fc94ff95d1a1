"""The HTTP end-to-end benchmark: the tutor and the minimal bot, both over the wire."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import end_to_end
from benchmarks.end_to_end_http import http_table, run_http
from storage import Database
from tutor.rule_memory import RuleMemory


async def test_both_bots_answer_over_http_and_the_ratio_is_of_their_cpu(tiny_db: Path) -> None:
    db = await Database.open(tiny_db)
    try:
        async with (
            db.read() as conn,
            conn.execute(
                "SELECT id FROM users WHERE last_seen_ms > created_ms ORDER BY id LIMIT 2"
            ) as cur,
        ):
            users = [row[0] for row in await cur.fetchall()]
    finally:
        await db.close()
    settings = end_to_end.bench_settings()
    tutor, minimal = await run_http(tiny_db, {2: users}, 6, 3, RuleMemory(), settings)
    assert tutor["bot"] == "tutor" and minimal["bot"] == "minimal PTB bot"
    for result in (tutor, minimal):
        assert result["answers"] == 6 and result["failed_calls"] == 0
        assert result["fake_api_cpu_ms_per_answer"] == 0  # the Bot API is another process
        assert result["bot_process_cpu_ms_per_answer"] == pytest.approx(
            result["process_cpu_ms_per_answer"] - result["driver_cpu_ms_per_answer"]
        )
    assert minimal["calls_per_answer"] == pytest.approx(3.0)  # ack, edit, next question
    assert 2.0 <= tutor["calls_per_answer"] <= 3.5  # typed: 2; flashcards add a reveal's 2
    assert tutor["service_cpu_ms_per_answer"] > 0 and minimal["service_cpu_ms_per_answer"] == 0
    ratio = tutor["bot_process_cpu_ms_per_answer"] / minimal["bot_process_cpu_ms_per_answer"]
    assert tutor["ratio_to_minimal"] == pytest.approx(ratio)
    assert "× minimal" in http_table([tutor, minimal])
