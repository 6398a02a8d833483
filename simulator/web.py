"""The web simulator: one page shows the citizen's chat and every agency group as a chat client would.

The page polls `/api/state` and acts through small JSON calls: type or reply as the person of a chat,
press a button, upload a photo or document, move the bot's clock. Everything goes through the local
Bot API server, so the bot sees exactly what Telegram would send it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.clock import ClockLocked

if TYPE_CHECKING:
    from simulator.demo import Demo

PAGE = Path(__file__).parent / "static" / "index.html"
DEMO_KEY = web.AppKey("demo", object)


def _demo(request: web.Request) -> Demo:
    return request.app[DEMO_KEY]  # type: ignore[return-value]


def _message_view(message: dict[str, Any], bot_id: int) -> dict[str, Any]:
    """What a chat client shows of a message: author, text or caption (with its quoted parts), media,
    buttons, edit mark."""
    sender = message.get("from") or {}
    view: dict[str, Any] = {
        "id": message["message_id"],
        "from_bot": sender.get("id") == bot_id,
        "author": sender.get("first_name", ""),
        "text": message.get("text") or message.get("caption") or "",
        "edited": "edit_date" in message,
    }
    quotes = [[e["offset"], e["length"]] for e in message.get("entities") or []
              if str(e.get("type")).endswith("blockquote")]
    if quotes:
        view["quotes"] = sorted(quotes)  # UTF-16 offsets: the page's string indices
    if message.get("photo"):
        view["photo"] = message["photo"][-1]["file_id"]
    for kind in ("document", "voice", "video", "audio"):
        if message.get(kind):
            view["file"] = {"kind": kind, "file_id": message[kind]["file_id"],
                            "name": message[kind].get("file_name", kind)}
    markup = message.get("reply_markup") or {}
    if "inline_keyboard" in markup:
        view["buttons"] = [[{"text": b["text"], "data": b.get("callback_data", "")} for b in row]
                           for row in markup["inline_keyboard"]]
    reply_to = message.get("reply_to_message")
    if reply_to:
        view["reply_to"] = {"id": reply_to["message_id"],
                            "text": (reply_to.get("text") or reply_to.get("caption") or "")[:80]}
    return view


def state(demo: Demo) -> dict[str, Any]:
    """Every chat with its messages in order, the bot's clock, and the latest button alerts."""
    server = demo.server
    bot_id = server.bot_user["id"]
    chats = [{"id": demo.citizen["id"], "title": f"{demo.citizen['first_name']} (công dân)",
              "private": True, "as": demo.citizen["first_name"], "messages": []}]
    chats += [{"id": g.chat_id, "title": g.title, "agency": g.agency_id, "private": False,
               "as": g.officer["first_name"], "messages": []} for g in demo.groups]
    by_id = {str(c["id"]): c for c in chats}
    for (chat_id, _), message in server.messages.items():
        chat = by_id.get(chat_id)
        if chat is None:
            continue
        chat["messages"].append(_message_view(message, bot_id))
    for chat in chats:  # the message a chat client would open a reply to (a question asked with force_reply)
        asking = [r for r in server.calls("sendMessage", chat_id=chat["id"], ok=True)
                  if (r.params.get("reply_markup") or {}).get("force_reply")]
        if asking:
            text = asking[-1].params.get("text", "")
            chat["force_reply"] = next((m["id"] for m in reversed(chat["messages"])
                                        if m["from_bot"] and m["text"] == text), None)
    alerts = [{"id": r.params.get("callback_query_id"), "text": r.params.get("text", ""),
               "alert": bool(r.params.get("show_alert"))}
              for r in server.calls("answerCallbackQuery", ok=True) if r.params.get("text")]
    now = demo.app.core.clock.now().astimezone(demo.app.core.calendar.timezone)
    return {"now": now.strftime("%H:%M %d/%m/%Y"), "chats": chats, "alerts": alerts[-5:], "fault": demo.fault}


async def _page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(PAGE)


async def _state(request: web.Request) -> web.Response:
    return web.json_response(state(_demo(request)))


async def _chat_of(demo: Demo, body: dict[str, Any]) -> int:
    try:
        chat_id = int(body["chat_id"])
        demo.sender_in(chat_id)
    except (KeyError, ValueError, TypeError):
        raise web.HTTPBadRequest(text="unknown chat") from None
    return chat_id


async def _send(request: web.Request) -> web.Response:
    demo = _demo(request)
    body = await request.json()
    chat_id = await _chat_of(demo, body)
    text = str(body.get("text") or "").strip()
    if not text:
        raise web.HTTPBadRequest(text="empty message")
    reply_to = body.get("reply_to")
    message = demo.server.user_message(chat_id, demo.sender_in(chat_id), text,
                                       reply_to=int(reply_to) if reply_to else None)
    return web.json_response({"id": message["message_id"]})


async def _upload(request: web.Request) -> web.Response:
    demo = _demo(request)
    form = await request.post()
    chat_id = await _chat_of(demo, dict(form))
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise web.HTTPBadRequest(text="no file")
    data = upload.file.read()
    mime = upload.content_type or "application/octet-stream"
    file_id = demo.server.store_file(data, name=upload.filename, mime_type=mime)
    if mime.startswith("image/"):
        content: dict[str, Any] = {"photo": [{"file_id": file_id, "file_unique_id": f"u-{file_id}",
                                              "width": 800, "height": 600, "file_size": len(data)}]}
    else:
        content = {"document": {"file_id": file_id, "file_unique_id": f"u-{file_id}",
                                "file_name": upload.filename, "mime_type": mime, "file_size": len(data)}}
    caption = str(form.get("caption") or "").strip()
    if caption:
        content["caption"] = caption
    message = demo.server.user_message(chat_id, demo.sender_in(chat_id), **content)
    return web.json_response({"id": message["message_id"], "file_id": file_id})


async def _press(request: web.Request) -> web.Response:
    demo = _demo(request)
    body = await request.json()
    chat_id = await _chat_of(demo, body)
    try:
        query = demo.server.press_button(chat_id, int(body["message_id"]), demo.sender_in(chat_id),
                                         str(body["data"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise web.HTTPBadRequest(text=f"no such button: {exc}") from None
    return web.json_response({"query": query})


async def _clock(request: web.Request) -> web.Response:
    """Move the bot's clock: {"hours": n}, {"days": n} or {"date": "YYYY-MM-DD"} (08:00 local)."""
    demo = _demo(request)
    body = await request.json()
    clock, zone = demo.app.core.clock, demo.app.core.calendar.timezone
    try:
        if "date" in body:
            day = dt.date.fromisoformat(str(body["date"]))
            clock.set(dt.datetime.combine(day, dt.time(8), zone).astimezone(dt.UTC))
        else:
            clock.advance(dt.timedelta(hours=float(body.get("hours", 0)), days=float(body.get("days", 0))))
    except ClockLocked as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    except (ValueError, TypeError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response({"now": state(demo)["now"]})


SENDING = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto", "sendDocument",
           "sendMediaGroup", "sendVoice", "sendVideo", "sendAudio", "answerCallbackQuery")
FAULTS = {"429": (429, 5), "502": (502, None)}  # status, retry_after


async def _fault(request: web.Request) -> web.Response:
    """Make the local Bot API server refuse what the bot sends, as Telegram does under load (429 with
    retry_after) or in an outage (502), until switched off: {"mode": "429" | "502" | "off"}."""
    demo = _demo(request)
    body = await request.json()
    mode = str(body.get("mode"))
    if mode != "off" and mode not in FAULTS:
        raise web.HTTPBadRequest(text="mode is one of 429, 502, off")
    demo.server.clear_faults()
    if mode in FAULTS:
        status, retry_after = FAULTS[mode]
        for method in SENDING:
            demo.server.fail_next(method, status, retry_after=retry_after, times=None)
    demo.fault = mode
    return web.json_response({"fault": mode})


async def _file(request: web.Request) -> web.Response:
    stored = _demo(request).server.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound(text="this file exists only on Telegram's side in the demo")
    return web.Response(body=stored.data, content_type=stored.mime_type)


def page_app(demo: Demo) -> web.Application:
    app = web.Application(client_max_size=25 * 1024 * 1024)
    app[DEMO_KEY] = demo
    app.router.add_get("/", _page)
    app.router.add_get("/api/state", _state)
    app.router.add_post("/api/send", _send)
    app.router.add_post("/api/upload", _upload)
    app.router.add_post("/api/press", _press)
    app.router.add_post("/api/clock", _clock)
    app.router.add_post("/api/fault", _fault)
    app.router.add_get("/api/files/{file_id}", _file)
    return app


async def serve_page(demo: Demo, host: str, port: int) -> web.AppRunner:
    """Serve the page on host:port (port 0: any free port, see `runner.addresses`)."""
    runner = web.AppRunner(page_app(demo), handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
