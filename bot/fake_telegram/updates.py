"""Incoming updates for the offline Bot API fake: what users send to the bot.

Mixed into :class:`bot.fake_telegram.api.FakeBotApi`; every builder returns the update as the JSON
dict Telegram would deliver, so it can be fed to ``Application.process_update`` (after
``Update.de_json``), queued for ``getUpdates``, or delivered again verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.fake_telegram.objects import FakeChat, FakeUser, SentMessage
from bot.fake_telegram.tg_html import utf16_len

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


@dataclass
class _ChatState:
    json: dict[str, Any]
    next_message_id: int = 1
    topics: set[int] = field(default_factory=set)  # open forum topics (their thread ids)


@dataclass
class _QueryState:
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


def command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities for every command in ``text``, offsets in UTF-16 units."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _COMMAND.finditer(text)
    ]


class IncomingUpdates:
    """Builders of user-side updates; state lives in the class this is mixed into."""

    _chats: dict[int, _ChatState]
    _queries: dict[str, _QueryState]
    _next_update_id: int
    _next_query_id: int
    received: list[dict[str, Any]]
    known_users: dict[int, dict[str, Any]]

    def _now(self) -> int:
        raise NotImplementedError

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        raise NotImplementedError

    def add_file(
        self,
        data: bytes,
        file_name: str | None,
        mime_type: str | None = None,
        kind: str | None = None,
    ) -> str:
        """Store a file and return its file_id (implemented by the fake)."""
        raise NotImplementedError

    def _stored_file_json(self, file_id: str) -> dict[str, Any]:
        raise NotImplementedError

    # -- chats ------------------------------------------------------------------------------

    def register_user(self, user: FakeUser) -> None:
        """Make the user's private chat known, as if they had started the bot."""
        self._register_chat(user, None)

    def _register_chat(self, user: FakeUser, chat: FakeChat | None) -> dict[str, Any]:
        self.known_users[user.id] = user.to_json()
        chat_json: dict[str, Any]
        if chat is None:
            chat_json = {"id": user.id, "type": "private", "first_name": user.first_name}
            if user.username:
                chat_json["username"] = user.username
        else:
            chat_json = chat.to_json()
        chat_id = int(chat_json["id"])
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = _ChatState(chat_json)
        return state.json

    def _take_message_id(self, chat_id: int) -> int:
        state = self._chats[chat_id]
        message_id = state.next_message_id
        state.next_message_id += 1
        return message_id

    def _wrap(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self.received.append(update)
        return update

    def _user_message_json(
        self, user: FakeUser, chat: FakeChat | None, reply_to: SentMessage | None
    ) -> dict[str, Any]:
        chat_json = self._register_chat(user, chat)
        message: dict[str, Any] = {
            "message_id": self._take_message_id(chat_json["id"]),
            "date": self._now(),
            "chat": chat_json,
            "from": user.to_json(),
        }
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(reply_to)
        return message

    # -- builders ---------------------------------------------------------------------------

    def user_message(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: SentMessage | None = None,
        topic: int | None = None,
    ) -> dict[str, Any]:
        """A text message from ``user`` (commands in it get ``bot_command`` entities), in
        forum topic ``topic`` if given."""
        message = self._user_message_json(user, chat, reply_to)
        if topic is not None:
            if topic not in self._chats[message["chat"]["id"]].topics:
                raise LookupError(f"no open topic {topic} in that chat")
            message["message_thread_id"] = topic
            message["is_topic_message"] = True
        message["text"] = text
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        return self._wrap({"message": message})

    def user_command(
        self, user: FakeUser, command: str, *, chat: FakeChat | None = None
    ) -> dict[str, Any]:
        """A command such as ``"/start deck_1"``; it must start with a valid command."""
        match = _COMMAND.match(command)
        if match is None:
            raise ValueError(f"not a bot command: {command!r}")
        return self.user_message(user, command, chat=chat)

    def user_document(
        self,
        user: FakeUser,
        data: bytes,
        filename: str,
        caption: str | None = None,
        *,
        mime_type: str | None = None,
        chat: FakeChat | None = None,
    ) -> dict[str, Any]:
        """A document upload; the bytes are stored so the bot can ``getFile`` them."""
        file_id = self.add_file(data, filename, mime_type)
        message = self._user_message_json(user, chat, None)
        message["document"] = self._stored_file_json(file_id)
        if caption is not None:
            message["caption"] = caption
            entities = command_entities(caption)
            if entities:
                message["caption_entities"] = entities
        return self._wrap({"message": message})

    def user_photo(
        self,
        user: FakeUser,
        data: bytes,
        caption: str | None = None,
        *,
        chat: FakeChat | None = None,
    ) -> dict[str, Any]:
        """A photo (one size, as Telegram's compressed photo); the bytes can be fetched."""
        file_id = self.add_file(data, "photo.jpg", "image/jpeg")
        message = self._user_message_json(user, chat, None)
        size = self._stored_file_json(file_id)
        size.pop("file_name", None)
        size.pop("mime_type", None)
        message["photo"] = [{**size, "width": 640, "height": 480}]
        if caption is not None:
            message["caption"] = caption
            entities = command_entities(caption)
            if entities:
                message["caption_entities"] = entities
        return self._wrap({"message": message})

    def user_sound(
        self,
        user: FakeUser,
        data: bytes,
        filename: str,
        caption: str | None = None,
        *,
        voice: bool = False,
        duration: int | None = None,
        mime_type: str | None = None,
    ) -> dict[str, Any]:
        """A voice note (``voice``: OGG/Opus, as Telegram's microphone button records) or an
        audio file, ``duration`` seconds long (by default estimated from the bytes, see
        :func:`sound_seconds`); the bytes can be fetched."""
        kind = "voice" if voice else "audio"
        if mime_type is None:
            mime_type = "audio/ogg" if voice else _AUDIO_MIME.get(_suffix(filename))
        file_id = self.add_file(data, filename, mime_type, kind=kind)
        message = self._user_message_json(user, None, None)
        sent = self._stored_file_json(file_id)
        if voice:
            sent.pop("file_name", None)
        sent["duration"] = sound_seconds(data) if duration is None else duration
        message[kind] = sent
        if caption is not None:
            message["caption"] = caption
        return self._wrap({"message": message})

    def user_press(self, user: FakeUser, message: SentMessage, button: str) -> dict[str, Any]:
        """A press of a button currently shown on ``message`` (by label or callback data).

        Raises:
            LookupError: if the message is deleted or has no such callback button now.
        """
        if message.deleted:
            raise LookupError(f"message {message.message_id} was deleted; nothing to press")
        found = message.find_button(button)
        if found is None:
            raise LookupError(
                f"no button {button!r} on message {message.message_id}; "
                f"buttons are {message.button_texts}"
            )
        if not any(
            b.get("callback_data") == found[1]
            for row in (message.markup or {}).get("inline_keyboard", [])
            for b in row
        ):
            raise LookupError(f"button {found[0]!r} has no callback data (URL button?)")
        return self.user_callback(user, message, found[1])

    def user_callback(self, user: FakeUser, message: SentMessage, data: str) -> dict[str, Any]:
        """A callback query with arbitrary ``data`` (stale or forged presses)."""
        query_id = str(self._next_query_id)
        self._next_query_id += 1
        self._queries[query_id] = _QueryState(user.id, message.chat_id, message.message_id, data)
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": self._message_json(message),
            "chat_instance": str(-abs(message.chat_id) * 7919),
            "data": data,
        }
        return self._wrap({"callback_query": query})

    def user_edit(self, original: dict[str, Any], text: str) -> dict[str, Any]:
        """The user edits the text message of update ``original``: an ``edited_message``."""
        message = dict(original["message"])
        message["text"] = text
        message["edit_date"] = self._now()
        message.pop("entities", None)
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        return self._wrap({"edited_message": message})

    def redeliver(self, update: dict[str, Any]) -> dict[str, Any]:
        """The same update again, as Telegram does when it thinks delivery failed."""
        self.received.append(update)
        return update


_AUDIO_MIME = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg", "oga": "audio/ogg"}


def _suffix(filename: str) -> str:
    return filename.rsplit(".", 1)[1].lower() if "." in filename else ""


def sound_seconds(data: bytes) -> int:
    """A sound's length as Telegram would report it, roughly: an OGG/Opus file's last granule
    position (48 kHz), else the bytes at 128 kbit/s (an MP3's common rate); at least 1."""
    last = data.rfind(b"OggS")
    if data.startswith(b"OggS") and last >= 0 and len(data) >= last + 14:
        granule = int.from_bytes(data[last + 6 : last + 14], "little")
        if 0 < granule < 2**62:
            return max(1, round(granule / 48_000))
    return max(1, len(data) // 16_000)
