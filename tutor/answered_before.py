"""A question answered before: its feedback again, and whether what followed reached the student."""

from __future__ import annotations

from storage import Connection
from storage import attempts as attempt_rows
from storage import quiz as quiz_rows
from storage.database import run_sync
from storage.records import QuestionRecord, SessionRecord
from tutor.clock import from_millis
from tutor.items import Grade
from tutor.question_view import build_question
from tutor.views import Feedback, SessionProgress


async def feedback_again(conn: Connection, row: QuestionRecord, total: int, key: str) -> Feedback:
    """Feedback for a question answered before; nothing is written. It is marked ``resend``
    when what follows the answer never reached the student (see :func:`followed`)."""
    previous = await attempt_rows.attempt_for_key(conn, key)
    memory = await attempt_rows.get_memory(conn, row.user_id, row.item_id)
    session = await quiz_rows.get_session(conn, row.session_id) if row.session_id else None
    question = await build_question(conn, row, total)
    reached = True
    if session is not None:
        after, newer = await run_sync(conn, lambda raw: quiz_rows.read_after(raw, row))
        reached = followed(session, after, newer)
    return Feedback(
        question=question,
        correct=bool(previous and previous.correct),
        correct_text=question.item.correct_text,
        explanation=question.item.explanation,
        next_review_at=from_millis(memory.due_ms) if memory else None,
        progress=SessionProgress(
            session.answered if session else 0, session.correct if session else 0, total
        ),
        duplicate=True,
        given=previous.response if previous else "",
        resend=not reached,
        grade=Grade(previous.grade) if previous and previous.grade else None,
    )


def followed(session: SessionRecord, after: QuestionRecord | None, newer_session: bool) -> bool:
    """Whether what follows an answered question reached the student: the next question of
    its session (shown once its message id is stored, or answered), else the end of the
    session (its summary, or a later session the student started)."""
    if after is not None:
        return after.message_id is not None or after.answered_ms is not None
    if session.ended_ms is None:
        return False  # running, and no question chosen since the answer
    return session.summary_ms is not None or newer_session
