"""/stats: a short summary and a chart."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.charts import stats_chart
from bot.handlers.common import (
    Context,
    guarded,
    log,
    reply,
    service_of,
    started_student,
)
from bot.handlers.delivery import send_file
from bot.i18n import Html, t
from tutor.views import StudentStats


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _nothing_yet(stats: StudentStats) -> bool:
    """No answer this week and nothing learned: a new student, whose numbers are all 0."""
    return stats.answers_week == 0 and stats.items_learned == 0


def stats_text(lang: str, stats: StudentStats) -> Html:
    """The numbers of /stats as a message."""
    lines: list[str] = [
        t(lang, "stats.header"),
        t(
            lang,
            "stats.body",
            today=stats.answers_today,
            week=stats.answers_week,
            accuracy=_percent(stats.accuracy_week)
            if stats.accuracy_week is not None
            else t(lang, "stats.no_accuracy"),
            streak=stats.streak_days,
            learned=stats.items_learned,
            total=stats.items_total,
        ),
    ]
    if _nothing_yet(stats):
        key = "stats.nothing_yet" if stats.items_total else "stats.nothing_yet_no_deck"
        lines += ["", t(lang, key)]
    if stats.recall_by_tag:
        lines += ["", t(lang, "stats.tags_header")]
        ranked = sorted(stats.recall_by_tag, key=lambda r: (-r.n_items, r.tag))[:10]
        lines += [t(lang, "stats.tag_line", tag=r.tag, recall=_percent(r.recall)) for r in ranked]
    for exam in stats.exams:
        lines += [
            "",
            t(
                lang,
                "stats.exam_line",
                deck=exam.deck_name,
                date=exam.exam_date.isoformat(),
                recall=_percent(exam.expected_recall),
                minutes=round(exam.minutes_per_day),
                higher_recall=_percent(exam.higher_expected_recall),
                higher_minutes=round(exam.higher_minutes_per_day),
            ),
        ]
    return Html("\n".join(lines))


@guarded
async def stats_command(update: Update, context: Context) -> None:
    """/stats: the summary text, then the chart as a photo."""
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    stats = await service_of(context).stats(student.id)
    await reply(update, stats_text(lang, stats))
    try:
        # Drawing takes a few hundred milliseconds of CPU: keep it off the event loop.
        png = await asyncio.to_thread(stats_chart, stats, lang)
    except Exception:  # a chart is a nicety; the numbers were already sent
        log.exception("stats chart failed for user %s", student.id)
        await reply(update, t(lang, "stats.chart_failed"))
        return
    caption = t(lang, "stats.chart_caption")
    await send_file(update, lang, "photo", png, caption=caption, failed="send_failed.chart")
