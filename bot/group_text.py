"""What a group reads: poll texts, the one-line results, a quiz's ranking, /top and settings."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import Html, listed, plain, t
from bot.timezones import local_time_text
from tutor.group_quiz import PollResult, PollToSend, QuizEnd, Step
from tutor.groups import Group, GroupOverview, Ranking, RankLine
from tutor.policy.group import GroupReason

MAX_QUESTION = 300
MEDALS = ("🥇", "🥈", "🥉")


def poll_labels(lang: str, options: tuple[str, ...], true_false: bool) -> tuple[str, ...]:
    """A poll's options as the group reads them (true/false in the group's language)."""
    if true_false:
        return (plain(lang, "button.true"), plain(lang, "button.false"))
    return options


def poll_question(poll: PollToSend) -> str:
    """The poll's question with its number ("2/5 · ..."), when that still fits."""
    numbered = f"{poll.number}/{poll.total} · {poll.question}"
    return numbered if len(numbered) <= MAX_QUESTION else poll.question


def _reason(lang: str, poll_reason: GroupReason | None, count: int, audience: int) -> str:
    if poll_reason is None or audience <= 0 or poll_reason is GroupReason.PRACTICE:
        return ""
    return plain(lang, f"group.reason.{poll_reason.value}", count=count, audience=audience)


def result_line(lang: str, result: PollResult) -> Html:
    """One short line after a poll closed, with why the question was asked."""
    right = result.right_option
    if result.true_false:
        right = plain(lang, "button.true" if right == "true" else "button.false")
    reason = _reason(lang, result.reason, result.count, result.audience)
    key = "group.result" if result.answered else "group.result_nobody"
    line = t(
        lang,
        key,
        number=result.number,
        total=result.total,
        correct=result.correct,
        answered=result.answered,
        answer=right,
    )
    return Html(f"{line} {t(lang, 'group.reason_suffix', reason=reason)}" if reason else line)


def scores_text(lang: str, scores: list[tuple[str, int, int]], limit: int = 10) -> list[str]:
    """Ranking lines: medal or place, first name, right of answered."""
    lines: list[str] = []
    for place, (name, right, answered) in enumerate(scores[:limit]):
        mark = MEDALS[place] if place < len(MEDALS) else f"{place + 1}."
        lines.append(t(lang, "group.score_line", place=mark, name=name, right=right, of=answered))
    return lines


def end_text(lang: str, end: QuizEnd) -> Html:
    """The quiz's end: how many questions, and the members' ranking."""
    key = "group.end_ran_out" if end.ran_out else "group.end"
    lines: list[str] = [t(lang, key, asked=end.asked)]
    lines += scores_text(lang, end.scores) or [t(lang, "group.end_nobody")]
    return Html("\n".join(lines))


def step_text(step: Step) -> Html | None:
    """The message a quiz step sends before its poll: the last poll's result line, and at
    the end the ranking with it (one message, not two)."""
    lang = step.language
    parts: list[str] = []
    if step.result is not None:
        parts.append(result_line(lang, step.result))
    if step.end is not None:
        parts.append(end_text(lang, step.end))
    return Html("\n\n".join(parts)) if parts else None


def _rank_lines(lang: str, lines: list[RankLine]) -> list[str]:
    out: list[str] = []
    for place, line in enumerate(lines):
        mark = MEDALS[place] if place < len(MEDALS) else f"{place + 1}."
        streak = t(lang, "group.streak", days=line.streak) if line.streak > 1 else ""
        out.append(
            t(
                lang,
                "group.top_line",
                place=mark,
                name=line.first_name,
                right=line.correct,
                of=line.answered,
                streak=streak,
            ).rstrip()
        )
    return out


def top_text(lang: str, ranking: Ranking) -> Html:
    """/top: this week's ranking, then the all-time one."""
    if not ranking.all_time:
        return t(lang, "group.top_empty")
    parts: list[str] = [t(lang, "group.top_week")]
    parts += _rank_lines(lang, ranking.week) or [t(lang, "group.top_week_empty")]
    parts += ["", t(lang, "group.top_all")]
    parts += _rank_lines(lang, ranking.all_time)
    return Html("\n".join(parts))


def settings_text(lang: str, group: Group, deck_names: list[str]) -> Html:
    """/group_settings: the group's settings, and how to change the typed ones."""
    off = plain(lang, "group.off")
    return t(
        lang,
        "group.settings",
        title=group.title,
        decks=listed(lang, deck_names) if deck_names else plain(lang, "group.no_decks_yet"),
        time=group.daily_quiz_time.strftime("%H:%M") if group.daily_quiz_time else off,
        timezone=group.timezone,
        length=group.daily_length,
        seconds=group.question_seconds,
        exam=group.exam_date.isoformat() if group.exam_date else off,
        members=plain(lang, "group.on" if group.members_start else "group.off"),
        language=plain(lang, f"language.{group.language}"),
    )


def group_lines(groups: list[GroupOverview], limit: int = 20, lang: str = "en") -> list[str]:
    """The groups as the bot's admins read them (plain text, in ``lang``; the CLI's are
    English): members who answered this week, quizzes, accuracy."""
    lines = []
    for group in groups[:limit]:
        accuracy = f"{group.accuracy:.0%}" if group.accuracy is not None else "–"
        lines.append(
            plain(
                lang,
                "admin.group_line",
                group=group.title or group.id,
                removed="" if group.active else plain(lang, "admin.group_removed"),
                members=group.members_week,
                quizzes=group.quizzes_week,
                quizzes_total=group.quizzes_total,
                answers=group.answers_week,
                accuracy=accuracy,
            )
        )
    if len(groups) > limit:
        lines.append(plain(lang, "admin.groups_more", n=len(groups) - limit))
    return lines


def zone_line(lang: str, group: Group, now: datetime, *, new: bool, adder: str | None) -> Html:
    """Which time zone the group's daily quiz follows, and how to change it: taken from the
    admin who added the bot (``adder``, when the tutor knows their zone), else a question."""
    params = {"zone": group.timezone, "now": local_time_text(group.timezone, now)}
    if not new:
        return t(lang, "group.zone_kept", **params)
    if adder is not None:
        return t(lang, "group.zone_from_adder", name=adder, **params)
    return t(lang, "group.zone_ask", **params)
