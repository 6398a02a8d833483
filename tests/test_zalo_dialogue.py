"""The dialogue on a platform without buttons or replies (Zalo): numbered menus answered by number or by
words, and answers to officers' questions matched by the case's code."""

from __future__ import annotations

import handlers.zalo  # noqa: F401  (registers Zalo's capabilities)
from bot import relay
from bot import status as st
from bot.intake import Command, Intake, Text
from storage.models import Case
from tests import officer_acts as acts
from tests.officer_kit import bind_groups, load, make_case, officer

ZALO = "zalo"


async def test_numbers_and_words_pick_options_only_where_there_are_no_buttons(core) -> None:
    intake = Intake(core)
    welcome = await intake.handle(ZALO, "u1", "u1", Command("start"))
    labels = [o.label for r in welcome for row in r.options for o in row]
    new_report = labels.index("📝 Gửi phản ánh mới") + 1
    kinds = await intake.handle(ZALO, "u1", "u1", Text(str(new_report)))
    assert any(o.value == "kind:complaint" for r in kinds for row in r.options for o in row)
    out_of_range = await intake.handle(ZALO, "u1", "u1", Text("99"))
    assert any(o.value == "kind:complaint" for r in out_of_range for row in r.options for o in row)
    fields = await intake.handle(ZALO, "u1", "u1", Text("to cao"))  # "Tố cáo" typed without diacritics
    assert any(o.value.startswith("field:") for r in fields for row in r.options for o in row)
    # On Telegram a typed "1" stays text: buttons are the way to pick.
    await intake.handle("telegram", "t1", "t1", Command("start"))
    typed = await intake.handle("telegram", "t1", "t1", Text("1"))
    assert not any(o.value.startswith("kind:") for r in typed for row in r.options for o in row)


async def _ask(core, code: str) -> Case:
    case = await make_case(core, code=code, chat_id="zu-1", channel=ZALO)
    lead = officer("thanh-tra")
    await acts.accept(core, lead, case.id, case.version)
    await acts.request_info(core, lead, case.id, None, f"Câu hỏi về {code}?")
    return await load(core, case.id)


async def test_an_answer_goes_to_the_one_case_waiting_or_to_the_case_named(core) -> None:
    await bind_groups(core)
    first = await _ask(core, "AAAA-BBBB")
    assert first.status == st.WAITING_INFO
    one = await relay.unreplied_answer(core, channel=ZALO, user_id="zu-1", chat_id="zu-1", text="Năm triệu")
    assert isinstance(one, relay.Answered) and one.code == "AAAA-BBBB"
    assert (await load(core, first.id)).status != st.WAITING_INFO

    await acts.request_info(core, officer("thanh-tra"), first.id, None, "Hỏi lần hai?")
    second = await _ask(core, "CCCC-DDDD")
    which = await relay.unreplied_answer(core, channel=ZALO, user_id="zu-1", chat_id="zu-1", text="Có ạ")
    assert which == ["AAAA-BBBB", "CCCC-DDDD"], "with several waiting, the citizen is asked which"
    named = await relay.unreplied_answer(core, channel=ZALO, user_id="zu-1", chat_id="zu-1",
                                         text="cccc dddd: Ông A nhận tiền")
    assert isinstance(named, relay.Answered) and named.code == "CCCC-DDDD"
    assert (await load(core, second.id)).status != st.WAITING_INFO
    assert (await load(core, first.id)).status == st.WAITING_INFO
    busy = await relay.unreplied_answer(core, channel=ZALO, user_id="zu-1", chat_id="zu-1", text="3",
                                        dialogue_busy=True)
    assert busy is None, "a message the dialogue is busy with is not taken as an answer"
    stranger = await relay.unreplied_answer(core, channel=ZALO, user_id="zu-2", chat_id="zu-2",
                                            text="AAAA-BBBB tôi biết")
    assert stranger is None, "someone else cannot answer another reporter's question"
