"""A rules mistake that breaks deadlines never loses a report: it is filed undated, and admins are told."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage.models import AuditEvent, Case, OutboxMessage
from tests.test_intake import Citizen, fill_guided, intake, receipt_of

__all__ = ["intake"]


async def test_a_policy_dated_9999_files_the_report_and_tells_citizen_and_admins(core, intake):
    rules = core.rules.model_copy(deep=True)
    for policy in rules.deadlines:
        if "petition" in policy.kinds:
            policy.valid_from = dt.date(9999, 1, 1)
    core.rules = rules
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    code, pin = receipt_of(c)
    assert code and pin and "Thời hạn giải quyết sẽ được thông báo sau" in c.text
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
        actions = (await s.execute(select(AuditEvent.action))).scalars().all()
        admin = (await s.execute(select(OutboxMessage).where(OutboxMessage.chat_id == "1000"))).scalar_one()
    assert case.code == code and case.due_on is None and "deadline_unknown" in actions
    assert code in admin.payload["text"] and "check-rules" in admin.payload["text"]
