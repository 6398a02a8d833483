"""per-case PIN lock-out

Revision ID: 0002_privacy
Revises: 0002_deadlines
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0002_privacy"
down_revision: str | None = "0002_deadlines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pin_locked_until", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("lookup_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_lookup_failures_case_id"), ["case_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_lookup_failures_case_id_cases"), "cases", ["case_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("lookup_failures", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_lookup_failures_case_id_cases"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_lookup_failures_case_id"))
        batch_op.drop_column("case_id")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("pin_locked_until")
