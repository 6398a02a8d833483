"""Documents a secretariat prints, edits or imports: the agenda as DOCX (python-docx) and the meeting
as an .ics invitation (icalendar) that calendar applications import and update by its UID."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

from bot.core import Core
from bot.i18n import fmt_date, t
from bot.secretariat.common import agency_name, fmt_when, secretariat_id
from storage.models import Meeting

if TYPE_CHECKING:
    from bot.secretariat.agenda import Agenda

DURATION = dt.timedelta(hours=2)


def agenda_docx(core: Core, agenda: Agenda, locale: str = "vi") -> bytes:
    from bot.secretariat.agenda import decision_line

    meeting = agenda.meeting
    from docx import Document  # imported when a document is made: it slows the bot's start-up

    doc = Document()
    doc.add_heading(t("secretariat.agenda.title", locale, title=meeting.title), level=1)
    doc.add_paragraph(t("secretariat.doc.when", locale, when=fmt_when(core, meeting.starts_at)))
    doc.add_paragraph(
        t("secretariat.doc.place", locale, place=meeting.place or t("secretariat.meeting.no_place"))
    )
    doc.add_paragraph(
        t(
            "secretariat.doc.chair",
            locale,
            chair=agency_name(core, meeting.chair or secretariat_id(core), locale, short=False),
        )
    )
    doc.add_paragraph(
        t("secretariat.agenda.period", locale, start=fmt_date(agenda.start), end=fmt_date(agenda.end))
    )

    doc.add_heading(t("secretariat.agenda.part_figures", locale), level=2)
    columns = [
        "agency",
        "received",
        "accepted",
        "transferred_in",
        "transferred_out",
        "resolved",
        "rejected",
        "overdue",
        "on_time",
        "first_action",
        "watched",
        "investigating",
    ]
    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, columns, strict=True):
        cell.text = t(f"secretariat.doc.col.{column}", locale)
    for f in agenda.figures:
        values = [
            agency_name(core, f.agency_id, locale),
            f.received,
            f.accepted,
            f.transferred_in,
            f.transferred_out,
            f.resolved,
            f.rejected,
            f.overdue,
            "—" if f.on_time_percent is None else f"{f.on_time_percent:g}%",
            "—" if f.median_days_to_first_action is None else f"{f.median_days_to_first_action:g}",
            f.watched,
            f.investigating,
        ]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = str(value)
    for f in agenda.figures:
        oldest = ", ".join(f"{code} ({fmt_date(day)})" for code, day in f.oldest_open) or "—"
        doc.add_paragraph(
            t("secretariat.doc.oldest", locale, agency=agency_name(core, f.agency_id, locale), cases=oldest)
        )

    doc.add_heading(t("secretariat.agenda.part_decisions", locale), level=2)
    for d in agenda.decisions:
        doc.add_paragraph(decision_line(core, d, locale), style="List Bullet")
    if not agenda.decisions:
        doc.add_paragraph(t("secretariat.agenda.none", locale))
    doc.add_heading(t("secretariat.agenda.part_items", locale), level=2)
    for item in agenda.items:
        doc.add_paragraph(item, style="List Number")
    if not agenda.items:
        doc.add_paragraph(t("secretariat.agenda.none", locale))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def invitation_ics(core: Core, meeting: Meeting) -> bytes:
    """An iCalendar invitation; the SEQUENCE follows reschedules and a cancelled meeting says so."""
    assert meeting.starts_at is not None
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", f"-//{core.rules.province.id}//coordination bot//VI")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if meeting.status == "cancelled" else "REQUEST")
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{core.rules.province.id}")
    event.add("dtstamp", core.clock.now())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.starts_at + DURATION)
    event.add("sequence", meeting.version)
    event.add("summary", meeting.title)
    if meeting.place:
        event.add("location", meeting.place)
    names = ", ".join(agency_name(core, a, short=False) for a in meeting.agencies)
    event.add(
        "description",
        t(
            "secretariat.doc.ics_description",
            agencies=names,
            chair=agency_name(core, meeting.chair or secretariat_id(core), short=False),
        ),
    )
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical()
