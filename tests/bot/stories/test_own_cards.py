"""Stories of students' own cards: Ada writes cards, studies them, manages and exports them;
Eve, in the same bot, never meets them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.faults import DOWNLOAD
from bot.fake_telegram.objects import FakeUser, SentMessage
from tests.bot.stories.conftest import ADA, EVE, LEI, TEST_DECK, onboard, story_settings
from tests.conftest import FakeClock
from tutor.content import parse_deck_file
from tutor.service import TutorService

ADMIN = FakeUser(9001, "Root", language_code="en")
JPEG = b"\xff\xd8\xff\xe0" + b"picture" * 40


async def only_own_cards(chat: ChatDriver, tutor: TutorService, user: FakeUser) -> None:
    """Onboard, then leave the test deck: the quiz has only the student's own cards."""
    await onboard(chat, user)
    await tutor.leave(user.id, "test-deck")


def _question(chat: ChatDriver, user: FakeUser = ADA) -> SentMessage:
    for message in reversed(chat.messages(user)):
        if "Question " in message.plain or "第 " in message.plain:
            return message
    raise AssertionError("no question was asked")


async def _card_rows(tutor: TutorService, user: FakeUser) -> list[tuple[str, str]]:
    async with (
        tutor.db.read() as conn,
        conn.execute(
            "SELECT i.kind, i.payload FROM items i JOIN decks d ON d.id = i.deck_id"
            " WHERE d.owner_id = ? AND i.deleted_ms IS NULL ORDER BY i.id",
            (user.id,),
        ) as cur,
    ):
        return [(row[0], json.loads(row[1])["prompt"]) for row in await cur.fetchall()]


async def test_new_asks_for_the_front_then_the_back_and_the_card_comes_up_in_a_quiz(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    turn = await chat.send(ADA, "/new")
    assert "New card." in turn.text and "front" in turn.text
    turn = await chat.send(ADA, "Mitochondria")
    assert "Now the back of “Mitochondria”" in turn.text
    turn = await chat.send(ADA, "The powerhouse of the cell")
    assert "✅ Card saved (1 of 500): Mitochondria → The powerhouse of the cell" in turn.text
    # a flashcard like any other: reveal, then grade
    turn = await chat.send(ADA, "/quiz 1")
    question = _question(chat)
    assert "Question 1/1 · My cards" in question.plain and "Mitochondria" in question.plain
    turn = await chat.press(ADA, "Show answer", message=question)
    assert "Answer: The powerhouse of the cell" in turn.edited[-1].plain
    turn = await chat.press(ADA, "Good", message=question)
    assert "You rated it Good." in turn.edited[-1].plain  # the card turned into its feedback


async def test_a_front_and_back_line_and_a_typed_answer_card(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    turn = await chat.send(ADA, "Photosynthesis makes | glucose and oxygen")
    assert "✅ Card saved (1 of 500)" in turn.text
    turn = await chat.send(ADA, "Capital of Peru | Lima; Ciudad de los Reyes")
    assert "✅ Typed-answer card saved (2 of 500): Capital of Peru → Lima; Ciudad de los Reyes" in (
        turn.text
    )
    turn = await chat.send(ADA, "/new Largest planet | Jupiter;")
    assert "Typed-answer card saved (3 of 500)" in turn.text
    assert await _card_rows(tutor, ADA) == [
        ("flashcard", "Photosynthesis makes"),
        ("typed", "Capital of Peru"),
        ("typed", "Largest planet"),
    ]
    # a typed card is answered by typing, matched tolerantly
    await chat.send(ADA, "/quiz 3")
    for _ in range(3):
        text = _question(chat).plain
        if "Capital of Peru" in text:
            turn = await chat.send(ADA, "ciudad de los reyes")
            assert "✅ Correct!" in turn.new[0].plain
        elif "Largest planet" in text:
            turn = await chat.send(ADA, "jupiter")
            assert "✅ Correct!" in turn.new[0].plain
        else:
            await chat.press(ADA, "Show answer")
            await chat.press(ADA, "Easy")
    assert "Session done:" in chat.last(ADA).plain


async def test_a_line_without_a_back_is_refused_and_nothing_is_lost(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    turn = await chat.send(ADA, "only a front |   ")
    assert "A card needs a front and a back separated by one |" in turn.text
    turn = await chat.send(ADA, "a | b | c")
    assert "separated by one |" in turn.text
    assert await _card_rows(tutor, ADA) == []


async def test_cards_with_pictures_by_caption_and_during_new(
    chat: ChatDriver, tutor: TutorService, fake: FakeBotApi
) -> None:
    await only_own_cards(chat, tutor, ADA)
    # a photo with the caption "front | back"
    turn = await chat.send_photo(ADA, JPEG, caption="This bird | a robin")
    assert "✅ Card saved 🖼 (1 of 500): This bird → a robin" in turn.text
    # /new, a photo without a caption, then the front and the back
    await chat.send(ADA, "/new")
    turn = await chat.send_photo(ADA, JPEG + b"2")
    assert "Picture kept. Now send the card's front" in turn.text
    await chat.send(ADA, "This leaf")
    turn = await chat.send(ADA, "an oak leaf")
    assert "✅ Card saved 🖼 (2 of 500): This leaf → an oak leaf" in turn.text
    # /new, the front, then a photo whose caption is the back
    await chat.send(ADA, "/new")
    await chat.send(ADA, "This tree")
    turn = await chat.send_photo(ADA, JPEG + b"3", caption="a birch")
    assert "✅ Card saved 🖼 (3 of 500): This tree → a birch" in turn.text
    # a photo out of the blue is not a card, and says how to make one
    turn = await chat.send_photo(ADA, JPEG)
    assert "send it again with the caption front | back, or send /new first" in turn.text
    assert len(await _card_rows(tutor, ADA)) == 3
    # the picture comes with the question
    turn = await chat.send(ADA, "/quiz 1")
    [photo] = [call for call in turn.calls if call.method == "sendPhoto"]
    assert photo.message is not None and "Question 1/1 · My cards" in photo.message.plain
    async with tutor.db.read() as conn, conn.execute("SELECT data FROM media") as cur:
        stored = sorted(bytes(row[0]) for row in await cur.fetchall())
    assert stored == sorted([JPEG, JPEG + b"2", JPEG + b"3"])


async def test_cancel_by_command_and_by_button(chat: ChatDriver, tutor: TutorService) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    await chat.send(ADA, "Half a card")
    turn = await chat.send(ADA, "/cancel")
    assert "Cancelled: nothing was saved." in turn.text
    turn = await chat.send(ADA, "this is no back any more")
    assert "Card saved" not in turn.text
    await chat.send(ADA, "/new")
    turn = await chat.press(ADA, "✖ Cancel")
    assert "Cancelled: nothing was saved." in turn.text
    turn = await chat.send(ADA, "/cancel")
    assert "There is nothing to cancel." in turn.text
    assert await _card_rows(tutor, ADA) == []


async def test_mycards_pages_edits_and_deletes(chat: ChatDriver, tutor: TutorService) -> None:
    await only_own_cards(chat, tutor, ADA)
    turn = await chat.send(ADA, "/mycards")
    assert "You have no cards of your own yet." in turn.text
    for n in range(1, 8):
        await chat.send(ADA, f"Word {n} | meaning {n}")
    turn = await chat.send(ADA, "/mycards")
    listing = turn.new[0]
    assert "Your own cards: 7 · page 1 of 2" in listing.plain
    assert "1. Word 1 → meaning 1" in listing.plain and "Word 6" not in listing.plain
    assert listing.button_texts[-1] == "More ▶"
    turn = await chat.press(ADA, "More ▶", message=listing)
    assert "page 2 of 2" in listing.plain and "7. Word 7 → meaning 7" in listing.plain
    assert listing.button_texts == ["✏️ 6", "🗑 6", "✏️ 7", "🗑 7", "◀ Back"]
    # edit card 6
    turn = await chat.press(ADA, "✏️ 6", message=listing)
    assert "Word 6 | meaning 6" in turn.text
    turn = await chat.send_photo(ADA, JPEG, caption="Not | a new card")
    assert "An edit changes the card's text and its sound" in turn.text
    turn = await chat.send(ADA, "Word six | the sixth meaning")
    assert "✅ Card changed: Word six → the sixth meaning" in turn.text
    # delete card 7: the list is shown again without it
    turn = await chat.press(ADA, "🗑 7", message=listing)
    assert turn.answer is not None and turn.answer.text == "Deleted: Word 7"
    assert "Your own cards: 6 · page 2 of 2" in listing.plain
    assert "Word six → the sixth meaning" in listing.plain and "Word 7" not in listing.plain
    # an older list's button for the deleted card
    old = await chat.send(ADA, "/mycards")
    found = old.new[0].find_button("🗑 1")
    assert found is not None
    stale_data = found[1]
    # delete card 1 twice at once: one press deletes, the other is told
    first = chat.fake.user_press(ADA, old.new[0], "🗑 1")
    second = chat.fake.user_press(ADA, old.new[0], "🗑 1")
    turn = await chat.feed(first, second, concurrently=True)
    toasts = sorted(answer.text or "" for answer in turn.answers)
    assert toasts == [
        "Deleted: Word 1",
        "This card was already deleted. /mycards shows your cards as they are now.",
    ]
    turn = await chat.press_data(ADA, old.new[0], stale_data)
    assert turn.answer is not None and "already deleted" in (turn.answer.text or "")
    turn = await chat.press_data(ADA, listing, "m:e:" + stale_data.split(":")[-1])
    assert turn.answer is not None and "already deleted" in (turn.answer.text or "")
    assert [prompt for _, prompt in await _card_rows(tutor, ADA)] == [
        "Word 2",
        "Word 3",
        "Word 4",
        "Word 5",
        "Word six",
    ]


async def test_export_of_ones_own_cards(chat: ChatDriver, tutor: TutorService) -> None:
    await only_own_cards(chat, tutor, ADA)
    turn = await chat.send(ADA, "/export")
    assert "You have no cards of your own to export yet. Add one with /new." in turn.text
    await chat.send(ADA, "Gato | cat")
    await chat.send(ADA, "Perro | dog; hound")
    turn = await chat.send(ADA, "/export")
    [document] = [m for m in turn.new if m.document is not None]
    assert document.filename == "my-cards.csv"
    assert document.plain == "Your own cards: 2. /mycards manages them."
    assert document.document is not None
    data = document.document.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert [row["question"] for row in rows] == ["Gato", "Perro"]
    turn = await chat.send(ADA, "/export json")
    [document] = [m for m in turn.new if m.document is not None]
    assert document.filename == "my-cards.json" and document.document is not None
    exported = json.loads(document.document)
    assert [item["question"] for item in exported["items"]] == ["Gato", "Perro"]
    # an Anki package of them, which imports back to the same cards
    turn = await chat.send(ADA, "/export apkg")
    [document] = [m for m in turn.new if m.document is not None]
    assert document.filename == "my-cards.apkg" and document.document is not None
    parsed = parse_deck_file(document.document, "my-cards.apkg")
    assert [item.prompt for item in parsed.items] == ["Gato", "Perro"]
    turn = await chat.send(ADA, "/export xml")
    assert "I can send your cards as csv, json or an Anki package" in turn.text


@pytest.fixture
async def small_chat(service_factory: Any, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    """The bot with small limits: two cards a student, pictures up to 1 KB."""
    service: TutorService = await service_factory(max_own_cards=2, max_card_picture_bytes=1024)
    await service.import_file(json.dumps(TEST_DECK).encode(), "test_deck.json")
    application = build_application(story_settings(), service, request=fake)
    async with ChatDriver(application) as driver:
        yield driver


async def test_limits_on_count_and_size_name_the_limit(small_chat: ChatDriver) -> None:
    chat = small_chat
    await onboard(chat, ADA)
    turn = await chat.send(ADA, "One | 1")
    assert "(1 of 2)" in turn.text
    turn = await chat.send_photo(ADA, b"\xff\xd8\xff" + b"x" * 2000, caption="Two | 2")
    assert "That picture is larger than 1 KB" in turn.text and "Card saved" not in turn.text
    turn = await chat.send(ADA, "x" * 501 + " | long")
    assert "The front is too long: at most 500 characters." in turn.text
    turn = await chat.send(ADA, "Two | " + "y" * 301)
    assert "The back is too long: at most 300 characters." in turn.text
    turn = await chat.send(ADA, "Two | 2")
    assert "(2 of 2)" in turn.text
    turn = await chat.send(ADA, "Three | 3")
    assert "You already have 2 cards of your own, the most you may keep." in turn.text
    assert "/mycards" in turn.text
    # in Chinese too
    await onboard(chat, LEI)
    await chat.send(LEI, "一 | 1")
    await chat.send(LEI, "二 | 2")
    turn = await chat.send(LEI, "三 | 3")
    assert "你已经有 2 张自己的卡片，达到上限" in turn.text


async def test_a_bar_line_while_a_typed_question_waits_is_the_answer(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 8")
    for _ in range(8):
        if "Capital of France?" in _question(chat).plain:
            break
        question = _question(chat)
        if question.button_texts == ["Show answer"]:
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Good", message=question)
        else:
            await chat.press(ADA, question.button_texts[0], message=question)
    else:
        raise AssertionError("the typed question never came")
    turn = await chat.send(ADA, "Paris | France")
    assert "this as your answer. To add it as a card instead, send /new" in turn.new[0].plain
    assert "Not quite" in turn.new[1].plain  # graded, not lost
    assert await _card_rows(tutor, ADA) == []
    # /new while a typed question waits: the card is what she writes next
    while "Capital of France?" not in _question(chat).plain:
        question = _question(chat)
        if question.button_texts == ["Show answer"]:
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Good", message=question)
        elif question.button_texts:
            await chat.press(ADA, question.button_texts[0], message=question)
        else:
            await chat.send(ADA, "no idea")
    await chat.send(ADA, "/new")
    turn = await chat.send(ADA, "Paris | France")
    assert "✅ Card saved" in turn.text
    # and the typed question still takes her answer
    turn = await chat.send(ADA, "Paris")
    assert "✅ Correct!" in turn.new[0].plain


async def test_a_draft_gives_way_to_a_typed_question_asked_after_it(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/new")  # started, then forgotten
    await chat.send(ADA, "/quiz 8")
    for _ in range(8):
        question = _question(chat)
        if "Capital of France?" in question.plain:
            turn = await chat.send(ADA, "paris")
            assert "✅ Correct!" in turn.new[0].plain
            break
        if question.button_texts == ["Show answer"]:
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Good", message=question)
        else:
            await chat.press(ADA, question.button_texts[0], message=question)
    else:
        raise AssertionError("the typed question never came")
    assert await _card_rows(tutor, ADA) == []


@pytest.fixture
async def admin_chat(tutor: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    settings = story_settings().model_copy(update={"admin_ids": frozenset({ADMIN.id})})
    async with ChatDriver(build_application(settings, tutor, request=fake)) as driver:
        yield driver


async def test_one_students_cards_never_reach_another(
    admin_chat: ChatDriver, tutor: TutorService
) -> None:
    chat = admin_chat
    await onboard(chat, ADA)
    await onboard(chat, EVE)
    await chat.send(ADA, "Ada's secret | forty-two")
    await chat.send(ADA, "Ada's riddle | sphinx;")
    secret_id = await _item_id(tutor, "Ada's secret")
    # Eve's quizzes: every question of her decks, never Ada's cards
    await chat.send(EVE, "/quiz 20")
    asked = []
    for _ in range(20):
        question = _question(chat, EVE)
        asked.append(question.plain)
        if question.button_texts == ["Show answer"]:
            await chat.press(EVE, "Show answer", message=question)
            await chat.press(EVE, "Good", message=question)
        elif question.button_texts:
            await chat.press(EVE, question.button_texts[0], message=question)
        else:
            await chat.send(EVE, "paris")
        if "Session done:" in chat.last(EVE).plain:
            break
    assert asked and not any("Ada's" in text or "My cards" in text for text in asked)
    # Eve's lists: her cards (none), the decks she may join
    turn = await chat.send(EVE, "/mycards")
    assert "You have no cards of your own yet." in turn.text
    turn = await chat.send(EVE, "/decks")
    assert "My cards" not in turn.text and "own." not in turn.text
    assert [info.deck.name for info in await tutor.decks(EVE.id)] == ["Test <Deck> & Co"]
    # nor by a forged button, nor by export
    turn = await chat.press_data(EVE, chat.last(EVE), f"m:d:{secret_id}")
    assert turn.answer is not None and "already deleted" in (turn.answer.text or "")
    turn = await chat.send(EVE, "/export")
    assert "You have no cards of your own to export yet." in turn.text
    personal = await _personal_deck(tutor, ADA)
    turn = await chat.send(EVE, f"/exam 2026-06-01 {personal}")
    assert "There is no deck" in turn.text
    # an admin sees counts, never contents
    turn = await chat.send(ADMIN, f"/item {secret_id}")
    assert "is a student's own card: its content is private to them" in turn.text
    assert "secret" not in turn.text and "forty-two" not in turn.text
    turn = await chat.send(ADMIN, "/admin_stats")
    assert "Students' own cards: 2 from 1 student (private" in turn.text  # not "1 students"
    assert "Ada's" not in turn.text
    turn = await chat.send(ADMIN, "/admin_decks")
    assert "own." not in turn.text and "My cards" not in turn.text
    turn = await chat.send(ADMIN, f"/export {personal}")
    assert "There is no deck" in turn.text
    turn = await chat.send(ADMIN, f"/deck_delete {personal}")
    assert "There is no deck" in turn.text
    # Ada still has both
    assert len(await _card_rows(tutor, ADA)) == 2


async def _item_id(tutor: TutorService, prompt: str) -> int:
    async with (
        tutor.db.read() as conn,
        conn.execute("SELECT id, payload FROM items") as cur,
    ):
        for row in await cur.fetchall():
            if json.loads(row[1])["prompt"] == prompt:
                return int(row[0])
    raise AssertionError(prompt)


async def _personal_deck(tutor: TutorService, user: FakeUser) -> int:
    async with (
        tutor.db.read() as conn,
        conn.execute("SELECT id FROM decks WHERE owner_id = ?", (user.id,)) as cur,
    ):
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_forget_erases_the_cards_and_mydata_includes_them(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send_photo(ADA, JPEG, caption="Bird | robin")
    await chat.send(ADA, "Tree | oak")
    turn = await chat.send(ADA, "/mydata")
    names = [m.filename for m in turn.new if m.document is not None]
    assert names == [f"metatutor-answers-{ADA.id}.csv", "my-cards.json"]
    assert turn.new[-1].plain.startswith("Your own cards: 2, as a JSON file")
    await chat.send(ADA, "/forget")
    await chat.press(ADA, next(b for b in chat.buttons(ADA) if "Erase" in b or "erase" in b))
    async with tutor.db.read() as conn:
        for table in ("decks WHERE owner_id IS NOT NULL", "media", "items WHERE deck_id > 1"):
            async with conn.execute(f"SELECT COUNT(*) FROM {table}") as cur:
                row = await cur.fetchone()
            assert row is not None and row[0] == 0, table


async def test_many_students_add_cards_at_once(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    await onboard(chat, EVE)
    updates = [
        chat.fake.user_message(user, f"{user.first_name} {n} | {n}")
        for n in range(3)
        for user in (ADA, EVE)
    ]
    await chat.feed(*updates, concurrently=True)
    assert len(await _card_rows(tutor, ADA)) == len(await _card_rows(tutor, EVE)) == 3


async def test_a_picture_telegram_cannot_hand_over_loses_nothing(
    chat: ChatDriver, tutor: TutorService, fake: FakeBotApi
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    await chat.send(ADA, "This bird")
    fake.fail_next(DOWNLOAD, "network")
    turn = await chat.send_photo(ADA, JPEG, caption="a robin")
    assert "I could not fetch that picture from Telegram. Nothing was saved" in turn.text
    assert await _card_rows(tutor, ADA) == []
    # the front is still there: the same photo again finishes the card
    turn = await chat.send_photo(ADA, JPEG, caption="a robin")
    assert "✅ Card saved 🖼 (1 of 500): This bird → a robin" in turn.text


async def test_own_cards_in_chinese(chat: ChatDriver, tutor: TutorService) -> None:
    await only_own_cards(chat, tutor, LEI)
    turn = await chat.send(LEI, "/new")
    assert "新卡片" in turn.text and turn.new[0].button_texts == ["✖ 取消"]
    turn = await chat.send(LEI, "光合作用的产物")
    assert "现在请发送“光合作用的产物”的背面" in turn.text
    turn = await chat.send(LEI, "葡萄糖和氧气")
    assert "✅ 卡片已保存（1/500）：光合作用的产物 → 葡萄糖和氧气" in turn.text
    turn = await chat.send(LEI, "/mycards")
    assert "你自己的卡片：1 张 · 第 1/1 页" in turn.text
    assert turn.new[0].button_texts == ["✏️ 1", "🗑 1"]
    await chat.send(LEI, "/quiz 1")
    assert "第 1/1 题 · 我的卡片" in _question(chat, LEI).plain
    turn = await chat.send(LEI, "/help")
    assert "/new — 添加卡片" in turn.text and "/mycards" in turn.text


async def test_new_before_setup_is_done_says_to_finish_it_first(chat: ChatDriver) -> None:
    """Mid-setup, /new would lose its texts to the setup's questions: it says so instead."""
    await chat.send(ADA, "/start")
    turn = await chat.send(ADA, "/new")
    assert turn.text.startswith("Let's finish setting up first")
    assert chat.buttons(ADA) == ["✓ English", "简体中文"]


async def test_a_card_half_written_when_the_bot_restarts_is_finished_after_it(
    chat: ChatDriver, tutor: TutorService, fake: FakeBotApi, service_factory: Any
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    await chat.send_photo(ADA, JPEG)  # the picture first
    turn = await chat.send(ADA, "This bird")
    assert "Now the back of “This bird”" in turn.text
    # The bot restarts between Ada's front and her back: a new process, the same database.
    restarted = await service_factory()
    async with ChatDriver(build_application(story_settings(), restarted, request=fake)) as again:
        turn = await again.send(ADA, "a robin")
        assert "✅ Card saved 🖼 (1 of 500): This bird → a robin" in turn.text
        assert await _card_rows(tutor, ADA) == [("flashcard", "This bird")]
        # An edit begun before a restart is finished after the next one.
        await again.send(ADA, "/mycards")
        await again.press(ADA, "✏️ 1")
    restarted = await service_factory()
    async with ChatDriver(build_application(story_settings(), restarted, request=fake)) as third:
        turn = await third.send(ADA, "This small bird | a robin")
        assert "✅ Card changed: This small bird → a robin" in turn.text
        # /cancel after a restart drops the draft it finds, and then there is none.
        await third.send(ADA, "/new")
    restarted = await service_factory()
    async with ChatDriver(build_application(story_settings(), restarted, request=fake)) as fourth:
        assert "Cancelled: nothing was saved" in (await fourth.send(ADA, "/cancel")).text
        assert "There is nothing to cancel" in (await fourth.send(ADA, "/cancel")).text
    assert await _card_rows(tutor, ADA) == [("flashcard", "This small bird")]


async def test_a_draft_left_for_a_day_does_not_take_the_next_text_as_its_back(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    await only_own_cards(chat, tutor, ADA)
    await chat.send(ADA, "/new")
    await chat.send(ADA, "Mitochondria")
    clock.advance(hours=25)  # the front was written yesterday; today's text is not its back
    turn = await chat.send(ADA, "Good morning")
    assert "Card saved" not in turn.text
    assert await _card_rows(tutor, ADA) == []
    # Back within a few hours, the draft is still there.
    await chat.send(ADA, "/new")
    await chat.send(ADA, "Ribosome")
    clock.advance(hours=5)
    turn = await chat.send(ADA, "Makes proteins")
    assert "✅ Card saved (1 of 500): Ribosome → Makes proteins" in turn.text
