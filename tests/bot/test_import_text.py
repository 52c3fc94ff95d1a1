"""The importers' reasons in the catalogs: every code has its sentence in English and Chinese,
with the same parameters, and the English is the importers' own."""

from __future__ import annotations

import pytest

from bot.handlers.admin_common import admin_error
from bot.i18n import catalog, size_text
from bot.import_text import located, refusal_text, skipped_text
from tutor.content.messages import (
    PLACES,
    REASONS,
    Size,
    line,
    place,
    reason,
    skipped,
    template_params,
)
from tutor.errors import ContentRejected, UnknownDeck
from tutor.library import parse_upload

TABLES = {"import_error": REASONS, "import_where": PLACES}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_code_has_a_sentence_with_the_same_parameters(lang: str) -> None:
    messages = catalog(lang)
    for prefix, table in TABLES.items():
        for code, template in table.items():
            key = f"{prefix}.{code}"
            assert key in messages, f"{key} is missing from {lang}.json"
            assert template_params(messages[key]) == template_params(template), key
        stale = {k for k in messages if k.startswith(prefix + ".")} - {
            f"{prefix}.{code}" for code in table
        }
        assert not stale, f"{lang}.json has keys for no code: {stale}"


def test_the_english_catalog_says_what_the_importers_say() -> None:
    """So an English admin reads exactly what ``str(error)`` and the CLI print."""
    messages = catalog("en")
    for prefix, table in TABLES.items():
        for code, template in table.items():
            assert messages[f"{prefix}.{code}"] == template, code


def test_the_chinese_catalog_is_chinese() -> None:
    messages = catalog("zh")
    for prefix, table in TABLES.items():
        for code in table:
            text = messages[f"{prefix}.{code}"]
            if code not in ("file", "deck_named_at", "column_name"):  # names only: no words
                assert any("\u4e00" <= ch <= "\u9fff" for ch in text), code


def test_reasons_within_reasons_and_lists_are_said_in_the_readers_language() -> None:
    first = reason("card_answer_empty", card="Card 1")
    why = reason("all_skipped", count=1200, where=line(3), reason=first)
    assert located("zh", None, reason("no_questions", file="a.txt", found=why)) == (
        "a.txt 里没有可用的题目：全部 1,200 条都被跳过了"
        "（第一条：第 3 行：卡片 “Card 1”：答案面是空的）"
    )
    assert located("en", None, reason("no_questions", file="a.txt", found=why)) == (
        "a.txt yields no questions: all 1,200 entries were skipped"
        " (first: line 3: card 'Card 1': the answer side is empty)"
    )
    listed = tuple(
        reason("deck_named_at", name=n, where=line(i)) for i, n in ((2, "历史"), (5, "地理"))
    )
    several = reason("several_decks", column="deck", count=2, listed=listed)
    assert "“历史”（第 2 行）、“地理”（第 5 行）" in located("zh", None, several)
    entry = skipped(place("item_id", index=4, id="q4"), "cloze_id_empty", number=2, id="q4")
    assert skipped_text("zh", entry) == "第 4 项（id “q4”）：id “q4” 的填空 c2 是空的"
    assert skipped_text("en", entry) == f"{entry.where}: {entry.reason}"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'question,answer\nok,fine\n"unterminated,x\n', "unclosed_quote"),
        (b'question,answer\nq,"a"b\n', "text_after_quote"),
    ],
)
def test_a_broken_csv_row_is_explained_in_the_admins_language(data: bytes, code: str) -> None:
    from tutor.content import ContentError, parse_csv

    with pytest.raises(ContentError) as refused:
        parse_csv(data, filename="deck.csv")
    assert refused.value.reason.code == code
    said = located("zh", refused.value.place, refused.value.reason)
    assert said.startswith("第 ") and not any("a" <= c.lower() <= "z" for c in said), said


@pytest.mark.parametrize(
    ("data", "english", "chinese"),
    [
        (b'{"metatutor": 1,\n "items": [}', "line 2, column 12", "第 2 行第 12 列"),
        (b'{"metatutor": 1 "items": []}', "a comma is missing", "缺少逗号"),
        (b'{"metatutor": 1, "items": [],}', "a name in double quotes", "双引号中的名称"),
        (b'{"metatutor": 1, "items": ["a\nb"]}', "a line break or tab", "换行或制表符"),
        (b'{"metatutor": 1, "items": []} x', "after the deck's closing }", "之后还有内容"),
    ],
)
def test_broken_json_is_explained_in_the_admins_language(
    data: bytes, english: str, chinese: str
) -> None:
    # The reader's own English ("Expecting value: line 2 column 12") was quoted before.
    from tutor.content import ContentError, parse_json

    with pytest.raises(ContentError) as refused:
        parse_json(data, filename="deck.json")
    en = located("en", refused.value.place, refused.value.reason)
    zh = located("zh", refused.value.place, refused.value.reason)
    assert english in en and "Expecting" not in en, en
    assert chinese in zh and zh.startswith("第 "), zh
    assert not any(word in zh for word in ("Expecting", "delimiter", "Extra", "Invalid")), zh


def test_a_deck_reference_that_names_no_deck_says_so() -> None:
    error = UnknownDeck("#42", deck="#42")
    assert refusal_text("zh", error).startswith("没有可以导入的题库 “#42”")
    assert refusal_text("en", error).startswith("there is no deck '#42' to import into")


def test_a_refused_export_says_why_in_the_admins_language() -> None:
    why = reason("export_pipe_option")
    error = ContentRejected(
        str(why), reason=str(why), why=why, place=place("item_ref", id="q1"), deck="Geo"
    )
    text = admin_error("zh", error, "export")
    assert "题目 “q1”：有一个选项含有 “|”；请改为导出 JSON" in text
    assert "item 'q1': an option contains '|'; export JSON instead" in admin_error(
        "en", error, "export"
    )


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "a.csv is 2,000 bytes, over the limit of 1,000 bytes"), ("zh", "2,000 字节")],
)
def test_a_refused_files_size_is_said_in_the_admins_units(lang: str, said: str) -> None:
    with pytest.raises(ContentRejected) as refused:
        parse_upload(b"question,answer\n" + b"x" * 1984, "a.csv", None, max_bytes=1000)
    text = refusal_text(lang, refused.value)
    assert said in text
    if lang == "zh":
        assert text == "a.csv 大小为 2,000 字节，超过了 1,000 字节 的上限"
        assert "bytes" not in text


def test_sizes_from_a_megabyte_up_are_megabytes_in_both_languages() -> None:
    why = reason("archive_too_large", file="a.apkg", limit=Size(3 * 1024 * 1024 // 2))
    assert located("en", None, why) == "a.apkg expands to more than 1.5 MB, the limit for archives"
    assert located("zh", None, why).startswith("a.apkg 解压后超过 1.5 MB")
    assert size_text("zh", 20 * 1024 * 1024) == "20.0 MB"
    assert size_text("zh", 999) == "999 字节"
