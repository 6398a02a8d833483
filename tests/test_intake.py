"""The intake dialogue driven as a citizen would, with no chat platform: buttons, free text, back, cancel."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.intake import Attachment, Choice, Command, Intake, Option, Other, Reply, Text, normalize_phone
from bot.kinds import KINDS, NAMED_REQUIRED
from storage.models import AgencyChat, AuditEvent, Case, DialogState, OutboxMessage, Reporter
from tests.sealed import all_rows, chat_key, rows_to

CH = "telegram"
STORY = {
    "complaint": "Tôi khiếu nại quyết định thu hồi đất của UBND phường Hạ Long vì bồi thường không đúng giá",
    "denunciation": "Tố cáo cán bộ địa chính phường Bãi Cháy làm sai hồ sơ đất đai để trục lợi",
    "corruption_tip": "Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất",
    "crime_report": "Có nhóm người tổ chức đánh bạc và cho vay nặng lãi ở khu chợ cả đêm",
    "petition": "Đề nghị sửa con đường liên thôn bị hỏng nặng, xe cộ đi lại rất khó khăn",
}


class Citizen:
    """One user talking to the dialogue; remembers what the last step said (directly, and through the
    outbox for replies that report a change) and presses its buttons."""

    def __init__(self, intake: Intake, user_id: str = "7", language_code: str | None = "vi") -> None:
        self.intake, self.user_id, self.language_code = intake, user_id, language_code
        self.replies: list[Reply] = []
        self.queued: list[Reply] = []  # the last step's replies that went through the outbox
        self._seen = 0

    async def send(self, event: object) -> list[Reply]:
        direct = await self.intake.handle(CH, self.user_id, self.user_id, event, self.language_code)
        self.queued = await self._from_outbox()
        self.replies = direct + self.queued
        return self.replies

    async def _from_outbox(self) -> list[Reply]:
        rows = await rows_to(self.intake.core, self.user_id, OutboxMessage.id > self._seen)
        self._seen = max([self._seen, *(r.id for r in rows)])
        return [
            Reply(r.payload["text"], [[Option(b["text"], b["value"]) for b in row]
                                      for row in r.payload.get("buttons", [])], durable=True)
            for r in rows
        ]

    async def say(self, text: str) -> list[Reply]:
        return await self.send(Text(text))

    async def cmd(self, name: str, args: str = "") -> list[Reply]:
        return await self.send(Command(name, args))

    @property
    def options(self) -> list[Option]:
        return [o for r in self.replies for row in r.options for o in row]

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    async def press(self, value: str) -> list[Reply]:
        assert value in [o.value for o in self.options], f"no button {value!r} in {self.options}"
        return await self.send(Choice(value))

    async def press_starting(self, prefix: str) -> list[Reply]:
        value = next(o.value for o in self.options if o.value.startswith(prefix))
        return await self.press(value)


def photo(n: int = 1, size: int = 200_000) -> Attachment:
    return Attachment("photo", f"photo-{n}", f"uniq-{n}", size, "image/jpeg", None)


async def state_of(core, user_id: str = "7") -> DialogState | None:
    async with core.sessions() as s:
        return await s.get(DialogState, (CH, chat_key(core, user_id)))


async def fill_guided(c: Citizen, kind: str, *, named: bool, files: int = 1, place: str = "Hạ Long") -> None:
    await c.cmd("start")
    await c.press("menu:new")
    await c.press(f"kind:{kind}")
    await c.press("field:dat-dai")
    await c.say(place)
    await c.press_starting("place:")
    await c.say("UBND phường")
    await c.say(STORY[kind])
    readings = [o.value for o in c.options if o.value.startswith("read:") and o.value != "read:unsure"]
    if readings:  # the bot was unsure which agency leads: the citizen picks the likeliest reading
        await c.press(readings[0])
    await c.say("tháng 3/2025")
    for n in range(files):
        await c.send(photo(n))
    await c.press("done")
    if named:
        await c.press("named")
        await c.say("Nguyễn Văn An")
        await c.say("0912 345 678")
        await c.say("12 Lê Thánh Tông, Hạ Long")
    else:
        await c.press("anon")


@pytest.fixture
def intake(core) -> Intake:
    core.settings.messages_per_minute = 1000
    return Intake(core)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("named", [True, False], ids=["named", "anonymous"])
async def test_each_kind_named_or_anonymous_with_evidence_gets_a_receipt(core, intake, kind, named):
    c = Citizen(intake)
    await fill_guided(c, kind, named=named, files=2)
    assert "Phường Hạ Long" in c.text and "Số tệp chứng cứ: 2" in c.text
    await c.press("send")
    assert "Mã tra cứu:" in c.text and "Mã PIN:" in c.text and "Cơ quan chủ trì:" in c.text
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
        reporter = (await s.execute(select(Reporter))).scalar_one()
        events = [e.action for e in (await s.execute(select(AuditEvent))).scalars()]
    assert case.kind == kind and case.anonymous is (not named)
    assert (
        case.area_name == "Phường Hạ Long"
        and case.subject == "UBND phường"
        and case.occurred == "tháng 3/2025"
    )
    assert len(case.attachments) == 2 and case.due_on is not None and case.stage
    assert case.code in c.text and case.received_on == core.calendar.today()
    identity = core.privacy.open(reporter.identity)
    assert identity["user_id"] == "7" and identity["chat_id"] == "7"
    assert identity["name"] == ("Nguyễn Văn An" if named else None)
    assert identity["phone"] == ("0912345678" if named else None)
    assert "Nguyễn Văn An" not in (case.summary + str(case.routing))
    assert "submitted" in events
    assert await state_of(core) is None
    if not named and kind in NAMED_REQUIRED:
        assert case.anonymous


async def test_submit_queues_cards_and_media_for_bound_groups_and_audits_unbound(core, intake):
    async with core.sessions() as s, s.begin():
        s.add(AgencyChat(agency_id="noi-chinh", channel=CH, chat_id="-100"))
    c = Citizen(intake)
    await c.say(STORY["corruption_tip"])
    await c.press("prop:yes")
    await c.say("Hạ Long")
    await c.press_starting("place:")
    await c.press("skip")
    await c.press("skip")
    await c.send(photo())
    await c.press("done")
    await c.press("anon")
    await c.press("send")
    rows = await all_rows(core)
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
        unbound = (
            await s.execute(select(AuditEvent).where(AuditEvent.action == "delivery_unbound"))
        ).scalar_one()
    assert {(r.kind, r.chat_id, r.idempotency_key) for r in rows if r.kind in ("card", "media")} == {
        ("card", "-100", f"card:{case.id}:noi-chinh"),
        ("media", "-100", f"media:{case.id}:noi-chinh"),
    }
    # The receipt and PIN are committed with the case: a failed send cannot lose them.
    to_citizen = [r for r in rows if r.chat_id == "7"]
    assert len(to_citizen) == 2 and "Mã PIN:" in to_citizen[0].payload["text"]
    assert c.queued and c.queued == c.replies
    assert set(unbound.after["agencies"]) == set(case.cooperating_ids) and case.cooperating_ids
    assert "Ban Nội chính" in c.text


async def test_free_text_proposes_kind_field_agency_and_asks_only_what_is_missing(core, intake):
    c = Citizen(intake)
    await c.say("Ở phường Hạ Long, " + STORY["corruption_tip"])
    assert "Tin báo tham nhũng" in c.text and "Ban Nội chính" in c.text and "Phường Hạ Long" in c.text
    await c.press("prop:yes")
    assert "Người, cơ quan" in c.text  # kind, field and place known: straight to who is involved
    await c.press("skip")
    assert "khi nào" in c.text  # the story was already given
    await c.say("hôm qua")
    await c.press("done")
    await c.press("anon")
    await c.press("send")
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    assert (case.kind, case.field, case.lead_agency_id, case.area_name) == (
        "corruption_tip",
        "dat-dai",
        "noi-chinh",
        "Phường Hạ Long",
    )
    assert case.summary.startswith("Ở phường Hạ Long")


async def test_free_text_lets_the_citizen_choose_another_kind(core, intake):
    c = Citizen(intake)
    await c.say(STORY["petition"])
    await c.press("prop:kind")
    await c.press("kind:complaint")
    assert "lĩnh vực" in c.text
    await c.press("skip")
    await c.press("skip")
    await c.press("skip")
    await c.say("tuần trước")
    await c.press("done")
    assert "Luật Khiếu nại" in c.text  # a complaint explains why a name is needed


async def test_back_returns_to_the_previous_question_and_keeps_answers(core, intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:petition")
    await c.press("skip")
    assert "xã, phường" in c.text
    await c.cmd("back")
    assert "lĩnh vực" in c.text
    await c.press("nav:back")
    assert "loại đơn nào" in c.text
    await c.press("kind:denunciation")
    assert "xã, phường" in c.text  # the field answered before is kept
    await c.press("skip")
    await c.press("skip")
    row = await state_of(core)
    assert row.data["kind"] == "denunciation" and row.state == "story"


async def test_back_at_the_first_step_says_so(intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.cmd("back")
    assert "bước đầu tiên" in c.text


async def test_cancel_midway_discards_everything(core, intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:petition")
    await c.cmd("cancel")
    assert "Đã hủy" in c.text and await state_of(core) is None
    await c.cmd("cancel")
    assert "không có việc gì" in c.text


async def test_dialogue_resumes_with_a_new_intake_instance(core, intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:crime_report")
    await c.press("skip")
    restarted = Citizen(Intake(core))
    await restarted.cmd("start")
    assert "đang soạn dở" in restarted.text
    await restarted.press("resume")
    assert "xã, phường" in restarted.text
    await restarted.say("Cẩm Phả")
    assert any(o.label == "Phường Cẩm Phả" for o in restarted.options)


async def test_restart_from_the_resume_question_starts_over(core, intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:crime_report")
    await c.cmd("start")
    await c.press("restart")
    assert "loại đơn nào" in c.text
    assert "kind" not in (await state_of(core)).data


async def test_stale_dialogue_expires_with_a_notice(core, intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:petition")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=core.settings.dialogue_ttl_hours + 1)
    async with core.sessions() as s, s.begin():
        await s.execute(update(DialogState).values(updated_at=old))
    await c.say("Một câu trả lời muộn cho bước lĩnh vực")
    assert "đã bị hủy" in c.text and await state_of(core) is None


@pytest.mark.parametrize("kind", ["sticker", "location", "contact"])
async def test_unexpected_messages_get_a_helpful_reply_and_the_question_again(intake, kind):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:petition")
    await c.send(Other(kind))
    assert "không dùng được loại tin nhắn" in c.text and "lĩnh vực" in c.text


async def test_text_where_a_button_is_expected_and_file_before_the_evidence_step(intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.say("tố cáo")
    assert "chọn một trong các nút" in c.text and "loại đơn nào" in c.text
    await c.send(photo())
    assert "bước «Chứng cứ»" in c.text


async def test_stale_button_is_explained(intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:petition")
    await c.send(Choice("kind:complaint"))
    assert "không còn dùng được" in c.text


async def test_place_search_tolerates_missing_diacritics_and_typos(intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:petition")
    await c.press("skip")
    await c.say("uong bi")
    assert c.options[0].label == "Phường Uông Bí"
    await c.say("Mong Cay")
    assert any(o.label.startswith("Phường Móng Cái") for o in c.options)
    await c.say("Paris")
    assert "không tìm thấy" in c.text


async def test_oversized_and_wrong_type_files_and_too_many_files_are_refused(core, intake):
    core.settings.max_files_per_case = 2
    c = Citizen(intake)
    await fill_until_evidence(c)
    await c.send(photo(1, size=(core.settings.max_file_mb + 1) * 1024 * 1024))
    assert f"tối đa {core.settings.max_file_mb} MB" in c.text
    await c.send(Attachment("document", "exe", None, 1000, "application/x-msdownload", "virus.exe"))
    assert "không được nhận" in c.text
    await c.send(Attachment("document", "pdf", None, 1000, "application/pdf", "bien-ban.pdf"))
    await c.send(photo(2))
    await c.send(photo(3))
    assert "tối đa 2 tệp" in c.text
    assert len((await state_of(core)).data["files"]) == 2


async def fill_until_evidence(c: Citizen) -> None:
    await c.cmd("new")
    await c.press("kind:petition")
    await c.press("skip")
    await c.press("skip")
    await c.press("skip")
    await c.say(STORY["petition"])
    await c.press("skip")


async def test_too_long_and_too_short_text_are_refused_with_the_limit(core, intake):
    c = Citizen(intake)
    await c.cmd("new")
    await c.press("kind:petition")
    await c.press("skip")
    await c.press("skip")
    await c.press("skip")
    await c.say("x" * (core.settings.max_text_chars + 1))
    assert f"tối đa {core.settings.max_text_chars} ký tự" in c.text
    await c.say("hỏng")
    assert "quá ngắn" in c.text
    assert (await state_of(core)).state == "story"


async def test_phone_is_validated(intake):
    c = Citizen(intake)
    await fill_until_evidence(c)
    await c.press("done")
    await c.press("named")
    await c.say("Trần Thị Bình")
    await c.say("12345")
    assert "chưa hợp lệ" in c.text
    await c.say("+84 912 345 678")
    assert "địa chỉ" in c.text


def test_phone_numbers_are_normalised():
    assert normalize_phone("0912.345.678") == "0912345678"
    assert normalize_phone("+84912345678") == "0912345678"
    assert normalize_phone("abc") is None


async def test_summary_edit_changes_one_answer_and_returns_to_the_summary(core, intake):
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("edit")
    await c.press("edit:place")
    await c.say("Vân Đồn")
    await c.press_starting("place:")
    assert "Xin Ông/Bà xem lại" in c.text and "Đặc khu Vân Đồn" in c.text
    await c.press("edit")
    await c.press("edit:identity")
    await c.press("named")
    await c.say("Lê Văn Cường")
    await c.say("0987654321")
    await c.say("Cái Rồng")
    assert "Lê Văn Cường" in c.text and "xem lại" in c.text
    await c.press("send")
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    assert case.area_name == "Đặc khu Vân Đồn" and not case.anonymous


async def test_english_from_the_language_code_and_lang_command(intake):
    c = Citizen(intake, user_id="8", language_code="en-GB")
    await c.cmd("start")
    assert "call 113" in c.text and any(o.label == "📝 New report" for o in c.options)
    await c.cmd("lang", "vi")
    await c.cmd("start")
    assert "gọi 113" in c.text


async def test_status_with_code_and_pin_shows_status_agency_deadline_and_timeline(core, intake):
    c = Citizen(intake)
    await fill_guided(c, "crime_report", named=True)
    await c.press("send")
    code, pin = receipt_of(c)
    other = Citizen(intake, user_id="99")
    await other.cmd("status", f"{code.lower()} {pin}")
    assert code in other.text and "Đã tiếp nhận, chờ thụ lý" in other.text and "Công an tỉnh" in other.text
    assert "Đã tiếp nhận và chuyển đến" in other.text and "Thời hạn (" in other.text
    assert "Nguyễn Văn An" not in other.text


def receipt_of(c: Citizen) -> tuple[str, str]:
    lines = c.text.splitlines()
    code = next(line.split(": ")[1] for line in lines if line.startswith("Mã tra cứu:"))
    pin = next(line.split(": ")[1] for line in lines if line.startswith("Mã PIN:"))
    return code.strip(), pin.strip()


async def test_wrong_pin_and_unknown_code_get_the_same_answer_and_are_throttled(core, intake):
    core.settings.lookup_failures_per_hour = 3
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    code, pin = receipt_of(c)
    guesser = Citizen(intake, user_id="66")
    wrong = "000000" if pin != "000000" else "111111"
    await guesser.cmd("status", f"{code} {wrong}")
    wrong_pin = guesser.text
    await guesser.cmd("status", f"WXYZ-WXYZ {wrong}")
    assert guesser.text == wrong_pin and "không đúng" in wrong_pin
    await guesser.cmd("status", f"WXYZ-WXYZ {wrong}")
    await guesser.cmd("status", f"{code} {pin}")
    assert "quá nhiều lần" in guesser.text and code not in guesser.text
    await c.cmd("status", f"{code} {pin}")
    assert "Tình trạng" in c.text  # throttling is per requester


async def test_lookup_through_the_menu(intake):
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    code, pin = receipt_of(c)
    await c.press("menu:lookup")
    await c.say("not a code")
    assert "8 ký tự" in c.text
    await c.say(code.replace("-", " "))
    await c.say(pin)
    assert "Tình trạng" in c.text


async def test_mycases_lists_own_cases_and_adds_information(core, intake):
    async with core.sessions() as s, s.begin():
        s.add(AgencyChat(agency_id="mttq", channel=CH, chat_id="-200"))
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    code, _ = receipt_of(c)
    await Citizen(intake, user_id="55").cmd("mycases")
    await c.cmd("mycases")
    assert code in c.text and "Đã tiếp nhận" in c.text
    await c.press_starting("add:")
    await c.press("done")
    assert "chưa gửi nội dung" in c.text
    await c.say("Đoạn đường nay đã sụt lún thêm hai mét")
    await c.send(photo(9))
    await c.press("done")
    assert f"bổ sung cho phản ánh {code}" in c.text
    rows = await all_rows(core, OutboxMessage.kind.in_(["text", "media"]))
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    texts = [r.payload["text"] for r in rows if r.kind == "text"]
    assert any("sụt lún" in text and code in text for text in texts)
    assert any(r.kind == "media" and r.payload["items"][0]["file_id"] == "photo-9" for r in rows)
    assert len(case.attachments) == 1


async def test_someone_else_cannot_add_to_a_case_by_forging_a_button(core, intake):
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    async with core.sessions() as s:
        case_id = (await s.execute(select(Case.id))).scalar_one()
    other = Citizen(intake, user_id="77")
    await other.send(Choice(f"add:{case_id}"))
    assert "không còn dùng được" in other.text


async def test_near_duplicate_of_own_case_offers_adding_to_it(core, intake):
    c = Citizen(intake)
    await fill_guided(c, "corruption_tip", named=False, files=0)
    await c.press("send")
    code, _ = receipt_of(c)
    await fill_guided(c, "corruption_tip", named=False, files=1)
    await c.press("send")
    assert code in c.text and "giống với phản ánh" in c.text
    await c.press("dup:add")
    async with core.sessions() as s:
        cases = (await s.execute(select(Case))).scalars().all()
    assert len(cases) == 1 and len(cases[0].attachments) == 1


async def test_filing_anew_despite_an_own_earlier_report_leaves_the_link_to_officers(core, intake):
    c = Citizen(intake)
    await fill_guided(c, "corruption_tip", named=False, files=0)
    await c.press("send")
    code, _ = receipt_of(c)
    await fill_guided(c, "corruption_tip", named=False, files=0)
    await c.press("send")
    await c.press("dup:file")
    assert "Mã tra cứu:" in c.text
    async with core.sessions() as s:
        cases = (await s.execute(select(Case).order_by(Case.id))).scalars().all()
    assert len(cases) == 2 and cases[1].duplicate_of_id is None
    assert [d["code"] for d in cases[1].likely_duplicates] == [code]


async def test_near_duplicate_of_someone_elses_case_reveals_nothing_to_the_citizen(core, intake):
    first = Citizen(intake, user_id="1")
    await fill_guided(first, "corruption_tip", named=True, files=0)
    await first.press("send")
    code, _ = receipt_of(first)
    second = Citizen(intake, user_id="2")
    await fill_guided(second, "corruption_tip", named=False, files=0)
    await second.press("send")
    # no warning, no status, no code: straight to their own receipt
    assert "Mã tra cứu:" in second.text and code not in second.text
    assert "tương tự" not in second.text and "Nguyễn" not in second.text
    assert not any(o.value.startswith("dup:") for o in second.options)
    async with core.sessions() as s:
        cases = (await s.execute(select(Case).order_by(Case.id))).scalars().all()
    # the officers, not the citizen, see that the two may be one incident
    assert len(cases) == 2 and cases[1].duplicate_of_id is None
    assert [d["code"] for d in cases[1].likely_duplicates] == [code]


async def test_daily_case_limit(core, intake):
    core.settings.cases_per_day = 1
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    await c.cmd("new")
    assert "tối đa 1 phản ánh trong 24 giờ" in c.text


async def test_message_rate_limit_warns_once(core):
    core.settings.messages_per_minute = 3
    c = Citizen(Intake(core))
    for _ in range(3):
        await c.cmd("help")
    await c.cmd("help")
    assert "quá nhanh" in c.text
    assert await c.cmd("help") == []


async def test_two_first_messages_of_one_newcomer_at_once_both_get_answers_and_one_dialogue(core) -> None:
    """Two instances (each its own `Intake`) take a newcomer's first two messages at the same moment: the
    second to commit collides on the new person's rows, is run again as a returning user's, and nothing
    is lost or doubled."""
    from storage.models import ChatUser

    story = "Cán bộ địa chính xã Hạ Long đòi tôi 30 triệu mới cấp sổ đỏ cho thửa đất của gia đình"
    first, second = Intake(core), Intake(core)
    answers = await asyncio.gather(first.handle("telegram", "8080", "8080", Text(story)),
                                   second.handle("telegram", "8080", "8080", Command("help")))
    async with core.sessions() as session:
        key = chat_key(core, "8080")
        users = (await session.execute(select(ChatUser).where(ChatUser.user_key == key))).scalars().all()
        dialogues = (await session.execute(select(DialogState).where(DialogState.user_key == key))).all()
        queued = (await session.execute(select(OutboxMessage).where(OutboxMessage.chat_id == key))).all()
    assert len(users) == 1 and len(dialogues) == 1
    assert sum(len(a) for a in answers) + len(queued) >= 2, "each message was answered"


async def test_a_burst_of_first_messages_shares_commits_and_each_is_stored_before_its_answer(core) -> None:
    """Thirty newcomers write at once: their steps share a few commits (not thirty), and whoever is
    answered has their dialogue and their reply already stored."""
    from sqlalchemy import event

    core.settings.messages_per_minute = 1000
    intake = Intake(core, queue_changes=True)
    commits = [0]
    event.listen(core.sessions.kw["bind"].sync_engine, "commit",
                 lambda _conn: commits.__setitem__(0, commits[0] + 1))

    async def first_message(n: int) -> tuple[str | None, int]:
        user = str(50_000 + n)
        await intake.handle(CH, user, user, Text(f"{STORY['corruption_tip']} (lần {n})"), "vi")
        async with core.sessions() as session:
            row = await session.get(DialogState, (CH, chat_key(core, user)))
            replies = (await session.execute(
                select(OutboxMessage).where(OutboxMessage.chat_id == chat_key(core, user)))).all()
        return (row.state if row else None), len(replies)

    outcomes = await asyncio.gather(*(first_message(n) for n in range(30)))
    assert outcomes == [("proposal", 1)] * 30
    assert commits[0] <= 10


async def test_a_step_that_lost_a_race_with_another_transaction_is_run_again(core, intake) -> None:
    """PostgreSQL aborts one of two deadlocked transactions (two filings counting the same words in
    opposite order); the aborted step is run again instead of failing the citizen's message."""
    from sqlalchemy.exc import DBAPIError

    class Deadlock(Exception):
        sqlstate = "40P01"

    real = intake._expire_or_dispatch
    calls = []

    async def deadlocked_once(ctx, event):
        calls.append(event)
        if len(calls) == 1:
            raise DBAPIError("INSERT INTO duplicate_term_counts ...", {}, Deadlock("deadlock detected"))
        return await real(ctx, event)

    intake._expire_or_dispatch = deadlocked_once
    c = Citizen(intake)
    await c.cmd("start")
    assert len(calls) == 2
    assert c.options, "the welcome and its menu arrived"

    class Broken(Exception):
        sqlstate = "42P01"  # undefined table: not a race, so not run again

    async def broken(ctx, event):
        calls.append(event)
        raise DBAPIError("SELECT ...", {}, Broken("no such table"))

    intake._expire_or_dispatch = broken
    calls.clear()
    with pytest.raises(DBAPIError):
        await c.cmd("help")
    assert len(calls) == 1


async def test_a_filing_holds_no_connection_while_its_receipt_pin_is_hashed(core, intake, monkeypatch):
    """The receipt PIN's hash (scrypt, tens of milliseconds) is made before the filing's transaction: on
    SQLite the process's only connection, and under a burst the steps sharing the transaction, do not
    wait for it. The PIN on the receipt is the one the case keeps."""
    from bot import pin_guard

    pool = core.sessions.kw["bind"].sync_engine.pool
    held_while_hashing: list[int] = []
    real_hash = pin_guard.hash_pin

    def watched(pin: str) -> str:
        held_while_hashing.append(pool.checkedout())
        return real_hash(pin)

    monkeypatch.setattr(pin_guard, "hash_pin", watched)
    c = Citizen(intake)
    await c.say("Ở phường Hạ Long, " + STORY["corruption_tip"])
    await c.press("prop:yes")
    await c.press("skip")
    await c.say("hôm qua")
    await c.press("done")
    await c.press("anon")
    await c.press("send")
    assert held_while_hashing == [0]
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    pin = c.text.split("Mã PIN:")[1].split()[0]
    assert pin_guard.check_pin(pin, case.pin_hash)


async def test_returning_citizens_pressing_at_once_are_read_together_and_each_moves_on(core) -> None:
    """Twenty citizens each confirm their proposal at the same moment: their people and dialogues are
    read for the whole shared transaction in one query each (not one per citizen), and every dialogue
    still moves to its own next step."""
    from sqlalchemy import event

    core.settings.messages_per_minute = 1000
    intake = Intake(core, queue_changes=True)
    users = [str(60_000 + n) for n in range(20)]
    await asyncio.gather(*(intake.handle(CH, u, u, Text(f"{STORY['corruption_tip']} ({u})"), "vi")
                           for u in users))
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM chat_users" in statement:
            reads.append(statement)

    event.listen(core.sessions.kw["bind"].sync_engine, "before_cursor_execute", count)
    await asyncio.gather(*(intake.handle(CH, u, u, Choice("prop:yes"), "vi") for u in users))
    event.remove(core.sessions.kw["bind"].sync_engine, "before_cursor_execute", count)
    async with core.sessions() as session:
        states = {r.user_key: r.state for r in (await session.execute(select(DialogState))).scalars()}
    # kind and field known: where it happened
    assert {states[chat_key(core, u)] for u in users} == {"place"}, states
    assert len(reads) <= 4, f"{len(reads)} look-ups of people for 20 presses"
