"""The record of handled updates: redeliveries skipped, reused ids handled, a day's window."""

from __future__ import annotations

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
    await log.done(7)
    assert not await other.begin(7, quiz)
    # Telegram chose ids afresh (after a week of silence): a different update, handled
    assert await other.begin(7, help_)
    clock.advance(hours=23)
    assert not await log.begin(7, help_)  # within Telegram's 24 hours: still known
    clock.advance(seconds=WINDOW.total_seconds())
    await log.begin(8, quiz)  # prunes what is older than the window
    assert await log.begin(7, help_)  # forgotten: no redelivery comes this late
