"""Errors the service raises; each carries a stable ``code`` the bot turns into a message."""

from __future__ import annotations


class TutorError(Exception):
    """Base class. ``code`` names a message in the bot's catalogs; ``params`` fill it in."""

    code = "error"

    def __init__(self, detail: str = "", **params: object) -> None:
        super().__init__(detail or self.code)
        self.params = params

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled with its params (an import worker process sends it back).
        return (_rebuild, (type(self), self.args[0], self.params))


def _rebuild(kind: type[TutorError], detail: str, params: dict[str, object]) -> TutorError:
    return kind(detail, **params)


class UnknownStudent(TutorError):
    """The user has not started the bot yet."""

    code = "unknown_student"


class UnknownDeck(TutorError):
    """No deck by that id or name; ``params['deck']`` is the reference as given."""

    code = "unknown_deck"


class UnknownItem(TutorError):
    """No item by that id."""

    code = "unknown_item"


class NotEnrolled(TutorError):
    """The student has no decks to study."""

    code = "not_enrolled"


class QuestionNotFound(TutorError):
    """The question does not exist or belongs to someone else (tampered callback data)."""

    code = "question_not_found"


class StaleQuestion(TutorError):
    """The question is from a finished session, or its item or deck is gone."""

    code = "stale_question"


class InvalidAnswer(TutorError):
    """The answer does not fit the question (e.g. a choice index out of range)."""

    code = "invalid_answer"


class InvalidSetting(TutorError):
    """A settings value was rejected; ``params['setting']`` names it."""

    code = "invalid_setting"


class ContentRejected(TutorError):
    """An import, export or edit was rejected; the message says why.

    ``params``: ``reason`` (the importer's or exporter's message, in English), ``cause`` (a
    stable code for the likely cause when known: "not_anki_notes", "no_readable_notes",
    "no_items", "no_question_column", "no_answer_column", "several_decks",
    "deck_created_meanwhile", "unknown_format", "not_exportable"; else ""), and where
    known ``filename``, ``deck`` and ``format``. An importer's or exporter's refusal also
    carries ``why`` and ``place`` (a ``tutor.content.messages`` Reason and Place, or None):
    the same message as a code with parameters, which the bot says in the admin's language.
    """

    code = "content_rejected"
