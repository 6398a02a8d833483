"""The case card: everything an agency needs to act, marked for its role, and never the reporter."""

from __future__ import annotations

import dataclasses

import pytest

from bot import cards, presses
from handlers.telegram import callbacks
from tests.officer_kit import IDENTITY, bind_groups, load, make_case, shown_text


async def test_lead_card_shows_what_officers_need(core) -> None:
    await bind_groups(core)
    original = await make_case(core, code="3333-4444")
    case = await make_case(
        core,
        code="6666-7777",
        chat_id="7002",
        files=2,
        duplicate_of_id=original.id,
        cooperating=("noi-chinh", "ubkt"),
    )
    loaded = await load(core, case.id)
    payload = cards.card_payload(core, loaded, "thanh-tra", "lead", duplicate_code="3333-4444")
    text = payload["text"]
    for expected in (
        "6666-7777",
        "Tố cáo",
        "Đất đai",
        "Phường Bãi Cháy",
        "Thu tiền để cấp sổ đỏ nhanh",
        "2 tệp",
        "Thanh tra tỉnh chủ trì",
        "11/03/2026",
        "Luật Tố cáo 2018, Điều 24 khoản 1",
        "trùng với hồ sơ 3333-4444",
        "Ban Nội chính Tỉnh ủy, Ủy ban Kiểm tra Tỉnh ủy",
    ):
        assert expected in text, expected
    for secret in IDENTITY.values():
        assert secret not in shown_text(payload)
    labels = [b["text"] for row in payload["buttons"] for b in row]
    assert "✅ Thụ lý" in labels and "⛔ Không thụ lý" in labels and "🏁 Đã giải quyết" not in labels


async def test_cooperating_card_is_marked_and_has_no_closing_buttons(core) -> None:
    await bind_groups(core)
    case = await load(core, (await make_case(core, cooperating=("mttq",))).id)
    payload = cards.card_payload(core, case, "mttq", "cooperating")
    assert payload["text"].splitlines()[1].startswith("🤝 PHỐI HỢP")
    assert [b["text"] for row in payload["buttons"] for b in row] == ["💬 Góp ý / cung cấp thông tin"]


async def test_card_renders_in_english(core) -> None:
    await bind_groups(core)
    case = await load(core, (await make_case(core, named=False)).id)
    text = cards.card_text(core, case, "thanh-tra", "lead", "en")
    assert text.startswith("📋 Case ABCD-EFGH") and "Reporter: anonymous" in text and "Lead agency:" in text


async def test_signed_buttons_are_bound_to_their_agency(core) -> None:
    signed = cards.signed(core, "thanh-tra", 12, 3, cards.TRANSFER, "ubkt")
    press = cards.verified(core, "thanh-tra", signed)
    assert press is not None
    assert (press.target, press.action, press.arg, press.version) == (12, "tr", "ubkt", 3)
    assert cards.verified(core, "noi-chinh", signed) is None
    assert cards.verified(core, "thanh-tra", dataclasses.replace(signed, version=4)) is None
    assert cards.verified(core, "thanh-tra", dataclasses.replace(signed, arg="ca")) is None
    meeting = presses.sign(core, "thanh-tra", presses.MEETING, 12, "tr", 3, "ubkt")
    assert cards.verified(core, "thanh-tra", dataclasses.replace(meeting, kind=presses.CASE)) is None


async def test_telegram_carries_a_press_in_64_bytes_and_reads_back_the_same(core) -> None:
    signed = cards.signed(core, "thanh-tra", 12, 3, cards.TRANSFER, "ubkt")
    data = callbacks.pack(signed)
    assert data == f"ca:12:tr.ubkt:3:{signed.tag}"  # the format cards in groups already carry
    assert callbacks.unpack(data) == signed
    for junk in ("ca:nonsense", "ca:x:acc:1:t", "mt:1", "", None, "in|kind:x"):
        assert callbacks.unpack(junk) is None
    with pytest.raises(ValueError):  # Telegram would refuse it: never sent
        callbacks.pack(dataclasses.replace(signed, arg="x" * 50))


async def test_card_cites_the_legal_basis_of_its_own_kind(core) -> None:
    # Corruption tips and denunciations both have a `classify` stage, on different legal bases.
    tip = await make_case(core, kind="corruption_tip", lead="noi-chinh", cooperating=("thanh-tra",))
    denunciation = await make_case(core, code="WXYZ-WXYZ")
    tip_text = cards.card_text(core, await load(core, tip.id), "noi-chinh", "lead", "vi")
    denunciation_text = cards.card_text(core, await load(core, denunciation.id), "thanh-tra", "lead", "vi")
    assert "Luật PCTN 2018, Điều 65" in tip_text
    assert "Luật PCTN" not in denunciation_text and "Luật Tố cáo 2018, Điều 24 khoản 1" in denunciation_text
