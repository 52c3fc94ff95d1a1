"""Stories of taking quizzes: every kind of question, pictures, and sloppy thumbs."""

from __future__ import annotations

import asyncio

from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import SentMessage
from bot.i18n import plain
from tests.bot.stories.conftest import ADA, EVE, LEI, onboard
from tutor.service import TutorService


def _question(chat: ChatDriver) -> SentMessage:
    """The newest question in Ada's chat."""
    for message in reversed(chat.messages(ADA)):
        if "Question " in message.plain:
            return message
    raise AssertionError("no question was asked")


async def test_a_quiz_with_every_kind_of_question(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    # Eight questions for five items: a missed one may come back within the session.
    turn = await chat.send(ADA, "/quiz 8")
    seen: set[str] = set()
    asked: list[str] = []
    promised: dict[str, int] = {}
    for number in range(1, 9):
        question = _question(chat)
        text = question.plain
        assert f"Question {number}/8 · Test <Deck> & Co" in text
        if "Capital of France?" in text:
            seen.add("typed")
            assert question.buttons == []
            assert "Type your answer." in text
            turn = await chat.send(ADA, "  paris ")
            feedback = turn.new[0].plain  # a typed answer: the feedback is a reply
            assert "✅ Correct!" in feedback
            assert "Paris has been the capital since 987." in feedback
        elif "brave" in text:
            seen.add("multiple_choice")
            # Deck content is shown literally: no bold, no broken message.
            assert "Which is <b>bold</b> & brave?" in text
            assert sorted(question.button_texts) == ["Lion <king>", "Mouse", "Snail"]
            turn = await chat.press(ADA, "Mouse", message=question)
            feedback = question.plain  # the question, edited into its feedback
            assert "❌ Not quite." in feedback
            assert "Correct answer: Lion <king>" in feedback
            assert "💡 Lions & tigers." in feedback
            assert question.buttons == []  # the answered question lost its buttons
        elif "Water boils" in text:
            seen.add("true_false")
            assert question.button_texts == ["True", "False"]
            turn = await chat.press(ADA, "True", message=question)
            feedback = question.plain
            assert "✅ Correct!" in feedback
            assert question.buttons == []
        elif "Mitochondria" in text or "[...]" in text:
            kind = "flashcard" if "Mitochondria" in text else "cloze"
            seen.add(kind)
            assert question.button_texts == ["Show answer"]
            turn = await chat.press(ADA, "Show answer", message=question)
            revealed = turn.edited[-1].plain
            expected = "The powerhouse of the cell" if kind == "flashcard" else "Magna Carta"
            assert f"Answer: {expected}" in revealed
            assert question.button_texts == ["Again", "Hard", "Good", "Easy"]
            grade = "Good" if kind == "flashcard" else "Again"
            turn = await chat.press(ADA, grade, message=question)
            feedback = question.plain
            assert f"You rated it {grade}." in feedback
            assert question.buttons == []
        else:
            raise AssertionError(f"unexpected question: {text}")
        asked.append(prompt := text.split("\n")[2])
        missed = "❌ Not quite." in feedback or "You rated it Again." in feedback
        if missed and 8 - number > 3:
            # Room left in the quiz: it is asked again in it, not "comes back in 10 min".
            assert "🔁 Once more later in this quiz" in feedback and "🗓" not in feedback
            promised[prompt] = number
        else:
            assert "🗓 Comes back" in feedback and "2026-03-0" in feedback
        assert f"{number}/8 · " in feedback
    assert promised, "the story answers at least one question wrong with room left"
    for prompt, number in promised.items():
        assert prompt in asked[number:], f"{prompt!r} was promised again in this quiz"
    assert seen == {"typed", "multiple_choice", "true_false", "flashcard", "cloze"}
    assert "Session done:" in turn.new[-1].plain and "of 8 correct." in turn.new[-1].plain
    stats = await tutor.stats(ADA.id)
    assert stats.answers_today == 8


async def test_a_question_with_a_picture_comes_as_a_photo(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await tutor.install_bundled_decks()
    await onboard(chat, ADA)
    await chat.send(ADA, "/start deck_demo")
    await chat.send(ADA, "/decks")
    await chat.press(ADA, "✅ Test <Deck> & Co")  # leave the test deck: only demo questions
    await chat.send(ADA, "/quiz 12")
    photos: list[SentMessage] = []
    for _ in range(12):
        question = _question(chat)
        if question.photo is not None:
            photos.append(question)
            assert question.photo.startswith(b"\x89PNG")
            assert question.button_texts  # the choices sit under the photo
        if question.buttons and question.button_texts[0] == "Show answer":
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Good", message=question)
        elif question.buttons:
            await chat.press(ADA, question.button_data[0], message=question)
        else:
            await chat.send(ADA, "no idea")
        if "Session done" in chat.last(ADA).plain:
            break
    assert photos, "the demo deck's picture questions were never sent as photos"
    assert all("flag" in p.plain or "shape" in p.plain for p in photos)


async def test_a_double_press_counts_once(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 3")
    question = _question(chat)
    while not question.buttons or question.button_texts[0] == "Show answer":
        # Make sure the first question has choice buttons (answer the others away).
        if question.buttons:
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Easy", message=question)
        else:
            await chat.send(ADA, "Paris")
        question = _question(chat)
    data = question.button_data[0]

    # Two presses arrive at once (a shaky thumb on a slow connection).
    both = await chat.feed(
        chat.fake.user_callback(ADA, question, data),
        chat.fake.user_callback(ADA, question, data),
        concurrently=True,
    )
    # The question turned into its feedback once; the next question came once.
    assert [m.message_id for m in both.edited] == [question.message_id]
    assert "Correct" in question.plain or "Not quite" in question.plain
    assert len([m for m in both.new if "Question 2/3" in m.plain]) == 1
    waiting = "Already answered. Question 2 of 3 is waiting below."
    assert sorted(a.text or "" for a in both.answers) == ["", waiting]

    # And once more, later, on the old message.
    later = await chat.press_data(ADA, question, data)
    assert later.answer is not None and later.answer.text == waiting
    assert later.new == []
    assert chat.fake.unanswered_callbacks() == []


async def test_a_stale_button(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 3")
    old = _question(chat)
    old_data = list(old.button_data)
    turn = await chat.send(ADA, "/stop")
    assert "Quiz stopped after 0 answers" in turn.text
    assert old_data, "the first question of the test deck has choice buttons"
    assert old.buttons == []  # /stop took the buttons away
    turn = await chat.press_data(ADA, old, old_data[0])
    assert turn.answer is not None and turn.answer.text == plain("en", "callback.stale")
    stats = await tutor.stats(ADA.id)
    assert stats.answers_today == 0

    # Starting a new quiz also retires the previous question's buttons.
    await chat.send(ADA, "/quiz 2")
    first = _question(chat)
    await chat.send(ADA, "/quiz 2")
    await chat.press(ADA, "🔄 New quiz")
    assert first.buttons == []


async def test_forged_and_malformed_callbacks(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    await onboard(chat, EVE)
    await chat.send(ADA, "/quiz 3")
    ada_question = await tutor.open_question(ADA.id)
    assert ada_question is not None

    # Eve crafts a press on Ada's question id, from a message in her own chat.
    eve_message = chat.last(EVE)
    for data in (f"a:{ada_question.id}:0", f"r:{ada_question.id}", f"g:{ada_question.id}:3"):
        turn = await chat.press_data(EVE, eve_message, data)
        assert turn.answer is not None and turn.answer.text == plain("en", "callback.invalid")
        assert turn.new == []
    # Junk and oversized data.
    for data in ("a:xyz:1", "hello", "a:1:99", "s:lang:fr", "x" * 64, "o:tz:Mars/Base"):
        turn = await chat.press_data(EVE, eve_message, data)
        # (Eve finished setting up, so any onboarding button says that instead.)
        expected = "onboarding.already_done" if data.startswith("o:") else "callback.invalid"
        assert turn.answer is not None and turn.answer.text == plain("en", expected)
    # Nothing was logged for anyone; Ada's question is still waiting for her.
    assert (await tutor.stats(ADA.id)).answers_today == 0
    assert (await tutor.stats(EVE.id)).answers_today == 0
    still = await tutor.open_question(ADA.id)
    assert still is not None and still.id == ada_question.id


async def test_text_without_a_question_and_odd_messages(chat: ChatDriver) -> None:
    await onboard(chat, ADA)
    turn = await chat.send(ADA, "Paris")
    assert "No question is waiting" in turn.text
    turn = await chat.send(ADA, "x" * 3000)
    assert "too long" in turn.text
    turn = await chat.send(ADA, "\x00\x01\x02\ufffd\ufffd binary")
    assert "could not read" in turn.text
    turn = await chat.upload(ADA, b"\x00" * 10, "blob.bin")
    assert "I read text, button presses, photos and sounds" in turn.text
    turn = await chat.send(ADA, "/frobnicate now")
    assert turn.text == "I do not know the command /frobnicate. /help lists the ones I know."
    turn = await chat.send(LEI, "/Frobnicate")
    assert turn.text == "我不认识 /frobnicate 这个命令。发送 /help 查看可用命令。"


async def test_buttons_are_expected_for_button_questions(chat: ChatDriver) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 5")
    for _ in range(5):
        question = _question(chat)
        if question.buttons and question.button_texts not in (["Show answer"], ["True", "False"]):
            turn = await chat.send(ADA, "something")
            assert "answer with the buttons" in turn.text
            return
        if question.button_texts == ["True", "False"]:
            await chat.press(ADA, "True", message=question)
            continue
        if question.buttons:
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Good", message=question)
        else:
            await chat.send(ADA, "Paris")
    raise AssertionError("no button question came up")


async def test_a_redelivered_typed_answer_is_not_graded_twice(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 5")
    for _ in range(5):
        question = _question(chat)
        if not question.buttons:
            break
        if question.button_texts == ["Show answer"]:
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Good", message=question)
        else:
            await chat.press(ADA, question.button_data[0], message=question)
    before = (await tutor.stats(ADA.id)).answers_today
    update = chat.fake.user_message(ADA, "Paris")
    first = await chat.feed(update)
    assert "Correct" in first.text
    again = await chat.redeliver(update)
    assert again.new == []
    assert (await tutor.stats(ADA.id)).answers_today == before + 1


async def test_one_users_answers_run_in_order(chat: ChatDriver) -> None:
    """Through the update queue, a user's updates never overtake each other."""
    await onboard(chat, ADA)
    app = chat.application
    order: list[int] = []
    processor = app.update_processor

    async def slow(n: int) -> None:
        await asyncio.sleep(0.02 if n == 0 else 0)
        order.append(n)

    from telegram import Update

    updates = [Update.de_json(chat.fake.user_message(ADA, f"m{n}"), app.bot) for n in range(3)]
    await asyncio.gather(*(processor.process_update(u, slow(n)) for n, u in enumerate(updates)))
    assert order == [0, 1, 2]


async def test_an_edited_answer_is_not_a_second_answer(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 5")
    for _ in range(5):
        question = _question(chat)
        if not question.buttons:
            break
        if question.button_texts == ["Show answer"]:
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Good", message=question)
        else:
            await chat.press(ADA, question.button_data[0], message=question)
    sent = chat.fake.user_message(ADA, "Lyon")
    turn = await chat.feed(sent)
    assert "Not quite." in turn.text
    answered = (await tutor.stats(ADA.id)).answers_today
    # Ada edits "Lyon" into "Paris": Telegram sends an edited_message update.
    edited = chat.fake.user_message(ADA, "Paris")
    edited["edited_message"] = {**sent["message"], "text": "Paris", "edit_date": 1}
    del edited["message"]
    turn = await chat.feed(edited)
    assert turn.new == []
    assert (await tutor.stats(ADA.id)).answers_today == answered


async def test_quiz_while_a_quiz_is_running_asks_before_starting_over(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 5")
    first = _question(chat)
    assert "Question 1/5" in first.plain

    # /quiz again mid-quiz: the running quiz is not thrown away without asking.
    turn = await chat.send(ADA, "/quiz 3")
    assert "question 1 of 5 is waiting for your answer" in turn.text
    assert chat.buttons(ADA) == ["▶️ Carry on", "🔄 New quiz"]

    # Carry on shows the same question again; it is still question 1 of 5.
    turn = await chat.press(ADA, "▶️ Carry on")
    assert "Question 1/5" in turn.new[-1].plain
    assert turn.new[-1].plain.split("\n")[-1] == first.plain.split("\n")[-1]

    # The "Start a quiz" button of an old message asks the same; New quiz starts over with 3.
    await chat.send(ADA, "/quiz 3")
    turn = await chat.press(ADA, "🔄 New quiz")
    assert "Question 1/3" in turn.new[-1].plain
    open_question = await tutor.open_question(ADA.id)
    assert open_question is not None and open_question.total == 3


async def test_start_button_mid_quiz_offers_to_carry_on_in_chinese(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, LEI)  # his Telegram is in Chinese
    await chat.send(LEI, "/quiz 4")
    turn = await chat.press_data(LEI, chat.last(LEI), "q:go")
    assert "第 1/4 题还在等你作答" in turn.text
    assert chat.buttons(LEI) == ["▶️ 继续", "🔄 新测验"]


async def test_stop_without_a_quiz_says_how_to_start_one(chat: ChatDriver) -> None:
    await onboard(chat, ADA)
    turn = await chat.send(ADA, "/stop")
    assert turn.text == "No quiz is running. Send /quiz to start one."
    await onboard(chat, LEI)
    turn = await chat.send(LEI, "/stop")
    assert turn.text == plain("zh", "quiz.no_session") == "当前没有进行中的测验。发送 /quiz 开始。"
