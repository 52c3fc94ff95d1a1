"""Deck media sent once: bytes uploaded to Telegram when many students meet the same sound.

A deck of one word with a picture, a question sound (MP3) and an answer sound (OGG) is put
to ``--students`` students through the real bot on the in-process Bot API fake: each sends
``/quiz 1`` and types the answer, so each hears both sounds and sees the picture. Two runs
in the same process: the baseline uploads every file every time (the stored file ids are
thrown away, as before file ids were kept), the other sends each file by its stored
``file_id`` after its first upload. The table gives uploads, bytes uploaded and wall time.

    .venv/bin/python -m benchmarks.media_uploads --students 50 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from benchmarks.common import table, write_json
from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser
from bot.settings import Settings
from storage import Database
from tutor.service import TutorService
from tutor.views import MediaFile

_METHODS = ("sendPhoto", "sendAudio", "sendVoice")


def _deck(sound_kb: int, picture_kb: int) -> bytes:
    """The one-word deck as an Anki package (the deck file format that carries media)."""
    from tutor.content.anki_export import export_package
    from tutor.content.json_deck import parse_json

    document = (
        '{"metatutor": 1, "deck": {"name": "Bench words"}, "items": [{"id": "w1",'
        ' "type": "typed", "question": "bonjour", "answer": ["hello"], "image": "w.png",'
        ' "audio": "bonjour.mp3", "answer_audio": "hello.ogg"}]}'
    )
    parsed = parse_json(document.encode(), filename="bench.json")
    media = {
        "w.png": b"\x89PNG\r\n\x1a\n" + bytes(picture_kb * 1024),
        "bonjour.mp3": b"ID3" + bytes(sound_kb * 1024),
        "hello.ogg": b"OggS" + bytes(sound_kb * 1024),
    }
    return export_package(parsed.deck, parsed.items, media)


def _uploaded_bytes(fake: FakeBotApi) -> tuple[int, int]:
    """(uploads, bytes uploaded) over the media send methods."""
    count = size = 0
    for method in _METHODS:
        for call in fake.calls_of(method):
            for upload in call.files.values():
                count += 1
                size += len(upload.data)
    return count, size


async def _run(students: int, package: bytes, keep_ids: bool, folder: Path) -> dict[str, Any]:
    db = await Database.open(folder / f"bench-{keep_ids}.sqlite3")
    try:
        service = TutorService(db)
        if not keep_ids:

            async def forget(media: MediaFile, file_id: str) -> None:
                del media, file_id

            service.remember_file_id = forget  # type: ignore[method-assign]
        await service.import_file(package, "bench.apkg")
        fake = FakeBotApi()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, telegram_bot_token=None, flood_burst=0, chat_rate=0
        )
        users = [FakeUser(10_000 + k, f"S{k}", language_code="en") for k in range(students)]
        for user in users:
            await service.register(user.id, user.id, user.first_name, "en")
            await service.update_settings(user.id, onboarded=True)
            await service.enrol(user.id, "bench-words")
        application = build_application(settings, service, request=fake)
        async with ChatDriver(application) as chat:
            started = time.perf_counter()
            for user in users:
                await chat.send(user, "/quiz 1")
                await chat.send(user, "hello")
            wall = time.perf_counter() - started
        uploads, size = _uploaded_bytes(fake)
        sends = sum(len(fake.calls_of(m)) for m in _METHODS)
        return {
            "scenario": "file_id after the first upload" if keep_ids else "upload every time",
            "students": students,
            "media_sends": sends,
            "uploads": uploads,
            "uploaded_kb": size / 1024,
            "wall_s": wall,
        }
    finally:
        await db.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """The baseline, then file-id reuse, on fresh databases."""
    package = _deck(args.sound_kb, args.picture_kb)
    with zipfile.ZipFile(io.BytesIO(package)) as check:  # the media really are in the deck
        assert len(check.namelist()) == 5, check.namelist()
    with tempfile.TemporaryDirectory(prefix="metatutor-bench-") as tmp:
        results = [await _run(args.students, package, keep, Path(tmp)) for keep in (False, True)]
    return {"options": vars(args) | {"json": str(args.json)}, "scenarios": results}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.media_uploads",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--sound-kb", type=int, default=60, help="size of each sound")
    parser.add_argument("--picture-kb", type=int, default=120, help="size of the picture")
    parser.add_argument("--json", type=Path, default=None, help="save the results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run and print the table (and save JSON with the machine's details)."""
    args = parse_args(argv)
    results = asyncio.run(run(args))
    rows = [
        [
            r["scenario"],
            r["students"],
            r["media_sends"],
            r["uploads"],
            r["uploaded_kb"],
            r["wall_s"],
        ]
        for r in results["scenarios"]
    ]
    headers = ["scenario", "students", "media sends", "uploads", "uploaded KB", "wall s"]
    print(table(headers, rows))
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
