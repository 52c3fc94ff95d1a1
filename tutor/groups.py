"""Groups: the bot in a class or study group, its settings, rankings, and the admins' view.

Who may change a group's settings is Telegram's business (the chat's administrators): the
bot checks that and calls in here only for an admin. The quizzes themselves are in
:mod:`tutor.group_quiz`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from storage import Database
from storage import content as content_rows
from storage import group_quizzes as quiz_rows
from storage import group_slots as slot_rows
from storage import groups as group_rows
from storage.groups import GroupRecord
from tutor.clock import (
    Clock,
    is_valid_zone,
    local_day_start,
    require_utc,
    to_millis,
    utc_now,
    zone,
)
from tutor.errors import InvalidSetting, TutorError, UnknownDeck
from tutor.students import LANGUAGES, common_setting_changes, parse_hhmm

MIN_QUESTION_SECONDS = 10
MAX_QUESTION_SECONDS = 600
MAX_GROUP_QUIZ = 20
"""Questions in one group quiz at most (each is a poll and a result line: 40 messages)."""
STREAK_WINDOW = timedelta(days=60)
RANKING_SIZE = 10


class UnknownGroup(TutorError):
    """The bot is not (or no longer) in this group."""

    code = "unknown_group"


class NoGroupDecks(TutorError):
    """The group has no decks to quiz from."""

    code = "no_group_decks"


class QuizRunning(TutorError):
    """A quiz is already running in the group."""

    code = "group_quiz_running"


class NothingToAsk(TutorError):
    """None of the group's items can be asked as a quiz poll."""

    code = "group_nothing_to_ask"


@dataclass(frozen=True, slots=True)
class Group:
    """A group the bot is in, with its settings. ``id`` survives a supergroup upgrade."""

    id: int
    chat_id: int
    title: str
    language: str
    timezone: str
    daily_quiz_time: time | None
    daily_length: int
    exam_date: date | None
    members_start: bool
    question_seconds: int
    active: bool
    deck_ids: tuple[int, ...] = ()
    topic_id: int | None = None
    """The forum topic daily quizzes go to (None: the main chat, General in a forum)."""


def group_from_record(record: GroupRecord, deck_ids: tuple[int, ...] = ()) -> Group:
    """A stored group as a domain group."""
    return Group(
        id=record.id,
        chat_id=record.chat_id,
        title=record.title,
        language=record.language,
        timezone=record.timezone,
        daily_quiz_time=parse_hhmm(record.daily_quiz_time) if record.daily_quiz_time else None,
        daily_length=record.daily_length,
        exam_date=date.fromisoformat(record.exam_date) if record.exam_date else None,
        members_start=record.members_start,
        question_seconds=record.question_seconds,
        active=record.active,
        deck_ids=deck_ids,
        topic_id=record.topic_id,
    )


@dataclass(frozen=True, slots=True)
class RankLine:
    """A member's place: first name only, right answers, answers, days in a row."""

    first_name: str
    correct: int
    answered: int
    streak: int


@dataclass(frozen=True, slots=True)
class Ranking:
    """This week's and the all-time ranking of a group."""

    week: list[RankLine]
    all_time: list[RankLine]


@dataclass(frozen=True, slots=True)
class GroupOverview:
    """One group as the bot's admins see it."""

    id: int
    title: str
    active: bool
    members_week: int
    quizzes_week: int
    quizzes_total: int
    answers_week: int
    correct_week: int

    @property
    def accuracy(self) -> float | None:
        """Share of this week's answers that were right."""
        return self.correct_week / self.answers_week if self.answers_week else None


def streak_days(times_ms: list[int], tz_name: str, today: date) -> int:
    """Days in a row, ending today or yesterday (local), with at least one answer."""
    tz = zone(tz_name)
    days = {datetime.fromtimestamp(ms / 1000, tz).date() for ms in times_ms}
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


class GroupStudy:
    """Groups on one database: joining and leaving, settings, rankings."""

    def __init__(
        self, db: Database, *, clock: Clock = utc_now, default_timezone: str = "UTC"
    ) -> None:
        self.db = db
        self._clock = clock
        self.default_timezone = default_timezone

    def now(self) -> datetime:
        """The injected clock (aware UTC)."""
        return require_utc(self._clock())

    async def group(self, chat_id: int) -> Group | None:
        """The group with this chat id, if the bot was ever in it."""
        async with self.db.read() as conn:
            record = await group_rows.group_by_chat(conn, chat_id)
            decks = await group_rows.deck_ids(conn, record.id) if record else []
        return group_from_record(record, tuple(decks)) if record else None

    async def require(self, chat_id: int) -> Group:
        """The active group with this chat id; raises UnknownGroup."""
        found = await self.group(chat_id)
        if found is None or not found.active:
            raise UnknownGroup(str(chat_id))
        return found

    async def joined(
        self, chat_id: int, title: str, language: str, timezone: str | None = None
    ) -> tuple[Group, bool]:
        """The bot was added to the group: a new group (its language from whoever added the
        bot, its time zone too when known, else the deployment's), or a returning one with
        its settings. Returns it and whether it is new."""
        lang = language if language in LANGUAGES else "en"
        zone_name = timezone if timezone and is_valid_zone(timezone) else self.default_timezone
        async with self.db.transaction() as conn:
            record, new = await group_rows.join(
                conn, chat_id, title, lang, zone_name, to_millis(self.now())
            )
        return await self.require(record.chat_id), new

    async def left(self, chat_id: int) -> Group | None:
        """The bot was removed: its quizzes stop and no daily quiz is planned any more."""
        now_ms = to_millis(self.now())
        async with self.db.transaction() as conn:
            record = await group_rows.group_by_chat(conn, chat_id)
            if record is None:
                return None
            await group_rows.leave(conn, record.id, now_ms)
            await quiz_rows.stop_group(conn, record.id, now_ms)
            await slot_rows.drop_pending(conn, record.id)
        return await self.group(chat_id)

    async def migrated(self, old_chat_id: int, new_chat_id: int) -> Group | None:
        """Telegram upgraded the group to a supergroup: everything moves to the new id."""
        async with self.db.transaction() as conn:
            record = await group_rows.move_chat(conn, old_chat_id, new_chat_id)
        return await self.group(record.chat_id) if record else None

    async def update(
        self,
        chat_id: int,
        *,
        language: str | None = None,
        timezone: str | None = None,
        daily_quiz_time: time | None = None,
        clear_daily_quiz_time: bool = False,
        daily_length: int | None = None,
        exam_date: date | None = None,
        clear_exam_date: bool = False,
        members_start: bool | None = None,
        question_seconds: int | None = None,
    ) -> Group:
        """Change the group's settings; raises InvalidSetting naming the setting."""
        group = await self.require(chat_id)
        changes = common_setting_changes(
            language=language,
            timezone=timezone,
            daily_quiz_time=daily_quiz_time,
            clear_daily_quiz_time=clear_daily_quiz_time,
        )
        if daily_length is not None:
            if not 1 <= daily_length <= MAX_GROUP_QUIZ:
                raise InvalidSetting(str(daily_length), setting="daily_length")
            changes["daily_length"] = daily_length
        if clear_exam_date:
            changes["exam_date"] = None
        elif exam_date is not None:
            today = self.now().astimezone(zone(timezone or group.timezone)).date()
            if exam_date <= today:
                raise InvalidSetting(exam_date.isoformat(), setting="exam_date")
            changes["exam_date"] = exam_date.isoformat()
        if members_start is not None:
            changes["members_start"] = members_start
        if question_seconds is not None:
            if not MIN_QUESTION_SECONDS <= question_seconds <= MAX_QUESTION_SECONDS:
                raise InvalidSetting(str(question_seconds), setting="question_seconds")
            changes["question_seconds"] = question_seconds
        async with self.db.transaction() as conn:
            await group_rows.update_group(conn, group.id, **changes)
            if "daily_quiz_time" in changes or "timezone" in changes:
                # Re-planned from the new settings at the job's next run.
                await slot_rows.drop_pending(conn, group.id)
        return await self.require(chat_id)

    async def remember_topic(self, chat_id: int, topic_id: int | None) -> None:
        """Daily quizzes go to this forum topic from now on (None: the main chat): the
        topic where an admin last used /group_settings."""
        group = await self.require(chat_id)
        if group.topic_id != topic_id:
            async with self.db.transaction() as conn:
                await group_rows.update_group(conn, group.id, topic_id=topic_id)

    async def toggle_deck(self, chat_id: int, deck_id: int) -> tuple[Group, bool]:
        """Add a deck to the group's decks or take it out; True if it is now in."""
        group = await self.require(chat_id)
        async with self.db.transaction() as conn:
            if await content_rows.get_deck(conn, deck_id) is None:
                raise UnknownDeck(str(deck_id), deck=str(deck_id))
            now_in = await group_rows.toggle_deck(conn, group.id, deck_id)
        return await self.require(chat_id), now_in

    async def add_deck(self, chat_id: int, deck_id: int) -> Group:
        """Make sure a deck is among the group's decks."""
        group = await self.require(chat_id)
        async with self.db.transaction() as conn:
            if await content_rows.get_deck(conn, deck_id) is None:
                raise UnknownDeck(str(deck_id), deck=str(deck_id))
            await group_rows.add_deck(conn, group.id, deck_id)
        return await self.require(chat_id)

    async def ranking(self, chat_id: int) -> Ranking:
        """This week's (from the group's local Monday) and the all-time ranking by right
        answers, with each member's streak of days answering in the group."""
        group = await self.require(chat_id)
        now = self.now()
        local = now.astimezone(zone(group.timezone))
        monday = local_day_start(now, group.timezone) - timedelta(days=local.weekday())
        async with self.db.read() as conn:
            week = await quiz_rows.group_scores(conn, group.id, to_millis(monday), RANKING_SIZE)
            ever = await quiz_rows.group_scores(conn, group.id, 0, RANKING_SIZE)
            users = sorted({row[0] for row in (*week, *ever)})
            times = await quiz_rows.answer_times(
                conn, group.id, users, to_millis(now - STREAK_WINDOW)
            )
        today = local.date()

        def lines(rows: list[tuple[int, str, int, int]]) -> list[RankLine]:
            return [
                RankLine(
                    name, right, answered, streak_days(times.get(uid, []), group.timezone, today)
                )
                for uid, name, right, answered in rows
            ]

        return Ranking(lines(week), lines(ever))

    async def overview(self) -> list[GroupOverview]:
        """Every group with this week's members, quizzes and accuracy (for the bot's admins)."""
        since = to_millis(self.now() - timedelta(days=7))
        async with self.db.read() as conn:
            rows = await quiz_rows.overview(conn, since)
        return [
            GroupOverview(
                id=row[0],
                title=row[1],
                active=bool(row[2]),
                members_week=int(row[3]),
                quizzes_week=int(row[4]),
                quizzes_total=int(row[7]),
                answers_week=int(row[5]),
                correct_week=int(row[6]),
            )
            for row in rows
        ]
