"""What admins can do: manage decks and items, read totals, announce. Every change is audited.

The bot checks who is an admin (``METATUTOR_ADMIN_IDS``); this service records who did what
in the audit log (``audit_log``: who, what, when), including refused attempts (``denied``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta

from storage import Connection
from storage import admin as admin_rows
from storage import announcements as announcement_rows
from storage import attempts as attempt_rows
from storage import audit as audit_rows
from storage import content as content_rows
from storage import own_cards as own_card_rows
from storage import reminders as reminder_rows
from storage import users as user_rows
from storage.records import AuditRecord
from tutor.clock import from_millis, to_millis, zone
from tutor.content.common import slugify
from tutor.content.messages import rejected
from tutor.convert import deck_from_record, item_to_record
from tutor.errors import UnknownDeck, UnknownItem
from tutor.items import Deck, Item
from tutor.own_cards import PrivateItem
from tutor.quick_add import parse_add_line, parse_edit_line
from tutor.reminder_queue import announcement_slot
from tutor.reminders import ReminderKind, local_day_bounds
from tutor.service import TutorService
from tutor.views import DayCount, DeckInfo, ImportReport

MAX_ANNOUNCEMENT = 3500  # Telegram allows 4096 characters; leave room for the prefix
#: Pseudo-answers of the global rate mixed into an item's rate (as the model's prior does).
DIFFICULTY_PRIOR = 2.0


class AnnouncementGone(Exception):
    """The announcement was confirmed or cancelled before (a second press).

    Not a TutorError: only the admin handlers see it, and they catch it by name.
    """


@dataclass(frozen=True, slots=True)
class ItemInfo:
    """One item with its numbers from all students."""

    item: Item
    deck_name: str
    attempts: int
    correct: int
    learners: int
    difficulty: float

    @property
    def accuracy(self) -> float | None:
        """Share of correct answers (None before any answer)."""
        return self.correct / self.attempts if self.attempts else None


@dataclass(frozen=True, slots=True)
class UsersSummary:
    """Who uses the bot."""

    total: int
    active: int
    paused: int
    blocked: int
    active_today: int
    active_week: int
    answered_today: int
    answered_week: int
    own_cards: int = 0
    """Students' own cards, and how many students wrote any (counts only: contents are private)."""
    own_card_students: int = 0


@dataclass(frozen=True, slots=True)
class HardItem:
    """An item students get wrong most often."""

    item_id: int
    deck_name: str
    prompt: str
    attempts: int
    correct: int


@dataclass(frozen=True, slots=True)
class AdminStats:
    """Numbers for /admin_stats."""

    per_day: list[DayCount]
    per_deck: list[tuple[str, int, int]]
    hardest: list[HardItem]
    own_cards: int = 0
    """Students' own cards (counts only: their contents are private)."""
    own_card_students: int = 0


@dataclass(frozen=True, slots=True)
class AnnouncementDraft:
    """An announcement waiting for the admin's confirmation."""

    id: int
    text: str
    deck: Deck | None
    recipients: int


@dataclass(frozen=True, slots=True)
class AnnouncementResult:
    """Where an announcement's deliveries stand."""

    delivered: int
    blocked: int
    failed: int
    skipped: int
    waiting: int

    @property
    def finished(self) -> bool:
        """True once no delivery is waiting or in flight."""
        return self.waiting == 0


class AdminService:
    """Admin operations over the tutor service's database."""

    def __init__(self, service: TutorService) -> None:
        self.service = service
        self.db = service.db

    def _now_ms(self) -> int:
        return to_millis(self.service.now())

    async def _audit(
        self, conn: Connection, actor_id: int, action: str, target: str, **detail: object
    ) -> None:
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else ""
        await audit_rows.record(
            conn, AuditRecord(self._now_ms(), actor_id, action, target[:200], text[:1000])
        )

    async def audit(self, actor_id: int, action: str, target: str = "", **detail: object) -> None:
        """Record an admin action on its own."""
        async with self.db.transaction() as conn:
            await self._audit(conn, actor_id, action, target, **detail)

    async def denied(self, actor_id: int | None, what: str) -> None:
        """Record a refused attempt by a non-admin."""
        async with self.db.transaction() as conn:
            await audit_rows.record(
                conn, AuditRecord(self._now_ms(), actor_id, "denied", what[:200], "")
            )

    async def recent_audit(self, limit: int = 50) -> list[AuditRecord]:
        """The latest audit entries, newest first."""
        async with self.db.read() as conn:
            return await audit_rows.recent(conn, limit)

    # -- decks --------------------------------------------------------------------------------

    async def decks(self) -> list[DeckInfo]:
        """Every live deck with item and student counts."""
        return await self.service.decks()

    async def rename_deck(self, actor_id: int, ref: str, name: str) -> Deck:
        """Give a deck a new display name (its slug, links and items stay)."""
        name = " ".join(name.split())
        if not 1 <= len(name) <= 100:
            raise rejected("deck_name_length", max=100)
        deck = await self.service.find_deck(ref)
        async with self.db.transaction() as conn:
            await content_rows.rename_deck(conn, deck.id, name, self._now_ms())
            await self._audit(conn, actor_id, "deck_rename", deck.slug, old=deck.name, new=name)
        return await self.service.find_deck(deck.id)

    async def delete_deck(self, actor_id: int, deck_id: int) -> Deck:
        """Hide a deck and end its enrolments; items and students' attempts are kept."""
        deck = await self.service.find_deck(deck_id)
        async with self.db.transaction() as conn:
            await content_rows.delete_deck(conn, deck.id, self._now_ms())
            await self._audit(conn, actor_id, "deck_delete", deck.slug, name=deck.name)
        return deck

    async def export_deck(self, actor_id: int, ref: str, fmt: str = "csv") -> tuple[str, bytes]:
        """A deck as a CSV, TSV or JSON file."""
        deck = await self.service.find_deck(ref)
        name, data = await self.service.export_deck(deck.id, fmt)
        await self.audit(actor_id, "export", deck.slug, format=fmt, bytes=len(data))
        return name, data

    async def import_file(
        self, actor_id: int, data: bytes, filename: str, deck_name: str | None
    ) -> ImportReport:
        """Import a deck file (audited by the importer as ``import``)."""
        return await self.service.import_file(
            data, filename, deck_name=deck_name, actor_id=actor_id
        )

    # -- items --------------------------------------------------------------------------------

    async def _shared_item(self, item_id: int) -> Item:
        """A live item of a shared deck; raises UnknownItem, or PrivateItem for a student's
        own card (admins see how many there are, never what they say)."""
        item = await self.service.item(item_id)
        async with self.db.read() as conn:
            if await own_card_rows.owner_of_item(conn, item_id) is not None:
                raise PrivateItem(str(item_id), item=item_id)
        return item

    async def item_info(self, item_id: int) -> ItemInfo:
        """An item with attempts, accuracy, learners and difficulty; raises UnknownItem, or
        PrivateItem for a student's own card."""
        item = await self._shared_item(item_id)
        async with self.db.read() as conn:
            deck = await content_rows.get_deck(conn, item.deck_id)
            attempts, correct = (await _item_stats(conn, item_id)) or (0, 0)
            learners = await admin_rows.item_learners(conn, item_id)
            total, total_correct = await admin_rows.global_rate(conn)
        prior = (total_correct + 1.0) / (total + 2.0)
        rate = (correct + DIFFICULTY_PRIOR * prior) / (attempts + DIFFICULTY_PRIOR)
        return ItemInfo(item, deck.name if deck else "", attempts, correct, learners, 1.0 - rate)

    async def add_item(self, actor_id: int, line: str) -> tuple[Deck, Item]:
        """Add a question from a one-line ``/add`` text; a new deck name creates the deck."""
        now_ms = self._now_ms()
        ref, item = parse_add_line(line, f"add-{now_ms}")
        try:
            deck = await self.service.find_deck(ref)
        except UnknownDeck:
            deck = None
        async with self.db.transaction() as conn:
            if deck is None:
                slug = slugify(ref)
                if await content_rows.slug_taken(conn, slug):
                    slug = f"{slug}-{now_ms}"
                deck_id, _ = await content_rows.upsert_deck(
                    conn,
                    slug=slug,
                    name=ref[:100],
                    description="",
                    language="en",
                    bundled=False,
                    now_ms=now_ms,
                )
                found = await content_rows.get_deck(conn, deck_id)
                assert found is not None
                deck = deck_from_record(found)
            item_id = await admin_rows.append_item(
                conn, deck.id, item_to_record(item, deck.id), now_ms
            )
            await self._audit(
                conn, actor_id, "item_add", f"item {item_id}", deck=deck.slug, kind=item.kind.value
            )
        return deck, await self.service.item(item_id)

    async def edit_item(self, actor_id: int, item_id: int, line: str) -> Item:
        """Replace an item's question and answers from an edit line (attempts are kept)."""
        old = await self._shared_item(item_id)
        new = parse_edit_line(line, old.external_id)
        async with self.db.transaction() as conn:
            await admin_rows.update_item(
                conn, item_id, item_to_record(_with_tags(new, old), old.deck_id), self._now_ms()
            )
            await self._audit(conn, actor_id, "item_edit", f"item {item_id}", old=old.prompt[:200])
        return await self.service.item(item_id)

    async def delete_item(self, actor_id: int, item_id: int) -> Item:
        """Hide an item (its attempts are kept)."""
        item = await self._shared_item(item_id)
        async with self.db.transaction() as conn:
            await content_rows.delete_item(conn, item_id, self._now_ms())
            await self._audit(
                conn, actor_id, "item_delete", f"item {item_id}", prompt=item.prompt[:200]
            )
        return item

    # -- numbers ------------------------------------------------------------------------------

    async def users_summary(self, tz: str = "UTC") -> UsersSummary:
        """Totals by status, and who was active today and this week (in ``tz``)."""
        now = self.service.now()
        midnight, _ = local_day_bounds(now, tz)
        week_start, _ = local_day_bounds(now - timedelta(days=6), tz)
        today_ms, week_ms = to_millis(midnight), to_millis(week_start)
        async with self.db.read() as conn:
            total = await admin_rows.users_total(conn)
            by_status = await user_rows.count_users_by_status(conn)
            seen_today = await admin_rows.users_seen_since(conn, today_ms)
            seen_week = await admin_rows.users_seen_since(conn, week_ms)
            answered_today = await user_rows.count_active_since(conn, today_ms)
            answered_week = await user_rows.count_active_since(conn, week_ms)
            own_cards, own_card_students = await own_card_rows.totals(conn)
        return UsersSummary(
            total=total,
            active=by_status.get("active", 0),
            paused=by_status.get("paused", 0),
            blocked=by_status.get("blocked", 0),
            active_today=seen_today,
            active_week=seen_week,
            answered_today=answered_today,
            answered_week=answered_week,
            own_cards=own_cards,
            own_card_students=own_card_students,
        )

    async def stats(self, tz: str = "UTC", days: int = 14, hardest: int = 5) -> AdminStats:
        """Answers per local day, accuracy per deck, and the hardest items (≥ 3 answers)."""
        now = self.service.now()
        today = now.astimezone(zone(tz)).date()
        first = today - timedelta(days=days - 1)
        since = to_millis(now - timedelta(days=days + 1))
        async with self.db.read() as conn:
            answers = await admin_rows.answers_since(conn, since)
            per_deck = await admin_rows.accuracy_per_deck(conn)
            worst = await admin_rows.hardest_items(conn, 3, hardest)
            own_cards, own_card_students = await own_card_rows.totals(conn)
        counts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for answered_ms, correct, _ in answers:
            day = from_millis(answered_ms).astimezone(zone(tz)).date()
            counts[day][0] += 1
            counts[day][1] += int(correct)
        per_day = [
            DayCount(first + timedelta(days=i), *counts.get(first + timedelta(days=i), [0, 0]))
            for i in range(days)
        ]
        hard = [
            HardItem(item_id, deck, str(json.loads(payload).get("prompt", "")), n, c)
            for item_id, deck, payload, n, c in worst
        ]
        return AdminStats(per_day, per_deck, hard, own_cards, own_card_students)

    # -- announcements ------------------------------------------------------------------------

    async def draft_announcement(
        self, actor_id: int, text: str, deck_ref: str | None = None
    ) -> AnnouncementDraft:
        """Store an announcement to confirm; nothing is sent yet."""
        text = text.strip()
        if not text:
            raise rejected("announcement_empty")
        if len(text) > MAX_ANNOUNCEMENT:
            raise rejected("announcement_too_long", limit=MAX_ANNOUNCEMENT)
        deck = await self.service.find_deck(deck_ref) if deck_ref else None
        async with self.db.transaction() as conn:
            draft_id = await announcement_rows.create(
                conn, actor_id, text, deck.id if deck else None, self._now_ms()
            )
            recipients = len(await announcement_rows.recipients(conn, deck.id if deck else None))
            await self._audit(
                conn,
                actor_id,
                "announce_draft",
                f"announcement {draft_id}",
                deck=deck.slug if deck else None,
                recipients=recipients,
            )
        return AnnouncementDraft(draft_id, text, deck, recipients)

    async def confirm_announcement(self, actor_id: int, announcement_id: int) -> int:
        """Queue one delivery per recipient (exactly once); returns how many.

        Raises AnnouncementGone on a second confirmation or after a cancel.
        """
        now_ms = self._now_ms()
        async with self.db.transaction() as conn:
            draft = await announcement_rows.get(conn, announcement_id)
            if draft is None or not await announcement_rows.confirm(conn, announcement_id, now_ms):
                raise AnnouncementGone(str(announcement_id))
            users = await announcement_rows.recipients(conn, draft.deck_id)
            slot = announcement_slot(announcement_id)
            await reminder_rows.plan(
                conn, [(user, ReminderKind.ANNOUNCE.value, slot, now_ms) for user in users]
            )
            await self._audit(
                conn, actor_id, "announce", f"announcement {announcement_id}", recipients=len(users)
            )
        return len(users)

    async def cancel_announcement(self, actor_id: int, announcement_id: int) -> None:
        """Drop a draft; raises AnnouncementGone if it was confirmed or cancelled already."""
        async with self.db.transaction() as conn:
            if not await announcement_rows.cancel(conn, announcement_id, self._now_ms()):
                raise AnnouncementGone(str(announcement_id))
            await self._audit(conn, actor_id, "announce_cancel", f"announcement {announcement_id}")

    async def announcement_result(self, announcement_id: int) -> AnnouncementResult:
        """Delivered / blocked / failed / skipped / waiting counts of an announcement."""
        async with self.db.read() as conn:
            counts = await reminder_rows.status_counts(
                conn, ReminderKind.ANNOUNCE.value, announcement_slot(announcement_id)
            )
        tally = {"sent": 0, "blocked": 0, "failed": 0, "skipped": 0, "waiting": 0}
        for (status, detail), n in counts.items():
            if status == "sent":
                tally["sent"] += n
            elif detail == "blocked" or (status == "skipped" and detail == "blocked"):
                tally["blocked"] += n
            elif status == "failed":
                tally["failed"] += n
            elif status == "skipped":
                tally["skipped"] += n
            else:
                tally["waiting"] += n
        result = AnnouncementResult(
            tally["sent"], tally["blocked"], tally["failed"], tally["skipped"], tally["waiting"]
        )
        if result.finished:
            async with self.db.transaction() as conn:
                await announcement_rows.finish(conn, announcement_id, self._now_ms())
        return result


async def _item_stats(conn: Connection, item_id: int) -> tuple[int, int] | None:
    found = await attempt_rows.item_stats(conn, [item_id])
    return found.get(item_id)


def _with_tags(new: Item, old: Item) -> Item:
    """The edited item keeps the old one's tags, picture and sounds."""
    return replace(
        new,
        tags=old.tags,
        image=old.image,
        audio=old.audio,
        answer_audio=old.answer_audio,
        id=old.id,
        deck_id=old.deck_id,
    )


__all__ = [
    "AdminService",
    "AdminStats",
    "AnnouncementDraft",
    "AnnouncementGone",
    "AnnouncementResult",
    "HardItem",
    "ItemInfo",
    "UnknownItem",
    "UsersSummary",
]
