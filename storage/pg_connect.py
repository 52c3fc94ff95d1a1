"""Opening a PostgreSQL connection, and what a refused one means for the operator.

A refused connection is either a setting that cannot work (a wrong password, user or
database name, a malformed URL: trying again changes nothing) or a server that does not
answer (not running, not reachable, starting up: trying again may well work). Callers stop
with a configuration error for the first and keep retrying, or leave the retry to their
supervisor, for the second.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

CONNECT_TIMEOUT_S = 10
"""Seconds a connection attempt may take, unless the URL sets ``connect_timeout``: without
it, a host that drops packets holds a command for minutes with nothing said."""

# (text in libpq's message, what to check); the first that matches wins.
_SETTING_WRONG = (
    ("password authentication failed", "check the user name and password in the URL"),
    ("password is missing", "put the password in the URL (postgresql://user:password@host/db)"),
    ("no password supplied", "put the password in the URL (postgresql://user:password@host/db)"),
    ("role", "check the user name in the URL"),
    ("does not exist", "check the database name in the URL, or create it: createdb -O USER NAME"),
    ("no pg_hba.conf entry", "the server does not let this user in from here (its pg_hba.conf)"),
    ("connection option", "the URL is malformed: write postgresql://user:password@host:5432/db"),
    ("uri", "the URL is malformed: write postgresql://user:password@host:5432/db"),
    ("unexpected spaces", "the URL is malformed: percent-encode spaces (%20)"),
)


class DatabaseUnreachable(sqlite3.OperationalError):
    """PostgreSQL could not be connected to. ``setting_wrong``: the URL cannot work as it is
    (a restart will not help); otherwise the server did not answer (it may, later)."""

    def __init__(
        self, url: str, reason: str, hint: str, *, setting_wrong: bool, lost: bool = False
    ) -> None:
        super().__init__(f"{url}: {'connection lost' if lost else 'cannot connect'}: {reason}")
        self.url = url
        self.reason = reason
        self.hint = hint
        self.setting_wrong = setting_wrong


def _reason(error: psycopg.Error) -> str:
    lines = str(error).strip().splitlines()
    text = " ".join(lines[0].split()) if lines else ""
    for prefix in ("connection failed: ", "connection is bad: "):
        text = text.removeprefix(prefix)
    return text or type(error).__name__


def unreachable(url: str, error: psycopg.Error) -> DatabaseUnreachable:
    """``error`` (from connecting to ``url``, shown with its password hidden) for people."""
    reason = _reason(error)
    lowered = reason.lower()
    if isinstance(error, psycopg.ProgrammingError):
        hint = "the URL is malformed: write postgresql://user:password@host:5432/db"
        return DatabaseUnreachable(url, reason, hint, setting_wrong=True)
    for words, hint in _SETTING_WRONG:
        if words in lowered:
            return DatabaseUnreachable(url, reason, hint, setting_wrong=True)
    hint = (
        "check that the PostgreSQL server is running and that the host and port in the URL"
        " are right"
    )
    return DatabaseUnreachable(url, reason, hint, setting_wrong=False)


def open_connection(url: str, **options: Any) -> psycopg.Connection[Any]:
    """A psycopg connection to ``url`` with a connect timeout (the URL's, or
    :data:`CONNECT_TIMEOUT_S`); errors are raised as they come (see :func:`unreachable`)."""
    if "connect_timeout" not in conninfo_to_dict(url):
        options.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    return psycopg.connect(url, **options)
