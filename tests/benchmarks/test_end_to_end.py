"""The end-to-end benchmark on a tiny generated database: graded answers and the CPU split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import common, end_to_end
from storage import Database
from tutor.rule_memory import RuleMemory


async def _active(db_path: Path, n: int) -> list[int]:
    db = await Database.open(db_path)
    try:
        async with (
            db.read() as conn,
            conn.execute(
                "SELECT id FROM users WHERE last_seen_ms > created_ms ORDER BY id LIMIT ?", (n,)
            ) as cur,
        ):
            return [row[0] for row in await cur.fetchall()]
    finally:
        await db.close()


async def test_every_answer_is_graded_and_the_service_has_its_own_share(tiny_db: Path) -> None:
    users = await _active(tiny_db, 3)
    result = await end_to_end.run_level(
        tiny_db, users, 4, RuleMemory(), True, end_to_end.bench_settings()
    )
    assert result["answers"] == result["graded"] >= 12
    assert result["service_cpu_ms_per_answer"] > 0 and result["bot_cpu_ms_per_answer"] > 0
    assert result["driver_cpu_ms_per_answer"] > 0  # its open_question look-ups are not service
    parts = sum(
        result[f"{name}_cpu_ms_per_answer"]
        for name in ("bot", "loop", "service", "fake_api", "driver", "other_threads")
    )
    assert parts == pytest.approx(result["process_cpu_ms_per_answer"])


def test_ceiling_needs_no_database_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def quick() -> dict[str, float]:
        return {"no_reply_cpu_ms": 0.1, "one_reply_cpu_ms": 0.2}

    # Measured elsewhere; keep the test fast (machine() imports torch for its version).
    monkeypatch.setattr(end_to_end, "ptb_overhead", quick)
    monkeypatch.setattr(common, "machine", lambda: {"cpu": "test"})
    out = tmp_path / "ceiling.json"
    argv = ["--ceiling", "--levels", "1", "3", "--min-answers", "6", "--answers", "2"]
    assert end_to_end.main([*argv, "--json", str(out)]) == 0
    results = json.loads(out.read_text())["results"]
    assert [(r["students"], r["answers"]) for r in results] == [(1, 6), (3, 6)]
    assert "none (ceiling)" in capsys.readouterr().out


def test_without_ceiling_a_database_is_required() -> None:
    with pytest.raises(SystemExit):
        end_to_end.main(["--levels", "1"])
