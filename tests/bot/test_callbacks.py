"""Callback data: compact, and parsed strictly."""

from __future__ import annotations

import pytest

from bot import callbacks
from bot.callbacks import (
    AnswerPress,
    DeckPress,
    GradePress,
    OnboardingPress,
    QuizPress,
    RevealPress,
    SettingPress,
)
from tutor.items import Grade


def test_round_trips() -> None:
    assert callbacks.parse(callbacks.answer(12, 3)) == AnswerPress(12, 3)
    assert callbacks.parse(callbacks.reveal(7)) == RevealPress(7)
    assert callbacks.parse(callbacks.grade(7, Grade.EASY)) == GradePress(7, Grade.EASY)
    assert callbacks.parse(callbacks.setting("tz", "Etc/GMT-8")) == SettingPress("tz", "Etc/GMT-8")
    assert callbacks.parse(callbacks.deck("e", 4)) == DeckPress("e", 4)
    assert callbacks.parse(callbacks.onboarding("time", "0700")) == OnboardingPress("time", "0700")
    assert callbacks.parse(callbacks.start_quiz()) == QuizPress()
    assert callbacks.parse(callbacks.carry_on_quiz()) == QuizPress("on")
    assert callbacks.parse(callbacks.new_quiz(None)) == QuizPress("new", 0)
    assert callbacks.parse(callbacks.new_quiz(12)) == QuizPress("new", 12)
    assert callbacks.parse("q:new:123") is None and callbacks.parse("q:new:") is None


def test_longest_data_fits_telegram_limit() -> None:
    longest = callbacks.setting("tz", "America/Argentina/ComodRivadavia")
    big_id = callbacks.grade(10**17, Grade.AGAIN)
    assert max(len(longest.encode()), len(big_id.encode())) <= 64


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "a",
        "a:12",
        "a:12:x",
        "a:-1:0",
        "a:012:0",
        "a:12:12",  # beyond the most options an item can have
        "a:12:1:extra",
        "g:5:0",
        "g:5:5",
        "r:abc",
        "d:x:1",
        "s:nosuch:1",
        "s:tz:<script>",
        "o:evil:1",
        "q:stop",
        "z:1",
        "a:" + "9" * 70 + ":1",
        "a:１２:0",  # full-width digits
        "a:12:0\n",
    ],
)
def test_malformed_data_is_rejected(data: str | None) -> None:
    assert callbacks.parse(data) is None


def test_builders_refuse_what_would_not_parse() -> None:
    with pytest.raises(ValueError, match="would not parse"):
        callbacks.setting("tz", "a zone with spaces")


def test_group_settings_buttons_parse_strictly() -> None:
    assert callbacks.parse(callbacks.group_setting("time", "1845")) == callbacks.GroupSettingPress(
        "time", "1845"
    )
    assert callbacks.parse("c:deck:12") == callbacks.GroupSettingPress("deck", "12")
    for forged in ("c:admin:1", "c:time:18:45", "c:deck:", "c:Deck:1", "c:time:" + "9" * 13):
        assert callbacks.parse(forged) is None
    with pytest.raises(ValueError):
        callbacks.group_setting("nope", "1")


def test_own_card_buttons_parse_strictly() -> None:
    assert callbacks.parse(callbacks.own_cards_page(0)) == callbacks.OwnCardPress("p", 0)
    assert callbacks.parse(callbacks.own_cards_page(12)) == callbacks.OwnCardPress("p", 12)
    assert callbacks.parse(callbacks.own_card("e", 7)) == callbacks.OwnCardPress("e", 7)
    assert callbacks.parse(callbacks.own_card("d", 10**17)) == callbacks.OwnCardPress("d", 10**17)
    assert callbacks.parse(callbacks.cancel_card()) == callbacks.OwnCardPress("x")
    for forged in ("m:p:01", "m:p:-1", "m:e:0", "m:z:1", "m:x:1", "m:d:", "m:p:1234567"):
        assert callbacks.parse(forged) is None, forged
    with pytest.raises(ValueError, match="would not parse"):
        callbacks.own_card("q", 1)
