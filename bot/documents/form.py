"""Who issues and signs the secretariat's documents, and the measurements of the two official forms.

`party`: Hướng dẫn 36-HD/VPTW (2018) of the Party Central Office. `state`: Nghị định 30/2020/NĐ-CP,
Phụ lục I. Both: A4, Times New Roman; the sizes below are the ones those texts set for each part.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.i18n import t
from bot.rules import Rules

A4_CM = (21.0, 29.7)
# The abbreviations of the document types (Nghị định 30/2020, Phụ lục III; Hướng dẫn 36-HD/VPTW); the
# report's comes from the rules' symbol.
TYPE_CODES = {"agenda": "CTr", "invitation": "GM"}


@dataclass(frozen=True)
class Form:
    """One official form's measurements, in cm and points."""

    style: str
    margins_cm: tuple[float, float, float, float]  # top, bottom, left, right
    head_cm: tuple[float, float]  # the two columns of the heading: the issuer's, the motto's
    parent_pt: float  # the parent body, capitals, regular
    issuer_pt: float  # the issuer, capitals, bold
    motto_pt: float  # party: ĐẢNG CỘNG SẢN VIỆT NAM; state: the tiêu ngữ
    nation_pt: float  # state: the quốc hiệu
    number_pt: float
    dated_pt: float  # place and date, italic
    type_pt: float  # the type of document, capitals, bold
    summary_pt: float  # the trích yếu, bold
    body_pt: float
    signer_pt: float
    recipients_label_pt: float
    recipients_pt: float
    page_number_pt: float


FORMS = {
    "party": Form(style="party", margins_cm=(2.0, 2.0, 3.0, 1.5), head_cm=(7.5, 9.0), parent_pt=14,
                  issuer_pt=14, motto_pt=15, nation_pt=15, number_pt=14, dated_pt=14, type_pt=16,
                  summary_pt=14, body_pt=14, signer_pt=14, recipients_label_pt=14, recipients_pt=12,
                  page_number_pt=14),
    "state": Form(style="state", margins_cm=(2.0, 2.0, 3.0, 1.5), head_cm=(6.0, 10.5), parent_pt=13,
                  issuer_pt=13, motto_pt=14, nation_pt=13, number_pt=13, dated_pt=14, type_pt=14,
                  summary_pt=14, body_pt=14, signer_pt=14, recipients_label_pt=12, recipients_pt=11,
                  page_number_pt=14),
}


@dataclass(frozen=True)
class Letterhead:
    """The issuer's side of a document in one language: who issues it, under whom, where, who signs."""

    form: Form
    issuer: str
    parent: str | None
    report_code: str  # the report's type abbreviation, "BC"
    issuer_code: str | None  # "BNC"; None: the symbol is left for the secretariat to write
    signer_title: str
    place: str
    locale: str

    def number(self, kind: str) -> str:
        """The number and symbol with a blank for the number, as each form writes it."""
        code = self.report_code if kind == "report" else TYPE_CODES[kind]
        if self.issuer_code is None:
            return t("documents.number_unset", self.locale)
        return t(f"documents.{self.form.style}.number", self.locale, type=code, issuer=self.issuer_code)

    def dated(self, day: dt.date) -> str:
        """Place and date; days below 10 and the months January and February take a leading zero."""
        month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
        return t("documents.dated", self.locale, place=self.place, day=f"{day.day:02d}", month=month,
                 year=day.year)


def letterhead(rules: Rules, locale: str = "vi") -> Letterhead:
    """The rules' `documents` section in `locale`; without one, the state form headed by the secretariat
    agency with the symbol and signer left blank."""
    spec = rules.documents
    if spec is None:
        agency = next((a for a in rules.agencies if a.secretariat), rules.agencies[0])
        return Letterhead(FORMS["state"], agency.name.get(locale), None, "BC", None, "",
                          rules.province.name.get(locale), locale)
    report_code = spec.symbol.replace("/", "-").split("-", 1)[0]
    return Letterhead(FORMS[spec.style], spec.issuer.get(locale), spec.parent.get(locale) if spec.parent
                      else None, report_code, spec.issuer_code, spec.signer_title.get(locale),
                      spec.place.get(locale), locale)
