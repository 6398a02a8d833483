"""figures: indexes for counting by period, the working-day table

Revision ID: 0002_figures
Revises: 0002_duplicates
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_figures"
down_revision: str | None = "0002_duplicates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_days",
        sa.Column("calendar", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("calendar", "day", name=op.f("pk_work_days")),
    )
    op.create_index(op.f("ix_cases_received_on"), "cases", ["received_on"], unique=False)
    op.create_index("ix_audit_events_action_at", "audit_events", ["action", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_events_action_at", table_name="audit_events")
    op.drop_index(op.f("ix_cases_received_on"), table_name="cases")
    op.drop_table("work_days")
