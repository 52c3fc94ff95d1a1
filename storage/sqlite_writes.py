"""SQLite's side of a write transaction: the write lock, BEGIN IMMEDIATE, the update's
claim, COMMIT and ROLLBACK, run on the connection's own thread."""

from __future__ import annotations

import sqlite3
import time

from storage.update_claims import Claim, claim_in
from storage.write_lock import WriteLock


def begin(raw: sqlite3.Connection, lock: WriteLock | None, claim: Claim | None) -> float:
    """The write lock (if any), then BEGIN IMMEDIATE and the update's claim (if any); the
    seconds the BEGIN took (the wait for another process's writer)."""
    began = time.perf_counter()
    if lock is not None:
        lock.acquire()  # not taken if this process holds it: then the busy handler waits
    try:
        raw.execute("BEGIN IMMEDIATE")
        waited = time.perf_counter() - began
        if claim is not None:
            claim_or_roll_back(raw, claim)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return waited


def claim_or_roll_back(raw: sqlite3.Connection, claim: Claim) -> None:
    """Record the update's claim just after BEGIN; if that fails (or the update was handled
    already), roll back here: the caller never gets the transaction."""
    try:
        claim_in(raw, claim)
    except BaseException:
        claim.rolled_back()
        rollback(raw)
        raise


def begin_unless_busy(raw: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE without waiting: False if another connection holds the write lock."""
    timeout = int(raw.execute("PRAGMA busy_timeout").fetchall()[0][0])
    raw.execute("PRAGMA busy_timeout = 0").fetchall()
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if is_locked_error(error):
            return False
        raise
    finally:
        raw.execute(f"PRAGMA busy_timeout = {timeout}").fetchall()
    return True


def commit(raw: sqlite3.Connection) -> None:
    raw.execute("COMMIT")


def rollback(raw: sqlite3.Connection) -> None:
    # SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR); then there
    # is nothing left to roll back.
    if raw.in_transaction:
        raw.execute("ROLLBACK")


def is_locked_error(error: BaseException) -> bool:
    """True for SQLite's 'database is locked' (another process holds the write lock)."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)
