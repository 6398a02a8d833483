"""Documents a secretariat prints, signs, edits or imports: the agenda and the invitation (giấy mời) as
DOCX in the official form of its rules (`bot.documents`), and the meeting as an .ics invitation
(icalendar) that calendar applications import and update by its UID."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bot.core import Core
from bot.documents.form import letterhead
from bot.i18n import fmt_date, t
from bot.secretariat.agency_figures import AgencyFigures
from bot.secretariat.common import agency_name, fmt_when, secretariat_id
from storage.models import Meeting

if TYPE_CHECKING:
    from bot.secretariat.agenda import Agenda

DURATION = dt.timedelta(hours=2)


COLUMNS = ("agency", "received", "accepted", "transferred_in", "transferred_out", "resolved", "rejected",
           "overdue", "on_time", "first_action", "watched", "investigating")


def _figures_row(core: Core, f: AgencyFigures, locale: str) -> list[str]:
    return [
        agency_name(core, f.agency_id, locale), str(f.received), str(f.accepted), str(f.transferred_in),
        str(f.transferred_out), str(f.resolved), str(f.rejected), str(f.overdue),
        "—" if f.on_time_percent is None else f"{f.on_time_percent:g}%",
        "—" if f.median_days_to_first_action is None else f"{f.median_days_to_first_action:g}",
        str(f.watched), str(f.investigating),
    ]


def _meeting_lines(core: Core, meeting: Meeting, locale: str) -> list[str]:
    """When, where and who chairs, as the agenda and the invitation both state them."""
    place = meeting.place or t("secretariat.meeting.no_place", locale)
    chair = agency_name(core, meeting.chair or secretariat_id(core), locale, short=False)
    return [t("secretariat.doc.when", locale, when=fmt_when(core, meeting.starts_at)),
            t("secretariat.doc.place", locale, place=place), t("secretariat.doc.chair", locale, chair=chair)]


def _invited(core: Core, meeting: Meeting, locale: str) -> list[str]:
    """The participating agencies other than the secretariat, which invites them, by full name."""
    host = secretariat_id(core)
    return [agency_name(core, a, locale, short=False) for a in meeting.agencies if a != host]


def agenda_docx(core: Core, agenda: Agenda, locale: str = "vi") -> bytes:
    """The agenda in the secretariat's official form: "CHƯƠNG TRÌNH" and the meeting's title, when and
    where, the figures by agency (on a landscape page when wide), open decisions, the items added."""
    from bot.documents.official import OfficialDocument  # python-docx loads with the first document
    from bot.secretariat.agenda import decision_line

    meeting = agenda.meeting
    doc = OfficialDocument(letterhead(core.rules, locale))
    doc.heading_block("agenda", agenda.end, t("secretariat.doc.agenda_type", locale), [meeting.title])
    for line in _meeting_lines(core, meeting, locale):
        doc.paragraph(line)
    doc.heading(t("secretariat.agenda.part_figures", locale))
    doc.table([t(f"secretariat.doc.col.{c}", locale) for c in COLUMNS],
              [_figures_row(core, f, locale) for f in agenda.figures],
              t("secretariat.agenda.period", locale, start=fmt_date(agenda.start), end=fmt_date(agenda.end)))
    for f in agenda.figures:
        oldest = ", ".join(f"{code} ({fmt_date(day)})" for code, day in f.oldest_open) or "—"
        doc.paragraph(t("secretariat.doc.oldest", locale, agency=agency_name(core, f.agency_id, locale),
                        cases=oldest))
    doc.heading(t("secretariat.agenda.part_decisions", locale))
    for d in agenda.decisions:
        doc.item(decision_line(core, d, locale))
    if not agenda.decisions:
        doc.paragraph(t("secretariat.agenda.none", locale))
    doc.heading(t("secretariat.agenda.part_items", locale))
    for item in agenda.items:
        doc.item(item, numbered=True)
    if not agenda.items:
        doc.paragraph(t("secretariat.agenda.none", locale))
    doc.closing(_invited(core, meeting, locale))
    return doc.to_bytes()


def invitation_docx(core: Core, meeting: Meeting, day: dt.date, locale: str = "vi") -> bytes:
    """The giấy mời in the secretariat's official form: who is invited, to what, when, where, who chairs;
    sent to the invited agencies ("Như trên")."""
    from bot.documents.official import OfficialDocument

    head = letterhead(core.rules, locale)
    doc = OfficialDocument(head)
    doc.heading_block("invitation", day, t("secretariat.doc.invitation_type", locale), [meeting.title])
    doc.paragraph(t("secretariat.doc.invites", locale, issuer=head.issuer))
    for name in _invited(core, meeting, locale):
        doc.item(t("secretariat.doc.invitee", locale, agency=name))
    doc.paragraph(t("secretariat.doc.to_attend", locale, title=meeting.title))
    for line in _meeting_lines(core, meeting, locale):
        doc.paragraph(line)
    doc.paragraph(t("secretariat.doc.confirm", locale))
    doc.closing([t("secretariat.doc.as_above", locale)])
    return doc.to_bytes()


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
