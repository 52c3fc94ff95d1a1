"""Tolerant matching of typed answers, for Latin and Chinese text alike.

Two answers match when they are equal after :func:`normalise_answer`, which ignores
letter case, surrounding and repeated whitespace, punctuation (ASCII and CJK), accents
on Latin/Greek/Cyrillic letters, and full-width/half-width differences (Unicode NFKC).

One slip is forgiven for longer answers: when both sides are purely Latin letters and
spaces, the accepted answer has at least :data:`TYPO_MIN_LETTERS` letters, both start with
the same letter (so "Russia" never passes for "Prussia"), and the two differ by one
insertion, deletion, substitution or swap of neighbouring letters. Answers
with digits (numbers, years) or CJK characters must match exactly after normalising,
since there one character changes the meaning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

TYPO_MIN_LETTERS = 6
"""Latin answers at least this long (letters only) tolerate one typo."""

_APOSTROPHES = frozenset("'’ʼ‘`´")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SPACES = re.compile(r"\s+")
_LATIN_ONLY = re.compile(r"[a-z ]+")


def _is_cjk(ch: str) -> bool:
    """True for Han, kana, Hangul and CJK symbols (scripts written without spaces)."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK symbols, kana, CJK unified
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # extension planes
    )


def _strip_accents(text: str) -> str:
    """Drop combining marks on Latin, Greek and Cyrillic letters only.

    Marks on kana (dakuten) or Hangul jamo carry meaning, so they stay.
    """
    out: list[str] = []
    base_is_alphabetic = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn":
            if base_is_alphabetic:
                continue
        else:
            base_is_alphabetic = ord(ch) < 0x0530
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def normalise_answer(text: str) -> str:
    """Reduce an answer to the form compared by :func:`answer_matches`.

    >>> normalise_answer("  Élan  Vital! ")
    'elan vital'
    >>> normalise_answer("１９４９年。")
    '1949年'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _strip_accents(text)
    text = _THOUSANDS.sub("", text)
    chars: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in _APOSTROPHES or category == "Cf":  # Cf: soft hyphens, zero-width spaces
            continue
        if category.startswith("P") or category in ("Zs", "Cc"):
            chars.append(" ")
        else:
            chars.append(ch)
    collapsed = _SPACES.sub(" ", "".join(chars)).strip()
    # Spaces next to CJK characters carry no meaning ("中华 人民" = "中华人民").
    kept: list[str] = []
    for i, ch in enumerate(collapsed):
        if ch == " " and (_is_cjk(collapsed[i - 1]) or _is_cjk(collapsed[i + 1])):
            continue
        kept.append(ch)
    return "".join(kept)


def _within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit (Damerau: swaps count as one)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        if len(diffs) == 2:
            i, j = diffs
            return j == i + 1 and a[i] == b[j] and a[j] == b[i]
        return False
    if la > lb:
        a, b = b, a
    # b is one longer: deleting one character of b must give a.
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _typo_tolerant(norm_expected: str) -> bool:
    """Only long, purely Latin-letter answers forgive a typo."""
    letters = norm_expected.replace(" ", "")
    return bool(_LATIN_ONLY.fullmatch(norm_expected)) and len(letters) >= TYPO_MIN_LETTERS


def _plain(text: str) -> str:
    """A lighter normal form for answers that are nothing but punctuation."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def answer_matches(given: str, accepted: Sequence[str]) -> bool:
    """True when ``given`` matches any of the ``accepted`` answers.

    >>> answer_matches("paris", ["Paris"])
    True
    >>> answer_matches("Mississipi", ["Mississippi"])  # one typo, long Latin word
    True
    >>> answer_matches("1067", ["1066"])  # never for numbers
    False
    """
    norm_given = normalise_answer(given)
    for expected in accepted:
        norm_expected = normalise_answer(expected)
        if not norm_expected:
            # The accepted answer is all punctuation: compare it literally.
            if _plain(expected) and _plain(given) == _plain(expected):
                return True
            continue
        if not norm_given:
            continue
        if norm_given == norm_expected:
            return True
        if (
            _typo_tolerant(norm_expected)
            and _LATIN_ONLY.fullmatch(norm_given)
            and norm_given[0] == norm_expected[0]
            and _within_one_edit(norm_given, norm_expected)
        ):
            return True
    return False


def forgiven_typo(given: str, accepted: Sequence[str]) -> str | None:
    """The accepted answer ``given`` matched only by a forgiven typo (to show its spelling);
    None when it matched exactly or not at all.

    >>> forgiven_typo("Mississipi", ["Mississippi"])
    'Mississippi'
    >>> forgiven_typo("mississippi", ["Mississippi"]) is None
    True
    """
    norm_given = normalise_answer(given)
    if not norm_given or any(normalise_answer(a) == norm_given for a in accepted):
        return None
    for expected in accepted:
        if answer_matches(given, [expected]):
            return expected
    return None


_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "对", "是", "正确", "对的", "是的"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "错", "否", "错误", "错的", "不对", "不是"})


def true_false_word(text: str) -> bool | None:
    """The truth a word typed at a true/false question stands for; None if it is no such
    word. Case, spaces and punctuation are ignored, as in :func:`normalise_answer`.

    >>> true_false_word(" True! "), true_false_word("f"), true_false_word("错。")
    (True, False, False)
    >>> true_false_word("maybe") is None
    True
    """
    word = normalise_answer(text).replace(" ", "")
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return None
