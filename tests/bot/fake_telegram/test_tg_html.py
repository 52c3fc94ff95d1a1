"""Telegram's HTML parse mode as the fake understands it."""

from __future__ import annotations

import html

import pytest

from bot.fake_telegram.tg_html import Entity, HtmlParseError, parse_html, to_plain, utf16_len


def test_entities_cover_the_decoded_text() -> None:
    plain, entities = parse_html("<b>Q1.</b> Who wrote <i>Hamlet</i>? &lt;3")
    assert plain == "Q1. Who wrote Hamlet? <3"
    assert entities == [Entity("bold", 0, 3), Entity("italic", 14, 6)]


def test_nested_and_attribute_tags() -> None:
    text = (
        '<blockquote expandable><a href="https://x.org">x</a> '
        '<span class="tg-spoiler">s</span></blockquote>'
    )
    plain, entities = parse_html(text)
    assert plain == "x s"
    assert [e.type for e in entities] == ["expandable_blockquote", "text_link", "spoiler"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<i>x", 'Can\'t find end tag corresponding to start tag "i"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_errors_carry_telegrams_wording(text: str, message: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(text)
    assert str(caught.value) == message


def test_escaped_content_always_parses() -> None:
    nasty = "<script>alert('x')</script> & <b>not bold</b> &amp;"
    plain, entities = parse_html(f"<b>{html.escape(nasty)}</b>")
    assert plain == nasty and entities == [Entity("bold", 0, len(nasty))]


def test_to_plain_and_utf16() -> None:
    assert to_plain("<b>a</b>&amp;", "HTML") == "a&"
    assert to_plain("<b>a</b>", None) == "<b>a</b>"
    assert utf16_len("a😀") == 3
