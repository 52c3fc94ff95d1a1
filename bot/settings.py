"""Settings: read once in ``main()`` from the environment and an optional ``.env`` file."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tutor.clock import is_valid_zone

_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# A URL's scheme (two letters at least, so a Windows drive like C: stays a path).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
_POSTGRES = re.compile(r"^postgres(ql)?://", re.IGNORECASE)
# The password in a URL's user part, hidden in error messages.
FREE_BROADCAST_RATE = 30.0
"""Messages a second Telegram lets a bot send to many chats without paid broadcasts."""
_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/@]*@")


def postgres_url_problem(url: str) -> str | None:
    """What makes a ``postgresql://`` URL unusable before connecting, or None. A URL without
    a database name would connect to the database named after the user (often the server's
    own ``postgres``) and create the tutor's tables there."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    if parts.path.strip("/") or query.get("dbname"):
        return None
    return (
        f"the URL {_shown(url)} names no database; add its name after the host, like"
        " postgresql://user:password@host:5432/metatutor"
    )


def _env(name: str) -> Any:
    return AliasChoices(name, name.lower())


def _bypassed(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY (``*``, host names, ``.suffix`` domains; ports ignored) covers ``host``."""
    for entry in no_proxy.lower().split(","):
        name = entry.strip().rsplit(":", 1)[0] if entry.count(":") == 1 else entry.strip()
        name = name.lstrip(".")
        if name == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False


class Settings(BaseSettings):
    """Everything an operator can set. Field docs say what each variable expects."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=_env("TELEGRAM_BOT_TOKEN"),
        description="a bot token from @BotFather, like 123456:ABC-...; unset runs the local chat",
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=_env("TELEGRAM_API_BASE_URL"),
        description="an http(s) URL; the token is appended to it",
    )
    telegram_api_file_base_url: str = Field(
        default="https://api.telegram.org/file/bot",
        validation_alias=_env("TELEGRAM_API_FILE_BASE_URL"),
        description="an http(s) URL for file downloads; the token is appended to it",
    )
    # A proxy for Telegram's API: PTB's httpx client then carries the calls (it knows proxies;
    # the bot's own keep-alive client does not). httpx's usual variables count too.
    telegram_proxy: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "METATUTOR_TELEGRAM_PROXY",
            "metatutor_telegram_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ),
        description="an http(s) proxy URL for Telegram's API, like http://127.0.0.1:3128",
    )
    no_proxy: str | None = Field(
        default=None,
        validation_alias=AliasChoices("NO_PROXY", "no_proxy"),
        description="hosts reached without the proxy, comma-separated (as curl and httpx read it)",
    )
    database: Path | str = Field(
        default=Path("data/metatutor.sqlite3"),
        validation_alias=_env("METATUTOR_DATABASE"),
        description=(
            "a path to the SQLite database file, like data/metatutor.sqlite3,"
            " or a PostgreSQL URL, like postgresql://user:password@host/metatutor"
        ),
    )
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(),
        validation_alias=_env("METATUTOR_ADMIN_IDS"),
        description="comma-separated Telegram user ids, like 12345,67890",
    )
    timezone: str = Field(
        default="UTC",
        validation_alias=_env("METATUTOR_TIMEZONE"),
        description="an IANA time zone name, like Europe/Berlin",
    )
    language: str = Field(
        default="en", validation_alias=_env("METATUTOR_LANGUAGE"), description="en or zh"
    )
    daily_goal: int = Field(
        default=20,
        ge=1,
        le=500,
        validation_alias=_env("METATUTOR_DAILY_GOAL"),
        description="a whole number of answers per day between 1 and 500",
    )
    quiz_length: int = Field(
        default=10,
        ge=1,
        le=50,
        validation_alias=_env("METATUTOR_QUIZ_LENGTH"),
        description="a whole number of questions per quiz between 1 and 50",
    )
    max_reminders_per_day: int = Field(
        default=2,
        ge=0,
        le=10,
        validation_alias=_env("METATUTOR_MAX_REMINDERS_PER_DAY"),
        description="a whole number between 0 and 10",
    )
    max_import_mb: int = Field(
        default=50,
        ge=1,
        le=2000,
        validation_alias=_env("METATUTOR_MAX_IMPORT_MB"),
        description="a whole number of megabytes between 1 and 2000",
    )
    max_own_cards: int = Field(
        default=500,
        ge=0,
        le=100_000,
        validation_alias=_env("METATUTOR_MAX_OWN_CARDS"),
        description="how many cards of their own a student may keep, 0-100000 (0: none)",
    )
    max_card_picture_kb: int = Field(
        default=1024,
        ge=1,
        le=20_480,
        validation_alias=_env("METATUTOR_MAX_CARD_PICTURE_KB"),
        description="the largest picture on a student's own card, in KB, 1-20480",
    )
    flood_burst: int = Field(
        default=8,
        ge=0,
        le=1000,
        validation_alias=_env("METATUTOR_FLOOD_BURST"),
        description="how many messages a student may send at once, 0-1000 (0 turns the limit off)",
    )
    flood_per_second: float = Field(
        default=1.5,
        gt=0,
        le=100,
        validation_alias=_env("METATUTOR_FLOOD_RATE"),
        description="a number of messages per second a student may keep sending, above 0",
    )
    chat_rate: float = Field(
        default=0.0,
        ge=0,
        le=100,
        validation_alias=_env("METATUTOR_CHAT_RATE"),
        description="messages per second the bot sends to one chat, 0-100 (0: no limit)",
    )
    chat_burst: int = Field(
        default=10,
        ge=1,
        le=100,
        validation_alias=_env("METATUTOR_CHAT_BURST"),
        description="messages the bot may send to one chat at once, 1-100",
    )
    send_rate: float = Field(
        default=0.0,
        ge=0,
        le=1000,
        validation_alias=_env("METATUTOR_SEND_RATE"),
        description="messages per second the whole bot may send, 0-1000 (0: no overall cap)",
    )
    broadcast_rate: float = Field(
        default=29.0,
        gt=0,
        le=1000,
        validation_alias=_env("METATUTOR_BROADCAST_RATE"),
        description="reminders, announcements and group quiz messages sent per second, above 0"
        f" and at most {FREE_BROADCAST_RATE:g} (up to 1000 with"
        " METATUTOR_ALLOW_PAID_BROADCAST=true)",
    )
    allow_paid_broadcast: bool = Field(
        default=False,
        validation_alias=_env("METATUTOR_ALLOW_PAID_BROADCAST"),
        description="true to send fan-outs with Telegram's paid broadcasts (Stars are charged"
        " beyond the free limit) so that METATUTOR_BROADCAST_RATE may go up to 1000,"
        " false (the default) to keep to the free limit",
    )
    model_path: Path | None = Field(
        default=None,
        validation_alias=_env("METATUTOR_MODEL"),
        description="a path to learner-model weights; unset uses the bundled ones",
    )
    retrain_weekly: bool = Field(
        default=False,
        validation_alias=_env("METATUTOR_RETRAIN_WEEKLY"),
        description="true to refit the learner model on this database's students once a week"
        " (as `metatutor train --from-db`), false (the default) to leave it to the operator",
    )
    webhook_url: str | None = Field(
        default=None,
        validation_alias=_env("METATUTOR_WEBHOOK_URL"),
        description="the public https URL Telegram posts updates to; unset uses long polling",
    )
    webhook_listen: str = Field(
        default="0.0.0.0",
        validation_alias=_env("METATUTOR_WEBHOOK_LISTEN"),
        description="the address the webhook server binds to",
    )
    webhook_port: int = Field(
        default=8443,
        ge=1,
        le=65535,
        validation_alias=_env("METATUTOR_WEBHOOK_PORT"),
        description="a TCP port between 1 and 65535",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=_env("METATUTOR_WEBHOOK_SECRET"),
        description="1-256 characters of A-Z, a-z, 0-9, _ and -",
    )
    log_level: str = Field(
        default="INFO",
        validation_alias=_env("METATUTOR_LOG_LEVEL"),
        description="DEBUG, INFO, WARNING or ERROR",
    )

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _check_token(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if not _TOKEN.match(raw.strip()):
            # The value itself is never echoed: it is a secret even when malformed.
            raise ValueError("malformed token")
        return raw.strip()

    @field_validator("telegram_api_base_url", "telegram_api_file_base_url", "webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("not an http(s) URL")
        return value

    @field_validator("telegram_proxy", mode="before")
    @classmethod
    def _check_proxy(cls, value: Any) -> Any:
        if value is None or not str(value).strip():
            return None
        if not re.match(r"^https?://[^\s/]+", str(value).strip()):
            raise ValueError("not an http(s) proxy URL")
        return str(value).strip()

    @field_validator("database", mode="before")
    @classmethod
    def _check_database(cls, value: Any) -> Any:
        raw = str(value).strip()
        if not raw:
            raise ValueError("empty")
        if _POSTGRES.match(raw):
            missing = postgres_url_problem(raw)
            if missing:
                raise PydanticCustomError(
                    "metatutor_database", "METATUTOR_DATABASE: {problem}", {"problem": missing}
                )
            return raw
        if _URL.match(raw):
            # Taken as a path, a URL would quietly become a folder named after its scheme.
            raise ValueError("a URL of a database metatutor does not use")
        return Path(raw)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(re.fullmatch(r"-?\d+", part) for part in parts):
                raise ValueError("not a list of numbers")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        if not is_valid_zone(value):
            raise ValueError("unknown time zone")
        return value

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        if value not in ("en", "zh"):
            raise ValueError("unsupported language")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("unknown level")
        return level

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _check_secret(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", raw):
            raise ValueError("bad secret")
        return raw

    @model_validator(mode="after")
    def _bypass_proxy(self) -> Settings:
        # A local Bot API server listed in NO_PROXY is reached directly, as httpx would.
        host = urllib.parse.urlsplit(self.telegram_api_base_url).hostname or ""
        if self.telegram_proxy and self.no_proxy and _bypassed(host, self.no_proxy):
            self.telegram_proxy = None
        return self

    @model_validator(mode="after")
    def _check_broadcast(self) -> Settings:
        if self.broadcast_rate > FREE_BROADCAST_RATE and not self.allow_paid_broadcast:
            raise PydanticCustomError(
                "paid_broadcast",
                "METATUTOR_BROADCAST_RATE: {rate} messages a second is above Telegram's free"
                " limit ({free}); set METATUTOR_ALLOW_PAID_BROADCAST=true to pay for it, or"
                " a rate of at most {free}",
                {"rate": f"{self.broadcast_rate:g}", "free": f"{FREE_BROADCAST_RATE:g}"},
            )
        return self

    @property
    def database_shown(self) -> str:
        """The database for messages: the file, or the URL with its password hidden."""
        return str(_shown(str(self.database)))

    @property
    def database_file(self) -> Path:
        """The SQLite file; with PostgreSQL, ``data/postgresql``: a name in the data folder
        that the heartbeat file and the local chat's log are kept beside."""
        if isinstance(self.database, Path):
            return self.database
        return Path("data") / "postgresql"

    @property
    def token(self) -> str | None:
        """The bot token, or None for the local chat."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None


_SECRET_FIELDS = frozenset({"telegram_bot_token", "webhook_secret"})


class SettingsError(Exception):
    """A setting is wrong; the message is one line per variable, never showing secrets."""


def _field_for(location: str) -> tuple[str, str] | None:
    """The (field name, environment variable) an error location points at."""
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else []
        if location == name or location in choices:
            return name, (choices[0] if choices else name.upper())
    return None


def _shown(value: Any) -> Any:
    """A wrong value as an error may show it: a URL's password replaced by ***."""
    return _PASSWORD.sub(r"\1:***@", value) if isinstance(value, str) else value


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into a readable SettingsError."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            found = _field_for(str(problem["loc"][0])) if problem["loc"] else None
            if problem["type"] in ("paid_broadcast", "metatutor_database"):
                lines.append(problem["msg"])  # names its setting itself
                continue
            if found is None:
                lines.append(f"settings: {problem['msg']}")
                continue
            field_name, variable = found
            expected = Settings.model_fields[field_name].description or "a valid value"
            secret = field_name in _SECRET_FIELDS
            got = "" if secret or "input" not in problem else f", got {_shown(problem['input'])!r}"
            lines.append(f"{variable}: expected {expected}{got}")
        raise SettingsError("\n".join(lines)) from None
