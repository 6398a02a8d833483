"""Routing by the sample rules: the right agencies for what citizens actually write, and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.kinds import KINDS
from bot.routing import RoutingDecision, route
from bot.rules import Rules, load_rules

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "routing_labelled.jsonl"


@pytest.fixture(scope="module")
def rules() -> Rules:
    """The rules' own reading, without the learned model: the evidence the decision weighs (the combined
    decision is measured on the corpus in test_routing_model.py)."""
    return load_rules(ROOT / "rules" / "quang-ninh.yaml").model_copy(update={"second_opinion": None})


def labelled() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_labelled_set_is_large_and_covers_every_rule(rules: Rules) -> None:
    rows = labelled()
    assert len(rows) >= 150
    assert {r["rule"] for r in rows} == {r.id for r in rules.routing}
    assert all(r["cooperating"] == sorted(r["cooperating"]) for r in rows)


def test_accuracy_on_labelled_messages(rules: Rules) -> None:
    rows = labelled()
    decisions = [route(rules, r["text"], r.get("kind")) for r in rows]
    lead = sum(d.lead == r["lead"] for d, r in zip(decisions, rows, strict=True)) / len(rows)
    full = sum(d.lead == r["lead"] and sorted(d.cooperating) == r["cooperating"]
               for d, r in zip(decisions, rows, strict=True)) / len(rows)
    assert lead >= 0.95, lead
    assert full >= 0.9, full


@pytest.mark.parametrize(("text", "lead", "cooperating", "rule"), [
    ("Cán bộ địa chính đòi phong bì mới làm sổ đỏ", "noi-chinh", ["thanh-tra"], "tham-nhung"),
    ("Điều tra viên bức cung con tôi", "vksnd", [], "to-tung"),
    ("Tòa án huyện xử án oan cho bố tôi", "toa-an", ["vksnd"], "toa-an"),
    ("Tôi bị lừa đảo chiếm đoạt 50 triệu qua mạng", "cong-an", ["vksnd"], "toi-pham"),
    ("Ngân hàng tự ý thu phí tài khoản", "nhnn", [], "ngan-hang"),
    ("Đảng viên thôn tôi có bồ nhí", "ubkt", ["noi-chinh"], "dang-vien"),
    ("Khiếu nại quyết định thu hồi đất của huyện", "thanh-tra", [], "hanh-chinh"),
    ("Cán bộ xã có thái độ hách dịch với người dân", "mttq", ["ubkt"], "thai-do"),
    ("Đề nghị sửa đường liên thôn bị ngập", "mttq", [], "kien-nghi-chung"),
])
def test_each_rule(rules: Rules, text: str, lead: str, cooperating: list[str], rule: str) -> None:
    decision = route(rules, text)
    assert (decision.lead, sorted(decision.cooperating), decision.rule) == (lead, cooperating, rule)


def test_other_denunciations_go_to_the_inspectorate(rules: Rules) -> None:
    decision = route(rules, "Tố cáo trưởng phòng làm sai quy trình", "denunciation")
    assert (decision.lead, decision.rule) == ("thanh-tra", "to-cao-can-bo")


@pytest.mark.parametrize(("kind", "lead", "rule"), [
    ("complaint", "thanh-tra", "khieu-nai-chung"),
    ("denunciation", "thanh-tra", "to-cao-can-bo"),
    ("corruption_tip", "noi-chinh", "tham-nhung-chung"),
    ("crime_report", "cong-an", "toi-pham-chung"),
    ("petition", "mttq", "kien-nghi-chung"),
])
def test_every_kind_ends_in_a_catch_all(rules: Rules, kind: str, lead: str, rule: str) -> None:
    decision = route(rules, "Xin các cơ quan xem xét giúp", kind)
    assert (decision.lead, decision.rule, decision.kind, decision.kind_guessed) == (lead, rule, kind, False)
    assert decision.matched == []


def test_signs_of_crime_and_party_members_add_agencies_with_reasons(rules: Rules) -> None:
    decision = route(rules, "Bí thư xã chiếm đoạt tiền hỗ trợ, nhận phong bì của doanh nghiệp")
    assert decision.lead == "noi-chinh"
    assert sorted(decision.cooperating) == ["cong-an", "thanh-tra", "ubkt"]
    reasons = {a.agency: a.reason for a in decision.added}
    assert reasons["cong-an"] == "dấu hiệu tội phạm: 'chiếm đoạt'"
    assert reasons["ubkt"] == "có đảng viên liên quan: 'Bí thư'"


def test_prolonged_or_crowded_complaints_add_the_internal_affairs_commission(rules: Rules) -> None:
    quiet = route(rules, "Khiếu nại mức đền bù giải phóng mặt bằng")
    loud = route(rules, "Khiếu nại đền bù kéo dài nhiều năm, đông người lên tỉnh")
    assert (quiet.lead, quiet.cooperating) == ("thanh-tra", [])
    assert (loud.lead, loud.cooperating) == ("thanh-tra", ["noi-chinh"])
    assert loud.added[0].matched == ["kéo dài", "nhiều năm", "đông người", "lên tỉnh"]


def test_order_subtleties(rules: Rules) -> None:
    coerced = route(rules, "Công an huyện bức cung, đánh đập con tôi để nhận tội trộm cắp")
    assert (coerced.lead, coerced.rule) == ("vksnd", "to-tung")
    judge = route(rules, "Thẩm phán nhận hối lộ để xử có lợi cho bị cáo")
    assert (judge.lead, judge.rule) == ("noi-chinh", "tham-nhung")
    assert "cong-an" in judge.cooperating
    scam_bank = route(rules, "Kẻ gian giả danh nhân viên ngân hàng lừa tôi chuyển tiền")
    assert scam_bank.lead == "cong-an"


def test_without_diacritics_routes_the_same(rules: Rules) -> None:
    pairs = [
        ("Cán bộ thuế vòi tiền hộ kinh doanh", "can bo thue voi tien ho kinh doanh"),
        ("Nhà tôi bị mất xe máy", "nha toi bi mat xe may"),
        ("Ổ lô đề ở thôn 3", "o lo de o thon 3"),
        ("Đảng viên bỏ sinh hoạt chi bộ", "DANG VIEN BO SINH HOAT CHI BO"),
        ("Khiếu nại đền bù giải phóng mặt bằng", "khieu nai den bu giai phong mat bang"),
    ]
    for accented, plain in pairs:
        a, b = route(rules, accented), route(rules, plain)
        assert (a.lead, a.cooperating, a.rule, a.kind) == (b.lead, b.cooperating, b.rule, b.kind), plain


def test_typos_in_long_phrases_still_match(rules: Rules) -> None:
    decision = route(rules, "nha thau rut ruoc cong trinh truong hoc")
    assert (decision.rule, decision.matched) == ("tham-nhung", ["rut ruoc cong trinh"])
    assert route(rules, "khieu nai giai phong mat bnag ep gia").rule == "hanh-chinh"
    assert route(rules, "bi lua dao chiem doad tien coc").lead == "cong-an"


def test_fuzzy_matching_does_not_invent_short_words(rules: Rules) -> None:
    assert route(rules, "Tổ chức tín dụng gọi điện khủng bố người thân").lead == "nhnn"
    assert route(rules, "Có người lừa tiền người già").lead == "cong-an"


@pytest.mark.parametrize(("text", "not_rule"), [
    ("Hàng xóm đổ trộm rác ra đường", "toi-pham"),
    ("Có người xả trộm nước thải ra suối", "toi-pham"),
    ("Trường mở lớp bồi dưỡng kiến thức cho giáo viên", "tham-nhung"),
    ("Chế độ bồi dưỡng độc hại chưa được trả", "tham-nhung"),
    ("Nhà trường dùng ngân hàng đề thi cũ", "ngan-hang"),
    ("Ngân hàng máu bệnh viện thiếu máu", "ngan-hang"),
    ("Cho hỏi thủ tục mua lô đất ở khu đô thị", "toi-pham"),
    ("Tôi lo đề nghị của dân không được xem xét", "toi-pham"),
    ("Đánh bác sĩ là không chấp nhận được", "toi-pham"),
    ("Tôi cần thuê người làm luật sư cho vụ ly hôn", "tham-nhung"),
])
def test_look_alikes_do_not_fire(rules: Rules, text: str, not_rule: str) -> None:
    assert route(rules, text).rule != not_rule


def test_one_word_keywords_need_their_diacritics_in_accented_text(rules: Rules) -> None:
    company = route(rules, "Chủ tịch xã lợi dụng chức vụ giao đất cho công ty người nhà")
    assert company.rule == "tham-nhung"
    assert "cong-an" not in company.cooperating
    billions = route(rules, "Chủ tịch xã lợi dụng chức vụ gây thiệt hại 3 tỷ")
    assert billions.added[0].agency == "cong-an"


def test_a_look_alike_does_not_hide_the_real_thing(rules: Rules) -> None:
    decision = route(rules, "Sau lớp bồi dưỡng kiến thức, cán bộ còn đòi phong bì học viên")
    assert (decision.rule, decision.matched) == ("tham-nhung", ["phong bì"])


def test_explanation_names_rule_agencies_and_matched_words(rules: Rules) -> None:
    decision = route(rules, "CSGT làm luật xe tải ở ngã tư")
    assert decision.matched == ["làm luật"]
    assert "'làm luật'" in decision.explanation
    assert "Ban Nội chính Tỉnh ủy chủ trì" in decision.explanation
    assert "Thanh tra tỉnh" in decision.explanation
    assert decision.explanation.endswith(".")
    fallback = route(rules, "Xin hỏi giờ làm việc", "complaint")
    assert "không khớp quy tắc riêng nào" in fallback.explanation


def test_kind_is_guessed_when_not_given(rules: Rules) -> None:
    guesses = {
        "Tôi khiếu nại việc xã không trả lời đơn": "complaint",
        "Tôi tố cáo chủ tịch xã làm sai": "denunciation",
        "Nhà tôi bị mất trộm xe đạp": "crime_report",
        "Cán bộ ăn chặn tiền hỗ trợ": "corruption_tip",
        "Đề nghị lắp đèn đường": "petition",
        "Chúc các anh chị sức khỏe": "petition",
    }
    for text, kind in guesses.items():
        decision = route(rules, text)
        assert (decision.kind, decision.kind_guessed) == (kind, True), text
    given = route(rules, "Nhà tôi bị mất trộm xe đạp", "petition")
    assert (given.kind, given.kind_guessed, given.lead) == ("petition", False, "cong-an")


def test_a_given_kind_limits_the_rules(rules: Rules) -> None:
    assert route(rules, "Cấp sổ đỏ chậm", "complaint").rule == "hanh-chinh"
    assert route(rules, "Cấp sổ đỏ chậm", "crime_report").rule == "toi-pham-chung"


def test_field_is_proposed(rules: Rules) -> None:
    assert route(rules, "Khiếu nại thu hồi đất, đền bù thấp").field == "dat-dai"
    assert route(rules, "Ngân hàng thu phí vô lý").field == "tin-dung-ngan-hang"
    assert route(rules, "Nhà trường dùng ngân hàng đề thi cũ").field != "tin-dung-ngan-hang"
    assert route(rules, "Chúc mừng năm mới").field is None


def test_unknown_kind_is_refused(rules: Rules) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        route(rules, "text", "gossip")


def test_decision_as_json(rules: Rules) -> None:
    data = route(rules, "Bị lừa đảo chiếm đoạt tiền").to_json()
    assert {"kind", "lead", "cooperating", "rule", "explanation", "matched", "field", "kind_guessed",
            "added"} <= set(data)
    assert data["kind"] in KINDS
    json.dumps(data, ensure_ascii=False)
    assert isinstance(route(rules, "x"), RoutingDecision)


def test_amounts_of_money_read_as_demands_and_signs_of_crime(rules: Rules) -> None:
    demand = route(rules, "can bo dia chinh xa doi 5 trieu moi ky giay to cap so do")
    assert (demand.rule, demand.lead) == ("tham-nhung", "noi-chinh")
    assert any("doi 5 trieu" in words for words in demand.matched)
    bribe = route(rules, "Cán bộ thuế nhận lót tay 80 triệu để bỏ qua sai phạm")
    assert "cong-an" in bribe.cooperating
    assert any(a.agency == "cong-an" and any("80 triệu" in w for w in a.matched) for a in bribe.added)
    small = route(rules, "Cán bộ một cửa đòi 500 nghìn mới nhận hồ sơ")
    assert small.rule == "tham-nhung" and "cong-an" not in small.cooperating
    aid = route(rules, "Đề nghị xã hỗ trợ 5 triệu cho các hộ nghèo bị sập nhà")
    assert aid.rule == "kien-nghi-chung"  # a sum alone is not a bribe
    assert route(rules, "cán bộ đòi triệu chứng").rule != "tham-nhung"  # "#" needs a number
