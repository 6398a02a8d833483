"""`python -m bot demo --story`: one case told end to end, printing what each party sees in its chat.

A citizen files a denunciation with a photo, the lead agency accepts it, asks a question through the bot,
the citizen answers, and the agency resolves it. Each step waits for the bot to settle, then prints the
new and edited messages of every chat. Exits 0 when the story ran to its end, 1 when a step failed.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from bot.i18n import t
from simulator.botapi import marked_text
from simulator.demo import Demo, Progress, start_demo

# A 1x1 PNG, so the evidence is a real image the web page can show.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a5d6ff1b0000000049454e44ae426082"
)


class StoryError(Exception):
    """A step of the story could not be played (a button or a message was not there)."""


class Party:
    """Someone in one chat: says things, presses buttons, and remembers what was already printed."""

    def __init__(self, demo: Demo, chat_id: int, label: str) -> None:
        self.demo, self.chat_id, self.label = demo, chat_id, label
        self.printed: dict[int, str] = {}

    def messages(self) -> list[dict[str, Any]]:
        return [m for (chat, _), m in self.demo.server.messages.items() if chat == str(self.chat_id)]

    def find(self, contains: str) -> dict[str, Any]:
        """The latest bot message of this chat whose text contains `contains`."""
        bot_id = self.demo.server.bot_user["id"]
        for message in reversed(self.messages()):
            if message["from"]["id"] == bot_id and contains in (message.get("text") or ""):
                return message
        raise StoryError(f"{self.label}: no message containing {contains!r}")

    async def say(self, text: str, *, reply_to: int | None = None) -> None:
        self.demo.server.user_message(
            self.chat_id, self.demo.sender_in(self.chat_id), text, reply_to=reply_to
        )
        await self.demo.settle()

    async def send_photo(self, data: bytes) -> None:
        file_id = self.demo.server.store_file(data, name="evidence.png", mime_type="image/png")
        photo = [
            {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "width": 1,
                "height": 1,
                "file_size": len(data),
            }
        ]
        self.demo.server.user_message(self.chat_id, self.demo.sender_in(self.chat_id), photo=photo)
        await self.demo.settle()

    async def press(self, label: str) -> None:
        """Press the button `label` under the latest bot message that has it."""
        for message in reversed(self.messages()):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        self.demo.server.press_button(
                            self.chat_id,
                            message["message_id"],
                            self.demo.sender_in(self.chat_id),
                            button["callback_data"],
                        )
                        await self.demo.settle()
                        return
        raise StoryError(f"{self.label}: no button {label!r}")

    def news(self) -> list[str]:
        """New and edited messages since the last call, as a chat client would show them."""
        bot_id = self.demo.server.bot_user["id"]
        lines = []
        for message in self.messages():
            shown = render(message, bot_id)
            if self.printed.get(message["message_id"]) == shown:
                continue
            mark = "✏️ " if message["message_id"] in self.printed else ""
            self.printed[message["message_id"]] = shown
            lines.append(mark + shown)
        return lines


def render(message: dict[str, Any], bot_id: int) -> str:
    who = "🤖" if message["from"]["id"] == bot_id else f"👤 {message['from']['first_name']}:"
    parts = []
    if message.get("photo"):
        parts.append("[🖼 ảnh]")
    if message.get("document"):
        parts.append(f"[📄 {message['document'].get('file_name', 'tài liệu')}]")
    text = marked_text(message)
    if text:
        parts.append(text)
    body = " ".join(parts).replace("\n", "\n      ")
    out = f"  {who} {body}"
    buttons = [
        b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
    ]
    if buttons:
        out += "\n      " + " ".join(f"[{b}]" for b in buttons)
    return out


class Story:
    def __init__(self, demo: Demo, progress: Progress) -> None:
        self.demo, self.progress = demo, progress
        self.citizen = Party(demo, demo.citizen["id"], f"Công dân {demo.citizen['first_name']}")
        self.groups = {g.agency_id: Party(demo, g.chat_id, f"Nhóm {g.title}") for g in demo.groups}
        for party in self.groups.values():  # the bind confirmations are the set-up, not the story
            party.news()

    def show(self, step: str) -> None:
        print(f"\n=== {step} ===")
        for party in (self.citizen, *self.groups.values()):
            lines = party.news()
            if lines:
                print(f"--- {party.label} ---")
                print("\n".join(lines))

    async def play(self) -> None:
        c = self.citizen
        await c.say("/start")
        self.show("1. Công dân mở kênh / the citizen opens the chat")
        await c.press(t("citizen.btn.new"))
        await c.press(t("kind.denunciation"))
        await c.press(t("citizen.btn.skip"))
        await c.say("Hạ Long")
        await c.press("Phường Hạ Long")
        await c.say("Ông X, cán bộ địa chính phường")
        await c.say(
            "Cán bộ địa chính phường nhận tiền để làm nhanh hồ sơ cấp giấy chứng nhận đất cho người quen"
        )
        await c.say("tháng trước")
        await c.send_photo(PNG)
        await c.press(t("citizen.btn.done_files"))
        await c.press(t("citizen.btn.named"))
        await c.say("Nguyễn Văn An")
        await c.say("0912 345 678")
        await c.say("Tổ 5 khu 3, phường Hồng Gai")
        await c.press(t("citizen.btn.send"))
        receipt = c.find("Mã tra cứu")
        match = re.search(r"Mã tra cứu: (\S+)", receipt["text"])
        if match is None:
            raise StoryError("no receipt code")
        code = match.group(1)
        self.show(f"2. Công dân gửi tố cáo, nhận mã {code} / the citizen files a report")

        lead = self._lead(code)
        await lead.press(t("officer.button.acc"))
        self.show("3. Cơ quan chủ trì thụ lý / the lead agency accepts")

        card = lead.find(t("officer.card.title", code=code, kind=t("kind.denunciation")))
        await lead.say(
            "Ông/Bà có biên lai hay tin nhắn nào về khoản tiền đã đưa không?", reply_to=card["message_id"]
        )
        question = c.find("biên lai")
        await c.say("Có, tôi còn giữ tin nhắn hẹn ngày nhận tiền.", reply_to=question["message_id"])
        self.show("4. Cán bộ hỏi, công dân trả lời qua bot / a question and its answer, relayed")

        await lead.press(t("officer.button.res"))
        prompt = lead.find("kết quả giải quyết")
        await lead.say(
            "Đã xác minh, kiểm điểm và xử lý kỷ luật cán bộ liên quan.", reply_to=prompt["message_id"]
        )
        self.show("5. Cơ quan chủ trì giải quyết xong / the lead agency resolves the case")

    def _lead(self, code: str) -> Party:
        """The group that received the card with the accept button."""
        accept = t("officer.button.acc")
        for party in self.groups.values():
            for message in party.messages():
                buttons = [
                    b["text"]
                    for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                    for b in row
                ]
                if code in (message.get("text") or "") and accept in buttons:
                    return party
        raise StoryError(f"no agency group received the card of {code}")


async def play(rules_file: str | None, progress: Progress) -> int:
    with tempfile.TemporaryDirectory(prefix="kenh-tin-bao-story-") as folder:
        demo = await start_demo(Path(folder), rules_file=rules_file, progress=progress)
        try:
            await Story(demo, progress).play()
        except (StoryError, TimeoutError) as exc:
            print(f"demo: the story stopped: {exc}")
            return 1
        finally:
            await demo.stop()
    print("\ndemo: the story ran to its end")
    return 0
