"""people's chats at rest: chat_users and dialog_states keyed by a keyed hash of the user id, the
dialogue's chat sealed; messages to a person's own chat sealed (outbox.sealed) with the chat as a keyed
hash, those already delivered deleted (a relayed question's kept as a sealed note, its times cut to the
day); then the space the plain values held is cleaned (SQLite: VACUUM and the write-ahead log emptied;
PostgreSQL: VACUUM FULL of the three tables). Existing rows are converted with the encryption key.

Revision ID: 0005_sealed_chats
Revises: 0004_outbox_notify
Create Date: 2026-12-08 09:00:00
"""

import time
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.models
from storage.sealing import ATTRIBUTE, Keys, KeysNeeded

revision: str = "0005_sealed_chats"
down_revision: str | None = "0004_outbox_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_when = storage.models.UTCDateTime(timezone=True)
chat_users = sa.table("chat_users", sa.column("channel", sa.String), sa.column("user_key", sa.String))
dialog_states = sa.table("dialog_states", sa.column("channel", sa.String), sa.column("user_key", sa.String),
                         sa.column("chat_id", sa.String), sa.column("sealed_chat", sa.Text))
agency_chats = sa.table("agency_chats", sa.column("channel", sa.String), sa.column("chat_id", sa.String))
outbox = sa.table(
    "outbox", sa.column("id", sa.Integer), sa.column("channel", sa.String), sa.column("chat_id", sa.String),
    sa.column("kind", sa.String), sa.column("payload", sa.JSON), sa.column("idempotency_key", sa.String),
    sa.column("case_id", sa.Integer), sa.column("agency_id", sa.String), sa.column("status", sa.String),
    sa.column("sealed", sa.Text), sa.column("created_at", _when), sa.column("not_before", _when),
    sa.column("sent_at", _when),
)
WAITING = ("pending", "sending")


def _private_rows() -> Any:
    """Text rows to a chat that is no agency's group (Telegram's groups have negative ids): a person's."""
    groups = sa.select(agency_chats.c.chat_id).where(agency_chats.c.channel == outbox.c.channel)
    return sa.select(outbox).where(outbox.c.kind == "text", outbox.c.chat_id.not_in(groups),
                                   ~outbox.c.chat_id.startswith("-"))


def _keys(bind: sa.Connection) -> Keys | None:
    """The encryption key's methods; KeysNeeded when rows must be sealed and none were given."""
    config = op.get_context().config
    keys = config.attributes.get(ATTRIBUTE) if config is not None else None
    if keys is not None:
        return keys
    people = [bind.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
              for name in ("chat_users", "dialog_states")]
    messages = bind.scalar(sa.select(sa.func.count()).select_from(
        _private_rows().with_only_columns(outbox.c.id).subquery()))
    if any(people) or messages:
        raise KeysNeeded("the database holds people's chat ids to seal: upgrade it by starting the bot "
                         "(python -m bot), which has the encryption key")
    return None


def upgrade() -> None:
    bind = op.get_bind()
    keys = _keys(bind)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.Text(), nullable=True))
    with op.batch_alter_table("chat_users", schema=None) as batch_op:
        batch_op.alter_column("user_id", new_column_name="user_key", existing_type=sa.String(length=64),
                              existing_nullable=False)
    with op.batch_alter_table("dialog_states", schema=None) as batch_op:
        batch_op.alter_column("user_id", new_column_name="user_key", existing_type=sa.String(length=64),
                              existing_nullable=False)
        batch_op.add_column(sa.Column("sealed_chat", sa.Text(), nullable=True))
    changed = keys is not None and (_users(bind, keys) + _dialogues(bind, keys) + _messages(bind, keys)) > 0
    with op.batch_alter_table("dialog_states", schema=None) as batch_op:
        batch_op.drop_column("chat_id")
    if changed:
        _clean(bind)


def _users(bind: sa.Connection, keys: Keys) -> int:
    rows = bind.execute(sa.select(chat_users.c.channel, chat_users.c.user_key)).all()
    for channel, user_id in rows:
        bind.execute(chat_users.update()
                     .where(chat_users.c.channel == channel, chat_users.c.user_key == user_id)
                     .values(user_key=keys.chat_key(channel, user_id)))
    return len(rows)


def _dialogues(bind: sa.Connection, keys: Keys) -> int:
    rows = bind.execute(sa.select(dialog_states.c.channel, dialog_states.c.user_key,
                                  dialog_states.c.chat_id)).all()
    for channel, user_id, chat_id in rows:  # rows saved before 0003 have no chat: a private chat's id is
        bind.execute(dialog_states.update()  # its user's on Telegram and Zalo
                     .where(dialog_states.c.channel == channel, dialog_states.c.user_key == user_id)
                     .values(user_key=keys.chat_key(channel, user_id),
                             sealed_chat=keys.seal_value(chat_id or user_id)))
    return len(rows)


def _messages(bind: sa.Connection, keys: Keys) -> int:
    """Waiting messages to people are sealed; delivered (or failed) ones deleted, but for a relayed
    question's note, which the person's reply needs."""
    rows = bind.execute(_private_rows()).mappings().all()
    for row in rows:
        where = outbox.c.id == row["id"]
        if row["status"] in WAITING:
            bind.execute(outbox.update().where(where).values(**_sealed(keys, row)))
            continue
        note = _question_note(keys, row)
        if note is None:
            bind.execute(outbox.delete().where(where))
            continue
        day = (row["sent_at"] or row["created_at"]).astimezone(UTC).replace(hour=0, minute=0, second=0,
                                                                             microsecond=0)
        bind.execute(outbox.update().where(where).values(
            chat_id=keys.chat_key(row["channel"], row["chat_id"]), payload={}, case_id=None, agency_id=None,
            idempotency_key=f"scrubbed:{row['id']}", sealed=keys.seal_value(note, at=day),
            created_at=day, not_before=day, sent_at=day))
    return len(rows)


def _sealed(keys: Keys, row: Any) -> dict[str, Any]:
    content = {"chat_id": row["chat_id"], "payload": row["payload"] or {}, "case_id": row["case_id"],
               "agency_id": row["agency_id"]}
    return {"chat_id": keys.chat_key(row["channel"], row["chat_id"]), "payload": {}, "case_id": None,
            "agency_id": None, "idempotency_key": keys.tag(row["idempotency_key"]),
            "sealed": keys.seal_value(content)}


def _question_note(keys: Keys, row: Any) -> dict[str, Any] | None:
    """What a delivered question keeps: its case and agency (from the row, or from the note sealed when
    it was scrubbed); None for any other message."""
    payload = row["payload"] or {}
    if payload.get("relay") != "question":
        return None
    about = {"case_id": row["case_id"], "agency_id": row["agency_id"]}
    if about["case_id"] is None and payload.get("sealed"):
        about = keys.open_value(payload["sealed"]) or {}
    if about.get("case_id") is None:
        return None
    return {"payload": {"relay": "question"}, "case_id": about["case_id"],
            "agency_id": about.get("agency_id")}


def _clean(bind: sa.Connection) -> None:
    """Rewrite the files so the replaced values leave no trace in free space (outside a transaction)."""
    with op.get_context().autocommit_block():
        if bind.dialect.name == "sqlite":
            op.execute("VACUUM")
            op.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif bind.dialect.name == "postgresql":
            _others_done(bind)
            op.execute("VACUUM (FULL, ANALYZE) outbox, chat_users, dialog_states")


SNAPSHOTS = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL")


def _others_done(bind: sa.Connection, seconds: float = 30.0) -> None:
    """Wait (a while at most) for other transactions on this database to end, autovacuum's included:
    VACUUM FULL keeps the old row versions any of them could still see."""
    deadline = time.monotonic() + seconds
    while bind.scalar(SNAPSHOTS) and time.monotonic() < deadline:
        time.sleep(0.2)


def downgrade() -> None:
    """The ids cannot be recovered from their keyed hashes: languages and half-written dialogues are
    dropped; waiting sealed messages are opened with the key (without it, dropped too)."""
    bind = op.get_bind()
    config = op.get_context().config
    keys = config.attributes.get(ATTRIBUTE) if config is not None else None
    op.execute(chat_users.delete())
    op.execute(dialog_states.delete())
    sealed = bind.execute(sa.select(outbox.c.id, outbox.c.sealed, outbox.c.status)
                          .where(outbox.c.sealed.is_not(None))).all()
    for row_id, token, status in sealed:
        content = keys.open_value(token) if keys is not None and status in WAITING else None
        if not content:
            bind.execute(outbox.delete().where(outbox.c.id == row_id))
            continue
        bind.execute(outbox.update().where(outbox.c.id == row_id).values(
            chat_id=content["chat_id"], payload=content["payload"], case_id=content["case_id"],
            agency_id=content["agency_id"], idempotency_key=f"unsealed:{row_id}"))
    with op.batch_alter_table("dialog_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", sa.String(length=64), nullable=True))
        batch_op.drop_column("sealed_chat")
        batch_op.alter_column("user_key", new_column_name="user_id", existing_type=sa.String(length=64),
                              existing_nullable=False)
    with op.batch_alter_table("chat_users", schema=None) as batch_op:
        batch_op.alter_column("user_key", new_column_name="user_id", existing_type=sa.String(length=64),
                              existing_nullable=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("sealed")
