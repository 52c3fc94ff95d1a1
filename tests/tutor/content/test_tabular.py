"""CSV and TSV decks: every item type, defaults, and every kind of bad input."""

from __future__ import annotations

import pytest

from tutor.content import ContentError, ImportLimits, parse_csv, parse_deck_file, parse_tsv
from tutor.content.common import derived_id
from tutor.items import ItemKind

GOOD_CSV = (
    "id,type,question,answer,options,explanation,tags,image\n"
    'wh-1,multiple_choice,"Who crossed the Rubicon, in 49 BC?",Caesar,Pompey|Caesar|Crassus,'
    "He started a civil war.,ancient::rome politics,rubicon.png\n"
    "wh-2,true_false,Rome was founded in 753 BC by tradition.,TRUE,,,,\n"
    "wh-3,typed,Year of the Battle of Hastings,1066|AD 1066,,,,\n"
    "wh-4,flashcard,Magna Carta,Charter of 1215,,,,\n"
    'wh-5,cloze,"The {{c1::Magna Carta}} was sealed in {{c2::1215}}.",,,,,\n'
    ",,Who wrote the Analects' sayings down?,His disciples,,,,\n"
    ",,Capital of Byzantium?,Constantinople,Rome|Constantinople,,,\n"
)


def test_csv_all_types() -> None:
    parsed = parse_csv(GOOD_CSV.encode(), filename="World History.csv")
    assert parsed.deck.name == "World History"
    assert parsed.deck.slug == "world-history"
    assert parsed.deck.language == "en"
    items = {i.external_id: i for i in parsed.items}
    mc = items["wh-1"]
    assert mc.kind is ItemKind.MULTIPLE_CHOICE
    assert mc.prompt == "Who crossed the Rubicon, in 49 BC?"
    assert mc.options == ("Pompey", "Caesar", "Crassus")
    assert mc.correct_option == 1
    assert mc.explanation == "He started a civil war."
    assert mc.tags == ("ancient::rome", "politics")
    assert mc.image == "rubicon.png"
    assert items["wh-2"].kind is ItemKind.TRUE_FALSE
    assert items["wh-2"].correct_option == 0
    assert items["wh-3"].accepted == ("1066", "AD 1066")
    assert items["wh-4"].answer == "Charter of 1215"
    assert items["wh-5::c1"].prompt == "The [...] was sealed in 1215."
    assert items["wh-5::c2"].answer == "1215"
    derived = derived_id("Who wrote the Analects' sayings down?")
    assert items[derived].kind is ItemKind.FLASHCARD
    assert items[derived_id("Capital of Byzantium?")].kind is ItemKind.MULTIPLE_CHOICE
    assert len(parsed.items) == 8
    assert parsed.skipped == []


def test_derived_ids_are_stable_across_reimports() -> None:
    first = parse_csv(GOOD_CSV.encode(), filename="a.csv")
    second = parse_csv(GOOD_CSV.encode(), filename="a.csv")
    assert [i.external_id for i in first.items] == [i.external_id for i in second.items]


def test_tsv_with_bom_minimal_columns_and_chinese() -> None:
    data = "\ufeffquestion\tanswer\n秦朝的第一位皇帝是谁？\t秦始皇\n汉朝的建立者？\t刘邦\n".encode()
    parsed = parse_tsv(data, filename="中国历史.tsv")
    assert parsed.deck.name == "中国历史"
    assert parsed.deck.language == "zh"
    assert parsed.deck.slug.startswith("deck-")
    assert [i.answer for i in parsed.items] == ["秦始皇", "刘邦"]
    assert parse_deck_file(data, "x.tsv").items == parsed.items


def test_multiline_quoted_field_and_line_numbers_after_it() -> None:
    data = b'question,answer\n"first\nsecond line",a\nthird,b,EXTRA\n'
    with pytest.raises(ContentError, match=r"^line 4: row has 3 fields but the header has 2"):
        parse_csv(data, filename="m.csv")


def test_empty_cloze_is_skipped_and_counted() -> None:
    data = b"id,type,question,answer\nc,cloze,{{c1::Ur}} and {{c2::}},\n"
    parsed = parse_csv(data, filename="c.csv")
    assert [i.external_id for i in parsed.items] == ["c::c1"]
    assert [(s.where, s.reason) for s in parsed.skipped] == [
        ("line 2", "cloze c2 of id 'c' is empty")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "e.csv is empty"),
        (b"  \n\n", "e.csv is empty"),
        (b"question,answer\n", "e.csv has a header but no entries"),
        (
            b"question,answer\nok,\xe9t\xe9\n",
            "e.csv is not UTF-8 text: byte 0xe9 at offset 19",
        ),
        (b"id,question\n1,q\n", r"line 1: missing required column\(s\): answer"),
        (b"id,type,options\n1,q,a\n", r"missing required column\(s\): question, answer"),
        (b"question,answer\nq,a,b\n", "line 2: row has 3 fields but the header has 2"),
        (b"question,answer\nok,fine\nlonely\n", "line 3: row has 1 fields"),
        (
            b'question,answer\nok,fine\n"unterminated,x\n',
            r'line 3: a cell opens a quote \(".*never closed',
        ),
        (b'question,answer\n"open,a\nq2,a2\nq3,a3\n', "line 2: a cell opens a quote"),
        (b'question,answer\nq,"a"b\n', "line 2: text follows the closing quote of a cell"),
        (b"question,answer\nq," + b"x" * 140_000 + b"\n", "line 2: a cell is longer than 131072"),
        (
            b"type,question,answer,options\nmultiple_choice,q,E,A|B|C|D\n",
            r"line 2: answer 'E' is not among the options \(A \| B \| C \| D\)",
        ),
        (b"type,question,answer,options\n,q,A,A\n", "needs 2-12 options, got 1"),
        (b"type,question,answer,options\n,q,A,A|A\n", "options must be distinct"),
        (
            b"id,question,answer\nx,q1,a\ny,q2,b\nx,q3,c\n",
            r"line 4: duplicate id 'x' \(first used at line 2\)",
        ),
        (b"question,answer\nsame,a\nsame,b\n", "line 3: duplicate id 'q-"),
        (b"type,question,answer\nessay,q,a\n", "line 2: type 'essay' is not one of"),
        (b"type,question,answer\ntrue_false,q,maybe\n", "must be true or false"),
        (b"question,answer\n,a\n", "line 2: question is empty"),
        (b"question,answer\nq,\n", "line 2: answer is empty"),
        (b"type,question,answer\ncloze,no gaps,\n", "line 2: cloze text has no deletion"),
        (b"question,answer,image\nq,a,../etc/passwd\n", "must be a plain file name"),
        (b"question,answer,answer\nq,a,b\n", "column 'answer' appears twice"),
    ],
)
def test_bad_csv(data: bytes, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_csv(data, filename="e.csv")


def test_size_and_item_limits() -> None:
    data = GOOD_CSV.encode()
    with pytest.raises(ContentError, match=r"big.csv is [\d,]+ bytes, over the limit of 100 bytes"):
        parse_deck_file(data, "big.csv", limits=ImportLimits(max_file_bytes=100))
    with pytest.raises(ContentError, match="more than 3 items"):
        parse_csv(data, filename="a.csv", limits=ImportLimits(max_items=3))


def test_trailing_empty_cells_are_tolerated() -> None:
    parsed = parse_csv(b"question,answer\nq,a,,\n", filename="t.csv")
    assert [(i.prompt, i.answer) for i in parsed.items] == [("q", "a")]


def test_wrong_delimiter_is_pointed_out() -> None:
    with pytest.raises(ContentError, match="the file looks tab-separated"):
        parse_csv(b"question\tanswer\nq\ta\n", filename="t.csv")
    with pytest.raises(ContentError, match="the file looks comma-separated"):
        parse_tsv(b"question,answer\nq,a\n", filename="t.tsv")
