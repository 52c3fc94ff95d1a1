"""Structured logs: one ``key=value`` line per event on stderr, with secrets redacted.

Every record becomes a single line such as::

    ts=2026-11-27T05:20:01.123Z level=INFO logger=bot.app msg="bot running" user=42

Extra fields passed with ``log.info("...", extra={"user": 42})`` are appended as pairs.
Tracebacks are folded into the same line (``exc="..."`` with ``\\n`` escapes), so a log
collector never splits an event. :class:`RedactingFilter` sits on the handler, so it sees
the records of every library (httpx, PTB, APScheduler) and removes the bot token, its
URL-encoded form and its secret half from messages, arguments and tracebacks.

Handlers log user ids, never message contents; third-party loggers that would print request
URLs or whole API payloads (httpx, httpcore, ``telegram`` at DEBUG) are capped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import urllib.parse
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

REDACTED = "<redacted>"
# Attributes every LogRecord has; anything else was passed in ``extra``.
_STANDARD = frozenset(
    set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__)
    | {"message", "asctime", "taskName", "redacted"}
)
# Loggers that print URLs (httpx; PTB's "Set Bot API URL": the token is in the path) or whole
# payloads (PTB's Bot logs every parameter, i.e. message texts; aiosqlite every statement
# with its parameters, i.e. answers) at DEBUG: never below these levels.
_CAPS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "aiosqlite": logging.INFO,
    # Two lines per run of every repeating job (group quizzes run every few seconds).
    "apscheduler.executors": logging.WARNING,
}
_HANDLER_NAME = "metatutor"


def secret_forms(secret: str) -> list[str]:
    """The strings to remove for one secret: itself, URL-encoded, and a token's secret half."""
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)}
    if ":" in secret:
        half = secret.split(":", 1)[1]
        if len(half) >= 16:
            forms.add(half)
    # Longest first, so a form that contains another is replaced whole.
    return sorted((f for f in forms if f), key=len, reverse=True)


class Redactor:
    """Replaces every known form of the secrets in a string."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Also redact ``secret`` (ignored when empty)."""
        if secret:
            self._forms = sorted(
                set(self._forms) | set(secret_forms(secret)), key=len, reverse=True
            )

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text


class RedactingFilter(logging.Filter):
    """Renders each record's message and traceback once, redacted, before any formatter."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; always keeps the record."""
        if getattr(record, "redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the event
            message = f"{record.msg!r} {record.args!r}"
        record.msg = self.redactor(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redactor(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redactor(value))
        record.redacted = True
        return True


def _quote(value: Any) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\r\t') and text.isprintable():
        return text
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=... logger=... msg="..." key=value ... exc="..."`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """One line per record."""
        moment = datetime.fromtimestamp(record.created, UTC)
        pairs = [
            ("ts", moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"),
            ("level", record.levelname),
            ("logger", record.name),
            ("msg", record.getMessage()),
        ]
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                pairs.append((key, value))
        exc = record.exc_text
        if not exc and record.exc_info and record.exc_info[1] is not None:
            exc = self.formatException(record.exc_info)
        if exc:
            pairs.append(("exc", exc))
        return " ".join(f"{key}={_quote(value)}" for key, value in pairs)


def configure_logging(
    level: str = "INFO",
    *,
    secrets: Iterable[str | None] = (),
    stream: IO[str] | None = None,
) -> Redactor:
    """Send every logger's records to ``stream`` (stderr) as redacted key=value lines.

    Replaces a handler installed by an earlier call (safe to call twice). Returns the
    redactor, so callers can add secrets learnt later.
    """
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    numeric = logging.getLevelName(level.upper())
    for name, cap in _CAPS.items():
        logging.getLogger(name).setLevel(max(cap, numeric if isinstance(numeric, int) else cap))
    logging.captureWarnings(True)
    return redactor


@contextlib.contextmanager
def logs_to_file(path: Path) -> Iterator[Path]:
    """Send every log record to ``path`` instead of the terminal while inside.

    For the local chat, where log lines would interleave with the conversation. The file is
    appended to and owner-only; records keep their redaction and one-line format. The
    handlers in place before (stderr) come back on the way out.
    """
    root = logging.getLogger()
    before = list(root.handlers)
    redactor = next(
        (
            f.redactor
            for h in before
            if h.get_name() == _HANDLER_NAME
            for f in h.filters
            if isinstance(f, RedactingFilter)
        ),
        Redactor(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(KeyValueFormatter())
    for old in before:
        root.removeHandler(old)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        for old in before:
            root.addHandler(old)


def configure_from_settings(settings: Any, stream: IO[str] | None = None) -> Redactor:
    """:func:`configure_logging` with the level, token and webhook secret of the settings."""
    webhook = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return configure_logging(settings.log_level, secrets=[settings.token, webhook], stream=stream)


__all__ = [
    "REDACTED",
    "KeyValueFormatter",
    "RedactingFilter",
    "Redactor",
    "configure_from_settings",
    "configure_logging",
    "logs_to_file",
    "secret_forms",
]
