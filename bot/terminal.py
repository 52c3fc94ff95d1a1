"""The terminal front of ``metatutor chat``: talk to the real bot with no Telegram at all.

Lines typed by the user become updates for the application (built on :class:`FakeBotApi`);
what the bot sends is printed as text, inline buttons as numbered choices, photos and
documents as a line naming a file written to a media folder.

Typing:
    text or ``/command``   sent as a message
    ``N``                  presses button N of the bot's newest message, if it shows buttons
    ``\\N``                 sends the text "N" (for typed answers that are numbers)
    ``:file PATH [CAPTION]`` uploads a document
    ``:photo PATH [CAPTION]`` sends a photo (a card's picture, say)
    ``:voice PATH [CAPTION]`` sends a voice note (an OGG/Opus file), ``:audio PATH [CAPTION]``
                           an audio file (MP3, M4A...): a card's sound, say
    ``:fail METHOD FAULT``  the bot's next METHOD call fails (a status, timeout, network)
    ``quit``, ``exit``, EOF  ends the chat
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path
from typing import Protocol, TextIO

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import AnyApplication, ChatDriver, Turn
from bot.fake_telegram.faults import EDIT_METHODS, SEND_METHODS
from bot.fake_telegram.methods import image_type
from bot.fake_telegram.objects import ApiCall, FakeUser, SentMessage
from bot.fake_telegram.tg_html import to_plain

DEFAULT_BANNER = (
    "metatutor chat (offline). Type a message or a /command; a number presses that button"
    " of the newest message (a number under a message without buttons is sent as text); "
    "\\N sends the number N as text; ':file PATH [caption]' uploads a document, "
    "':photo PATH [caption]' sends a photo; ':voice PATH [caption]' a voice note and "
    "':audio PATH [caption]' an audio file; "
    "':fail METHOD FAULT' makes the bot's next call of a Bot API method fail; 'quit' ends."
)
_QUIT = frozenset({"quit", "exit"})
WATCH_SECONDS = 0.25
"""How often the chat looks for messages the bot sent while nobody typed."""
NO_REPLY_YET = (
    "(no reply yet: the bot is still waiting on Telegram, or busy; its reply shows here"
    " when it comes, and you can go on typing)"
)
_INDENT = "     "


class _Printer:
    """Prints the bot's side of the conversation from the fake's call log."""

    def __init__(self, fake: FakeBotApi, out: TextIO, user: FakeUser, media_dir: Path | None):
        self.fake = fake
        self.out = out
        self.user = user
        self.media_dir = media_dir
        self.seen_calls = 0
        self.seen_answers = 0

    def flush_new(self) -> bool:
        """Print every bot action not printed yet; True if there were any."""
        calls = self.fake.calls[self.seen_calls :]
        self.seen_calls = len(self.fake.calls)
        for call in calls:
            self._print_call(call)
        self.out.flush()
        return bool(calls)

    def _print_call(self, call: ApiCall) -> None:
        message = call.message
        if call.method == "answerCallbackQuery" and call.ok:
            text = call.params.get("text")
            if text:
                self._write(f"bot (notice): {text}")
            return
        if message is None or not call.ok or message.chat_id != self.user.id:
            return
        if call.method in SEND_METHODS:
            self._print_message(message, "bot", as_sent=True)
        elif call.method in EDIT_METHODS:
            if call.method == "editMessageReplyMarkup":
                if message.buttons:
                    self._print_buttons(message)
                return
            self._print_message(message, "bot (edited)")

    def _print_message(self, message: SentMessage, who: str, *, as_sent: bool = False) -> None:
        """Print ``message``; ``as_sent``: as it was sent, if it was edited since (a progress
        message sent and edited in one turn is printed as both, not twice as the outcome)."""
        lines: list[str] = []
        if message.photo is not None:
            lines.append(f"[photo] {self._save(message, message.photo)}")
        if message.document is not None:
            lines.append(f"[document] {self._save(message, message.document)}")
        for kind, sound in (("audio", message.audio), ("voice", message.voice)):
            if sound is not None:
                lines.append(f"[{kind}] {self._save(message, sound)}")
        original = message.history[0] if as_sent and message.history else None
        text = to_plain(original, message.parse_mode) if original is not None else message.plain
        if message.text or original:
            lines.extend(text.splitlines() or [""])
        first, *rest = lines or [""]
        self._write(f"{who}: {first}")
        for line in rest:
            self._write(f"{_INDENT}{line}")
        if message.buttons and original is None:
            self._print_buttons(message)

    def _print_buttons(self, message: SentMessage) -> None:
        number = 1
        for row in message.buttons:
            labels = []
            for text, _ in row:
                labels.append(f"[{number}] {text}")
                number += 1
            self._write(_INDENT + "  ".join(labels))

    def _save(self, message: SentMessage, data: bytes) -> Path:
        if self.media_dir is None:
            self.media_dir = Path(tempfile.mkdtemp(prefix="metatutor-chat-"))
        name = Path(message.filename or "document.bin").name
        if message.photo is not None:
            # PTB names unnamed byte uploads after their MIME type; name photos by content.
            suffix = (image_type(data) or "image/png").removeprefix("image/").replace("jpeg", "jpg")
            stem = Path(name).stem if Path(name).suffix.lower() == f".{suffix}" else "photo"
            name = f"{stem}.{suffix}"
        path = self.media_dir / f"{message.message_id}_{name}"
        path.write_bytes(data)
        return path

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")


class Chatter(Protocol):
    """Plays the user's side: :class:`ChatDriver` in process, or the HTTP chat."""

    async def send(self, user: FakeUser, text: str) -> Turn:
        """The user sends a text message or a command."""

    async def press(
        self, user: FakeUser, button: str, *, message: SentMessage | None = None
    ) -> Turn:
        """The user presses a button (label or callback data)."""

    async def upload(
        self, user: FakeUser, data: bytes, filename: str, *, caption: str | None = None
    ) -> Turn:
        """The user sends a document."""

    async def send_photo(self, user: FakeUser, data: bytes, *, caption: str | None = None) -> Turn:
        """The user sends a photo (with a caption, if given)."""

    async def send_sound(
        self,
        user: FakeUser,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        voice: bool = False,
    ) -> Turn:
        """The user sends a voice note (``voice``) or an audio file."""


async def run_terminal_chat(
    application: AnyApplication,
    *,
    input_stream: TextIO,
    output_stream: TextIO,
    user: FakeUser,
    media_dir: Path | None = None,
    banner: str | None = DEFAULT_BANNER,
) -> None:
    """Chat with the bot in a terminal (or any text streams) until quit or end of input.

    Args:
        application: Built on a :class:`FakeBotApi` (``fake.application_builder()``).
        input_stream: Lines typed by the user.
        output_stream: Where the conversation is printed.
        user: Who the user is to the bot (id, name, Telegram language code).
        media_dir: Folder for photos and documents the bot sends; a temp folder by default.
        banner: Printed once at the start; None prints nothing.
    """
    async with ChatDriver(application, raise_errors=False) as driver:
        await chat_loop(
            driver,
            driver.fake,
            input_stream=input_stream,
            output_stream=output_stream,
            user=user,
            media_dir=media_dir,
            banner=banner,
        )


async def chat_loop(
    chatter: Chatter,
    fake: FakeBotApi,
    *,
    input_stream: TextIO,
    output_stream: TextIO,
    user: FakeUser,
    media_dir: Path | None = None,
    banner: str | None = DEFAULT_BANNER,
) -> None:
    """Read lines, act them out through ``chatter``, print what the bot did (via ``fake``)."""
    printer = _Printer(fake, output_stream, user, media_dir)
    if banner:
        output_stream.write(banner + "\n")
    printer.flush_new()  # anything sent during start-up (none, normally)
    interactive = input_stream.isatty()
    # What the bot sends while the user reads or types (a reminder, a reply that waited
    # out Telegram) shows when it comes, not only after the next line is entered.
    watcher = asyncio.create_task(_keep_printing(printer, output_stream, interactive))
    try:
        await _read_and_act(chatter, fake, printer, input_stream, output_stream, user, interactive)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _keep_printing(printer: _Printer, out: TextIO, interactive: bool) -> None:
    """Print the bot's new messages as they come, and the prompt again after them."""
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        if printer.flush_new() and interactive:
            out.write("> ")
            out.flush()


async def _read_and_act(
    chatter: Chatter,
    fake: FakeBotApi,
    printer: _Printer,
    input_stream: TextIO,
    output_stream: TextIO,
    user: FakeUser,
    interactive: bool,
) -> None:
    """The loop of :func:`chat_loop`: read a line, act it out, print what the bot did."""
    while True:
        if interactive:
            output_stream.write("> ")
            output_stream.flush()
        raw = await asyncio.to_thread(input_stream.readline)
        printer.flush_new()  # e.g. a reminder that arrived while the user was typing
        if not raw:
            break
        line = raw.rstrip("\r\n")
        if line.strip().lower() in _QUIT:
            break
        if not line.strip():
            continue
        if line.strip().startswith(":fail"):
            output_stream.write(_fail(fake, line.strip()) + "\n")
            continue
        try:
            turn = await _act(chatter, fake, user, line)
        except TimeoutError:  # the bot still handles it (waiting out Telegram, say)
            output_stream.write(NO_REPLY_YET + "\n")
            continue
        except (LookupError, OSError, ValueError) as exc:
            output_stream.write(f"(cannot do that: {exc})\n")
            continue
        printer.flush_new()
        for error in turn.errors:
            output_stream.write(f"(the bot raised {type(error).__name__}: {error})\n")
        output_stream.flush()


def _fail(fake: FakeBotApi, line: str) -> str:
    """``:fail METHOD FAULT``: the bot's next call of METHOD fails (by hand, to see what the
    user then reads)."""
    words = line.split()
    if len(words) != 3 or not (words[2].isdigit() or words[2] in ("timeout", "network")):
        return (
            "(write :fail METHOD FAULT, e.g. :fail sendPhoto 502;"
            " FAULT is a status, timeout or network)"
        )
    method, fault = words[1], words[2]
    fake.fail_next(method, int(fault) if fault.isdigit() else fault)
    return f"(the bot's next {method} call fails with {fault})"


def _bare_sound(message: SentMessage) -> bool:
    """A voice note or audio file with no text or buttons of its own."""
    sound = message.voice is not None or message.audio is not None
    return sound and not message.text and not message.buttons


async def _act(chatter: Chatter, fake: FakeBotApi, user: FakeUser, line: str) -> Turn:
    """Turn one typed line into an update and process it."""
    stripped = line.strip()
    if stripped.startswith("\\"):
        return await chatter.send(user, stripped[1:])
    if stripped.startswith(":file "):
        path_text, _, caption = stripped.removeprefix(":file ").strip().partition(" ")
        path = Path(path_text).expanduser()
        return await chatter.upload(
            user, path.read_bytes(), path.name, caption=caption.strip() or None
        )
    if stripped.startswith(":photo "):
        path_text, _, caption = stripped.removeprefix(":photo ").strip().partition(" ")
        picture = Path(path_text).expanduser().read_bytes()
        if image_type(picture) is None:  # Telegram takes only pictures as photos
            raise ValueError(
                f"{path_text} is not a JPEG, PNG, GIF or WebP picture; :file sends any file"
            )
        return await chatter.send_photo(user, picture, caption=caption.strip() or None)
    for command in (":voice ", ":audio "):
        if stripped.startswith(command):
            path_text, _, caption = stripped.removeprefix(command).strip().partition(" ")
            path = Path(path_text).expanduser()
            return await chatter.send_sound(
                user,
                path.read_bytes(),
                path.name,
                caption=caption.strip() or None,
                voice=command == ":voice ",
            )
    if stripped.isdigit():
        # Only the newest message's buttons: a number typed under a question without
        # buttons (a typed answer) must not press an older message's (a settings panel).
        # A bare sound (a flashcard's answer, played once it is shown) belongs to the message
        # before it, whose buttons (the grades) a number still presses.
        shown = [m for m in fake.messages(user.id) if not _bare_sound(m)]
        message = shown[-1] if shown else None
        number = int(stripped)
        if message is not None and 1 <= number <= len(message.button_data):
            data = message.button_data[number - 1]
            return await chatter.press(user, data, message=message)
    return await chatter.send(user, line)
