"""Binding agency groups: only admins, only in groups, only known agencies; every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import agencies
from bot.agencies import BindingRefused
from storage.models import AgencyChat, AuditEvent

ADMIN = "1000"


async def _events(core) -> list[AuditEvent]:
    async with core.sessions() as session:
        return list((await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars())


async def test_admin_binds_a_group_and_it_acts_for_the_agency(core) -> None:
    bound = await agencies.bind(
        core,
        channel="telegram",
        chat_id="-200",
        is_group=True,
        user_id=ADMIN,
        agency_id="Thanh-Tra",
        title="Thanh tra tỉnh - tiếp dân",
    )
    assert bound.agency_id == "thanh-tra"
    assert await agencies.bound_agency(core, "telegram", "-200") == "thanh-tra"
    event = (await _events(core))[-1]
    assert (event.action, event.actor_id, event.agency_id) == ("chat_bound", ADMIN, "thanh-tra")


async def test_rebinding_moves_the_agency_to_the_new_group(core) -> None:
    await agencies.bind(
        core, channel="telegram", chat_id="-200", is_group=True, user_id=ADMIN, agency_id="ubkt"
    )
    await agencies.bind(
        core, channel="telegram", chat_id="-201", is_group=True, user_id=ADMIN, agency_id="ubkt"
    )
    assert await agencies.bound_agency(core, "telegram", "-200") is None
    assert await agencies.bound_agency(core, "telegram", "-201") == "ubkt"
    assert (await _events(core))[-1].before == {"chat_id": "-200", "source": "admin"}


@pytest.mark.parametrize(
    "user_id, is_group, agency_id, key",
    [
        ("55", True, "thanh-tra", "officer.bind.not_admin"),
        (ADMIN, False, "thanh-tra", "officer.bind.private"),
        (ADMIN, True, "so-khong-co", "officer.bind.unknown_agency"),
        (ADMIN, True, None, "officer.bind.usage"),
    ],
)
async def test_bind_is_refused_with_a_reason(core, user_id, is_group, agency_id, key) -> None:
    with pytest.raises(BindingRefused) as refused:
        await agencies.bind(
            core,
            channel="telegram",
            chat_id="-300",
            is_group=is_group,
            user_id=user_id,
            agency_id=agency_id,
        )
    assert refused.value.reason_key == key
    assert await agencies.bound_agency(core, "telegram", "-300") is None
    assert await _events(core) == []


async def test_a_group_acts_for_one_agency_only(core) -> None:
    await agencies.bind(
        core, channel="telegram", chat_id="-400", is_group=True, user_id=ADMIN, agency_id="mttq"
    )
    with pytest.raises(BindingRefused) as refused:
        await agencies.bind(
            core, channel="telegram", chat_id="-400", is_group=True, user_id=ADMIN, agency_id="bao"
        )
    assert refused.value.reason_key == "officer.bind.chat_taken"


async def test_unbind_and_list(core) -> None:
    await agencies.bind(
        core, channel="telegram", chat_id="-500", is_group=True, user_id=ADMIN, agency_id="vksnd"
    )
    listing = dict(await agencies.bindings(core, user_id=ADMIN))
    assert listing["vksnd"] is not None and listing["vksnd"].chat_id == "-500" and listing["nhnn"] is None
    with pytest.raises(BindingRefused):
        await agencies.unbind(core, channel="telegram", chat_id="-500", is_group=True, user_id="55")
    with pytest.raises(BindingRefused):
        await agencies.bindings(core, user_id="55")
    assert (
        await agencies.unbind(core, channel="telegram", chat_id="-500", is_group=True, user_id=ADMIN)
        == "vksnd"
    )
    assert await agencies.bound_agency(core, "telegram", "-500") is None
    assert [e.action for e in await _events(core)] == ["chat_bound", "chat_unbound"]


async def test_rules_file_groups_are_synced(core, sample_rules, sessions) -> None:
    spec = sample_rules.model_copy(deep=True)
    spec.agencies[0].chats["telegram"] = "-700"
    await agencies.sync_agencies(sessions, spec)
    async with sessions() as session:
        row = (await session.execute(select(AgencyChat).where(AgencyChat.chat_id == "-700"))).scalar_one()
    assert (row.agency_id, row.source) == (spec.agencies[0].id, "rules")
