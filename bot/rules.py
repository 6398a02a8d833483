"""The coordination rules of one province (quy chế phối hợp) as validated data.

The YAML file holds agencies, fields, routing rules, deadline policies and meeting schedules. Loading
validates everything and reports problems as `FILE:LINE: message`, so a broken file never starts the bot.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.kinds import KINDS


class Text(BaseModel):
    """A text in Vietnamese (required) and English (falls back to Vietnamese)."""

    model_config = ConfigDict(extra="forbid")
    vi: str
    en: str | None = None

    def get(self, locale: str) -> str:
        return (self.en or self.vi) if locale == "en" else self.vi


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgencySpec(_Strict):
    id: str
    name: Text
    short: Text | None = None
    role: str | None = None
    secretariat: bool = False  # receives meeting reminders and escalations
    chats: dict[str, str] = Field(default_factory=dict)  # channel -> chat id, bound from the file


class FieldSpec(_Strict):
    id: str
    name: Text
    keywords: list[str] = Field(default_factory=list)


class AddAgency(_Strict):
    """A co-operating agency added when some words occur (e.g. `cong-an` on signs of a crime)."""

    agency: str
    when_any: list[str]
    reason: Text


class RoutingRule(_Strict):
    id: str
    title: Text
    kinds: list[str] = Field(default_factory=lambda: list(KINDS))  # kinds this rule may apply to
    when_any: list[str] = Field(default_factory=list)  # words or @vocabulary lists; empty = catch-all
    unless_any: list[str] = Field(default_factory=list)
    lead: str
    cooperating: list[str] = Field(default_factory=list)
    add: list[AddAgency] = Field(default_factory=list)
    deadline_policy: str | None = None  # overrides the kind's policy (e.g. party discipline)


class Stage(_Strict):
    id: str
    name: Text
    days: int = Field(gt=0)
    unit: Literal["working_days", "calendar_days"]
    start: Literal["received", "accepted", "previous"] = "received"
    complex_days: int | None = Field(default=None, gt=0)  # longer limit for complex cases
    max_extensions: int = Field(default=0, ge=0)
    extension_days: int | None = Field(default=None, gt=0)
    extension_unit: Literal["working_days", "calendar_days", "months"] | None = None


class DeadlinePolicy(_Strict):
    id: str
    kinds: list[str] = Field(default_factory=list)  # kinds it applies to by default
    basis: str  # the legal basis, e.g. "Luật Khiếu nại 2011, Điều 27-28"
    valid_from: dt.date
    valid_to: dt.date | None = None
    stages: list[Stage]


class MeetingSchedule(_Strict):
    id: str
    title: Text
    agencies: list[str]
    chair: str
    rrule: str  # RFC 5545 recurrence rule, read with python-dateutil
    start: dt.date
    basis: str | None = None
    remind_days_before: list[int] = Field(default_factory=lambda: [7, 1])


class Province(_Strict):
    id: str
    name: Text


class Rules(_Strict):
    province: Province
    agencies: list[AgencySpec]
    fields: list[FieldSpec] = Field(default_factory=list)
    vocabulary: dict[str, list[str]] = Field(default_factory=dict)
    routing: list[RoutingRule]
    deadlines: list[DeadlinePolicy] = Field(default_factory=list)
    meetings: list[MeetingSchedule] = Field(default_factory=list)

    def agency(self, agency_id: str) -> AgencySpec:
        for agency in self.agencies:
            if agency.id == agency_id:
                return agency
        raise KeyError(agency_id)

    def field(self, field_id: str) -> FieldSpec:
        for field in self.fields:
            if field.id == field_id:
                return field
        raise KeyError(field_id)


class RulesError(Exception):
    """The rules file is invalid; `problems` are `FILE:LINE: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_rules(path: str | Path) -> Rules:
    """Read and validate a rules file; raise RulesError listing every problem found."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError([f"{path}:0: cannot read: {exc.strerror}"]) from exc
    return Rules.model_validate(data)
