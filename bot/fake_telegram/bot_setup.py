"""Bot API methods of the offline fake that configure the bot: commands, menu, webhook, updates."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.fake_telegram.objects import ApiCall, ApiError

if TYPE_CHECKING:
    from bot.fake_telegram.api import FakeBotApi

_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    key = str(scope.get("type", "default"))
    if "chat_id" in scope:
        key += f":{scope['chat_id']}"
    return key, str(params.get("language_code") or "")


def set_my_commands(fake: FakeBotApi, call: ApiCall) -> Any:
    commands = call.params.get("commands") or []
    if len(commands) > 100:
        raise ApiError(400, "Bad Request: too many commands")
    parsed: list[tuple[str, str]] = []
    for item in commands:
        name, description = str(item.get("command", "")), str(item.get("description", ""))
        if not _COMMAND_NAME.match(name):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise ApiError(400, "Bad Request: command description must be 1-256 characters")
        parsed.append((name, description))
    fake.commands[_scope_key(call.params)] = parsed
    return True


def get_my_commands(fake: FakeBotApi, call: ApiCall) -> Any:
    stored = fake.commands.get(_scope_key(call.params), [])
    return [{"command": c, "description": d} for c, d in stored]


def delete_my_commands(fake: FakeBotApi, call: ApiCall) -> Any:
    fake.commands.pop(_scope_key(call.params), None)
    return True


def set_chat_menu_button(fake: FakeBotApi, call: ApiCall) -> Any:
    chat_id = call.params.get("chat_id")
    button = call.params.get("menu_button") or {"type": "default"}
    fake.menu_buttons[None if chat_id is None else int(chat_id)] = button
    return True


def get_chat_menu_button(fake: FakeBotApi, call: ApiCall) -> Any:
    chat_id = call.params.get("chat_id")
    key = None if chat_id is None else int(chat_id)
    return fake.menu_buttons.get(key, fake.menu_buttons.get(None, {"type": "commands"}))


def set_webhook(fake: FakeBotApi, call: ApiCall) -> Any:
    fake.webhook_url = str(call.params.get("url", ""))
    fake.webhook_secret = str(call.params.get("secret_token") or "")
    return True


def delete_webhook(fake: FakeBotApi, call: ApiCall) -> Any:
    fake.webhook_url = ""
    fake.webhook_secret = ""
    if call.params.get("drop_pending_updates"):
        fake._pending_updates.clear()
    return True


def get_webhook_info(fake: FakeBotApi, call: ApiCall) -> Any:
    return {
        "url": fake.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(fake._pending_updates),
    }


def get_updates(fake: FakeBotApi, call: ApiCall) -> Any:
    if fake.webhook_url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = call.params.get("offset")
    limit = int(call.params.get("limit") or 100)
    return fake.take_updates(None if offset is None else int(offset), limit)


def always_true(fake: FakeBotApi, call: ApiCall) -> Any:
    return True
