"""Reading zip members safely: checked names, declared and actual size caps, zstd."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import IO

import zstandard

from tutor.content.errors import ContentError, ImportLimits
from tutor.content.messages import Size

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20


def _bad_member_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (
        not name
        or name.startswith(("/", "\\"))
        or "\\" in name
        or ".." in parts
        or "\x00" in name
        or (len(name) > 1 and name[1] == ":")
    )


class SafeArchive:
    """A zip archive read entirely into memory or temp files chosen by us.

    Every member name is checked on opening; nothing is ever written to a path taken from
    the archive. Bytes read out (after zip and zstd decompression) count against
    ``limits.max_uncompressed_bytes`` across the whole archive.
    """

    def __init__(self, data: bytes, filename: str, limits: ImportLimits) -> None:
        self.filename = filename
        self.limits = limits
        self._read_total = 0
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise ContentError("not_zip", file=filename, detail=str(exc)) from None
        if len(infos) > limits.max_members:
            raise ContentError(
                "too_many_members", file=filename, count=len(infos), limit=limits.max_members
            )
        for info in infos:
            if _bad_member_name(info.filename):
                raise ContentError("unsafe_member", file=filename, name=info.filename)
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_uncompressed_bytes:
            raise self._too_big()
        self._infos = {info.filename: info for info in infos}

    def _too_big(self) -> ContentError:
        limit = Size(self.limits.max_uncompressed_bytes)
        return ContentError("archive_too_large", file=self.filename, limit=limit)

    def names(self) -> set[str]:
        """Member names (already checked)."""
        return set(self._infos)

    def _count(self, n: int) -> None:
        self._read_total += n
        if self._read_total > self.limits.max_uncompressed_bytes:
            raise self._too_big()

    def _copy(self, source: IO[bytes], sink: IO[bytes], cap: int | None) -> None:
        written = 0
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if cap is not None and written > cap:
                raise ContentError("member_oversize", file=self.filename)
            self._count(len(chunk))
            sink.write(chunk)

    def _open(self, name: str) -> IO[bytes]:
        try:
            return self._zip.open(self._infos[name])
        except KeyError:
            raise ContentError("no_member", file=self.filename, name=name) from None
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            raise ContentError(
                "member_unreadable", file=self.filename, name=name, detail=str(exc)
            ) from None

    def _extract(self, name: str, sink: IO[bytes], *, zstd: bool | None) -> None:
        """Copy member ``name`` into ``sink``; ``zstd=None`` sniffs the magic number."""
        declared = self._infos[name].file_size if name in self._infos else None
        try:
            if zstd is None:
                with self._open(name) as member:
                    zstd = member.read(len(ZSTD_MAGIC)) == ZSTD_MAGIC
            with self._open(name) as member:
                if not zstd:
                    self._copy(member, sink, declared)
                    return
                # A stream reader bounds each read's output, unlike one-shot decompression.
                with zstandard.ZstdDecompressor().stream_reader(member) as reader:
                    self._copy(reader, sink, None)
        except (zipfile.BadZipFile, zstandard.ZstdError, OSError, EOFError) as exc:
            raise ContentError(
                "member_damaged", file=self.filename, name=name, detail=str(exc)
            ) from None

    def read(self, name: str, *, zstd: bool | None = None) -> bytes:
        """A member's bytes (decompressed from zstd when needed)."""
        sink = io.BytesIO()
        self._extract(name, sink, zstd=zstd)
        return sink.getvalue()

    def extract_to(self, name: str, path: Path, *, zstd: bool | None = None) -> None:
        """Write a member to ``path``, a file name of the caller's choosing."""
        with path.open("wb") as sink:
            self._extract(name, sink, zstd=zstd)
