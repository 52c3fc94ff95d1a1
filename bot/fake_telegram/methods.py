"""Bot API method implementations of the offline fake, with Telegram's validation rules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.fake_telegram import bot_setup
from bot.fake_telegram.objects import (
    ApiCall,
    ApiError,
    Buttons,
    CallbackAnswer,
    SentMessage,
    UploadedFile,
)
from bot.fake_telegram.tg_html import Entity, HtmlParseError, parse_html, utf16_len
from bot.fake_telegram.updates import _ChatState

if TYPE_CHECKING:
    from bot.fake_telegram.api import FakeBotApi

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"

Method = Callable[["FakeBotApi", ApiCall], Any]

# Each message is parsed to validate it and again to answer with its entities; cache that.
_parse_html = functools.lru_cache(maxsize=4096)(parse_html)


def _error(description: str, code: int = 400) -> ApiError:
    return ApiError(code, description)


# -- validation helpers ---------------------------------------------------------------------


def _chat_id(fake: FakeBotApi, params: dict[str, Any]) -> int:
    raw = params.get("chat_id")
    try:
        chat_id = int(str(raw))
    except ValueError:
        raise _error("Bad Request: chat not found") from None
    if chat_id in fake.migrated:
        raise ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=fake.migrated[chat_id],
        )
    if chat_id not in fake._chats:
        if fake.require_known_chat or chat_id < 0:
            raise _error("Bad Request: chat not found")
        fake._chats[chat_id] = _new_private_chat(chat_id)
    if fake.bot_status.get(chat_id) in ("left", "kicked"):
        raise ApiError(403, "Forbidden: bot was kicked from the group chat")
    return chat_id


def _new_private_chat(chat_id: int) -> _ChatState:
    return _ChatState({"id": chat_id, "type": "private", "first_name": f"User{chat_id}"})


def _formatted(text: Any, parse_mode: Any, *, caption: bool) -> tuple[str, list[Entity]]:
    """Validate text (or a caption) as Telegram does; return what the user sees."""
    text = "" if text is None else str(text)
    plain, entities = text, list[Entity]()
    if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
        try:
            plain, entities = _parse_html(text)
        except HtmlParseError as exc:
            raise _error(f"Bad Request: can't parse entities: {exc}") from None
    limit = MAX_CAPTION if caption else MAX_TEXT
    if len(plain) > limit:
        what = "message caption is too long" if caption else "message is too long"
        raise _error(f"Bad Request: {what}")
    if not caption and not plain.strip():
        raise _error("Bad Request: message text is empty")
    return plain, entities


def _inline_markup(markup: Any) -> tuple[dict[str, Any] | None, Buttons]:
    """Validate ``reply_markup``; return it (None when empty) and its inline buttons."""
    if not markup:
        return None, []
    if not isinstance(markup, dict):
        raise _error("Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup, []  # reply keyboards and ForceReply: stored, no inline buttons
    rows: Buttons = []
    for row in markup["inline_keyboard"]:
        buttons: list[tuple[str, str]] = []
        for button in row:
            text = button.get("text", "")
            if not text:
                raise _error("Bad Request: inline keyboard button text must be non-empty")
            if "callback_data" in button:
                data = str(button["callback_data"])
                if not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                    raise _error("Bad Request: BUTTON_DATA_INVALID")
                buttons.append((text, data))
            elif "url" in button:
                buttons.append((text, str(button["url"])))
            elif len(button) == 1:
                raise _error("Bad Request: text buttons are unallowed in the inline keyboard")
            else:
                buttons.append((text, ""))
        if buttons:
            rows.append(buttons)
    if not rows:
        return None, []
    return markup, rows


def _live_message(fake: FakeBotApi, params: dict[str, Any], action: str) -> SentMessage:
    if params.get("inline_message_id"):
        raise _error(f"Bad Request: message to {action} not found")
    chat_id = _chat_id(fake, params)
    message = fake.message(chat_id, int(params.get("message_id", 0)))
    if message is None or message.deleted:
        raise _error(f"Bad Request: message to {action} not found")
    return message


def _rendered(message: SentMessage) -> tuple[str, list[Entity]]:
    text = message.text or ""
    if message.parse_mode and message.parse_mode.upper() == "HTML":
        return _parse_html(text)
    return text, []


def _upload(fake: FakeBotApi, call: ApiCall, field: str) -> tuple[str | None, UploadedFile]:
    """The file of ``field``: a fresh multipart upload (no id yet) or a known file_id."""
    value = call.params.get(field)
    part_name = field
    if isinstance(value, str) and value.startswith("attach://"):
        part_name = value.removeprefix("attach://")
    upload = call.files.get(part_name)
    if upload is not None:
        if not upload.data:
            raise _error("Bad Request: file must be non-empty")
        return None, upload
    if isinstance(value, str) and value in fake.files:
        stored = fake.files[value]
        # A file is sent again as what it was; a document may carry any file but a photo.
        if stored.kind != field and not (field == "document" and stored.kind != "photo"):
            raise _error("Bad Request: type of file mismatch")
        return value, UploadedFile(stored.file_name, stored.data, stored.mime_type)
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        raise _error("Bad Request: failed to get HTTP URL content (offline fake)")
    raise _error("Bad Request: wrong file identifier/HTTP URL specified")


def image_type(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, GIF or WebP bytes, else None."""
    if data.startswith(_IMAGE_SIGNATURES[0]):
        return "image/png"
    if data.startswith(_IMAGE_SIGNATURES[1]):
        return "image/jpeg"
    if data.startswith(_IMAGE_SIGNATURES[2:]):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _png_size(data: bytes) -> tuple[int, int]:
    if data.startswith(_IMAGE_SIGNATURES[0]) and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 1, 1


def _reply_to(params: dict[str, Any]) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and "message_id" in reply:
        return int(reply["message_id"])
    if "reply_to_message_id" in params:
        return int(params["reply_to_message_id"])
    return None


# -- messages ---------------------------------------------------------------------------------


def message_json(fake: FakeBotApi, message: SentMessage) -> dict[str, Any]:
    """The Bot API ``Message`` object for a message the bot sent, in its current state."""
    data: dict[str, Any] = {
        "message_id": message.message_id,
        "date": message.date,
        "chat": fake._chats[message.chat_id].json,
        "from": fake._bot_json(),
    }
    has_media = any(
        m is not None for m in (message.photo, message.document, message.audio, message.voice)
    )
    if message.text is not None:
        plain, entities = _rendered(message)
        data["caption" if has_media else "text"] = plain
        if entities:
            data["caption_entities" if has_media else "entities"] = _entities_json(plain, entities)
    if message.photo is not None and message.file_id:
        width, height = _png_size(message.photo)
        stored = fake.files[message.file_id]
        data["photo"] = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(stored.data),
            }
        ]
    if message.document is not None and message.file_id:
        data["document"] = fake._stored_file_json(message.file_id)
    if message.thread_id is not None:
        data["message_thread_id"] = message.thread_id
        data["is_topic_message"] = True
    for kind, sound in (("audio", message.audio), ("voice", message.voice)):
        if sound is not None and message.file_id:
            # Telegram reads the duration from the file; the fake says 1 second.
            data[kind] = fake._stored_file_json(message.file_id) | {"duration": 1}
    if message.markup:
        data["reply_markup"] = message.markup
    if message.poll is not None:
        data["poll"] = message.poll.to_json(fake.now())
    if message.edited:
        data["edit_date"] = fake._now()
    return data


def _entities_json(plain: str, entities: list[Entity]) -> list[dict[str, Any]]:
    out = []
    for e in entities:
        item: dict[str, Any] = {
            "type": e.type,
            "offset": utf16_len(plain[: e.offset]),
            "length": utf16_len(plain[e.offset : e.offset + e.length]),
        }
        if e.url:
            item["url"] = e.url
        out.append(item)
    return out


def _store(fake: FakeBotApi, call: ApiCall, message: SentMessage) -> dict[str, Any]:
    fake.sent.append(message)
    fake._messages[(message.chat_id, message.message_id)] = message
    call.message = message
    return message_json(fake, message)


def _thread(fake: FakeBotApi, call: ApiCall, chat_id: int) -> int | None:
    """The forum topic a message goes to; a closed or unknown one is refused, as Telegram does."""
    raw = call.params.get("message_thread_id")
    state = fake._chats.get(chat_id)
    if raw is None or state is None:
        return None
    if not state.json.get("is_forum") or int(raw) not in state.topics:
        raise _error("Bad Request: message thread not found")
    return int(raw)


def _new_message(fake: FakeBotApi, call: ApiCall, chat_id: int, text: str | None) -> SentMessage:
    markup, buttons = _inline_markup(call.params.get("reply_markup"))
    thread_id = _thread(fake, call, chat_id)
    return SentMessage(
        chat_id=chat_id,
        message_id=fake._take_message_id(chat_id),
        text=text,
        parse_mode=call.params.get("parse_mode"),
        buttons=buttons,
        markup=markup,
        date=fake._now(),
        reply_to_message_id=_reply_to(call.params),
        thread_id=thread_id,
    )


def send_message(fake: FakeBotApi, call: ApiCall) -> Any:
    chat_id = _chat_id(fake, call.params)
    text = call.params.get("text")
    _formatted(text, call.params.get("parse_mode"), caption=False)
    return _store(fake, call, _new_message(fake, call, chat_id, str(text)))


def _send_media(fake: FakeBotApi, call: ApiCall, kind: str) -> Any:
    chat_id = _chat_id(fake, call.params)
    caption = call.params.get("caption")
    _formatted(caption, call.params.get("parse_mode"), caption=True)
    file_id, upload = _upload(fake, call, kind)
    mime = upload.mime_type
    if kind == "photo":
        if len(upload.data) > MAX_PHOTO_BYTES:
            raise _error("Bad Request: PHOTO_INVALID_DIMENSIONS")
        mime = image_type(upload.data)
        if mime is None:
            raise _error("Bad Request: IMAGE_PROCESS_FAILED")
    elif len(upload.data) > MAX_DOCUMENT_BYTES:
        raise _error("Request Entity Too Large", 413)
    if file_id is None:
        file_id = fake.add_file(upload.data, upload.filename, mime, kind)
    message = _new_message(fake, call, chat_id, None if caption is None else str(caption))
    message.file_id = file_id
    message.filename = upload.filename
    message.mime_type = mime
    if kind == "photo":
        message.photo = upload.data
    elif kind == "audio":
        message.audio = upload.data
    elif kind == "voice":
        message.voice = upload.data
    else:
        message.document = upload.data
    return _store(fake, call, message)


def send_photo(fake: FakeBotApi, call: ApiCall) -> Any:
    return _send_media(fake, call, "photo")


def send_document(fake: FakeBotApi, call: ApiCall) -> Any:
    return _send_media(fake, call, "document")


def send_audio(fake: FakeBotApi, call: ApiCall) -> Any:
    return _send_media(fake, call, "audio")


def send_voice(fake: FakeBotApi, call: ApiCall) -> Any:
    return _send_media(fake, call, "voice")


def _apply_edit(
    fake: FakeBotApi,
    call: ApiCall,
    message: SentMessage,
    text: str | None,
    parse_mode: str | None,
) -> Any:
    markup, buttons = _inline_markup(call.params.get("reply_markup"))
    if markup is not None and "inline_keyboard" not in markup:
        raise _error("Bad Request: reply markup must be an inline keyboard")
    before = (_rendered(message), message.markup)
    candidate = SentMessage(message.chat_id, message.message_id, text, parse_mode)
    if (_rendered(candidate), markup) == before:
        raise _error(_NOT_MODIFIED)
    if text != message.text:
        message.history.append(message.text)
    message.text, message.parse_mode = text, parse_mode
    message.markup, message.buttons = markup, buttons
    message.edited = True
    call.message = message
    return message_json(fake, message)


def edit_message_text(fake: FakeBotApi, call: ApiCall) -> Any:
    message = _live_message(fake, call.params, "edit")
    if message.photo is not None or message.document is not None:
        raise _error("Bad Request: there is no text in the message to edit")
    text, parse_mode = call.params.get("text"), call.params.get("parse_mode")
    _formatted(text, parse_mode, caption=False)
    return _apply_edit(fake, call, message, str(text), parse_mode)


def edit_message_caption(fake: FakeBotApi, call: ApiCall) -> Any:
    message = _live_message(fake, call.params, "edit")
    if message.photo is None and message.document is None:
        raise _error("Bad Request: there is no caption in the message to edit")
    caption, parse_mode = call.params.get("caption"), call.params.get("parse_mode")
    _formatted(caption, parse_mode, caption=True)
    return _apply_edit(fake, call, message, None if caption is None else str(caption), parse_mode)


def edit_message_reply_markup(fake: FakeBotApi, call: ApiCall) -> Any:
    message = _live_message(fake, call.params, "edit")
    return _apply_edit(fake, call, message, message.text, message.parse_mode)


def delete_message(fake: FakeBotApi, call: ApiCall) -> Any:
    chat_id = _chat_id(fake, call.params)
    message_id = int(call.params.get("message_id", 0))
    _delete_one(fake, call, chat_id, message_id)
    return True


def delete_messages(fake: FakeBotApi, call: ApiCall) -> Any:
    chat_id = _chat_id(fake, call.params)
    for message_id in call.params.get("message_ids", []):
        try:
            _delete_one(fake, call, chat_id, int(message_id))
        except Exception:  # Telegram skips messages it cannot delete
            continue
    return True


def _delete_one(fake: FakeBotApi, call: ApiCall, chat_id: int, message_id: int) -> None:
    message = fake.message(chat_id, message_id)
    if message is None or message.deleted:
        raise _error("Bad Request: message to delete not found")
    message.deleted = True
    call.message = message


def answer_callback_query(fake: FakeBotApi, call: ApiCall) -> Any:
    query_id = str(call.params.get("callback_query_id", ""))
    query = fake._queries.get(query_id)
    if query is None or query.answered:
        raise _error(_QUERY_INVALID)
    text = call.params.get("text")
    if text is not None and len(str(text)) > 200:
        raise _error("Bad Request: MESSAGE_TOO_LONG")
    query.answered = True
    fake.callback_answers.append(
        CallbackAnswer(
            query_id,
            None if text is None else str(text),
            bool(call.params.get("show_alert", False)),
            call.params.get("url"),
        )
    )
    return True


# -- files, commands, chat settings, polling ---------------------------------------------


def get_file(fake: FakeBotApi, call: ApiCall) -> Any:
    stored = fake.files.get(str(call.params.get("file_id", "")))
    if stored is None:
        raise _error("Bad Request: invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD_BYTES:
        raise _error("Bad Request: file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


def send_chat_action(fake: FakeBotApi, call: ApiCall) -> Any:
    chat_id = _chat_id(fake, call.params)
    fake.chat_actions.append((chat_id, str(call.params.get("action"))))
    return True


METHODS: dict[str, Method] = {
    "getMe": lambda fake, call: fake._bot_json(),
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendAudio": send_audio,
    "sendVoice": send_voice,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
    "answerCallbackQuery": answer_callback_query,
    "getFile": get_file,
    "setMyCommands": bot_setup.set_my_commands,
    "getMyCommands": bot_setup.get_my_commands,
    "deleteMyCommands": bot_setup.delete_my_commands,
    "sendChatAction": send_chat_action,
    "setChatMenuButton": bot_setup.set_chat_menu_button,
    "getChatMenuButton": bot_setup.get_chat_menu_button,
    "setWebhook": bot_setup.set_webhook,
    "deleteWebhook": bot_setup.delete_webhook,
    "getWebhookInfo": bot_setup.get_webhook_info,
    "getUpdates": bot_setup.get_updates,
    "setMyDescription": bot_setup.always_true,
    "setMyShortDescription": bot_setup.always_true,
    "setMyName": bot_setup.always_true,
    "close": bot_setup.always_true,
    "logOut": bot_setup.always_true,
}


def dispatch(fake: FakeBotApi, call: ApiCall) -> Any:
    """Run a Bot API method; unknown methods get Telegram's 404."""
    method = METHODS.get(call.method)
    if method is None:
        raise _error(f"Not Found: method {call.method!r} is not implemented by the fake", 404)
    return method(fake, call)
