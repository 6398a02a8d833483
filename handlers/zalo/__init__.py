"""Zalo adapter: citizens file, follow and answer questions on Zalo through the Zalo Bot Platform.

What the adapter relies on, from the platform's public documentation (bot.zaloplatforms.com/docs, also
published as bot.zapps.me/docs) and the clients built on it:
- methods are called as `{base}/bot<TOKEN>/<method>` with a JSON body and answer `{"ok", "result"}`, or
  `{"ok": false, "error_code", "description"}`; the base is https://bot-api.zaloplatforms.com;
- `getUpdates` (long poll, `timeout` in seconds) returns ONE update in `result`, without an `update_id`, and
  answers error 408 when the poll times out with nothing new; polling and a webhook exclude each other
  (`setWebhook {url, secret_token}` / `deleteWebhook`);
- an update is `{"event_name": "message.text.received" | "message.image.received" |
  "message.sticker.received" | "message.unsupported.received", "message": {"from": {"id", "display_name"},
  "chat": {"id", "chat_type": "PRIVATE" | "GROUP"}, "text", "photo_url" (a URL; the documentation's table
  says "photo", which is read when "photo_url" is absent), "caption", "message_id", "date" (milliseconds)}}`
  with string ids; a webhook body may come flat or wrapped as `{"ok", "result"}`,
  and carries the secret in the `X-Bot-Api-Secret-Token` header;
- `sendMessage {chat_id, text}` holds at most 2,000 characters; `sendPhoto {chat_id, photo (URL),
  caption}`; there are no inline buttons and no "reply to this message".
No Python client on PyPI is solid enough to depend on, so `client.py` is a small httpx client.
"""

from __future__ import annotations

from bot.channels import Capabilities, register

CHANNEL = "zalo"
MAX_TEXT = 2000

register(CHANNEL, Capabilities(buttons=False, replies=False, max_text=MAX_TEXT))
