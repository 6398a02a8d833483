"""What a reader of the stored data learns: after a real filing through the real `python -m bot`, no file of
the data folder (the SQLite database, its write-ahead log, the key, the file store) and, on PostgreSQL, no
table file and no write-ahead log record of the filing holds the receipt's PIN, the reporter's phone
number or their chat id; no message to the reporter is dated against the case. A database of the version
before is sealed the same way by the upgrade, and its people keep their language, dialogue, waiting
messages and questions."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.privacy import Privacy
from handlers.telegram.keyboards import option_data
from simulator.botapi import FakeBotAPI
from storage.db import _upgrade, migrate, script_head, session_factory
from storage.models import Agency, AgencyChat, Case, CaseAgency, Reporter
from storage.sealing import KeysNeeded
from tests import tg
from tests.conftest import ROOT, SAMPLE_RULES, _pg_reason, create_pg_database, drop_pg_database

ADMIN, CITIZEN, OTHER, GROUP = 1000, 5550123987, 5550456789, -100555
PHONE_TYPED, PHONE = "0358 246 791", "0358246791"
STORY = "Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất cho doanh nghiệp"
T = 60.0


@dataclass
class Store:
    """Where the bot keeps its data: the data folder, and the PostgreSQL database when it uses one."""

    data: Path
    url: str
    pg_name: str | None = None

    @property
    def sqlite(self) -> Path | None:
        return self.data / "bot.db" if self.pg_name is None else None


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    data = tmp_path / "data"
    if request.param == "sqlite":
        yield Store(data, f"sqlite+aiosqlite:///{data}/bot.db")
        return
    reason = asyncio.run(_pg_reason())
    if reason:
        pytest.skip(reason)
    name, url = asyncio.run(create_pg_database("sealed"))
    try:
        yield Store(data, url, name)
    finally:
        asyncio.run(drop_pg_database(name))


def start_bot(server: FakeBotAPI, store: Store, key: str) -> subprocess.Popen[bytes]:
    """The real `python -m bot`, its log in a file beside the data folder."""
    env = {**os.environ, "BOT_TOKEN": "42:TEST", "TELEGRAM_API_URL": server.url, "DATABASE_URL": store.url,
           "RULES_FILE": str(SAMPLE_RULES), "ADMIN_IDS": str(ADMIN), "ENCRYPTION_KEY": key, "WEBHOOK_URL": "",
           "PYTHONPATH": str(ROOT)}
    log = (store.data.parent / "bot.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=store.data.parent, env=env,
                            stdout=subprocess.DEVNULL, stderr=log)


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=T) == 0


async def answered(server: FakeBotAPI, chat: int, update: dict[str, Any]) -> str:
    """Push an update and wait for the bot's next message to `chat`; its text."""
    before = len(server.calls("sendMessage", chat_id=chat))
    server.push_update(update)
    sent = await server.wait_for("sendMessage", chat_id=chat, count=before + 1, timeout=T)
    return str(sent.params.get("text", ""))


async def press(server: FakeBotAPI, chat: int, value: str) -> str:
    return await answered(server, chat, tg.callback_query(chat, option_data(value)))


async def say(server: FakeBotAPI, chat: int, text: str) -> str:
    return await answered(server, chat, tg.private_message(chat, text))


async def idle(store: Store) -> None:
    """Until the outbox has nothing left to send (the sender records a delivery just after it)."""
    for _ in range(int(T / 0.1)):
        if await query(store, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')") == [(0,)]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox never emptied")


async def query(store: Store, sql: str) -> list[tuple[Any, ...]]:
    """Rows read from outside the bot, as a reporting user or a replica would."""
    if store.sqlite is not None:
        path = store.sqlite
        return await asyncio.to_thread(lambda: sqlite3.connect(path).execute(sql).fetchall())
    import asyncpg

    conn = await asyncpg.connect(store.url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


# ---- reading everything stored -----------------------------------------------------------------------


def found(blob: bytes, secrets: dict[str, bytes], where: str) -> list[str]:
    """Which secrets a stored blob holds in plain text. A PIN (six digits) counts when it stands alone:
    a SQLite timestamp's microseconds are six digits after a dot."""
    hits = []
    for name, value in secrets.items():
        pattern = rb"(?<![0-9.])" + re.escape(value) + rb"(?![0-9])" if name == "PIN" else re.escape(value)
        if re.search(pattern, blob):
            hits.append(f"{name} in {where}")
    return hits


def data_folder_hits(data: Path, secrets: dict[str, bytes]) -> list[str]:
    hits: list[str] = []
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        hits += found(path.read_bytes(), secrets, str(path.relative_to(data.parent)))
    return hits


async def pg_lsn(store: Store) -> int:
    [(lsn,)] = await query(store, "SELECT pg_current_wal_insert_lsn()::text")
    return _lsn(str(lsn))


async def pg_hits(store: Store, secrets: dict[str, bytes], since_lsn: int | None) -> list[str]:
    """The rows as stored: the write-ahead log from `since_lsn` on (read first: a checkpoint may recycle
    it), every table, TOAST table and index file of the bot's tables after a checkpoint wrote them out,
    and the statistics the server keeps of their columns."""
    import asyncpg

    conn = await asyncpg.connect(store.url.replace("postgresql+asyncpg", "postgresql"))
    hits: list[str] = []
    try:
        if since_lsn is not None:
            hits += await _wal_hits(conn, since_lsn, secrets)
        await conn.execute("CHECKPOINT")
        for row in await conn.fetch(RELATION_FILES):
            blob = await conn.fetchval(READ_FILE, row["path"])
            hits += found(blob or b"", secrets, f"the file of {row['relname']}")
        stats = await conn.fetch("SELECT tablename, attname, most_common_vals::text AS mcv, "
                                 "histogram_bounds::text AS bounds FROM pg_stats WHERE schemaname = 'public'")
        for row in stats:
            seen = f"{row['mcv']} {row['bounds']}".encode()
            hits += found(seen, secrets, f"statistics of {row['tablename']}.{row['attname']}")
    finally:
        await conn.close()
    return hits


READ_FILE = "SELECT pg_read_binary_file($1, 0, (pg_stat_file($1, true)).size, true)"
RELATION_FILES = """
    WITH tables AS (
        SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r'),
    relations AS (
        SELECT oid FROM tables UNION SELECT reltoastrelid FROM tables WHERE reltoastrelid <> 0)
    SELECT c.relname, pg_relation_filepath(c.oid) AS path FROM pg_class c
    WHERE (c.oid IN (SELECT oid FROM relations)
           OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM relations)))
      AND pg_relation_filepath(c.oid) IS NOT NULL
"""


async def _wal_hits(conn: Any, since: int, secrets: dict[str, bytes]) -> list[str]:
    """The write-ahead log written since `since`, segment by segment. Other databases of the server write
    there too: a PIN counts only after the words of a receipt ("PIN: "), so another's six digits do not."""
    until = _lsn(await conn.fetchval("SELECT pg_current_wal_insert_lsn()::text"))
    size = int(await conn.fetchval("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"))
    timeline = (await conn.fetchval("SELECT pg_walfile_name(pg_current_wal_lsn())"))[:8]
    per_id = 0x100000000 // size
    wal = {name: value for name, value in secrets.items() if name != "PIN"}
    if "PIN" in secrets:
        wal["PIN"] = b"PIN: " + secrets["PIN"]
    hits: list[str] = []
    position = since
    while position < until:
        segment, offset = divmod(position, size)
        name = f"{timeline}{segment // per_id:08X}{segment % per_id:08X}"
        length = min(size - offset, until - position)
        blob = await conn.fetchval("SELECT pg_read_binary_file($1, $2, $3, true)", f"pg_wal/{name}", offset,
                                   length)
        hits += found(blob or b"", wal, f"write-ahead log {name}")
        position += length
    return hits


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


async def stored_hits(store: Store, secrets: dict[str, bytes], since_lsn: int | None) -> list[str]:
    hits = data_folder_hits(store.data, secrets)
    if store.pg_name is not None:
        hits += await pg_hits(store, secrets, since_lsn)
    return hits


# ---- a real filing ------------------------------------------------------------------------------------


async def bind_group(server: FakeBotAPI) -> None:
    server.push_update(tg.group_message(GROUP, ADMIN, "/bind thanh-tra", title="Thanh tra tỉnh"))
    await server.wait_for("sendMessage", lambda r: "thanh-tra" in r.params.get("text", ""), chat_id=GROUP,
                          timeout=T)


async def anonymous_report(server: FakeBotAPI, chat: int) -> str:
    """Another story told and sent anonymously; the receipt's code."""
    await say(server, chat, "Cán bộ địa chính phường đòi 30 triệu mới làm sổ đỏ cho gia đình tôi")
    for value in ("prop:yes", "skip", "skip", "skip", "done", "anon"):
        await press(server, chat, value)
    server.push_update(tg.callback_query(chat, option_data("send")))
    return (await receipt_to(server, chat)).split("Mã tra cứu:")[1].split()[0]


async def receipt_to(server: FakeBotAPI, chat: int) -> str:
    sent = await server.wait_for("sendMessage", lambda r: "Mã tra cứu:" in r.params.get("text", ""),
                                 chat_id=chat, timeout=T)
    return str(sent.params["text"])


async def test_a_filing_leaves_no_pin_phone_or_chat_id_in_what_is_stored(server: FakeBotAPI,
                                                                          store: Store) -> None:
    key = Fernet.generate_key().decode()
    since = await pg_lsn(store) if store.pg_name is not None else None
    bot = start_bot(server, store, key)
    try:
        await server.wait_for("getUpdates", timeout=3 * T)
        await bind_group(server)
        await say(server, CITIZEN, STORY)
        for value in ("prop:yes", "skip", "skip", "skip", "done", "named"):
            await press(server, CITIZEN, value)
        await say(server, CITIZEN, "Đinh Thị Quế")
        await say(server, CITIZEN, PHONE_TYPED)
        summary = await say(server, CITIZEN, "Tổ 9 khu Vườn Đào, Hạ Long")
        assert PHONE in summary, "the citizen sees their phone number in the summary"
        await idle(store)
        identity = {"phone": PHONE.encode(), "phone as typed": PHONE_TYPED.encode(),
                    "chat id": str(CITIZEN).encode()}
        assert await stored_hits(store, identity, since) == [], "the half-written report and its summary"

        server.push_update(tg.callback_query(CITIZEN, option_data("send")))
        receipt = await receipt_to(server, CITIZEN)
        code = receipt.split("Mã tra cứu:")[1].split()[0]
        pin = re.search(r"Mã PIN: (\d{6})", receipt).group(1)  # type: ignore[union-attr]
        await server.wait_for("sendMessage", lambda r: code in r.params.get("text", ""), chat_id=GROUP,
                              timeout=T)
        other_code = await anonymous_report(server, OTHER)
        await idle(store)
        secrets = {**identity, "PIN": pin.encode(), "other chat id": str(OTHER).encode()}
        assert await stored_hits(store, secrets, since) == []

        cases = await query(store, "SELECT code, created_at FROM cases")
        messages = await query(store, "SELECT chat_id, created_at FROM outbox")
        assert {c for c, _ in cases} == {code, other_code}
        second = dt.timedelta(seconds=1)
        for _, created in cases:
            near = {str(chat) for chat, at in messages if abs(_when(at) - _when(created)) < second}
            assert near <= {str(GROUP), str(ADMIN)}, "no message to a reporter is dated against their case"

        said = await say(server, CITIZEN, f"/status {code} {pin}")
        assert code in said, "the citizen still looks the case up with the PIN they were given"
    finally:
        stop_bot(bot)
    assert await stored_hits(store, secrets, since) == [], "nor after the bot stopped"


def _when(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# ---- a database of the version before ------------------------------------------------------------------

WAITING_PIN, DELIVERED_PIN = "482913", "739164"
QUESTION, FORGED = 77, 78


async def old_database(store: Store, privacy: Privacy) -> None:
    """A database the version before left: plain chat ids in chat_users, dialog_states and the outbox, a
    receipt waiting, a delivered one scrubbed after the fact (its text left in free space and old row
    versions), a delivered question with its sealed note, and a note no key opens."""
    await asyncio.to_thread(_upgrade, store.url, None, "0004_outbox_notify")
    engine = create_async_engine(store.url)  # as the version before wrote: without secure_delete
    now = dt.datetime.now(dt.UTC)
    try:
        async with session_factory(engine)() as session, session.begin():
            session.add(Agency(id="thanh-tra", name_vi="Thanh tra tỉnh", name_en="Provincial Inspectorate"))
            await session.flush()
            session.add(AgencyChat(agency_id="thanh-tra", channel="telegram", chat_id=str(GROUP)))
            case = Case(code="QN7K-2M4P", pin_hash="-", channel="telegram", kind="denunciation",
                        summary="Cán bộ phường nhận tiền", lead_agency_id="thanh-tra", status="waiting_info",
                        received_on=now.date(), paused_at=now, locale="en")
            case.agencies.append(CaseAgency(agency_id="thanh-tra", role="lead"))
            session.add(case)
            await session.flush()
            identity = {"channel": "telegram", "user_id": str(CITIZEN), "chat_id": str(CITIZEN)}
            session.add(Reporter(case_id=case.id, reporter_key=privacy.key_for("telegram", str(CITIZEN)),
                                 channel="telegram", identity=privacy.seal(identity)))
            case_id = case.id
        async with engine.begin() as conn:
            for sql, values in _old_rows(store, privacy, case_id, now):
                await conn.execute(text(sql), values)
    finally:
        await engine.dispose()


Statement = tuple[str, dict[str, Any]]


def _old_rows(store: Store, privacy: Privacy, case_id: int, now: dt.datetime) -> list[Statement]:
    at = now if store.pg_name is not None else now.replace(tzinfo=None)
    user = {"ch": "telegram", "u": str(CITIZEN), "at": at}
    outbox = ("INSERT INTO outbox (channel, chat_id, kind, payload, idempotency_key, case_id, agency_id, "
              "status, attempts, not_before, created_at, sent_at, message_id) "
              "VALUES ('telegram', :u, 'text', :p, :k, :case, :agency, :status, 0, :at, :at, :sent, :m)")

    def row(key: str, payload: dict[str, Any], status: str = "pending", message: str | None = None,
            case: int | None = None, agency: str | None = None) -> Statement:
        return outbox, {**user, "p": json.dumps(payload), "k": key, "status": status, "m": message,
                        "case": case, "agency": agency, "sent": at if status == "sent" else None}

    receipt = "Mã tra cứu: {code}\nMã PIN: {pin}\nĐiện thoại: " + PHONE
    note = privacy.seal({"case_id": case_id, "agency_id": "thanh-tra"})
    return [
        ("INSERT INTO chat_users (channel, user_id, locale, created_at) VALUES (:ch, :u, 'en', :at)",
         user),
        ("INSERT INTO dialog_states (channel, user_id, chat_id, state, data, history, created_at, "
         "updated_at) VALUES (:ch, :u, :u, 'story', :d, '[]', :at, :at)",
         {**user, "d": json.dumps({"kind": "complaint"})}),
        row(f"reply:telegram:{CITIZEN}:a:0", {"text": receipt.format(code="QN2A-7B8C", pin=WAITING_PIN)}),
        row(f"reply:telegram:{CITIZEN}:b:0", {"text": receipt.format(code="QN3D-9E1F", pin=DELIVERED_PIN)},
            "sent", "70"),
        ("UPDATE outbox SET payload = '{}', idempotency_key = 'scrubbed:' || id WHERE message_id = '70'", {}),
        row("scrubbed:q", {"relay": "question", "sealed": note}, "sent", str(QUESTION)),
        row("scrubbed:f", {"relay": "question", "sealed": "not a sealed note"}, "sent", str(FORGED)),
    ]


async def test_an_older_database_is_sealed_by_the_upgrade_and_its_people_keep_their_state(
        server: FakeBotAPI, store: Store) -> None:
    key = Fernet.generate_key().decode()
    await old_database(store, Privacy(key))
    bot = start_bot(server, store, key)
    try:
        await server.wait_for("getUpdates", timeout=3 * T)
        waiting = await server.wait_for("sendMessage", lambda r: WAITING_PIN in r.params.get("text", ""),
                                        chat_id=CITIZEN, timeout=T)
        assert "QN2A-7B8C" in waiting.params["text"], "the receipt that waited is delivered to its chat"
        assert "Continue" in await say(server, CITIZEN, "/start"), "the dialogue resumes, in English"
        server.push_update(tg.reply(CITIZEN, CITIZEN, QUESTION, "Ông Tư nhận tiền ở quán cà phê"))
        await server.wait_for("sendMessage", lambda r: "Ông Tư nhận tiền" in r.params.get("text", ""),
                              chat_id=GROUP, timeout=T)
        await answered(server, CITIZEN, tg.reply(CITIZEN, CITIZEN, FORGED, "Bà Năm cũng biết chuyện này"))
        await idle(store)
    finally:
        stop_bot(bot)
    relayed = [r for r in server.calls("sendMessage", chat_id=GROUP) if "Bà Năm" in r.params.get("text", "")]
    assert not relayed, "a reply to a message whose note cannot be opened is not relayed to any agency"
    secrets = {"PIN waiting": WAITING_PIN.encode(), "PIN delivered": DELIVERED_PIN.encode(),
               "phone": PHONE.encode(), "chat id": str(CITIZEN).encode()}
    assert await stored_hits(store, secrets, None) == []


def report(store: Store, key: str) -> subprocess.CompletedProcess[bytes]:
    """`python -m bot report`: a command that reads the database, and may be the first to run after an
    upgrade of the bot."""
    env = {**os.environ, "DATABASE_URL": store.url, "RULES_FILE": str(SAMPLE_RULES), "ENCRYPTION_KEY": key,
           "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bot", "report", "--from", "2020-01-01", "--to", "2030-12-31",
               "--format", "csv"]
    return subprocess.run(command, cwd=store.data.parent, env=env, capture_output=True, timeout=T)


async def test_an_upgrade_without_the_right_key_changes_nothing_and_says_why(store: Store) -> None:
    key = Fernet.generate_key().decode()
    await old_database(store, Privacy(key))
    before = [("0004_outbox_notify",)]
    with pytest.raises(KeysNeeded, match="python -m bot"):
        await migrate(store.url)
    assert await query(store, "SELECT version_num FROM alembic_version") == before

    wrong = await asyncio.to_thread(report, store, Fernet.generate_key().decode())
    lines = [line for line in wrong.stderr.decode().strip().splitlines() if not line.startswith("reading ")]
    assert wrong.returncode == 1 and len(lines) == 1, wrong.stderr.decode()[-2000:]  # one line, beside
    assert lines[0].startswith("error: the encryption key in ENCRYPTION_KEY does not open")  # which database
    assert await query(store, "SELECT version_num FROM alembic_version") == before

    right = await asyncio.to_thread(report, store, key)
    assert right.returncode == 0, right.stderr.decode()[-2000:]
    assert await query(store, "SELECT version_num FROM alembic_version") == [(script_head(),)]
    users = await query(store, "SELECT user_key FROM chat_users")
    assert users == [(Privacy(key).chat_key("telegram", str(CITIZEN)),)]
