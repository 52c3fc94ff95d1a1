"""Value types of the offline Bot API fake: users, chats, recorded messages and calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.fake_telegram.tg_html import to_plain

Buttons = list[list[tuple[str, str]]]


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user talking to the bot; their private chat id equals ``id``."""

    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None
    last_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True)
class FakeChat:
    """A group chat (ids are negative, as in Telegram; a supergroup's start with -100)."""

    id: int
    title: str = "Study group"
    type: str = "group"
    is_forum: bool = False
    """A supergroup with topics (see :meth:`FakeBotApi.open_topic`)."""

    def to_json(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class FakePoll:
    """A poll the bot sent, with the votes users cast (by user id: option indices)."""

    id: str
    question: str
    options: list[str]
    type: str = "regular"
    is_anonymous: bool = True
    correct_option_ids: list[int] = field(default_factory=list)
    explanation: str | None = None
    open_period: int | None = None
    close_date: int | None = None
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)

    def closed_at(self, now: float) -> bool:
        """True once stopped or past its close date."""
        return self.is_closed or (self.close_date is not None and now >= self.close_date)

    def to_json(self, now: float) -> dict[str, Any]:
        """The Bot API ``Poll`` object as of ``now``."""
        counts = [0] * len(self.options)
        for chosen in self.votes.values():
            for option in chosen:
                counts[option] += 1
        data: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "options": [
                {"text": text, "voter_count": n, "persistent_id": str(k)}
                for k, (text, n) in enumerate(zip(self.options, counts, strict=True))
            ],
            "total_voter_count": len(self.votes),
            "is_closed": self.closed_at(now),
            "is_anonymous": self.is_anonymous,
            "type": self.type,
            "allows_multiple_answers": False,
            "allows_revoting": self.type != "quiz",  # a quiz answer cannot be changed
            "members_only": False,
        }
        if self.type == "quiz":
            data["correct_option_ids"] = list(self.correct_option_ids)
        if self.explanation:
            data["explanation"] = self.explanation
        if self.open_period is not None:
            data["open_period"] = self.open_period
        if self.close_date is not None:
            data["close_date"] = self.close_date
        return data


@dataclass
class SentMessage:
    """A message the bot sent, kept up to date with later edits and deletion.

    ``text`` is the message text or the media caption exactly as the bot sent it (HTML
    included); ``plain`` is what the user reads. ``buttons`` lists the inline keyboard rows as
    (text, callback_data) pairs; URL buttons carry their URL instead of callback data.
    """

    chat_id: int
    message_id: int
    text: str | None
    parse_mode: str | None = None
    buttons: Buttons = field(default_factory=list)
    photo: bytes | None = None
    document: bytes | None = None
    audio: bytes | None = None
    voice: bytes | None = None
    filename: str | None = None
    edited: bool = False
    deleted: bool = False
    mime_type: str | None = None
    file_id: str | None = None
    date: int = 0
    reply_to_message_id: int | None = None
    markup: dict[str, Any] | None = None
    history: list[str | None] = field(default_factory=list)
    poll: FakePoll | None = None
    thread_id: int | None = None
    """The forum topic it was sent to (None: the main chat)."""

    @property
    def plain(self) -> str:
        """The text as the user sees it (tags stripped, entities decoded)."""
        return to_plain(self.text or "", self.parse_mode)

    @property
    def button_texts(self) -> list[str]:
        """All button labels in reading order."""
        return [text for row in self.buttons for text, _ in row]

    @property
    def button_data(self) -> list[str]:
        """All callback data (or URLs) in reading order."""
        return [data for row in self.buttons for _, data in row]

    def find_button(self, label_or_data: str) -> tuple[str, str] | None:
        """The button whose label or callback data equals ``label_or_data``."""
        for row in self.buttons:
            for button in row:
                if label_or_data in button:
                    return button
        return None


@dataclass(frozen=True)
class CallbackAnswer:
    """An ``answerCallbackQuery`` call: the toast or alert a user saw after a press."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    data: bytes
    mime_type: str | None


@dataclass
class ApiCall:
    """One request the bot made, whether Telegram accepted it or not."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    ok: bool = True
    error: str | None = None
    message: SentMessage | None = None

    @property
    def chat_id(self) -> int | None:
        """The target chat, when the method has one."""
        value = self.params.get("chat_id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


@dataclass
class StoredFile:
    """A file known to the fake (uploaded by a user or by the bot)."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str
    kind: str = "document"
    """What it was sent as: ``photo``, ``document``, ``audio`` or ``voice``."""


class ApiError(Exception):
    """A Bot API error response (HTTP status and Telegram's description)."""

    def __init__(
        self,
        code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id
