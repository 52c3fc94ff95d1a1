"""Settings from the environment and .env, with one readable line per wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

TOKEN = "123456:ABCdefGhIJKlmNoPQRstuVWXyz012345678"


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "METATUTOR_ADMIN_IDS",
        "METATUTOR_TIMEZONE",
        "METATUTOR_DATABASE",
        "METATUTOR_WEBHOOK_SECRET",
        "METATUTOR_BROADCAST_RATE",
        "METATUTOR_ALLOW_PAID_BROADCAST",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_the_local_chat_on_a_file_under_data() -> None:
    settings = load_settings()
    assert settings.token is None
    assert settings.database == Path("data/metatutor.sqlite3")
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.admin_ids == frozenset()


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
        "METATUTOR_ADMIN_IDS=12, 34\n"
        "METATUTOR_TIMEZONE=Asia/Shanghai\n"
    )
    settings = load_settings()
    assert settings.token == TOKEN
    assert settings.admin_ids == frozenset({12, 34})
    assert settings.timezone == "Asia/Shanghai"
    assert TOKEN not in repr(settings)


def test_environment_overrides_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("METATUTOR_LANGUAGE=zh\n")
    monkeypatch.setenv("METATUTOR_LANGUAGE", "en")
    assert load_settings().language == "en"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("METATUTOR_ADMIN_IDS", "12,abc", "METATUTOR_ADMIN_IDS: expected comma-separated"),
        ("METATUTOR_LANGUAGE", "fr", "METATUTOR_LANGUAGE: expected en or zh, got 'fr'"),
        ("METATUTOR_WEBHOOK_PORT", "99999", "METATUTOR_WEBHOOK_PORT: expected a TCP port"),
        ("TELEGRAM_API_BASE_URL", "ftp://x", "TELEGRAM_API_BASE_URL: expected an http(s) URL"),
        ("METATUTOR_WEBHOOK_SECRET", "has spaces!", "METATUTOR_WEBHOOK_SECRET: expected 1-256"),
        ("METATUTOR_DATABASE", "", "METATUTOR_DATABASE: expected a path to the SQLite database"),
        ("METATUTOR_DATABASE", "sqlite:///x.db", "METATUTOR_DATABASE: expected a path to the"),
        ("METATUTOR_BROADCAST_RATE", "0", "METATUTOR_BROADCAST_RATE: expected reminders,"),
        ("METATUTOR_BROADCAST_RATE", "fast", "METATUTOR_BROADCAST_RATE: expected reminders,"),
        ("METATUTOR_ALLOW_PAID_BROADCAST", "maybe", "METATUTOR_ALLOW_PAID_BROADCAST: expected"),
    ],
)
def test_wrong_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(expected)
    assert len(str(caught.value).splitlines()) == 1


def test_secrets_never_appear_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "leaky-secret-value")
    monkeypatch.setenv("METATUTOR_WEBHOOK_SECRET", "leaky secret two")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "leaky" not in str(caught.value)
    assert "TELEGRAM_BOT_TOKEN" in str(caught.value)


def test_a_broadcast_rate_above_the_free_limit_needs_paid_broadcasts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().broadcast_rate == 29.0  # under Telegram's free 30 a second
    assert not load_settings().allow_paid_broadcast
    monkeypatch.setenv("METATUTOR_BROADCAST_RATE", "30")
    assert load_settings().broadcast_rate == 30.0
    monkeypatch.setenv("METATUTOR_BROADCAST_RATE", "200")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == (
        "METATUTOR_BROADCAST_RATE: 200 messages a second is above Telegram's free limit (30);"
        " set METATUTOR_ALLOW_PAID_BROADCAST=true to pay for it, or a rate of at most 30"
    )
    monkeypatch.setenv("METATUTOR_ALLOW_PAID_BROADCAST", "true")
    settings = load_settings()
    assert (settings.broadcast_rate, settings.allow_paid_broadcast) == (200.0, True)
    monkeypatch.setenv("METATUTOR_BROADCAST_RATE", "1001")  # Telegram's paid maximum is 1000
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("METATUTOR_BROADCAST_RATE: expected reminders,")
    assert "got '1001'" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_a_telegram_proxy_comes_from_its_variable_or_the_usual_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("METATUTOR_TELEGRAM_PROXY", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    assert load_settings().telegram_proxy is None
    monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
    assert load_settings().telegram_proxy == "http://10.0.0.1:3128"
    # A local Bot API server named in NO_PROXY is reached directly, as httpx would.
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://botapi.internal:8081/bot")
    monkeypatch.setenv("NO_PROXY", "localhost,.internal")
    assert load_settings().telegram_proxy is None
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert load_settings().telegram_proxy == "http://10.0.0.1:3128"
    monkeypatch.delenv("TELEGRAM_API_BASE_URL")
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("METATUTOR_TELEGRAM_PROXY", "")
    assert load_settings().telegram_proxy is None  # set empty: none, whatever else is set
    monkeypatch.setenv("METATUTOR_TELEGRAM_PROXY", "socks5://10.0.0.1:1080")
    with pytest.raises(SettingsError, match="METATUTOR_TELEGRAM_PROXY"):
        load_settings()
