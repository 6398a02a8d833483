"""End to end on two platforms: the real `python -m bot` runs Telegram (agencies) and Zalo (a citizen)
against the local servers. A report filed on Zalo, with a photo, arrives as a card with the photo in the
Telegram agency group; the officer's question reaches the citizen on Zalo, the answer comes back under the
card, and the resolution is announced on Zalo."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from bot.i18n import t
from simulator.botapi import FakeBotAPI, Request
from simulator.zalo import TOKEN, FakeZaloAPI
from tests import tg
from tests.conftest import ROOT, SAMPLE_RULES

ADMIN, GROUP, OFFICER = 1000, -100555, 501
CITIZEN = "zc-3f9a1b"
STORY = "Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất cho doanh nghiệp"
PHOTO = b"\xff\xd8\xff\xe0" + b"evidence photo bytes" * 50
T = 20.0


def bot_process(server: FakeBotAPI, zalo: FakeZaloAPI, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BOT_TOKEN": "42:TEST",
        "TELEGRAM_API_URL": server.url,
        "ZALO_BOT_TOKEN": TOKEN,
        "ZALO_API_URL": zalo.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/bot.db",
        "RULES_FILE": str(SAMPLE_RULES),
        "ADMIN_IDS": str(ADMIN),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WEBHOOK_URL": "",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def number_of(text: str, label_key: str) -> str:
    """The number the numbered menu gives the option labelled by `label_key`."""
    label = t(label_key)
    for line in text.splitlines():
        found = re.match(r"^(\d+)\. (.*)$", line)
        if found and found.group(2) == label:
            return found.group(1)
    raise AssertionError(f"no option {label!r} in:\n{text}")


class ZaloCitizen:
    def __init__(self, zalo: FakeZaloAPI) -> None:
        self.zalo = zalo

    async def send(self, text: str | None = None, photo: bytes | None = None, *, menu: bool = True) -> str:
        """Send, then wait for the bot's answer: with `menu`, until a numbered menu arrives; returns all
        the texts the bot sent since."""
        seen = len(self.zalo.calls("sendMessage", chat_id=CITIZEN, ok=True))
        if photo is not None:
            self.zalo.push_photo(CITIZEN, photo)
        else:
            assert text is not None
            self.zalo.push_text(CITIZEN, text)

        def new(request: Request) -> bool:
            later = self.zalo.calls("sendMessage", chat_id=CITIZEN, ok=True)[seen:]
            numbered = re.search(r"(^|\n)1\. ", request.params["text"]) is not None
            return request in later and (numbered or not menu)

        await self.zalo.wait_for("sendMessage", new, chat_id=CITIZEN, timeout=T)
        texts = [r.params["text"] for r in self.zalo.calls("sendMessage", chat_id=CITIZEN, ok=True)[seen:]]
        return "\n".join(texts)

    async def said(self, contains: str) -> Request:
        return await self.zalo.wait_for(  # type: ignore[return-value]
            "sendMessage", lambda r: contains in r.params["text"], chat_id=CITIZEN, timeout=3 * T)

    async def pick(self, text: str, label_key: str) -> str:
        return await self.send(number_of(text, label_key))


def buttons(request: Request) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in request.params["reply_markup"]["inline_keyboard"]
            for b in row}


async def said(server: FakeBotAPI, contains: str, method: str = "sendMessage") -> Request:
    """A message in the agency's group. The group is also the secretariat's, so alerts about unbound
    agencies share its 20-a-minute budget: a message may wait its turn for a while."""
    return await server.wait_for(method, lambda r: contains in r.params.get("text", ""), chat_id=GROUP,
                                 timeout=4 * T)


def sent_id(server: FakeBotAPI, contains: str) -> int:
    ids = [mid for (cid, mid), m in server.messages.items()
           if cid == str(GROUP) and contains in m.get("text", "")]
    assert ids, f"no message with {contains!r}"
    return max(ids)


async def test_a_citizen_files_follows_and_answers_entirely_over_zalo(server: FakeBotAPI,
                                                                       tmp_path: Path) -> None:
    async with FakeZaloAPI() as zalo:
        process = bot_process(server, zalo, tmp_path)
        try:
            await server.wait_for("getUpdates", timeout=3 * T)  # start-up: migrations, both platforms
            server.push_update(tg.group_message(GROUP, ADMIN, "/bind noi-chinh", title="Ban Nội chính"))
            await said(server, "noi-chinh")
            citizen = ZaloCitizen(zalo)

            # Free text: the bot proposes, the citizen answers the numbered menus with numbers and words.
            proposal = await citizen.send(STORY)
            assert "1. " in proposal and len(proposal) <= 2000
            step = await citizen.pick(proposal, "citizen.btn.proposal_yes")
            for _ in range(6):
                if t("citizen.btn.no_files") in step:
                    break
                step = await citizen.send("Bỏ qua")  # the option's words, not its number
            step = await citizen.send(photo=PHOTO)
            step = await citizen.pick(step, "citizen.btn.done_files")
            summary = await citizen.pick(step, "citizen.btn.anonymous")
            await citizen.pick(summary, "citizen.btn.send")
            receipt = (await citizen.said("Mã tra cứu:")).params["text"]
            code = receipt.split("Mã tra cứu:")[1].split()[0]

            # The card and the photo (uploaded from the bot's file store) reach the Telegram group.
            card = await server.wait_for("sendMessage", lambda r: code in r.params.get("text", "") and r.ok,
                                         chat_id=GROUP, timeout=4 * T)
            photo = await server.wait_for("sendPhoto", chat_id=GROUP, timeout=4 * T)
            assert photo.params["photo"].startswith("attach://") and photo.files, "uploaded, not a Zalo URL"
            assert code in photo.params.get("caption", "")

            # Accept, then ask by replying to the card: the question reaches the citizen on Zalo.
            server.push_update(tg.callback_query(OFFICER, buttons(card)["✅ Thụ lý"], chat_id=GROUP))
            await citizen.said("thụ lý")
            card_id = sent_id(server, "Hồ sơ " + code)
            server.push_update(tg.reply(GROUP, OFFICER, card_id, "Ông/bà nộp tiền cho ai, ở đâu?"))
            question = await citizen.said("Ông/bà nộp tiền cho ai, ở đâu?")
            assert code in question.params["text"] and "TRẢ LỜI (reply)" not in question.params["text"]

            # The citizen answers with a plain message: it goes back under the card.
            await citizen.send("Nộp cho cán bộ địa chính tại trụ sở xã", menu=False)
            answer = await said(server, "Nộp cho cán bộ địa chính tại trụ sở xã")
            assert int(answer.params["reply_parameters"]["message_id"]) == card_id
            await citizen.said("Đã chuyển câu trả lời")

            # Resolve: the result is announced on Zalo.
            latest = server.calls("editMessageText", chat_id=GROUP)[-1]
            server.push_update(tg.callback_query(OFFICER, buttons(latest)["🏁 Đã giải quyết"], chat_id=GROUP))
            await said(server, "kết quả giải quyết")
            prompt = sent_id(server, "kết quả giải quyết")
            server.push_update(tg.reply(GROUP, OFFICER, prompt, "Đã kỷ luật cán bộ địa chính"))
            await citizen.said("Kết quả: Đã kỷ luật cán bộ địa chính")
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=T)
        assert process.returncode == 0, stderr.decode()[-3000:]
        for request in zalo.calls("sendMessage"):
            assert len(request.params["text"]) <= 2000
        assert "zalo-bot:TEST" not in stderr.decode()
