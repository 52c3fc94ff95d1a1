"""Each student's learner-model state (opaque bytes) and their recall calibration (JSON)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.batch import Query, write_later
from storage.database import Connection, fetch_all, run_sync
from storage.records import AttemptRecord


@dataclass(frozen=True, slots=True)
class StoredState:
    """A student's stored learner state, as the model version that wrote it left it."""

    model_version: str
    state: bytes
    calibration: str | None = None  # None: not calibrated yet
    weights_version: int = 0
    """The version of the deployment's weights (``model_weights``) that wrote it."""


def state_query(user_id: int) -> Query[StoredState | None]:
    """:func:`get_state` as a :class:`storage.batch.Query`."""

    def parse(results: list[list[Any]]) -> StoredState | None:
        row = next(iter(results[0]), None)
        return StoredState(row[0], bytes(row[1]), row[2], int(row[3])) if row else None

    return Query(
        [
            (
                "SELECT model_version, state, calibration, weights_version FROM learner_state"
                " WHERE user_id = ?",
                (user_id,),
            )
        ],
        parse,
    )


def read_state(raw: sqlite3.Connection, user_id: int) -> StoredState | None:
    """:func:`get_state` on the raw connection (inside :func:`storage.database.run_sync`)."""
    return state_query(user_id).run(raw)


async def get_state(conn: Connection, user_id: int) -> StoredState | None:
    """The stored state, or None before the first answer."""
    return await run_sync(conn, lambda raw: read_state(raw, user_id))


_WRITE_STATE = (
    "INSERT INTO learner_state"
    " (user_id, model_version, state, calibration, updated_ms, weights_version)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
    " model_version = excluded.model_version, state = excluded.state,"
    " calibration = excluded.calibration, updated_ms = excluded.updated_ms,"
    " weights_version = excluded.weights_version"
    " WHERE learner_state.weights_version <= excluded.weights_version RETURNING user_id"
)


def _state_values(user_id: int, stored: StoredState, now_ms: int) -> tuple[Any, ...]:
    return (
        user_id,
        stored.model_version,
        stored.state,
        stored.calibration,
        now_ms,
        stored.weights_version,
    )


def write_state(raw: sqlite3.Connection, user_id: int, stored: StoredState, now_ms: int) -> bool:
    """:func:`put_state` on the raw connection (inside :func:`storage.database.run_sync`)."""
    row = raw.execute(_WRITE_STATE, _state_values(user_id, stored, now_ms)).fetchone()
    return row is not None


async def put_state(conn: Connection, user_id: int, stored: StoredState, now_ms: int) -> bool:
    """Store a student's state; False (nothing written) if the stored one was built by a
    newer weights version (another process rebuilt it: this one must follow first)."""
    return await run_sync(conn, lambda raw: write_state(raw, user_id, stored, now_ms))


async def put_state_later(
    conn: Connection,
    user_id: int,
    stored: StoredState,
    now_ms: int,
    refused: Callable[[], None],
) -> None:
    """:func:`put_state` inside a write transaction, sent with its next statement on
    PostgreSQL (:func:`storage.batch.write_later`; at once on SQLite): ``refused`` is called
    then if nothing was written (a newer weights version's state is stored); what it raises
    rolls the transaction back."""

    def check(rows: list[Any]) -> None:
        if not rows:
            refused()

    await write_later(conn, _WRITE_STATE, _state_values(user_id, stored, now_ms), check=check)


def unlearned_query(
    user_id: int, since_ms: int, until_ms: int, limit: int
) -> Query[list[AttemptRecord]]:
    """The student's answers from ``since_ms`` to ``until_ms`` that their stored state has
    not learned from (those after its ``updated_ms``; all without a stored state): the
    latest ``limit``, oldest first (a :class:`storage.batch.Query`)."""

    def parse(results: list[list[Any]]) -> list[AttemptRecord]:
        return [
            AttemptRecord(user_id, r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], r[7])
            for r in reversed(results[0])
        ]

    sql = (
        "SELECT a.item_id, a.answered_ms, a.response, a.correct, a.grade, a.latency_ms,"
        " a.idempotency_key, a.id FROM attempts a"
        " WHERE a.user_id = ? AND a.answered_ms BETWEEN ? AND ? AND a.answered_ms >"
        " COALESCE((SELECT s.updated_ms FROM learner_state s WHERE s.user_id = a.user_id), -1)"
        " ORDER BY a.answered_ms DESC, a.id DESC LIMIT ?"
    )
    return Query([(sql, (user_id, since_ms, until_ms, limit))], parse)


def read_unlearned(
    raw: sqlite3.Connection, user_id: int, since_ms: int, until_ms: int, limit: int
) -> list[AttemptRecord]:
    """:func:`unlearned_query` on the raw connection (inside ``run_sync``)."""
    return unlearned_query(user_id, since_ms, until_ms, limit).run(raw)


async def user_ids_with_attempts(conn: Connection) -> list[int]:
    """Every student who answered something."""
    rows = await fetch_all(conn, "SELECT DISTINCT user_id FROM attempts ORDER BY user_id")
    return [row[0] for row in rows]
