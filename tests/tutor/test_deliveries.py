"""The record of handled updates: redeliveries skipped, reused ids handled, a day's window."""

from __future__ import annotations

import socket
import subprocess
import sys

from storage import Database
from tests.conftest import FakeClock
from tutor.deliveries import WINDOW, UpdateLog, digest_of


async def test_a_redelivery_is_skipped_a_reused_id_is_not_and_a_day_is_kept(
    db: Database, clock: FakeClock
) -> None:
    log = UpdateLog(db, clock=clock)
    other = UpdateLog(db, clock=clock)  # another process
    quiz, help_ = digest_of('{"text": "/quiz"}'), digest_of('{"text": "/help"}')
    assert await log.begin(7, quiz)
    assert not await other.begin(7, quiz)  # begun by a process that runs: being handled
    log.done(7)
    await log.flush()
    assert not await other.begin(7, quiz)
    # Telegram chose ids afresh (after a week of silence): a different update, handled
    assert await other.begin(7, help_)
    clock.advance(hours=23)
    assert not await log.begin(7, help_)  # within Telegram's 24 hours: still known
    clock.advance(seconds=WINDOW.total_seconds())
    await log.begin(8, quiz)  # prunes what is older than the window
    assert await log.begin(7, help_)  # forgotten: no redelivery comes this late


def _gone() -> str:
    """The holder name of a process on this machine that has exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return f"{socket.gethostname()}/{int(child.stdout)}/00000000"


async def test_done_marks_go_with_the_next_begin_and_a_killed_holders_rest_is_handled_again(
    db: Database, clock: FakeClock
) -> None:
    killed = UpdateLog(db, clock=clock, holder=_gone())  # its process died after update 2
    other = UpdateLog(db, clock=clock)
    first, second = digest_of("1"), digest_of("2")
    assert await killed.begin(1, first)
    killed.done(1)
    assert await killed.begin(2, second)  # writes update 1's mark in its transaction
    assert not await other.begin(1, first)  # done: skipped, whoever began it
    assert await other.begin(2, second)  # begun, never finished: handled again
