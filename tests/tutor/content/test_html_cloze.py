"""Field HTML to text, and cloze expansion."""

from __future__ import annotations

import pytest

from tutor.content.cloze import cloze_numbers, parse_cloze
from tutor.content.errors import ContentError
from tutor.content.html_text import html_to_text


def test_html_to_text_strips_markup_and_keeps_images() -> None:
    field = (
        "<div>Line&nbsp;one &amp; <b>bold</b></div><div>two<br>three</div>"
        '<img src="a b.png"> [sound:voice.mp3]<script>alert(1)</script><style>p{}</style>'
        "&lt;tag&gt; &#20013;"
    )
    result = html_to_text(field)
    assert result.text == "Line one & bold\ntwo\nthree\n<tag> 中"
    assert result.images == ("a b.png",)


def test_html_to_text_plain_and_empty() -> None:
    assert html_to_text("1 < 2 and 3 > 2").text == "1 < 2 and 3 > 2"
    assert html_to_text("<br><div> </div>&nbsp;").text == ""
    assert html_to_text("").images == ()


def test_cloze_expands_one_card_per_number() -> None:
    result = parse_cloze("{{c1::Qin}} unified China in {{c2::221 BC::year}}; {{c1::Qin}} fell.")
    first, second = result.cards
    assert first.number == 1
    assert first.prompt == "[...] unified China in 221 BC; [...] fell."
    assert first.answers == ("Qin", "Qin")
    assert first.answer == "Qin, Qin"
    assert second.prompt == "Qin unified China in [year]; Qin fell."
    assert second.answers == ("221 BC",)
    assert result.empty_numbers == ()


def test_cloze_nested_and_empty() -> None:
    result = parse_cloze("{{c1::Tang {{c2::Taizong}}}} and {{c3::}} {{c4:: }}")
    assert [c.number for c in result.cards] == [1, 2]
    assert result.cards[0].prompt == "[...] and"
    assert result.cards[0].answer == "Tang Taizong"
    assert result.cards[1].prompt == "Tang [...] and"
    assert result.empty_numbers == (3, 4)
    assert cloze_numbers("{{c2::a}} {{c10::b}}") == [2, 10]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no deletions here", "has no deletion"),
        ("{{c1::open", "c1 is not closed"),
    ],
)
def test_cloze_errors(text: str, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_cloze(text)
