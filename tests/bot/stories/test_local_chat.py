"""The story of a newcomer trying the tutor in a terminal, with no Telegram at all."""

from __future__ import annotations

import io
from pathlib import Path

from bot.local_chat import run_local_chat
from tests.bot.stories.conftest import story_settings
from tutor.service import TutorService


async def test_onboarding_and_a_quiz_in_the_terminal(tutor: TutorService, tmp_path: Path) -> None:
    typed = "\n".join(
        [
            "/start",
            "1",  # ✓ English
            "1",  # ➕ the test deck
            "2",  # Continue
            "15",  # UTC, the last common zone
            "7",  # no daily quiz
            "1",  # skip the exam date
            "/quiz 1",
            "3",  # the third button of the question
            "/stats",
            "quit",
            "/help",  # never read: the chat ended
        ]
    )
    out = io.StringIO()
    await run_local_chat(
        story_settings(),
        tutor,
        input_stream=io.StringIO(typed + "\n"),
        output_stream=out,
        media_dir=tmp_path,
    )
    transcript = out.getvalue()
    assert "bot: Hi Student! I am your study tutor." in transcript
    assert "[1] ✓ English  [2] 简体中文" in transcript
    assert "bot (edited): Time zone: UTC (your local time is 09:00)." in transcript
    assert "All set!" in transcript
    assert "Question 1/1 · Test <Deck> & Co" in transcript
    assert "Which is <b>bold</b> & brave?" in transcript
    assert ("Correct!" in transcript) != ("Not quite." in transcript)
    assert "Session done:" in transcript
    assert "Your progress" in transcript and "Today: 1 answers" in transcript
    [chart] = [line for line in transcript.splitlines() if "[photo]" in line]
    saved = Path(chart.split("[photo] ", 1)[1].strip())
    assert saved.parent == tmp_path and saved.read_bytes().startswith(b"\x89PNG")
    assert "How it works" not in transcript
    assert "(the bot raised" not in transcript
    stats = await tutor.stats(1001)
    assert stats.answers_today == 1
