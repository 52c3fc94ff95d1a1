"""An in-process fake of the Telegram Bot API, plugged into python-telegram-bot as its request.

``FakeBotApi`` is a :class:`telegram.request.BaseRequest`: build an ``Application`` with it as
both ``request`` and ``get_updates_request`` and every Bot API call the bot makes is answered
offline, with Telegram's state rules and error messages (HTML validation, "message is not
modified", callback queries answered once, unknown chats, file uploads and downloads).

Tests and the terminal chat build incoming updates with the mixed-in builders
(:class:`bot.fake_telegram.updates.IncomingUpdates`), inspect what the bot sent through ``sent`` and
``calls``, inject faults with :meth:`FakeBotApi.fail_next`, and turn on flood limits with
:meth:`FakeBotApi.rate_limit` (both in :mod:`bot.fake_telegram.faults`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest, RequestData

from bot.fake_telegram import groups, methods
from bot.fake_telegram.faults import (
    Fault,
    Faults,
    RateLimit,
)
from bot.fake_telegram.groups import GroupUpdates
from bot.fake_telegram.objects import (
    ApiCall,
    ApiError,
    CallbackAnswer,
    SentMessage,
    StoredFile,
    UploadedFile,
)
from bot.fake_telegram.updates import IncomingUpdates, _ChatState, _QueryState

# How Telegram's file ids begin, by what the file was sent as (the rest encodes where it is).
_FILE_ID_PREFIX = {"photo": "AgAC", "document": "BQAC", "audio": "CQAC", "voice": "AwAC"}
_FOLDERS = {"photo": "photos", "document": "documents", "audio": "music", "voice": "voice"}


class FakeBotApi(IncomingUpdates, GroupUpdates, Faults, BaseRequest):
    """Offline Bot API: answers PTB's requests from in-memory state.

    Args:
        bot_id: The bot's user id (also the numeric part of :attr:`token`).
        username: The bot's username.
        first_name: The bot's display name.
        clock: Wall clock, used for message dates and flood limits: returns Unix seconds or
            a timezone-aware ``datetime`` (so the tutor's injected clock can be shared).
        require_known_chat: Refuse to message a chat that never wrote to the bot, like
            Telegram ("chat not found"); see :meth:`register_user`.
    """

    def __init__(
        self,
        *,
        bot_id: int = 5_550_001,
        username: str = "metatutor_test_bot",
        first_name: str = "Metatutor",
        clock: Callable[[], float | datetime] = time.time,
        require_known_chat: bool = True,
    ) -> None:
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.token = f"{bot_id}:FAKE-offline-token"
        self.clock = clock
        self.require_known_chat = require_known_chat
        self.sent: list[SentMessage] = []
        self.calls: list[ApiCall] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""  # setWebhook's secret_token, sent back with each delivery
        self.received: list[dict[str, Any]] = []
        self.files: dict[str, StoredFile] = {}
        self.downloads: list[str] = []  # paths of file downloads, in order
        self.blocked_chats: set[int] = set()
        self._chats: dict[int, _ChatState] = {}
        self._queries: dict[str, _QueryState] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._next_update_id = 700_000_001
        self._next_query_id = 4_200_000_001
        self._next_file = 1
        self._faults: list[Fault] = []
        self._rate: RateLimit | None = None
        self._buckets: dict[Any, tuple[float, float]] = {}  # key -> (level, last update)
        self._pending_updates: list[dict[str, Any]] = []
        self._confirmed_below = 0  # the highest getUpdates offset seen: ids below it are gone
        self._update_waiters: set[asyncio.Event] = set()  # long polls waiting for updates
        # groups (bot/fake_telegram/groups.py): members' and the bot's statuses per chat,
        # groups upgraded to supergroups (old id -> new), users seen, polls sent by id
        self.members: dict[int, dict[int, str]] = {}
        self.bot_status: dict[int, str] = {}
        self.migrated: dict[int, int] = {}
        self.known_users: dict[int, dict[str, Any]] = {}
        self.polls: dict[str, SentMessage] = {}
        assert groups.METHODS  # registered with the other methods on import

    # -- BaseRequest ------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout (the fake never waits on a network)."""
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open (PTB initializes the same object as both request objects)."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer one HTTP request of PTB: a Bot API method (POST) or a file download (GET)."""
        await asyncio.sleep(0)  # a real request yields to the loop; keeps races realistic
        if method == "GET":
            return self._download(url)
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        if self.token not in url:  # Telegram knows bots by the token in the path
            return _response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        params, files = _decode(request_data)
        call = ApiCall(api_method, params, files)
        self.calls.append(call)
        if api_method == "getUpdates" and params.get("timeout"):
            await self._wait_for_updates(float(params["timeout"]))
        try:
            self._inject_fault(call)
            self._check_limits(call)
            result = methods.dispatch(self, call)
        except ApiError as exc:
            call.ok = False
            call.error = exc.description
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            if exc.migrate_to_chat_id is not None:
                body["parameters"] = {"migrate_to_chat_id": exc.migrate_to_chat_id}
            return _response(exc.code, body)
        except (TimedOut, NetworkError) as exc:
            call.ok = False
            call.error = str(exc)
            raise
        return _response(200, {"ok": True, "result": result})

    # -- application wiring -----------------------------------------------------------------

    def application_builder(self) -> ApplicationBuilder:  # type: ignore[type-arg]
        """An ``Application.builder()`` with this fake as both request objects and the token."""
        return Application.builder().token(self.token).request(self).get_updates_request(self)

    # -- files ------------------------------------------------------------------------------

    def add_file(
        self,
        data: bytes,
        file_name: str | None,
        mime_type: str | None = None,
        kind: str | None = None,
    ) -> str:
        """Store a file as Telegram would after an upload; return its ``file_id``.

        ``kind`` is what it was sent as (``photo``, ``document``, ``audio``, ``voice``; by
        default a photo for an image type, else a document). Ids look like Telegram's: a
        prefix for the kind, then base64url, unique per bot and file.
        """
        number = self._next_file
        self._next_file += 1
        if kind is None:
            kind = "photo" if mime_type and mime_type.startswith("image/") else "document"
        digest = hashlib.sha256(f"{self.bot_id}:{number}".encode()).digest()
        encoded = base64.urlsafe_b64encode(digest + number.to_bytes(4, "big")).decode()
        file_id = _FILE_ID_PREFIX.get(kind, "BQAC") + "AgIAAxkBAAI" + encoded.rstrip("=")
        folder = _FOLDERS.get(kind, "documents")
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        self.files[file_id] = StoredFile(
            file_id=file_id,
            file_unique_id="AgAD" + encoded[:12],
            data=bytes(data),
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{folder}/file_{number}{suffix}",
            kind=kind,
        )
        return file_id

    def forget_file(self, file_id: str) -> None:
        """Telegram no longer knows ``file_id`` (as after the bot's token changed): sending it
        by id gets the 400 an unknown id gets."""
        del self.files[file_id]

    def uploads(self, method: str) -> list[bool]:
        """For each call of a send method, in order: True if it uploaded the file, False if
        it sent a file_id."""
        return [bool(call.files) for call in self.calls_of(method)]

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes stored under ``file_id``."""
        return self.files[file_id].data

    def _stored_file_json(self, file_id: str) -> dict[str, Any]:
        stored = self.files[file_id]
        data: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            data["file_name"] = stored.file_name
        if stored.mime_type:
            data["mime_type"] = stored.mime_type
        return data

    def _download(self, url: str) -> tuple[int, bytes]:
        path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
        self.downloads.append(path)
        failure = self._download_failure()
        if failure is not None:
            code, text = failure
            return _response(code, {"ok": False, "error_code": code, "description": text})
        for stored in self.files.values():
            if path.endswith("/" + stored.file_path) and self.token in path:
                return 200, stored.data
        return _response(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    # -- polling ----------------------------------------------------------------------------

    def queue_update(self, update: dict[str, Any]) -> None:
        """Make ``update`` available to ``getUpdates`` (long polling).

        Telegram numbers updates in the order they arrive, so an update must be queued before
        the bot confirms a later one: an id below a confirmed offset would never be delivered,
        and the fake says so instead of dropping it silently.

        Raises:
            ValueError: if ``update``'s id lies below an offset the bot already confirmed.
        """
        if update["update_id"] < self._confirmed_below:
            raise ValueError(
                f"update {update['update_id']} is queued after the bot confirmed every update"
                f" below {self._confirmed_below}: build updates when they are sent"
            )
        self._pending_updates.append(update)
        for waiter in self._update_waiters:
            waiter.set()

    async def _wait_for_updates(self, seconds: float) -> None:
        if self._pending_updates or self.webhook_url:
            return
        # One event per long poll: a poll left behind by a killed bot must not stop the
        # next bot's poll from waking up.
        waiter = asyncio.Event()
        self._update_waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._update_waiters.discard(waiter)

    def take_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        """``getUpdates`` semantics: confirm those below ``offset``, return the next ones."""
        if offset is not None:
            self._confirmed_below = max(self._confirmed_below, offset)
            self._pending_updates = [u for u in self._pending_updates if u["update_id"] >= offset]
        return self._pending_updates[:limit]

    # -- inspection -------------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id``, oldest first."""
        return [m for m in self.sent if m.chat_id == chat_id and (include_deleted or not m.deleted)]

    def last_message(self, chat_id: int) -> SentMessage:
        """The newest message to ``chat_id`` that is not deleted.

        Raises:
            LookupError: if the bot never sent anything there.
        """
        found = self.messages(chat_id)
        if not found:
            raise LookupError(f"the bot sent no message to chat {chat_id}")
        return found[-1]

    def last_with_buttons(self, chat_id: int) -> SentMessage | None:
        """The newest live message in ``chat_id`` that shows inline buttons."""
        for message in reversed(self.messages(chat_id)):
            if message.buttons:
                return message
        return None

    def calls_of(self, method: str) -> list[ApiCall]:
        """All calls of one Bot API method."""
        return [c for c in self.calls if c.method == method]

    def unanswered_callbacks(self) -> list[str]:
        """Callback query ids the bot never answered (clients show a spinner for these)."""
        return [qid for qid, q in self._queries.items() if not q.answered]

    def commands_for(
        self, language_code: str = "", scope: str = "default"
    ) -> list[tuple[str, str]]:
        """The command menu set with ``setMyCommands`` for a scope type and language."""
        return self.commands.get((scope, language_code), [])

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """A message by id, if the bot sent it."""
        return self._messages.get((chat_id, message_id))

    # -- helpers for method implementations ---------------------------------------------------

    def now(self) -> float:
        """The clock as Unix seconds."""
        value = self.clock()
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("the fake's clock returned a naive datetime")
            return value.timestamp()
        return float(value)

    def _now(self) -> int:
        return int(self.now())

    def _bot_json(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        return methods.message_json(self, message)


def _response(code: int, body: dict[str, Any]) -> tuple[int, bytes]:
    return code, json.dumps(body).encode("utf-8")


def _decode(request_data: RequestData | None) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters and uploaded files of a request, as Telegram's server would see them."""
    if request_data is None:
        return {}, {}
    request_data.json_payload  # noqa: B018 - must serialise, as for a real HTTP request
    params: dict[str, Any] = dict(request_data.parameters)
    files: dict[str, UploadedFile] = {}
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        files[name] = UploadedFile(filename, bytes(data), mime_type)
    return params, files
