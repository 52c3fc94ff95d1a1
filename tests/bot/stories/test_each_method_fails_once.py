"""Every Bot API method the bot uses, made to fail once: what the user then sees.

Each row of :data:`ROWS` is a short story. Someone does something; Telegram fails the one call
the bot needs for it (a 5xx, a 400, a 403, no answer in time, a dropped connection); the story
says what the user then sees (the next message, the toast, the edited progress message), that
nothing else is said (no generic apology on top, no "unknown command"), and that trying again
works, with nothing lost and nothing stuck.

The methods (grep bot/ for ``send_``, ``edit_``, ``answer``, ``get_file``, ``download``,
``set_my_commands``; PTB itself calls ``getMe`` at start-up and ``deleteWebhook`` and
``getUpdates`` to poll) are listed in :data:`METHODS`;
:func:`test_the_table_covers_every_method_the_stories_used` checks that list against the calls
the whole story suite made. Rows in :data:`HTTP_ROWS` run the same stories over HTTP, through
PTB's own HTTP client to the fake served on a socket; the two polling methods have stories of
their own below the table, over HTTP with real long polling.

The quiz answer path is three calls: the toast, the pressed question edited into its
feedback (its buttons go in the same edit), and the next question; each has its rows.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.error import InvalidToken

from bot import serving as serving_module
from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver, Turn
from bot.fake_telegram.faults import DOWNLOAD
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser, SentMessage
from bot.i18n import plain
from bot.serving import run_polling
from bot.settings import Settings
from tests.bot.demo_bot import tiny_png
from tests.bot.stories.conftest import ADA, LEI, METHODS_SEEN, onboard, story_settings
from tests.bot.stories.test_groups import GROUP_FAIL_ONCE
from tests.bot.stories.test_sounds import french_deck
from tutor.admin import AdminService
from tutor.privacy import PrivacyService
from tutor.service import TutorService

ROOT = FakeUser(9001, "Root", language_code="en")
TOKEN = "5550001:" + "EachMethod" * 3
CSV = b"id,question,answer\ncap-fr,Capital of France?,Paris\ncap-de,Capital of Germany?,Berlin\n"

Fault = int | str  # an HTTP status, "timeout", "network", or "drop" (HTTP only)

METHODS = (
    "getMe",
    "setMyCommands",
    "deleteWebhook",
    "getUpdates",
    "setWebhook",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendAudio",
    "sendVoice",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "getFile",
    DOWNLOAD,
    *GROUP_FAIL_ONCE,
)
"""Every Bot API call the bot makes (DOWNLOAD: fetching an uploaded file's bytes)."""


@dataclass
class Story:
    """The bot, its Bot API and tutor, and how to make the next call of a method fail."""

    chat: ChatDriver
    tutor: TutorService
    settings: Settings
    tmp: Path
    server: HttpBotApi | None = None
    method: str = ""  # the method this row makes fail

    @property
    def fake(self) -> FakeBotApi:
        """The Bot API the bot talks to."""
        return self.chat.fake

    def fail_once(self, method: str, fault: Fault) -> None:
        """The next call of ``method`` fails with ``fault``."""
        if fault == "drop":
            assert self.server is not None, "a dropped connection needs the HTTP fake"
            self.server.drop_next(method)
        else:
            self.fake.fail_next(method, fault)

    def said(self, turn: Turn) -> list[str]:
        """The new messages the user read in this turn, in order."""
        return [m.plain for m in turn.new]


StoryFunction = Callable[[Story, Fault], Awaitable[None]]


def reason(lang: str, kind: str, fault: Fault) -> str:
    """The words a failed send gives as its reason."""
    if fault == "timeout":
        return plain(lang, "send_failed.reason.timeout")
    if fault == 400:
        return plain(lang, f"send_failed.reason.refused_{kind}")
    return plain(lang, "send_failed.reason.unreachable")


def apology(command: str) -> str:
    """What the student reads after ``command`` failed unexpectedly."""
    verb = {"/help": "shown", "/stats": "shown", "/admin_stats": "shown", "/mydata": "sent"}
    return plain("en", f"apology.command_{verb[command]}", command=command)


def apologised(said: list[str]) -> bool:
    """Whether any of these messages is the apology after an unexpected failure."""
    return any("went wrong on my side" in text or "was lost on the way" in text for text in said)


async def a_student_who_blocked_the_bot_is_sent_nothing_more(s: Story, fault: Fault) -> None:
    """/help's answer is refused with 403 (the student blocked the bot): no apology is tried
    (it would be refused too), and the log has one warning, no stack."""
    records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("bot.app")
    logger.addHandler(catcher)
    try:
        s.fail_once("sendMessage", fault)
        turn = await s.chat.send(ADA, "/help")
    finally:
        logger.removeHandler(catcher)
    assert s.said(turn) == []
    assert len(s.fake.calls_of("sendMessage")) == 1  # the refused reply, no apology after it
    assert [r.levelname for r in records] == ["WARNING"]
    assert "Telegram refused the reply" in records[0].getMessage()
    assert records[0].exc_info is None and "Traceback" not in records[0].getMessage()


# -- start-up ----------------------------------------------------------------------------------


async def start_up_waits_for_telegram_then_serves(s: Story, fault: Fault) -> None:
    """Telegram fails a start-up call (getMe, deleteWebhook): the bot tries it again a moment
    later instead of stopping, then answers what the student sent meanwhile, once."""
    before = len(s.fake.calls_of(s.method))  # the running chat's own start
    s.fail_once(s.method, fault)
    s.fake.queue_update(s.fake.user_command(ADA, "/help"))
    application = build_application(s.settings, s.tutor, request=s.fake)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(serving_module, "STARTUP_RETRY_DELAYS", (0.05,))
        await _poll_until_answered(application, s.fake)
    [answer] = s.fake.messages(ADA.id)
    assert answer.plain.startswith("How it works")
    assert [c.ok for c in s.fake.calls_of(s.method)[before:]] == [False, True]


async def the_menu_is_published_at_the_next_start(s: Story, fault: Fault) -> None:
    """One command menu is refused at start-up: the bot serves anyway; a restart publishes."""
    s.fake.commands.clear()
    application = build_application(s.settings, s.tutor, request=s.fake)
    s.fail_once("setMyCommands", fault)
    async with ChatDriver(application, raise_errors=False) as started:
        turn = await started.send(ADA, "/help")
        assert "/quiz" in turn.text  # serving although a menu is missing
    defaults = [key for key in s.fake.commands if key[0] == "default"]
    assert len(defaults) == 1  # English or Chinese: the other one failed
    restarted = build_application(s.settings, s.tutor, request=s.fake)
    async with ChatDriver(restarted, raise_errors=False):
        pass
    assert s.fake.commands_for("") and s.fake.commands_for("zh")


# -- plain replies -----------------------------------------------------------------------------


async def a_reply_is_lost_and_the_bot_apologises_once(s: Story, fault: Fault) -> None:
    """/help's answer fails: the student reads one apology that says to try again; it works."""
    s.fail_once("sendMessage", fault)
    turn = await s.chat.send(ADA, "/help")
    assert s.said(turn) == [apology("/help")]
    again = await s.chat.send(ADA, "/help")
    assert "/quiz" in again.text and not apologised(s.said(again))


# -- /stats ------------------------------------------------------------------------------------


async def the_stats_chart_is_not_delivered(s: Story, fault: Fault) -> None:
    """/stats: the numbers arrive, the chart does not; one message says why and what to do."""
    await onboard(s.chat, ADA)
    s.fail_once("sendPhoto", fault)
    turn = await s.chat.send(ADA, "/stats")
    said = s.said(turn)
    assert said[0].startswith("Your progress")
    if fault == 403:  # blocked by the student: nothing reaches them, no notice either
        assert said == said[:1]
    else:
        assert said[1:] == [
            plain("en", "send_failed.chart", reason=reason("en", "photo", fault)),
        ]
        if fault == 400:
            assert said[1] == (
                "I could not send your chart just now (Telegram refused the picture)."
                " Your numbers are above; try /stats again in a minute."
            )
    again = await s.chat.send(ADA, "/stats")
    assert [bool(m.photo) for m in again.new] == [False, True]


async def the_stats_chart_is_refused_in_chinese(s: Story, fault: Fault) -> None:
    """The notice speaks the student's language."""
    await onboard(s.chat, LEI)
    s.fail_once("sendPhoto", fault)
    turn = await s.chat.send(LEI, "/stats")
    assert s.said(turn)[1:] == [
        plain("zh", "send_failed.chart", reason=reason("zh", "photo", fault)),
    ]
    assert s.said(turn)[1].startswith("图表暂时没能发出（Telegram 拒收了这张图片）")


async def the_admin_chart_is_not_delivered(s: Story, fault: Fault) -> None:
    """/admin_stats: the numbers arrive, the chart does not; no "unknown command" after it."""
    s.fail_once("sendPhoto", fault)
    turn = await s.chat.send(ROOT, "/admin_stats")
    said = s.said(turn)
    assert said[0].startswith("Answers, last")
    assert said[1:] == [
        plain("en", "send_failed.admin_chart", reason=reason("en", "photo", fault)),
    ]
    again = await s.chat.send(ROOT, "/admin_stats")
    assert [bool(m.photo) for m in again.new] == [False, True]


# -- files -------------------------------------------------------------------------------------


async def the_answer_file_is_not_delivered(s: Story, fault: Fault) -> None:
    """/mydata: the CSV does not arrive; one message says so and that nothing changed."""
    await onboard(s.chat, ADA)
    s.fail_once("sendDocument", fault)
    turn = await s.chat.send(ADA, "/mydata")
    if fault == 403:
        assert s.said(turn) == []
    else:
        assert s.said(turn) == [
            plain("en", "send_failed.mydata", reason=reason("en", "document", fault)),
        ]
    again = await s.chat.send(ADA, "/mydata")
    [document] = again.new
    assert document.document is not None
    assert next(csv.reader(io.StringIO(document.document.decode("utf-8-sig"))))


async def the_export_is_not_delivered(s: Story, fault: Fault) -> None:
    """/export: the deck file does not arrive; the admin is told; the deck is unchanged."""
    s.fail_once("sendDocument", fault)
    turn = await s.chat.send(ROOT, "/export test-deck json")
    assert s.said(turn) == [
        plain(
            "en",
            "send_failed.export",
            file="test-deck.json",
            reason=reason("en", "document", fault),
        ),
    ]
    again = await s.chat.send(ROOT, "/export test-deck json")
    [document] = again.new
    assert document.document is not None
    assert len(json.loads(document.document)["items"]) == 5


# -- /import: the progress message always ends saying done or failed ---------------------------


async def _import(s: Story, fault: Fault, method: str) -> tuple[SentMessage, Turn]:
    s.fail_once(method, fault)
    turn = await s.chat.upload(ROOT, CSV, "geo.csv", caption="/import Geography")
    [status] = turn.new
    return status, turn


async def _imported_on_the_next_try(s: Story) -> None:
    again = await s.chat.upload(ROOT, CSV, "geo.csv", caption="/import Geography")
    [status] = again.new
    assert "added 2 · updated 0 · unchanged 0 · skipped 0" in status.plain
    deck = await s.tutor.find_deck("Geography")
    assert [i.n_items for i in await s.tutor.decks() if i.deck.id == deck.id] == [2]


async def _no_geography(s: Story) -> None:
    assert [i.deck.name for i in await s.tutor.decks()] == ["Test <Deck> & Co"]


async def the_upload_cannot_be_fetched(s: Story, fault: Fault) -> None:
    """getFile or the download fails: "⏳ Importing…" turns into what happened and what to do."""
    status, turn = await _import(s, fault, s.method)
    assert status.plain == plain(
        "en",
        "import.download_failed",
        file="geo.csv",
        reason=(
            plain("en", "fetch_failed.reason.timeout")  # nothing is on its way to the admin
            if fault == "timeout"
            else reason("en", "document", fault)
        ),
    )
    assert status.history[0] == "⏳ Importing <b>geo.csv</b>…" and status.edited
    assert len(turn.new) == 1  # nothing else said
    await _no_geography(s)
    await _imported_on_the_next_try(s)


async def the_import_outcome_edit_fails_once(s: Story, fault: Fault) -> None:
    """The final edit fails once: it is tried again, so "⏳ Importing…" still ends in the count."""
    status, turn = await _import(s, fault, "editMessageText")
    assert "added 2 · updated 0 · unchanged 0 · skipped 0" in status.plain
    assert len(turn.new) == 1
    assert len(await s.tutor.decks()) == 2


async def the_progress_message_is_not_sent(s: Story, fault: Fault) -> None:
    """ "⏳ Importing…" itself is lost: the import goes on and its outcome arrives on its own."""
    s.fail_once("sendMessage", fault)
    turn = await s.chat.upload(ROOT, CSV, "geo.csv", caption="/import Geography")
    [outcome] = turn.new
    assert "added 2 · updated 0 · unchanged 0 · skipped 0" in outcome.plain
    assert len(await s.tutor.decks()) == 2


# -- buttons -----------------------------------------------------------------------------------


async def _settings_panel(s: Story) -> SentMessage:
    await onboard(s.chat, ADA)
    await s.chat.send(ADA, "/settings")
    return s.chat.message_with_button(ADA, plain("en", "button.daily_goal"))


async def a_settings_press_is_not_acknowledged(s: Story, fault: Fault) -> None:
    """The press's toast fails: the panel opens all the same (the spinner stops by itself),
    with no apology on top; the next press works."""
    panel = await _settings_panel(s)
    s.fail_once("answerCallbackQuery", fault)
    turn = await s.chat.press(ADA, plain("en", "button.daily_goal"), message=panel)
    assert turn.new == [] and turn.answer is None
    assert panel.plain == plain("en", "settings.choose_goal")
    again = await s.chat.press(ADA, "50", message=panel)
    assert again.answer is not None and again.answer.text == plain("en", "settings.saved")
    assert "Daily goal: 50 answers" in panel.plain


async def a_settings_panel_is_not_redrawn(s: Story, fault: Fault) -> None:
    """The panel's edit fails: a 5xx or a timeout is tried again, so the panel moves on;
    a message Telegram will not edit (too old, deleted) gets the panel as a new message.
    Never the generic apology; the next press works."""
    panel = await _settings_panel(s)
    s.fail_once("editMessageText", fault)
    turn = await s.chat.press(ADA, plain("en", "button.daily_goal"), message=panel)
    assert not apologised(s.said(turn))
    if fault == 400:
        [fresh] = turn.new
        assert fresh.plain == plain("en", "settings.choose_goal") and fresh.buttons
        panel = fresh
    else:
        assert turn.new == [] and panel.plain == plain("en", "settings.choose_goal")
    again = await s.chat.press(ADA, "30", message=panel)
    assert again.new == [] and "30" in panel.plain
    assert (await s.tutor.student(ADA.id)).daily_goal == 30  # type: ignore[union-attr]


async def a_stale_settings_panel_comes_anew_in_chinese(s: Story, fault: Fault) -> None:
    """A saved choice on a panel Telegram no longer edits: saved, and the panel with the new
    value arrives as a new message, in the student's language."""
    await onboard(s.chat, LEI)
    await s.chat.send(LEI, "/settings")
    panel = s.chat.message_with_button(LEI, plain("zh", "button.quiz_length"))
    await s.chat.press(LEI, plain("zh", "button.quiz_length"), message=panel)
    gone = "Bad Request: message to edit not found"
    s.fake.fail_next("editMessageText", fault, description=gone)
    turn = await s.chat.press(LEI, "15", message=panel)
    [fresh] = turn.new
    assert fresh.plain.startswith("设置\n") and "每次题数：15 题" in fresh.plain
    assert turn.answer is not None and turn.answer.text == plain("zh", "settings.saved")
    assert (await s.tutor.student(LEI.id)).quiz_length == 15  # type: ignore[union-attr]


async def the_erasure_is_confirmed_anyway(s: Story, fault: Fault) -> None:
    """/forget, "Erase everything": the data is gone, and the user is told so even when the
    confirmation cannot replace the question (the toast failing changes nothing)."""
    await onboard(s.chat, ADA)
    await s.chat.send(ADA, "/forget")
    s.fail_once(s.method, fault)
    turn = await s.chat.press(ADA, plain("en", "privacy.yes"))
    done = plain("en", "privacy.done")
    assert [m.plain for m in turn.new + turn.edited] == [done]
    assert await s.tutor.student(ADA.id) is None
    again = await s.chat.send(ADA, "/forget")
    assert s.said(again) == [plain("en", "privacy.nothing")]


async def the_admin_cancel_cannot_remove_buttons(s: Story, fault: Fault) -> None:
    """An admin cancels a deck deletion; removing the buttons fails: "Cancelled." all the
    same (no apology), and the deck is untouched."""
    await s.chat.send(ROOT, "/deck_delete test-deck")
    question = s.chat.message_with_button(ROOT, "x:no:0")
    s.fail_once("editMessageReplyMarkup", fault)
    turn = await s.chat.press_data(ROOT, question, "x:no:0")
    assert s.said(turn) == ["Cancelled."]
    assert len(await s.tutor.decks()) == 1


async def the_deleted_deck_is_said_deleted_although_its_buttons_stay(
    s: Story, fault: Fault
) -> None:
    """An admin confirms a deck deletion; removing the buttons fails: the deck is gone and
    the admin is told so, not asked to try again."""
    await s.chat.send(ROOT, "/deck_delete test-deck")
    question = s.chat.message_with_button(ROOT, "🗑 Delete")
    s.fail_once("editMessageReplyMarkup", fault)
    turn = await s.chat.press(ROOT, "🗑 Delete", message=question)
    assert s.said(turn) == ["Deleted Test <Deck> & Co. Students' answers are kept."]
    assert await s.tutor.decks() == []


# -- quiz: the first question and the flashcard reveal (not the answer path) -------------------


async def _picture_deck(s: Story, tmp: Path, front: str = "Which flag?") -> None:
    """An Anki package with one picture flashcard; the student studies only that."""
    import genanki

    deck = genanki.Deck(2059400222, "Flags")
    front = f'<img src="flag.png">{front}'
    deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=[front, "France"]))
    (tmp / "flag.png").write_bytes(tiny_png())
    package = genanki.Package(deck, media_files=[str(tmp / "flag.png")])
    package.write_to_file(str(tmp / "flags.apkg"))
    await s.tutor.import_file((tmp / "flags.apkg").read_bytes(), "flags.apkg", deck_name="Flags")
    await onboard(s.chat, ADA, deck="Flags")


async def the_question_picture_is_not_delivered(s: Story, fault: Fault) -> None:
    """/quiz on a picture card: a picture Telegram refuses, fails (5xx) or does not confirm
    gives the question as text with a note, never the generic apology."""
    await _picture_deck(s, s.tmp)
    s.fail_once("sendPhoto", fault)
    turn = await s.chat.send(ADA, "/quiz 1")
    [question] = turn.new
    assert "Which flag?" in question.plain
    assert question.plain.endswith(plain("en", "quiz.image_missing"))
    assert "send /stop and start /quiz again" in question.plain  # what to do without it
    assert question.buttons  # "Show answer": the quiz goes on


async def the_flashcard_reveal_is_not_drawn(s: Story, fault: Fault) -> None:
    """ "Show answer" on a picture card cannot edit its caption: a 400 shows the answer anew
    with the grade buttons; a 5xx or a timeout is tried again, so the answer shows in place;
    never the generic apology."""
    await _picture_deck(s, s.tmp)
    await s.chat.send(ADA, "/quiz 1")
    card = s.chat.message_with_button(ADA, plain("en", "button.show_answer"))
    assert card.photo is not None
    s.fail_once("editMessageCaption", fault)
    turn = await s.chat.press(ADA, plain("en", "button.show_answer"), message=card)
    grades = [plain("en", f"button.grade_{g}") for g in range(1, 5)]
    assert not apologised(s.said(turn))
    if fault == 400:
        [shown] = turn.new
        assert "France" in shown.plain and shown.button_texts == grades
        assert card.buttons == []  # the old "Show answer" is gone
    else:
        assert turn.new == []
        assert "France" in card.plain and card.button_texts == grades


async def test_a_question_too_long_for_a_caption_has_its_picture_above(in_process: Story) -> None:
    """A picture question whose text does not fit a caption: the picture, then the question
    as text, with no note that the picture is missing (it is right above)."""
    await _picture_deck(in_process, in_process.tmp, front="Which &amp;&amp;&amp; flag? " * 60)
    turn = await in_process.chat.send(ADA, "/quiz 1")
    picture, question = turn.new
    assert picture.photo is not None and not picture.buttons
    assert "Which &&& flag?" in question.plain and question.buttons
    assert plain("en", "quiz.image_missing") not in question.plain


async def the_question_sound_is_not_delivered(s: Story, fault: Fault) -> None:
    """/quiz on a word with a sound: the sound fails, the question comes with one line saying
    so, and the answer is taken as usual (its own sound included)."""
    await french_deck(s.tutor, s.tmp)
    await onboard(s.chat, ADA, deck="French words")
    s.fail_once("sendAudio", fault)
    turn = await s.chat.send(ADA, "/quiz 1")
    question = turn.new[-1]
    assert "bonjour" in question.plain
    assert question.plain.endswith(plain("en", "quiz.sound_missing"))
    assert not apologised(s.said(turn))
    turn = await s.chat.send(ADA, "hello")
    feedback, sound, summary = turn.new
    assert "✅ Correct!" in feedback.plain and sound.voice and "Session done:" in summary.plain


async def the_answer_sound_is_not_delivered(s: Story, fault: Fault) -> None:
    """The answer's sound fails after a typed answer: the feedback, one line saying the
    sound could not be sent, and the quiz goes on to its end."""
    await french_deck(s.tutor, s.tmp)
    await onboard(s.chat, ADA, deck="French words")
    await s.chat.send(ADA, "/quiz 1")
    s.fail_once("sendVoice", fault)
    turn = await s.chat.send(ADA, "hello")
    said = s.said(turn)
    assert "✅ Correct!" in said[0]
    assert said[-2:] == [plain("en", "quiz.answer_sound_missing"), said[-1]]
    assert "Session done:" in said[-1] and not apologised(said)


# -- the quiz answer path (rebuilt elsewhere; switched on after that merge) ---------------------


# -- the quiz answer path: acknowledge, edit the question into its feedback, ask the next ------


CHOICES = {
    "metatutor": 1,
    "deck": {"slug": "choices", "name": "Choices", "language": "en"},
    "items": [
        {
            "id": f"c{i}",
            "type": "multiple_choice",
            "question": f"Pick {i}",
            "options": [f"right{i}", f"wrong{i}"],
            "answer": f"right{i}",
        }
        for i in range(4)
    ],
}


async def _answer_first_question(s: Story) -> tuple[SentMessage, str]:
    await s.tutor.import_file(json.dumps(CHOICES).encode(), "choices.json")
    await onboard(s.chat, ADA, deck="Choices")
    await s.chat.send(ADA, "/quiz 3")
    for message in reversed(s.chat.messages(ADA)):
        answers = [(label, d) for row in message.buttons for label, d in row if d[:2] == "a:"]
        if answers:
            return message, answers[0][1]
    raise AssertionError("no question with answer buttons")


async def _attempts(s: Story) -> int:
    async with (
        s.tutor.db.read() as conn,
        conn.execute("SELECT COUNT(*) FROM attempts") as cursor,
    ):
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _told(turn: Turn) -> list[str]:
    """What the student reads after a press: the edited question, then new messages."""
    return [m.plain for m in [*turn.edited, *turn.new]]


def _feedback(turn: Turn) -> bool:
    return any("Correct" in text or "Not quite" in text for text in _told(turn))


async def a_lost_answer_reply_is_resent_on_the_next_press(s: Story, fault: Fault) -> None:
    """The feedback (the question's edit) after an answer is lost: the answer is kept once,
    its buttons stay, and pressing the answered question again shows the feedback and the
    next question."""
    question, data = await _answer_first_question(s)
    s.fail_once(s.method, fault)
    lost = await s.chat.press_data(ADA, question, data)
    assert await _attempts(s) == 1
    assert s.said(lost) == [plain("en", "quiz.lost_feedback")]  # told once what to do
    assert question.buttons
    again = await s.chat.press_data(ADA, question, data)
    assert await _attempts(s) == 1
    assert _feedback(again) and question.edited and not question.buttons
    assert s.chat.last(ADA).buttons  # the next question, with its buttons


async def a_lost_next_question_comes_with_quiz(s: Story, fault: Fault) -> None:
    """The feedback arrives (the question edited) but the next question is lost: the student
    is told once to send /quiz, which shows it."""
    question, data = await _answer_first_question(s)
    s.fail_once("sendMessage", fault)
    lost = await s.chat.press_data(ADA, question, data)
    assert await _attempts(s) == 1
    assert _feedback(lost) and not question.buttons
    assert s.said(lost) == [plain("en", "quiz.lost_question")]
    turn = await s.chat.send(ADA, "/quiz")
    assert "Question 2/3" in s.said(turn)[-1] and s.chat.last(ADA).buttons


async def a_refused_feedback_edit_comes_as_a_message(s: Story, fault: Fault) -> None:
    """Telegram refuses the question's edit for good (400): the feedback comes as a new
    message, the buttons go separately, and the next question follows."""
    question, data = await _answer_first_question(s)
    s.fail_once("editMessageText", fault)
    turn = await s.chat.press_data(ADA, question, data)
    texts = s.said(turn)
    assert "Correct" in texts[0] or "Not quite" in texts[0]
    assert "Question 2/3" in texts[-1] and not question.buttons
    assert await _attempts(s) == 1


async def an_answer_press_is_not_acknowledged(s: Story, fault: Fault) -> None:
    """The answer's toast fails: the feedback and the next question still arrive, once."""
    question, data = await _answer_first_question(s)
    s.fail_once("answerCallbackQuery", fault)
    turn = await s.chat.press_data(ADA, question, data)
    assert await _attempts(s) == 1
    assert _feedback(turn) and "Question 2/3" in s.said(turn)[-1]
    assert not apologised(s.said(turn))


async def answered_buttons_cannot_be_removed(s: Story, fault: Fault) -> None:
    """The feedback cannot replace the question and removing its buttons fails too: the
    feedback and next question arrive; a press on the old buttons says it was answered."""
    question, data = await _answer_first_question(s)
    s.fail_once("editMessageText", 400)
    s.fail_once("editMessageReplyMarkup", fault)
    turn = await s.chat.press_data(ADA, question, data)
    assert _feedback(turn) and question.buttons
    assert not apologised(s.said(turn))
    again = await s.chat.press_data(ADA, question, data)
    assert again.answer is not None
    assert again.answer.text == "Already answered. Question 2 of 3 is waiting below."
    assert await _attempts(s) == 1


# -- the table ---------------------------------------------------------------------------------


def row(method: str, fault: Fault, story: StoryFunction, *marks: Any) -> Any:
    """One story: ``method`` fails once with ``fault``."""
    return pytest.param(method, fault, story, id=f"{method}-{fault}-{story.__name__}", marks=marks)


ROWS = [
    *(row("getMe", f, start_up_waits_for_telegram_then_serves) for f in (502, "timeout")),
    *(row("deleteWebhook", f, start_up_waits_for_telegram_then_serves) for f in (500, "network")),
    *(row("setMyCommands", f, the_menu_is_published_at_the_next_start) for f in (400, 500)),
    *(row("sendMessage", f, a_reply_is_lost_and_the_bot_apologises_once) for f in (400, 502)),
    row("sendMessage", "timeout", a_reply_is_lost_and_the_bot_apologises_once),
    row("sendMessage", 403, a_student_who_blocked_the_bot_is_sent_nothing_more),
    row("sendMessage", 502, the_progress_message_is_not_sent),
    *(row("sendPhoto", f, the_stats_chart_is_not_delivered) for f in (400, 403, 502, "timeout")),
    row("sendPhoto", 400, the_stats_chart_is_refused_in_chinese),
    *(row("sendPhoto", f, the_admin_chart_is_not_delivered) for f in (400, 502)),
    *(row("sendPhoto", f, the_question_picture_is_not_delivered) for f in (400, 502, "timeout")),
    *(row("sendAudio", f, the_question_sound_is_not_delivered) for f in (400, 502, "timeout")),
    *(row("sendVoice", f, the_answer_sound_is_not_delivered) for f in (400, 502, "timeout")),
    *(row("sendDocument", f, the_answer_file_is_not_delivered) for f in (400, 403, 502)),
    row("sendDocument", "timeout", the_answer_file_is_not_delivered),
    *(row("sendDocument", f, the_export_is_not_delivered) for f in (400, 502, "timeout")),
    *(row("editMessageText", f, the_import_outcome_edit_fails_once) for f in (400, 502)),
    row("editMessageText", "timeout", the_import_outcome_edit_fails_once),
    *(row("editMessageText", f, a_settings_panel_is_not_redrawn) for f in (400, 502, "timeout")),
    row("editMessageText", 400, a_stale_settings_panel_comes_anew_in_chinese),
    *(row("editMessageText", f, the_erasure_is_confirmed_anyway) for f in (400, 502)),
    *(
        row("editMessageCaption", f, the_flashcard_reveal_is_not_drawn)
        for f in (400, 502, "timeout")
    ),
    *(row("editMessageReplyMarkup", f, the_admin_cancel_cannot_remove_buttons) for f in (502,)),
    row(
        "editMessageReplyMarkup",
        "timeout",
        the_deleted_deck_is_said_deleted_although_its_buttons_stay,
    ),
    *(row("answerCallbackQuery", f, a_settings_press_is_not_acknowledged) for f in (400, 502)),
    row("answerCallbackQuery", "timeout", a_settings_press_is_not_acknowledged),
    row("answerCallbackQuery", 502, the_erasure_is_confirmed_anyway),
    *(row("getFile", f, the_upload_cannot_be_fetched) for f in (400, 502, "timeout")),
    *(row(DOWNLOAD, f, the_upload_cannot_be_fetched) for f in (404, 500, "network")),
    # The answer path: a lost reply is resent when the student presses again.
    row("answerCallbackQuery", 502, an_answer_press_is_not_acknowledged),
    row("editMessageReplyMarkup", 502, answered_buttons_cannot_be_removed),
    row("editMessageText", 502, a_lost_answer_reply_is_resent_on_the_next_press),
    row("editMessageText", "timeout", a_lost_answer_reply_is_resent_on_the_next_press),
    row("editMessageText", 400, a_refused_feedback_edit_comes_as_a_message),
    row("sendMessage", 502, a_lost_next_question_comes_with_quiz),
    row("sendMessage", "timeout", a_lost_next_question_comes_with_quiz),
]

HTTP_ROWS = [
    row("sendMessage", 502, a_reply_is_lost_and_the_bot_apologises_once),
    row("sendPhoto", 400, the_stats_chart_is_not_delivered),
    row("sendPhoto", "drop", the_stats_chart_is_not_delivered),
    row("sendDocument", 502, the_answer_file_is_not_delivered),
    row("sendAudio", 400, the_question_sound_is_not_delivered),
    row("sendVoice", "drop", the_answer_sound_is_not_delivered),
    row("editMessageText", "drop", the_import_outcome_edit_fails_once),
    row("getFile", 400, the_upload_cannot_be_fetched),
    row(DOWNLOAD, 500, the_upload_cannot_be_fetched),
    row("answerCallbackQuery", 502, a_settings_press_is_not_acknowledged),
    row("editMessageText", "drop", a_lost_answer_reply_is_resent_on_the_next_press),
]


# -- running a story ---------------------------------------------------------------------------


def _settings(**extra: Any) -> Settings:
    return story_settings().model_copy(update={"admin_ids": frozenset({ROOT.id}), **extra})


@pytest.fixture
async def in_process(tutor: TutorService, fake: FakeBotApi, tmp_path: Path) -> AsyncIterator[Story]:
    """The bot on the in-process fake, errors handled as in production."""
    settings = _settings()
    application = build_application(settings, tutor, request=fake)
    async with ChatDriver(application, raise_errors=False) as chat:
        yield Story(chat, tutor, settings, tmp_path)


def _http_settings(server: HttpBotApi) -> Settings:
    return _settings(
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=server.base_url,
        telegram_api_file_base_url=server.file_base_url,
    )


@pytest.fixture
async def over_http(tutor: TutorService, tmp_path: Path) -> AsyncIterator[Story]:
    """The bot talking HTTP (PTB's own client) to the fake on a local socket."""
    fake = FakeBotApi()
    fake.token = TOKEN
    async with HttpBotApi(fake) as server:
        settings = _http_settings(server)
        application = build_application(settings, tutor)
        async with ChatDriver(application, raise_errors=False, fake=fake) as chat:
            yield Story(chat, tutor, settings, tmp_path, server)


async def _run(story: Story, method: str, fault: Fault, tell: StoryFunction) -> None:
    story.method = method
    await tell(story, fault)


@pytest.mark.parametrize(("method", "fault", "story"), ROWS)
async def test_each_method_fails_once(
    in_process: Story, method: str, fault: Fault, story: StoryFunction
) -> None:
    await _run(in_process, method, fault, story)


@pytest.mark.parametrize(("method", "fault", "story"), HTTP_ROWS)
async def test_each_method_fails_once_over_http(
    over_http: Story, method: str, fault: Fault, story: StoryFunction
) -> None:
    await _run(over_http, method, fault, story)


async def _poll_until_answered(application: Any, fake: FakeBotApi) -> None:
    """Serve by long polling until the student has an answer (or 10 s), then stop."""
    stop = asyncio.Event()
    serving = asyncio.create_task(run_polling(application, stop=stop))
    try:
        for _ in range(500):
            if fake.messages(ADA.id) or serving.done():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # a second answer would have arrived by now
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)


async def test_a_failed_poll_is_retried_and_the_update_handled_once(tutor: TutorService) -> None:
    """Over HTTP with long polling: getUpdates fails once; the student's /help is answered
    once, a moment later."""
    fake = FakeBotApi()
    fake.token = TOKEN
    async with HttpBotApi(fake) as server:
        application = build_application(_http_settings(server), tutor)
        fake.fail_next("getUpdates", 502)
        fake.queue_update(fake.user_command(ADA, "/help"))
        await _poll_until_answered(application, fake)
    [answer] = fake.messages(ADA.id)
    assert "/quiz" in answer.plain
    assert [c.ok for c in fake.calls_of("getUpdates")][:2] == [False, True]


async def test_polling_waits_out_telegram_at_start_up_and_says_so_in_one_line(
    tutor: TutorService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Over HTTP: getMe and then deleteWebhook (the first step of polling) fail, a dropped
    connection among them: the bot waits them out, one log line each, then answers what
    was waiting."""
    monkeypatch.setattr(serving_module, "STARTUP_RETRY_DELAYS", (0.05, 0.1))
    fake = FakeBotApi()
    fake.token = TOKEN
    async with HttpBotApi(fake) as server:
        fake.queue_update(fake.user_command(ADA, "/help"))
        fake.fail_next("getMe", 502)
        fake.fail_next("deleteWebhook", 500, times=2)
        with caplog.at_level("WARNING"):
            await _poll_until_answered(build_application(_http_settings(server), tutor), fake)
    [answer] = fake.messages(ADA.id)
    assert "/quiz" in answer.plain
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("start-up")]
    assert lines == [
        "start-up: getMe failed (NetworkError: Bad Gateway); trying again in 0.05 s (attempt 2)",
        "start-up: deleteWebhook failed (NetworkError: Internal Server Error);"
        " trying again in 0.05 s (attempt 2)",
        "start-up: deleteWebhook failed (NetworkError: Internal Server Error);"
        " trying again in 0.1 s (attempt 3)",
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no stack traces


async def test_a_stop_while_waiting_for_telegram_at_start_up_stops_at_once(
    tutor: TutorService, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM while the bot waits to try getMe again: serving ends without another try."""
    monkeypatch.setattr(serving_module, "STARTUP_RETRY_DELAYS", (600.0,))
    fake.fail_next("getMe", 502)
    stop = asyncio.Event()
    serving = asyncio.create_task(
        run_polling(build_application(_settings(), tutor, request=fake), stop=stop)
    )
    for _ in range(500):
        if fake.calls_of("getMe"):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(serving, 5)
    assert len(fake.calls_of("getMe")) == 1


async def test_a_token_telegram_refuses_stops_start_up_at_once(
    tutor: TutorService, fake: FakeBotApi
) -> None:
    """A wrong token (getMe 401) is not waited out: start-up stops with the error."""
    fake.fail_next("getMe", 401)
    with pytest.raises(InvalidToken):
        await run_polling(build_application(_settings(), tutor, request=fake))
    assert len(fake.calls_of("getMe")) == 1


# -- the list is complete ----------------------------------------------------------------------


@pytest.mark.after_stories
def test_the_table_covers_every_method_the_stories_used() -> None:
    """Every Bot API method any story in this run called has a row that makes it fail."""
    tested = {values[0] for values in (p.values for p in ROWS + HTTP_ROWS)}
    tested |= set(GROUP_FAIL_ONCE)  # told in the group stories, with their class set up
    # Long polling, and the webhook front's start-up (test_two_workers fails it once): their
    # own tests.
    assert set(METHODS) - tested <= {"getUpdates", "setWebhook"}
    assert METHODS_SEEN, "the story suite recorded no Bot API call"
    unlisted = METHODS_SEEN - set(METHODS)
    assert not unlisted, f"the bot now calls {sorted(unlisted)}: add them to METHODS and ROWS"


# -- not Telegram: a handler that crashes, and an edit Telegram keeps refusing ------------------


@pytest.mark.parametrize(
    ("user", "command", "target", "name"),
    [
        (ROOT, "/admin_stats", AdminService, "stats"),  # the admin group
        (ADA, "/mydata", PrivacyService, "export_answers"),  # the privacy group
        (ADA, "/stats", TutorService, "stats"),  # the student handlers
    ],
)
async def test_a_crashed_command_gets_one_apology_and_nothing_else(
    in_process: Story,
    monkeypatch: pytest.MonkeyPatch,
    user: FakeUser,
    command: str,
    target: type,
    name: str,
) -> None:
    """A command whose handler crashes: the apology, and no "I do not know that command"
    from the student handlers after it (the failed update goes no further)."""
    await onboard(in_process.chat, ADA)

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(target, name, crash)
    turn = await in_process.chat.send(user, command)
    assert in_process.said(turn) == [apology(command)]
    assert [type(e) for e in turn.errors] == [RuntimeError]


async def test_a_crashed_import_ends_its_progress_message(
    in_process: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import itself crashes: "⏳ Importing…" says so, that nothing changed, and what to
    do; nothing else is said; the next upload imports."""

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    with monkeypatch.context() as patched:
        patched.setattr(TutorService, "import_file", crash)
        turn = await in_process.chat.upload(ROOT, CSV, "geo.csv", caption="/import Geography")
    [status] = turn.new
    assert status.plain == plain("en", "import.crashed", file="geo.csv")
    assert status.history[0] == "⏳ Importing <b>geo.csv</b>…"
    await _no_geography(in_process)
    await _imported_on_the_next_try(in_process)


async def test_an_outcome_that_cannot_be_edited_in_arrives_as_a_message(
    in_process: Story,
) -> None:
    """The progress message cannot be edited at all (deleted, say): the outcome comes anew."""
    gone = "Bad Request: message to edit not found"
    in_process.fake.fail_next("editMessageText", 400, description=gone, times=2)
    turn = await in_process.chat.upload(ROOT, CSV, "geo.csv", caption="/import Geography")
    progress, outcome = turn.new
    assert progress.plain == "⏳ Importing geo.csv…"
    assert "added 2 · updated 0 · unchanged 0 · skipped 0" in outcome.plain
