"""The case lifecycle as officers drive it: every action, every refusal, no aiogram involved."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot import cards, presses
from bot import officer as ca
from bot import status as st
from bot.deadlines import extend as extend_deadline
from bot.deadlines import policy_for, stage_due
from bot.officer import ActionRefused, Actor
from bot.quoting import plain
from handlers.telegram import callbacks
from tests import officer_acts as acts
from tests import tg
from tests.officer_kit import (
    CHATS,
    CITIZEN,
    IDENTITY,
    NOW,
    TODAY,
    audit,
    bind_groups,
    card_id,
    load,
    make_case,
    officer,
    outbox,
    shown_text,
)


@pytest.fixture
async def case(core):
    await bind_groups(core)
    return await make_case(core)


async def test_accept_starts_the_legal_clock_and_tells_everyone(core, case) -> None:
    outcome = await acts.accept(core, officer("thanh-tra"), case.id, case.version, now=NOW)

    after = await load(core, case.id)
    resolve = policy_for(core.rules, "denunciation", TODAY).stages[1]
    assert after.status == st.ACCEPTED and after.accepted_on == TODAY
    assert after.stage == "resolve" and after.due_on == stage_due(resolve, TODAY, core.calendar)
    assert after.assignee == "Trần Văn Bình"
    assert outcome.case_code == "ABCD-EFGH"
    event = (await audit(core, case.id))[-1]
    assert (event.action, event.actor_id, event.agency_id) == ("accepted", "501", "thanh-tra")
    edits = await outbox(core, kind="edit_card")
    assert {e.chat_id for e in edits} == {CHATS["thanh-tra"], CHATS["noi-chinh"]}
    lead_edit = next(e for e in edits if e.chat_id == CHATS["thanh-tra"])
    assert (
        "Trần Văn Bình" in lead_edit.payload["text"]
        and after.due_on.strftime("%d/%m/%Y") in lead_edit.payload["text"]
    )
    confirm = (await outbox(core, chat_id=CHATS["thanh-tra"], kind="text"))[-1]
    assert confirm.payload["reply_to"] == await card_id(core, case.id, "thanh-tra")
    assert "đã thụ lý" in confirm.payload["text"]
    told = await outbox(core, chat_id=CITIZEN)
    assert len(told) == 1 and "đã được Thanh tra tỉnh thụ lý" in told[0].payload["text"]


async def test_citizen_is_told_in_their_own_language(core) -> None:
    await bind_groups(core)
    case = await make_case(core, locale="en")
    await acts.accept(core, officer("thanh-tra"), case.id, case.version, now=NOW)
    told = await outbox(core, chat_id=CITIZEN)
    assert "has been accepted by Provincial Inspectorate" in told[0].payload["text"]


@pytest.mark.parametrize("action", ["accept", "transfer", "extend", "reject", "resolve", "refer", "ask"])
async def test_cooperating_agency_cannot_close_or_steer(core, case, action) -> None:
    coop = officer("noi-chinh")
    calls = {
        "accept": lambda: acts.accept(core, coop, case.id, case.version),
        "transfer": lambda: acts.transfer(core, coop, case.id, case.version, "ubkt", "x"),
        "extend": lambda: acts.extend(core, coop, case.id, case.version, "x"),
        "reject": lambda: acts.reject(core, coop, case.id, case.version, "insufficient", "x"),
        "resolve": lambda: acts.resolve(core, coop, case.id, case.version, "x"),
        "refer": lambda: acts.refer_to_investigators(core, coop, case.id, case.version, "x"),
        "ask": lambda: acts.request_info(core, coop, case.id, case.version, "x"),
    }
    with pytest.raises(ActionRefused) as refused:
        await calls[action]()
    assert refused.value.reason_key == "officer.refused.cooperating_only"
    assert (await load(core, case.id)).version == case.version
    assert await outbox(core) == []


async def test_agency_not_holding_the_case_is_refused(core, case) -> None:
    with pytest.raises(ActionRefused) as refused:
        await acts.accept(core, officer("ubkt"), case.id, case.version)
    assert refused.value.reason_key == "officer.refused.not_holder"
    assert "không xử lý hồ sơ này" in refused.value.text()


async def test_chat_that_is_not_bound_is_refused(core, case) -> None:
    stranger = Actor(channel="telegram", chat_id="-999", user_id="501")
    with pytest.raises(ActionRefused) as refused:
        await acts.accept(core, stranger, case.id, case.version)
    assert refused.value.reason_key == "officer.refused.not_bound"
    assert (await load(core, case.id)).status == st.NEW


async def test_stale_version_is_refused(core, case) -> None:
    lead = officer("thanh-tra")
    await acts.watch(core, lead, case.id, case.version)
    with pytest.raises(ActionRefused) as refused:
        await acts.accept(core, lead, case.id, case.version)
    assert refused.value.reason_key == "officer.refused.stale"
    assert (await load(core, case.id)).status == st.NEW


async def test_forged_and_misplaced_buttons_are_refused(core, case) -> None:
    lead = officer("thanh-tra")
    good = cards.signed(core, "thanh-tra", case.id, case.version, cards.ACCEPT)
    forged = dataclasses.replace(good, tag=good.tag[:-1] + ("0" if good.tag[-1] != "0" else "1"))
    unsigned = dataclasses.replace(good, tag="")
    for press in (forged, unsigned, None, dataclasses.replace(good, action=cards.RESOLVE)):
        with pytest.raises(ActionRefused) as refused:
            await ca.press(core, lead, press)
        assert refused.value.reason_key == "officer.refused.forged"
    # The lead's button replayed in the co-operating group: the tag was for another agency.
    with pytest.raises(ActionRefused) as refused:
        await ca.press(core, officer("noi-chinh"), good)
    assert refused.value.reason_key == "officer.refused.forged"
    assert (await load(core, case.id)).status == st.NEW
    assert await outbox(core) == []


async def test_button_data_fits_telegram_limit(core, case) -> None:
    loaded = await load(core, case.id)
    loaded.version = 99999
    loaded.id = 9_999_999
    for row in cards.buttons(core, loaded, "thanh-tra", "lead"):
        for button in row:
            assert len(tg.wire(button).encode()) <= 64
    for agency in core.rules.agencies:
        signed = cards.signed(core, "thanh-tra", 9_999_999, 99999, cards.TRANSFER, agency.id)
        assert len(callbacks.pack(signed).encode()) <= 64


async def test_closed_case_refuses_everything(core, case) -> None:
    lead = officer("thanh-tra")
    await acts.reject(core, lead, case.id, case.version, "insufficient", "Thiếu thời gian, địa điểm")
    closed = await load(core, case.id)
    with pytest.raises(ActionRefused) as refused:
        await acts.accept(core, lead, case.id, closed.version)
    assert refused.value.reason_key == "officer.refused.closed"
    with pytest.raises(ActionRefused):
        await acts.comment(core, officer("noi-chinh"), case.id, None, "x")


async def test_press_accept_acts_at_once(core, case) -> None:
    data = cards.signed(core, "thanh-tra", case.id, case.version, cards.ACCEPT)
    outcome = await ca.press(core, officer("thanh-tra"), data, now=NOW)
    assert outcome.key == "officer.done.accepted"
    assert (await load(core, case.id)).status == st.ACCEPTED
    with pytest.raises(ActionRefused) as refused:  # the same press again: the card has moved on
        await ca.press(core, officer("thanh-tra"), data)
    assert refused.value.reason_key == "officer.refused.stale"


async def test_transfer_by_buttons_and_a_reply_with_the_reason(core, case) -> None:
    lead = officer("thanh-tra")
    await ca.press(core, lead, cards.signed(core, "thanh-tra", case.id, case.version, cards.TRANSFER))
    picker = (await outbox(core, chat_id=CHATS["thanh-tra"]))[-1]
    options = {b["text"]: presses.from_button(b) for row in picker.payload["buttons"] for b in row}
    assert "Ủy ban Kiểm tra Tỉnh ủy" in options and "Thanh tra tỉnh" not in options

    outcome = await ca.press(core, lead, options["Ủy ban Kiểm tra Tỉnh ủy"])
    assert outcome.key == "officer.toast.prompt"
    prompt = (await outbox(core, chat_id=CHATS["thanh-tra"]))[-1]
    assert prompt.payload["expects_answer"] is True and "Ủy ban Kiểm tra Tỉnh ủy" in prompt.payload["text"]
    assert (await load(core, case.id)).lead_agency_id == "thanh-tra"  # nothing moves before the reason

    assert await ca.submit_input(core, officer("thanh-tra", user_id="999"), "not me") is None
    await ca.submit_input(core, lead, "Người bị tố cáo là đảng viên", now=NOW)
    after = await load(core, case.id)
    assert after.lead_agency_id == "ubkt" and after.status == st.NEW
    roles = {a.agency_id: a.role for a in after.agencies}
    assert roles == {"thanh-tra": "former", "ubkt": "lead", "noi-chinh": "cooperating"}
    new_card = (await outbox(core, chat_id=CHATS["ubkt"], kind="card"))[-1]
    assert new_card.payload["buttons"] and "ABCD-EFGH" in new_card.payload["text"]
    lines = new_card.payload["text"].splitlines()
    moved = next(line for line in lines if line.startswith("↪️ Thanh tra tỉnh chuyển cho"))
    assert "Ủy ban Kiểm tra Tỉnh ủy chủ trì ngày" in moved and "lý do: Người bị tố cáo là đảng viên" in moved
    assert not any(line.startswith("Căn cứ phân công:") for line in lines), "the first routing is named so"
    assert await outbox(core, chat_id=CHATS["ubkt"], kind="media")
    old_card = (await outbox(core, chat_id=CHATS["thanh-tra"], kind="edit_card"))[-1]
    assert (
        "Đã chuyển cho Ủy ban Kiểm tra Tỉnh ủy" in old_card.payload["text"]
        and old_card.payload["buttons"] == []
    )
    told = (await outbox(core, chat_id=CITIZEN))[-1]
    assert "chuyển đến Ủy ban Kiểm tra Tỉnh ủy" in told.payload["text"]
    event = next(e for e in await audit(core, case.id) if e.action == "transferred")
    assert event.reason == "Người bị tố cáo là đảng viên" and event.actor_id == "501"
    with pytest.raises(ActionRefused) as refused:  # the old lead has no say any more
        await acts.accept(core, lead, case.id, after.version)
    assert refused.value.reason_key == "officer.refused.not_holder"


async def test_pending_reason_goes_stale_when_the_case_moves_meanwhile(core, case) -> None:
    lead, other = officer("thanh-tra"), officer("thanh-tra", user_id="502", name="Lê C")
    await ca.press(core, lead, cards.signed(core, "thanh-tra", case.id, case.version, cards.ASK))
    assert await ca.has_pending(core, lead)
    await ca.press(core, other, cards.signed(core, "thanh-tra", case.id, case.version, cards.ACCEPT))
    with pytest.raises(ActionRefused) as refused:
        await ca.submit_input(core, lead, "Ông/bà có biên lai không?")
    assert refused.value.reason_key == "officer.refused.stale"
    assert not await ca.has_pending(core, lead)
    assert await outbox(core, chat_id=CITIZEN, kind="text") and all(
        "biên lai" not in m.payload["text"] for m in await outbox(core, chat_id=CITIZEN)
    )


async def test_add_cooperating_sends_a_card_marked_as_such(core, case) -> None:
    await acts.add_cooperating(core, officer("thanh-tra"), case.id, case.version, "mttq", "Giám sát của MTTQ")
    card = (await outbox(core, chat_id=CHATS["mttq"], kind="card"))[-1]
    assert "PHỐI HỢP" in card.payload["text"]
    assert [b["text"] for row in card.payload["buttons"] for b in row] == ["💬 Góp ý / cung cấp thông tin"]
    lead_edit = (await outbox(core, chat_id=CHATS["thanh-tra"], kind="edit_card"))[-1]
    assert "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh" in lead_edit.payload["text"]
    after = await load(core, case.id)
    with pytest.raises(ActionRefused) as refused:
        await acts.add_cooperating(core, officer("thanh-tra"), case.id, after.version, "mttq", "again")
    # The picker offers only agencies that do not hold the case: a press naming one is not the bot's.
    assert refused.value.reason_key == "officer.refused.forged"


async def test_extend_as_far_as_the_law_allows(core, case) -> None:
    lead = officer("thanh-tra")
    await acts.accept(core, lead, case.id, case.version, now=NOW)
    accepted = await load(core, case.id)
    await acts.extend(core, lead, case.id, accepted.version, "Vụ việc phức tạp")
    once = await load(core, case.id)
    resolve = policy_for(core.rules, "denunciation", TODAY).stages[1]
    assert once.due_on == extend_deadline(accepted.due_on, resolve, core.calendar, 0) > accepted.due_on
    assert once.extensions == 1
    await acts.extend(core, lead, case.id, once.version, "Đặc biệt phức tạp")
    twice = await load(core, case.id)
    with pytest.raises(ActionRefused) as refused:
        await acts.extend(core, lead, case.id, twice.version, "Lần ba")
    assert refused.value.reason_key == "officer.refused.extend_max"
    assert (await load(core, case.id)).due_on == twice.due_on
    told = [m.payload["text"] for m in await outbox(core, chat_id=CITIZEN)]
    assert any("gia hạn đến" in text and "Vụ việc phức tạp" in text for text in told)


async def test_watch_list_is_for_the_lead_and_the_secretariat(core, case) -> None:
    await acts.watch(core, officer("noi-chinh"), case.id, case.version)
    watched = await load(core, case.id)
    assert watched.watched is True
    assert (
        "diện theo dõi"
        in (await outbox(core, chat_id=CHATS["thanh-tra"], kind="edit_card"))[-1].payload["text"]
    )
    await acts.add_cooperating(core, officer("thanh-tra"), case.id, watched.version, "mttq", "x")
    mttq_case = await load(core, case.id)
    with pytest.raises(ActionRefused) as refused:
        await acts.watch(core, Actor("telegram", CHATS["mttq"], "77"), case.id, mttq_case.version)
    assert refused.value.reason_key == "officer.refused.cooperating_only"
    await acts.watch(core, officer("thanh-tra"), case.id, mttq_case.version)
    assert (await load(core, case.id)).watched is False


async def test_refer_to_investigators_hands_the_lead_to_the_police(core, case) -> None:
    await acts.refer_to_investigators(
        core, officer("thanh-tra"), case.id, case.version, "Có dấu hiệu nhận hối lộ", now=NOW
    )
    after = await load(core, case.id)
    roles = {a.agency_id: a.role for a in after.agencies}
    assert after.status == st.INVESTIGATING and after.lead_agency_id == "cong-an"
    assert roles == {
        "cong-an": "lead",
        "thanh-tra": "cooperating",
        "vksnd": "cooperating",
        "noi-chinh": "cooperating",
    }
    assert after.stage == "verify" and after.due_on == dt.date(2026, 3, 23)
    assert await outbox(core, chat_id=CHATS["cong-an"], kind="card")
    assert "PHỐI HỢP" in (await outbox(core, chat_id=CHATS["vksnd"], kind="card"))[-1].payload["text"]
    assert "cơ quan điều tra" in (await outbox(core, chat_id=CITIZEN))[-1].payload["text"]


@pytest.mark.parametrize(
    "reason, guidance",
    [
        ("not_competent", "không thuộc thẩm quyền"),
        ("anonymous", "Luật Tố cáo 2018, Điều 25"),
        ("duplicate", "trùng với một phản ánh về cùng sự việc đã được gửi trước đây"),
        ("insufficient", "việc gì, ai liên quan"),
    ],
)
async def test_reject_tells_the_citizen_what_to_do_next(core, reason, guidance) -> None:
    await bind_groups(core)
    first = await make_case(core, code="3333-4444")
    case = await make_case(core, code="6666-7777", chat_id="7002", duplicate_of_id=first.id)
    await acts.reject(core, officer("thanh-tra"), case.id, case.version, reason, "Xem hướng dẫn")
    after = await load(core, case.id)
    assert after.status == st.REJECTED and after.closed_at is not None
    told = (await outbox(core, chat_id="7002"))[-1].payload["text"]
    assert "không được thụ lý" in told and guidance in told and "Xem hướng dẫn" in told
    assert "3333-4444" not in told  # never another citizen's case code


async def test_resolve_tells_the_citizen_the_result(core, case) -> None:
    lead = officer("thanh-tra")
    await acts.accept(core, lead, case.id, case.version)
    accepted = await load(core, case.id)
    await acts.resolve(core, lead, case.id, accepted.version, "Đã kỷ luật cán bộ, hoàn trả tiền")
    after = await load(core, case.id)
    assert after.status == st.RESOLVED and after.result == "Đã kỷ luật cán bộ, hoàn trả tiền"
    assert "Kết quả: Đã kỷ luật cán bộ" in (await outbox(core, chat_id=CITIZEN))[-1].payload["text"]
    edit = (await outbox(core, chat_id=CHATS["thanh-tra"], kind="edit_card"))[-1]
    assert edit.payload["buttons"] == [] and "Đã giải quyết xong" in edit.payload["text"]


async def test_comment_from_cooperating_reaches_the_lead_group(core, case) -> None:
    await acts.comment(core, officer("noi-chinh"), case.id, None, "Đã có đơn tương tự năm 2025")
    note = (await outbox(core, chat_id=CHATS["thanh-tra"]))[-1]
    assert "Ban Nội chính Tỉnh ủy" in note.payload["text"] and "năm 2025" in note.payload["text"]
    assert note.payload["reply_to"] == await card_id(core, case.id, "thanh-tra")
    assert [e.action for e in await audit(core, case.id)][-1] == "commented"


async def test_reporter_identity_never_reaches_a_group(core, case) -> None:
    lead = officer("thanh-tra")
    await acts.accept(core, lead, case.id, case.version)
    v = (await load(core, case.id)).version
    await acts.request_info(core, lead, case.id, v, "Số tiền cụ thể là bao nhiêu?")
    v = (await load(core, case.id)).version
    await acts.add_cooperating(core, lead, case.id, v, "mttq", "Giám sát")
    v = (await load(core, case.id)).version
    await acts.transfer(core, lead, case.id, v, "ubkt", "Đảng viên")
    groups = set(CHATS.values())
    rows = [r for r in await outbox(core) if r.chat_id in groups]
    assert rows
    for row in rows:
        shown = shown_text(row.payload)
        for secret in (*IDENTITY.values(), CITIZEN):
            assert secret not in shown
    view = plain(await ca.show_case(core, officer("ubkt"), "abcd efgh"))
    assert all(secret not in view for secret in IDENTITY.values())


async def test_case_command_shows_card_and_timeline_to_holders_only(core, case) -> None:
    await acts.accept(core, officer("thanh-tra"), case.id, case.version, now=NOW)
    view = plain(await ca.show_case(core, officer("noi-chinh"), "ABCD-EFGH"))
    assert "Hồ sơ ABCD-EFGH" in view and "Diễn biến:" in view and "Thụ lý (Thanh tra tỉnh)" in view
    with pytest.raises(ActionRefused) as refused:
        await ca.show_case(core, officer("ubkt"), "ABCD-EFGH")
    assert refused.value.reason_key == "officer.refused.not_holder"


async def test_cases_command_lists_overdue_first(core) -> None:
    await bind_groups(core)
    await make_case(core, code="AAAA-AAAA", due_on=dt.date(2026, 3, 20))
    await make_case(core, code="BBBB-BBBB", due_on=dt.date(2026, 2, 20))
    closed = await make_case(core, code="CCCC-CCCC", due_on=dt.date(2026, 2, 1))
    await make_case(core, code="DDDD-DDDD", lead="ubkt", cooperating=())
    await acts.reject(core, officer("thanh-tra"), closed.id, closed.version, "insufficient", "x")
    text = await ca.open_cases(core, officer("thanh-tra"), now=NOW)
    assert text.index("BBBB-BBBB") < text.index("AAAA-AAAA")
    assert "QUÁ HẠN BBBB-BBBB" in text and "QUÁ HẠN AAAA" not in text
    assert "CCCC-CCCC" not in text and "DDDD-DDDD" not in text
