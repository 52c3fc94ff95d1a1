"""Groups and quiz polls in the offline Bot API fake, with Telegram's rules.

* ``sendPoll`` (the current Bot API: 2-12 options for a quiz, question 1-300 characters,
  options 1-100, explanation 0-200 with at most two line feeds, ``open_period`` 5-2628000 s,
  ``correct_option_ids`` (or the older ``correct_option_id``) required for a quiz and within
  the options) and ``stopPoll``; a user's vote (:meth:`GroupUpdates.user_poll_answer`)
  is refused, as Telegram's app refuses it, once the poll is closed, and a quiz answer cannot
  be changed; a non-anonymous poll's vote reaches the bot as a ``poll_answer`` update.
* ``my_chat_member`` updates when the bot is added to or removed from a group; once removed,
  everything sent there fails with 403.
* ``getChatMember`` / ``getChatAdministrators`` answer from the statuses tests set.
* A group upgraded to a supergroup (:meth:`GroupUpdates.migrate_group`): the service
  messages with ``migrate_to_chat_id`` / ``migrate_from_chat_id``, and sends to the old id
  fail with the migration error (``ChatMigrated`` in PTB).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.fake_telegram import methods
from bot.fake_telegram.objects import ApiCall, FakeChat, FakePoll, FakeUser, SentMessage

if TYPE_CHECKING:
    from bot.fake_telegram.api import FakeBotApi

MIN_OPTIONS, MAX_OPTIONS = 2, 12
MAX_QUESTION, MAX_OPTION, MAX_EXPLANATION, MAX_EXPLANATION_FEEDS = 300, 100, 200, 2
MIN_OPEN, MAX_OPEN = 5, 2_628_000
ADMIN_STATUSES = ("creator", "administrator")
GONE_STATUSES = ("left", "kicked")


class PollClosed(LookupError):
    """The poll no longer takes votes: Telegram's app would not let the user vote."""


class AlreadyVoted(LookupError):
    """A quiz answer cannot be changed."""


class GroupUpdates:
    """Builders of group-side updates; state lives in the class this is mixed into."""

    bot_id: int
    members: dict[int, dict[int, str]]
    bot_status: dict[int, str]
    migrated: dict[int, int]
    known_users: dict[int, dict[str, Any]]
    _chats: dict[int, Any]

    def _take_message_id(self, chat_id: int) -> int:
        raise NotImplementedError

    def _wrap(self, body: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _register_chat(self, user: FakeUser, chat: FakeChat | None) -> dict[str, Any]:
        raise NotImplementedError

    def _user_message_json(
        self, user: FakeUser, chat: FakeChat | None, reply_to: SentMessage | None
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _bot_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def now(self) -> float:
        raise NotImplementedError

    def _now(self) -> int:
        raise NotImplementedError

    # -- forum topics -----------------------------------------------------------------------------

    def open_topic(self, chat: FakeChat) -> int:
        """A new topic in a forum supergroup the fake knows; its thread id (as in Telegram,
        the id of the message that created it)."""
        if not chat.is_forum:
            raise ValueError(f"{chat.title} is not a forum")
        thread_id = self._take_message_id(chat.id)
        self._chats[chat.id].topics.add(thread_id)
        return thread_id

    def delete_topic(self, chat: FakeChat, thread_id: int) -> None:
        """An admin deletes the topic: sending there fails from now on."""
        self._chats[chat.id].topics.discard(thread_id)

    # -- membership -----------------------------------------------------------------------------

    def set_member(self, chat: FakeChat, user: FakeUser, status: str = "member") -> None:
        """Make ``user`` a member of ``chat`` with ``status`` (creator, administrator,
        member, left, kicked), as the group's own admins would."""
        self._register_chat(user, chat)
        self.known_users[user.id] = user.to_json()
        self.members.setdefault(chat.id, {})[user.id] = status

    def _member_change(self, chat: FakeChat, by: FakeUser, old: str, new: str) -> dict[str, Any]:
        chat_json = self._register_chat(by, chat)
        self.known_users[by.id] = by.to_json()
        self.members.setdefault(chat.id, {}).setdefault(by.id, "member")
        self.bot_status[chat.id] = new
        bot = self._bot_json()
        return self._wrap(
            {
                "my_chat_member": {
                    "chat": chat_json,
                    "from": by.to_json(),
                    "date": self._now(),
                    "old_chat_member": _member_json(bot, old),
                    "new_chat_member": _member_json(bot, new),
                }
            }
        )

    def bot_added(self, chat: FakeChat, by: FakeUser, *, admin: bool = False) -> dict[str, Any]:
        """``by`` adds the bot to ``chat``: a ``my_chat_member`` update."""
        return self._member_change(
            chat, by, self.bot_status.get(chat.id, "left"), "administrator" if admin else "member"
        )

    def bot_removed(self, chat: FakeChat, by: FakeUser) -> dict[str, Any]:
        """``by`` removes the bot from ``chat``: a ``my_chat_member`` update; every later
        message to the chat fails with 403."""
        return self._member_change(chat, by, self.bot_status.get(chat.id, "member"), "kicked")

    def migrate_group(
        self, chat: FakeChat, supergroup: FakeChat, by: FakeUser
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Telegram upgrades ``chat`` to ``supergroup``: the service message in the old chat
        (``migrate_to_chat_id``) and the first one in the new (``migrate_from_chat_id``).
        Members and the bot move along; sends to the old id fail from now on."""
        old = self._user_message_json(by, chat, None)
        old["migrate_to_chat_id"] = supergroup.id
        self.migrated[chat.id] = supergroup.id
        new = self._user_message_json(by, supergroup, None)
        new["migrate_from_chat_id"] = chat.id
        self.members[supergroup.id] = dict(self.members.get(chat.id, {}))
        if chat.id in self.bot_status:
            self.bot_status[supergroup.id] = self.bot_status[chat.id]
        return self._wrap({"message": old}), self._wrap({"message": new})

    # -- votes ----------------------------------------------------------------------------------

    def user_poll_answer(
        self, user: FakeUser, message: SentMessage, options: int | list[int]
    ) -> dict[str, Any]:
        """``user`` votes in the poll of ``message``: a ``poll_answer`` update.

        Raises:
            PollClosed: the poll is closed (stopped, or its open period is over).
            AlreadyVoted: ``user`` answered this quiz already.
            LookupError: the message shows no poll, or the option does not exist.
        """
        poll = message.poll
        if poll is None or message.deleted:
            raise LookupError(f"message {message.message_id} shows no poll")
        if poll.closed_at(self.now()):
            raise PollClosed(f"poll {poll.id} is closed")
        chosen = [options] if isinstance(options, int) else list(options)
        if len(chosen) != 1 or not 0 <= chosen[0] < len(poll.options):
            raise LookupError(f"no option {options!r} in poll {poll.id}")
        if user.id in poll.votes and poll.type == "quiz":
            raise AlreadyVoted(f"{user.first_name} answered poll {poll.id} already")
        if poll.is_anonymous:
            raise LookupError("an anonymous poll's votes do not reach the bot")
        poll.votes[user.id] = chosen
        self.known_users[user.id] = user.to_json()
        self.members.setdefault(message.chat_id, {}).setdefault(user.id, "member")
        return self._wrap(
            {
                "poll_answer": {
                    "poll_id": poll.id,
                    "user": user.to_json(),
                    "option_ids": chosen,
                    "option_persistent_ids": [str(k) for k in chosen],
                }
            }
        )


def _member_json(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ``ChatMember`` object of the given status."""
    data: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": False,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
            }
        )
    elif status == "kicked":
        data["until_date"] = 0
    return data


# -- methods ----------------------------------------------------------------------------------


def _option_texts(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise methods._error("Bad Request: options must be a JSON array")
    texts = []
    for option in raw:
        text = option.get("text") if isinstance(option, dict) else option
        texts.append(str(text) if text is not None else "")
    return texts


def send_poll(fake: FakeBotApi, call: ApiCall) -> Any:
    params = call.params
    chat_id = methods._chat_id(fake, params)
    question = str(params.get("question") or "")
    options = _option_texts(params.get("options"))
    kind = str(params.get("type") or "regular")
    if not 1 <= len(question) <= MAX_QUESTION:
        raise methods._error("Bad Request: POLL_QUESTION_INVALID")
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise methods._error("Bad Request: POLL_ANSWERS_INVALID")
    if any(not 1 <= len(text) <= MAX_OPTION for text in options):
        raise methods._error("Bad Request: POLL_ANSWER_INVALID")
    if len(set(options)) != len(options):
        raise methods._error("Bad Request: POLL_OPTION_DUPLICATE")
    correct = params.get("correct_option_ids")
    if correct is None and params.get("correct_option_id") is not None:
        correct = [params["correct_option_id"]]
    if kind == "quiz":
        if not isinstance(correct, list) or not correct:
            raise methods._error("Bad Request: wrong correct option specified")
        if any(not isinstance(k, int) or not 0 <= k < len(options) for k in correct):
            raise methods._error("Bad Request: wrong correct option specified")
    elif correct:
        raise methods._error("Bad Request: correct options can be specified only for quizzes")
    explanation = params.get("explanation")
    if explanation is not None:
        explanation = str(explanation)
        if len(explanation) > MAX_EXPLANATION or explanation.count("\n") > MAX_EXPLANATION_FEEDS:
            raise methods._error("Bad Request: explanation is too long")
    period = params.get("open_period")
    close_date = None
    if period is not None:
        period = int(period)
        if not MIN_OPEN <= period <= MAX_OPEN:
            raise methods._error("Bad Request: POLL_CLOSE_PERIOD_INVALID")
        close_date = fake._now() + period
    message = methods._new_message(fake, call, chat_id, None)
    message.poll = FakePoll(
        id=f"{5_000_000_000 + len(fake.polls) + 1}",
        question=question,
        options=options,
        type=kind,
        is_anonymous=params.get("is_anonymous", True) is not False,
        correct_option_ids=list(correct or []),
        explanation=explanation,
        open_period=period,
        close_date=close_date,
    )
    fake.polls[message.poll.id] = message
    return methods._store(fake, call, message)


def stop_poll(fake: FakeBotApi, call: ApiCall) -> Any:
    message = methods._live_message(fake, call.params, "stop")
    poll = message.poll
    if poll is None:
        raise methods._error("Bad Request: message with poll to stop not found")
    if poll.closed_at(fake.now()):
        raise methods._error("Bad Request: poll has already been closed")
    poll.is_closed = True
    message.edited = True
    call.message = message
    return poll.to_json(fake.now())


def get_chat_member(fake: FakeBotApi, call: ApiCall) -> Any:
    chat_id = methods._chat_id(fake, call.params)
    user_id = int(call.params.get("user_id", 0))
    if user_id == fake.bot_id:
        return _member_json(fake._bot_json(), fake.bot_status.get(chat_id, "member"))
    user = fake.known_users.get(user_id)
    if user is None:
        raise methods._error("Bad Request: user not found")
    return _member_json(user, fake.members.get(chat_id, {}).get(user_id, "left"))


def get_chat_administrators(fake: FakeBotApi, call: ApiCall) -> Any:
    chat_id = methods._chat_id(fake, call.params)
    if chat_id > 0:
        raise methods._error("Bad Request: there are no administrators in the private chat")
    admins = [
        _member_json(fake.known_users[user_id], status)
        for user_id, status in fake.members.get(chat_id, {}).items()
        if status in ADMIN_STATUSES and user_id in fake.known_users
    ]
    if fake.bot_status.get(chat_id) == "administrator":
        admins.append(_member_json(fake._bot_json(), "administrator"))
    return admins


METHODS: dict[str, methods.Method] = {
    "sendPoll": send_poll,
    "stopPoll": stop_poll,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
}
methods.METHODS.update(METHODS)
