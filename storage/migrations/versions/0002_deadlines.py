"""digest lines of deadline reminders

Revision ID: 0002_deadlines
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0002_deadlines"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_digest_lines_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_lines")),
        sa.UniqueConstraint("key", name=op.f("uq_digest_lines_key")),
    )
    with op.batch_alter_table("digest_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_lines_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_digest_lines_unsent", ["sent_at", "agency_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_lines_unsent")
        batch_op.drop_index(batch_op.f("ix_digest_lines_case_id"))
    op.drop_table("digest_lines")
