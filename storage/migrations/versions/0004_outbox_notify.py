"""PostgreSQL: a commit that queues outbox rows notifies the channel `outbox`, so the instance holding the
sender role (often another process) delivers them at once instead of at its next poll. SQLite: nothing.

Revision ID: 0004_outbox_notify
Revises: 0003_dialog_chat
Create Date: 2026-12-07 10:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_outbox_notify"
down_revision: str | None = "0003_dialog_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # one notification per statement; PostgreSQL folds equal ones within a transaction and delivers
    # them at commit, so a rolled-back transaction wakes no one
    op.execute("""
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox', '');
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER outbox_queued AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_queued ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
