"""meetings: times, places, chairs and versions; attendance answers, decisions, pending inputs

Revision ID: 0002_secretariat
Revises: 0002_privacy
Create Date: 2026-11-23 20:39:40.683836
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0002_secretariat"
down_revision: str | None = "0002_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_agency_id", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_decisions_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decisions_owner_agency_id"), ["owner_agency_id"], unique=False)

    op.create_table(
        "meeting_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("attends", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("by_user", sa.String(length=64), nullable=True),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_answers_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_answers")),
        sa.UniqueConstraint("meeting_id", "agency_id", name="uq_meeting_answers_agency"),
    )
    with op.batch_alter_table("meeting_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_answers_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "secretariat_inputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_secretariat_inputs_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secretariat_inputs")),
        sa.UniqueConstraint("channel", "chat_id", "user_id", name="uq_secretariat_inputs_person"),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("chair", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("place", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("items", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("remind_days_before", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("period_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("agenda_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_meetings_starts_at"), ["starts_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_starts_at"))
        batch_op.drop_column("version")
        batch_op.drop_column("created_by")
        batch_op.drop_column("reason")
        batch_op.drop_column("agenda_at")
        batch_op.drop_column("period_from")
        batch_op.drop_column("remind_days_before")
        batch_op.drop_column("items")
        batch_op.drop_column("place")
        batch_op.drop_column("chair")
        batch_op.drop_column("starts_at")

    op.drop_table("secretariat_inputs")
    with op.batch_alter_table("meeting_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_answers_meeting_id"))

    op.drop_table("meeting_answers")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_owner_agency_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_meeting_id"))

    op.drop_table("decisions")
