"""Typed-answer matching: Latin and Chinese, accents, widths, punctuation, typos."""

from __future__ import annotations

import pytest

from tutor.matching import answer_matches, forgiven_typo, normalise_answer


@pytest.mark.parametrize(
    ("given", "accepted"),
    [
        ("paris", "Paris"),
        ("  Paris  ", "Paris"),
        ("Paris!", "Paris"),
        ("new   york", "New York"),
        ("Sao Paulo", "São Paulo"),
        ("francois", "François"),
        ("MUNCHEN", "München"),
        ("1949", "１９４９"),  # full-width digits
        ("ABC", "ＡＢＣ"),  # full-width letters
        ("1,000", "1000"),
        ("3.14", "3,14"),
        ("dont", "don't"),
        ("北京", "北京。"),  # CJK full stop
        ("中华人民共和国", "中华 人民 共和国"),
        ("「秦始皇」", "秦始皇"),  # CJK brackets
        ("秦，汉", "秦、汉"),  # CJK comma and enumeration comma
        ("1949年", "1949 年"),
        ("Mississipi", "Mississippi"),  # one deletion, long Latin word
        ("Constantinpole", "Constantinople"),  # one swap
    ],
)
def test_matches(given: str, accepted: str) -> None:
    assert answer_matches(given, [accepted])


@pytest.mark.parametrize(
    ("given", "accepted"),
    [
        ("1067", "1066"),  # never forgive a digit
        ("1215 AD", "1216 AD"),
        ("Paros", "Paris"),  # too short for a typo
        ("Russia", "Prussia"),  # first letter differs
        ("Mississppii", "Mississippi"),  # two edits
        ("北平", "北京"),  # never forgive a CJK character
        ("", "Paris"),
        ("   ", "Paris"),
        ("!!!", "Paris"),
        ("Paris", ""),
    ],
)
def test_does_not_match(given: str, accepted: str) -> None:
    assert not answer_matches(given, [accepted])


def test_any_accepted_answer_matches() -> None:
    assert answer_matches("Byzantium", ["Constantinople", "Byzantium", "Istanbul"])
    assert not answer_matches("Rome", ["Constantinople", "Byzantium"])
    assert not answer_matches("anything", [])


def test_punctuation_only_answer_compared_literally() -> None:
    assert answer_matches(" ? ", ["?"])
    assert not answer_matches("!", ["?"])


def test_normal_form() -> None:
    assert normalise_answer("  Élan  Vital! ") == "elan vital"
    assert normalise_answer("１９４９年。") == "1949年"
    assert normalise_answer("Ｃａｆé") == "cafe"
    # Kana voicing marks are meaningful and stay.
    assert normalise_answer("が") != normalise_answer("か")


def test_invisible_format_characters_are_dropped() -> None:
    assert answer_matches("cooperate", ["co\u00adoper\u200bate"])


def test_forgiven_typo_names_the_answer_it_matched() -> None:
    accepted = ["Mississippi", "Missouri River"]
    assert forgiven_typo("Misissippi", accepted) == "Mississippi"
    assert forgiven_typo("missouri rivr", accepted) == "Missouri River"
    assert forgiven_typo("  MISSISSIPPI ", accepted) is None  # exact after normalising
    assert forgiven_typo("Amazon", accepted) is None  # not a match at all
    assert forgiven_typo("", accepted) is None
