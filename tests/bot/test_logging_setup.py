"""Structured logs: one line per event, and the token never in them."""

from __future__ import annotations

import io
import logging
import socket
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest
from telegram import Bot
from telegram.error import NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.logging_setup import REDACTED, configure_from_settings, configure_logging
from bot.settings import Settings

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET_HALF = TOKEN.split(":", 1)[1]


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Root logging into a buffer for the test; the previous handlers come back after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    names = ("httpx", "httpcore", "telegram", "aiosqlite", "apscheduler.executors")
    levels = {name: logging.getLogger(name).level for name in names}
    buffer = io.StringIO()
    configure_logging("DEBUG", secrets=[TOKEN], stream=buffer)
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)


def _assert_clean(text: str) -> None:
    assert TOKEN not in text
    assert SECRET_HALF not in text
    assert urllib.parse.quote(TOKEN, safe="") not in text


def test_one_line_per_event_with_fields(logs: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    log.info("answer recorded", extra={"user": 42, "question": 7})
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        log.exception("handler failed for user %s", 42)
    lines = logs.getvalue().splitlines()
    assert len(lines) == 2
    assert 'msg="answer recorded"' in lines[0]
    assert "user=42" in lines[0] and "question=7" in lines[0]
    assert "level=INFO logger=bot.test" in lines[0]
    assert 'msg="handler failed for user 42"' in lines[1]
    assert "exc=" in lines[1] and "ValueError: first line\\nsecond line" in lines[1]


def test_token_redacted_from_messages_args_extras_and_tracebacks(logs: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    log.warning("POST %s failed", url)
    log.warning("encoded %s", urllib.parse.quote(url, safe=""))
    log.error("only the secret half: %s", SECRET_HALF, extra={"url": url})
    try:
        raise NetworkError(f"httpx.ConnectError for {url}")
    except TelegramError:
        log.exception("network")
    text = logs.getvalue()
    _assert_clean(text)
    assert text.count(REDACTED) >= 5
    assert len(text.splitlines()) == 4


def test_job_runs_are_not_logged_but_their_failures_are(logs: io.StringIO) -> None:
    job_log = logging.getLogger("apscheduler.executors.default")
    job_log.info('Running job "group_quizzes (trigger: interval[0:00:05])"')
    job_log.info('Job "group_quizzes" executed successfully')
    assert logs.getvalue() == ""
    job_log.warning('Run time of job "group_quizzes" was missed by 0:00:07')
    assert "was missed" in logs.getvalue()


def test_httpx_request_lines_are_not_logged(logs: io.StringIO) -> None:
    # httpx logs every request URL (with the token in the path) at INFO.
    logging.getLogger("httpx").info("HTTP Request: POST https://x/bot%s/getMe", TOKEN)
    logging.getLogger("telegram.Bot").debug("Calling Bot API endpoint with text=secret words")
    logging.getLogger("telegram.ext.ExtBot").debug("Set Bot API URL: https://x/bot%s", TOKEN)
    logging.getLogger("aiosqlite").debug("executing INSERT ... ('my typed answer',)")
    assert logs.getvalue() == ""
    logging.getLogger("httpx").warning("HTTP Request: POST https://x/bot%s/getMe", TOKEN)
    _assert_clean(logs.getvalue())
    assert REDACTED in logs.getvalue()


async def test_real_ptb_network_error_is_redacted(logs: io.StringIO) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = Bot(
        TOKEN,
        base_url=f"http://127.0.0.1:{port}/bot",
        request=HTTPXRequest(connect_timeout=1, read_timeout=1),
    )
    log = logging.getLogger("bot.app")
    # httpx at INFO would print the URL; make sure the cap holds even if someone lowers it.
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    with pytest.raises(NetworkError) as caught:
        await bot.get_me()
    log.error("getMe failed: %s", caught.value, exc_info=caught.value)
    log.error("request: %r", httpx.Request("POST", f"{bot.base_url}/getMe"))
    text = logs.getvalue()
    _assert_clean(text)
    assert "getMe failed" in text


def test_settings_secrets_are_redacted() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, webhook_secret="hook-secret-1234567890"
    )
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        configure_from_settings(settings, stream=buffer)
        logging.getLogger("bot.test").error("token %s secret %s", TOKEN, "hook-secret-1234567890")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
        logging.captureWarnings(False)
    _assert_clean(buffer.getvalue())
    assert "hook-secret" not in buffer.getvalue()
