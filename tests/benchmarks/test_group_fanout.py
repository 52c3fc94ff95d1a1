"""The group fan-out benchmark on a few groups: every group gets its quiz once, no 429."""

from __future__ import annotations

from benchmarks import group_fanout


async def test_every_group_gets_its_daily_quiz_once_within_telegrams_limits() -> None:
    result = await group_fanout.run(
        groups=12, members=3, questions=2, in_flight=4, limit=30.0, model=False
    )
    assert result["groups_started"] == 12
    assert result["groups_with_two_quizzes"] == 0 and result["polls_sent_twice"] == 0
    assert result["rejected_429"] == 0
    assert result["polls"] == 24 and result["answers_logged"] == 24 * 3
    assert result["messages_per_group"] == 4  # two polls, a result line, the ranking
    # twelve first polls at 29 a second take under half a second of virtual time
    assert 0 < result["first_polls_s"] < 1.0
    assert result["all_done_s"] is not None and result["all_done_s"] < 120
