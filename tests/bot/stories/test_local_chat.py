"""The story of a newcomer trying the tutor in a terminal, with no Telegram at all."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot import serving as serving_module
from bot.local_chat import run_local_chat
from bot.logging_setup import configure_logging
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
        story_settings().model_copy(update={"database": tmp_path / "metatutor.sqlite3"}),
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
    assert "Your progress" in transcript and "Answers today: 1" in transcript
    [chart] = [line for line in transcript.splitlines() if "[photo]" in line]
    saved = Path(chart.split("[photo] ", 1)[1].strip())
    assert saved.parent == tmp_path and saved.read_bytes().startswith(b"\x89PNG")
    assert "How it works" not in transcript
    assert "(the bot raised" not in transcript
    stats = await tutor.stats(1001)
    assert stats.answers_today == 1


async def test_the_terminal_shows_the_conversation_and_the_log_goes_to_a_file(
    tutor: TutorService, tmp_path: Path
) -> None:
    # Logging as `metatutor chat` sets it up: INFO and up, one line per event, on stderr.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stderr = io.StringIO()
    configure_logging("INFO", stream=stderr)
    settings = story_settings().model_copy(update={"database": tmp_path / "data" / "m.sqlite3"})
    out = io.StringIO()
    try:
        await run_local_chat(
            settings,
            tutor,
            input_stream=io.StringIO("/help\nquit\n"),
            output_stream=out,
            media_dir=tmp_path,
        )
        chat_stderr = stderr.getvalue()
        logging.getLogger("after").warning("the chat is over")
        after_stderr = stderr.getvalue()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    transcript = out.getvalue()
    log_file = tmp_path / "data" / "metatutor-chat.log"
    assert f"The bot's log goes to {log_file}." in transcript
    assert "bot: How it works" in transcript
    assert "level=" not in transcript and "apscheduler" not in transcript
    assert chat_stderr == ""
    written = log_file.read_text("utf-8")
    assert 'logger=apscheduler.scheduler msg="Adding job tentatively' in written
    assert 'logger=telegram.ext.Application msg="Application started"' in written
    assert log_file.stat().st_mode & 0o077 == 0  # owner-only, like the database
    assert "the chat is over" in after_stderr  # the terminal's handler is back


async def test_the_local_chat_over_http_waits_out_start_up_faults_and_fails_calls_by_hand(
    tutor: TutorService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``metatutor chat --http``: the same chat, the bot reaching the fake Bot API over a
    socket. getMe fails at start-up: the bot tries again and serves; ``:fail`` makes one
    send fail by hand, and the student reads the apology, then /help works again."""
    monkeypatch.setattr(serving_module, "STARTUP_RETRY_DELAYS", (0.05,))
    typed = "/help\n:fail sendMessage 502\n/help\n:fail nonsense\n/help\nquit\n"
    out = io.StringIO()
    log = tmp_path / "chat.log"
    await run_local_chat(
        story_settings().model_copy(update={"database": tmp_path / "metatutor.sqlite3"}),
        tutor,
        input_stream=io.StringIO(typed),
        output_stream=out,
        media_dir=tmp_path,
        log_file=log,
        http=True,
        faults=(("getMe", 502),),
    )
    transcript = out.getvalue()
    assert "The bot talks HTTP to a local Bot API at http://127.0.0.1:" in transcript
    assert transcript.count("bot: How it works") == 2
    assert "(the bot's next sendMessage call fails with 502)" in transcript
    assert "bot: Sorry, /help could not be shown: something went wrong on my side." in transcript
    assert "(write :fail METHOD FAULT" in transcript
    assert "start-up: getMe failed (NetworkError: Bad Gateway)" in log.read_text()


def test_chat_takes_http_and_faults_on_the_command_line() -> None:
    """``metatutor chat --http --fail getMe:502 --fail sendPhoto:timeout``; a bad fault
    stops with a line saying how to write one."""
    from bot.cli import _parser

    args = _parser().parse_args(
        ["chat", "--http", "--fail", "getMe:502", "--fail", "sendPhoto:timeout"]
    )
    assert args.http and args.fail == [("getMe", 502), ("sendPhoto", "timeout")]
    with pytest.raises(SystemExit):
        _parser().parse_args(["chat", "--fail", "getMe"])


async def test_a_start_up_fault_in_the_offline_chat_is_waited_out_too(
    tutor: TutorService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``metatutor chat --fail getMe:502`` without --http: no traceback, the chat starts."""
    monkeypatch.setattr(serving_module, "STARTUP_RETRY_DELAYS", (0.05,))
    out = io.StringIO()
    log = tmp_path / "chat.log"
    await run_local_chat(
        story_settings().model_copy(update={"database": tmp_path / "metatutor.sqlite3"}),
        tutor,
        input_stream=io.StringIO("/help\nquit\n"),
        output_stream=out,
        media_dir=tmp_path,
        log_file=log,
        faults=(("getMe", 502),),
    )
    assert "bot: How it works" in out.getvalue()
    assert "start-up: getMe failed (NetworkError: Bad Gateway)" in log.read_text()


@pytest.mark.parametrize("http", [False, True], ids=["in_process", "over_http"])
async def test_a_student_sends_a_photo_for_a_card_of_her_own_in_the_terminal(
    tutor: TutorService, tmp_path: Path, http: bool
) -> None:
    """``:photo PATH [caption]`` sends a picture as Telegram would (a photo, not a file): with
    the caption ``front | back`` it is a card of her own with that picture. A file that is
    no picture is refused by the chat itself, which says why and what to use instead."""
    picture = tmp_path / "robin.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0" + b"picture" * 40)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    typed = "\n".join(
        [
            "/start",
            "1",  # ✓ English
            "1",  # ➕ the test deck
            "2",  # Continue
            "15",  # UTC
            "7",  # no daily quiz
            "1",  # skip the exam date
            f":photo {picture} This bird | a robin",
            f":photo {notes} Some | notes",
            f":photo {tmp_path / 'missing.png'}",
            "/mycards",
            "quit",
        ]
    )
    out = io.StringIO()
    await run_local_chat(
        story_settings().model_copy(update={"database": tmp_path / "metatutor.sqlite3"}),
        tutor,
        input_stream=io.StringIO(typed + "\n"),
        output_stream=out,
        media_dir=tmp_path,
        http=http,
    )
    transcript = out.getvalue()
    assert "':photo PATH [caption]' sends a photo" in transcript  # the banner says how
    assert "bot: ✅ Card saved 🖼 (1 of 500): This bird → a robin" in transcript
    assert f"(cannot do that: {notes} is not a JPEG, PNG, GIF or WebP picture;" in transcript
    assert "(cannot do that: [Errno 2] No such file or directory" in transcript
    assert "1. This bird → a robin 🖼" in transcript
    assert "(the bot raised" not in transcript


@pytest.mark.parametrize("http", [False, True], ids=["in_process", "over_http"])
async def test_a_student_sends_a_voice_note_and_an_audio_file_for_cards_in_the_terminal(
    tutor: TutorService, tmp_path: Path, http: bool
) -> None:
    """``:voice PATH [caption]`` sends a voice note, ``:audio PATH [caption]`` an audio file,
    as Telegram would: each is a card's sound, which the quiz then plays (saved to the media
    folder, like the bot's pictures). A number typed after a flashcard's answer sound presses
    the card's grade, not nothing: the sound has no buttons of its own."""
    voice = tmp_path / "chien.ogg"
    voice.write_bytes(b"OggS\x00\x02" + bytes(40) + b"OpusHead")
    audio = tmp_path / "chat.mp3"
    audio.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16)
    typed = "\n".join(
        [
            "/start",
            "1",  # ✓ English
            "2",  # Continue, no deck
            "15",  # UTC
            "7",  # no daily quiz
            "1",  # skip the exam date
            "/new",
            "Say dog",
            f":voice {voice} chien",  # with the back: plays once the answer is shown
            f":audio {audio} chat | cat",
            "/mycards",
            "/quiz 1",
            "1",  # Show answer: the card's sound comes after it
            "3",  # Good, on the card above the sound
            "quit",
        ]
    )
    out = io.StringIO()
    await run_local_chat(
        story_settings().model_copy(update={"database": tmp_path / "metatutor.sqlite3"}),
        tutor,
        input_stream=io.StringIO(typed + "\n"),
        output_stream=out,
        media_dir=tmp_path,
        http=http,
    )
    transcript = out.getvalue()
    assert "':voice PATH [caption]' a voice note" in transcript  # the banner says how
    assert "bot: ✅ Card saved 🔊 (1 of 500): Say dog → chien" in transcript
    assert "bot: ✅ Card saved 🔊 (2 of 500): chat → cat" in transcript
    assert "1. Say dog → chien 🔊" in transcript and "2. chat → cat 🔊" in transcript
    shown = transcript.index("Answer: chien")
    assert transcript.index("bot: [voice] ", shown) < transcript.index("You rated it Good.")
    assert "Please answer with the buttons" not in transcript
    assert "(the bot raised" not in transcript
