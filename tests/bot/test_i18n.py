"""The message catalogs: same keys and placeholders in every language, safe formatting."""

from __future__ import annotations

import pytest

from bot.i18n import LANGUAGES, Html, catalog, language_for, placeholders, plain, t
from tutor.errors import TutorError


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    english = catalog("en")
    for lang in LANGUAGES:
        other = catalog(lang)
        assert other.keys() == english.keys(), lang
        for key, template in english.items():
            assert placeholders(other[key]) == placeholders(template), (lang, key)


def test_every_service_error_has_a_message() -> None:
    codes = {TutorError.code} | {cls.code for cls in TutorError.__subclasses__()}
    assert len(codes) > 5
    for lang in LANGUAGES:
        for code in codes:
            assert catalog(lang)[f"error.{code}"]


def test_chinese_catalog_is_chinese() -> None:
    assert "选择" in t("zh", "settings.choose_language")
    assert t("zh", "button.true") != t("en", "button.true")


def test_parameters_are_escaped_but_safe_fragments_are_not() -> None:
    text = t("en", "onboarding.deep_link", deck="<b>R&D</b>")
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in text
    assert isinstance(text, Html)
    assert t("en", "feedback.explanation", explanation=Html("<i>ok</i>")) == "💡 <i>ok</i>"
    assert plain("en", "button.enrol", deck="A & B") == "➕ A & B"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-hans", "zh"), ("zh-TW", "zh"), ("ZH", "zh"), ("en-GB", "en"), ("de", "en"), (None, "en")],
)
def test_language_from_telegram_code(code: str | None, expected: str) -> None:
    assert language_for(code) == expected


def test_unknown_language_falls_back_to_english() -> None:
    assert t("fr", "unknown_command") == t("en", "unknown_command")
