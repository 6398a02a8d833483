"""/stats and /report from a bound group: the core side (the Telegram adapter only translates).

An agency's group gets its own scorecard; the secretariat's group gets every agency side by side and
may ask for the periodic report. The text is the answer; charts and documents follow through the
outbox as files, written in the same transaction as the request's reading of the figures.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from bot.agencies import agency_of_chat
from bot.core import Core
from bot.delivery.outbox import enqueue_file
from bot.figures.periods import PeriodError, parse_period
from bot.figures.targets import TargetResult
from bot.figures.text import agency_name, number, percent, scorecard_text, side_by_side_text
from bot.i18n import fmt_date, t
from bot.officer import ActionRefused, Actor
from bot.rules import Rules


def targets_text(rules: Rules, results: list[TargetResult], locale: str = "vi") -> str:
    """Targets as lines: ✅ met, ❌ missed, with the achieved and target percent."""
    if not results:
        return ""
    lines = [t("figures.targets", locale)]
    for r in results:
        title = f"{r.target.title.get(locale)} — {agency_name(rules, r.agency_id, locale)}"
        amount = (lambda v: t("figures.cases", locale, n=number(v, locale))) if r.target.counts else (
            lambda v: percent(v, locale))
        lines.append(t("figures.target_line", locale, mark="✅" if r.met else "❌", title=title,
                       achieved=amount(r.achieved), target=amount(r.goal), ratio=percent(r.ratio, locale)))
    return "\n".join(lines)


async def _agency(core: Core, actor: Actor) -> str:
    async with core.sessions() as session:
        agency_id = await agency_of_chat(session, actor.channel, actor.chat_id)
    if agency_id is None:
        raise ActionRefused("officer.refused.not_bound")
    return agency_id


def _period(core: Core, args: str | None) -> tuple[dt.date, dt.date]:
    try:
        return parse_period(args, core.calendar.today(core.clock.now()))
    except PeriodError as exc:
        raise ActionRefused(exc.key) from None


async def stats(core: Core, actor: Actor, args: str | None = None, locale: str = "vi") -> str:
    """The scorecard text for the actor's agency (all agencies for the secretariat); charts follow."""
    from bot.figures.report import build  # matplotlib loads on the first request, not at start-up

    agency_id = await _agency(core, actor)
    start, end = _period(core, args)
    secretariat = core.rules.agency(agency_id).secretariat
    ids = None if secretariat else [agency_id]
    today = core.calendar.today(core.clock.now())
    async with core.sessions() as session, session.begin():
        report = await build(session, core.rules, core.calendar, start, end, ids,
                             today=today, locale=locale, with_cases=False)
        tag = uuid.uuid4().hex
        for name, png in report.charts.items():
            await enqueue_file(session, channel=actor.channel, chat_id=actor.chat_id, media="photo", data=png,
                               filename=f"{name}.png", key=f"stats:{tag}:{name}", agency_id=agency_id,
                               caption=t(f"figures.chart.{name}", locale))
    text = (side_by_side_text(core.rules, report.cards, report.start, report.end, locale) if secretariat
            else scorecard_text(core.rules, report.cards[0], locale))
    extra = targets_text(core.rules, report.targets, locale)
    return "\n\n".join(part for part in (text, extra, t("figures.charts_queued", locale)) if part)


async def periodic_report(core: Core, actor: Actor, args: str | None = None, locale: str = "vi") -> str:
    """The periodic report as DOCX and XLSX, sent into the secretariat's group; refused elsewhere."""
    from bot.figures.report import build
    from bot.figures.writers import render

    agency_id = await _agency(core, actor)
    if not core.rules.agency(agency_id).secretariat:
        raise ActionRefused("figures.refused.secretariat_only")
    start, end = _period(core, args)
    today = core.calendar.today(core.clock.now())
    async with core.sessions() as session, session.begin():
        report = await build(session, core.rules, core.calendar, start, end,
                             today=today, locale=locale)
        docx = await asyncio.to_thread(render, report, core.rules, "docx", locale)
        xlsx = await asyncio.to_thread(render, report, core.rules, "xlsx", locale)
        tag = uuid.uuid4().hex
        name = f"bao-cao-{report.start}-{report.end}"
        for ext, data in (("docx", docx), ("xlsx", xlsx)):
            await enqueue_file(session, channel=actor.channel, chat_id=actor.chat_id, media="document",
                               data=data, filename=f"{name}.{ext}", key=f"report:{tag}:{ext}",
                               agency_id=agency_id)
    return t("figures.report_queued", locale, start=fmt_date(report.start), end=fmt_date(report.end))
