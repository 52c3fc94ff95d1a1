"""A student's rights over their data: a copy of their answers (/mydata) and erasure (/forget).

Both are written to the audit log as the student's own action, with counts only: never the
answers, names or settings themselves.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from storage import audit
from storage import privacy as privacy_rows
from storage.records import AuditRecord
from tutor.clock import from_millis, to_millis
from tutor.errors import UnknownStudent
from tutor.service import TutorService

CSV_COLUMNS = (
    "answered_at_utc",
    "deck",
    "item_id",
    "type",
    "question",
    "your_answer",
    "correct",
    "self_grade",
    "seconds_to_answer",
)


@dataclass(frozen=True, slots=True)
class DataExport:
    """The student's answer history as a CSV file."""

    filename: str
    data: bytes
    rows: int


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What was erased: rows per table."""

    deleted: dict[str, int]

    @property
    def total(self) -> int:
        """Rows erased in all."""
        return sum(self.deleted.values())


def _cell(text: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class PrivacyService:
    """``/mydata`` and ``/forget`` over the tutor's database."""

    def __init__(self, service: TutorService) -> None:
        self.service = service

    async def export_answers(self, user_id: int) -> DataExport:
        """Every answer the student gave, as UTF-8 CSV (with BOM, for spreadsheets)."""
        if await self.service.student(user_id) is None:
            raise UnknownStudent(str(user_id))
        async with self.service.db.read() as conn:
            history = await privacy_rows.answer_history(conn, user_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for row in history:
            writer.writerow(
                [
                    from_millis(row.answered_ms).isoformat(timespec="seconds"),
                    _cell(row.deck),
                    _cell(row.item),
                    row.kind,
                    _cell(row.question),
                    _cell(row.response),
                    "yes" if row.correct else "no",
                    "" if row.grade is None else row.grade,
                    "" if row.latency_ms is None else f"{row.latency_ms / 1000:.1f}",
                ]
            )
        await self._audit(user_id, "privacy.export", f"{len(history)} answers")
        return DataExport(
            f"metatutor-answers-{user_id}.csv", buffer.getvalue().encode("utf-8-sig"), len(history)
        )

    async def forget(self, user_id: int) -> ErasureReport:
        """Erase everything stored about the student, in one transaction; audit the fact."""
        now_ms = to_millis(self.service.now())
        async with self.service.db.transaction() as conn:
            deleted = await privacy_rows.erase_user(conn, user_id)
            if not deleted:
                raise UnknownStudent(str(user_id))
            summary = ", ".join(f"{table} {count}" for table, count in sorted(deleted.items()))
            await audit.record(
                conn,
                AuditRecord(now_ms, user_id, "privacy.forget", f"user {user_id}", summary),
            )
        return ErasureReport(deleted)

    async def _audit(self, user_id: int, action: str, detail: str) -> None:
        now_ms = to_millis(self.service.now())
        async with self.service.db.transaction() as conn:
            await audit.record(
                conn, AuditRecord(now_ms, user_id, action, f"user {user_id}", detail)
            )
