"""Errors the service raises; each carries a stable ``code`` the bot turns into a message."""

from __future__ import annotations


class TutorError(Exception):
    """Base class. ``code`` names a message in the bot's catalogs; ``params`` fill it in."""

    code = "error"

    def __init__(self, detail: str = "", **params: object) -> None:
        super().__init__(detail or self.code)
        self.params = params


class UnknownStudent(TutorError):
    """The user has not started the bot yet."""

    code = "unknown_student"


class UnknownDeck(TutorError):
    """No deck by that id or name."""

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
    """An import or edit was rejected; the message says why."""

    code = "content_rejected"
