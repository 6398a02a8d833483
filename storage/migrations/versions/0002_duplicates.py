"""duplicates: a term index to narrow candidates, likely duplicates on the case, linked cases

Revision ID: 0002_duplicates
Revises: 0002_secretariat
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_duplicates"
down_revision: str | None = "0002_secretariat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplicate_terms",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_duplicate_terms_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", "term", name=op.f("pk_duplicate_terms")),
    )
    op.create_index("ix_duplicate_terms_term_case", "duplicate_terms", ["term", "case_id"], unique=False)
    op.create_table(
        "duplicate_term_counts",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_duplicate_term_counts")),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("likely_duplicates", sa.JSON(), nullable=False, server_default="[]"))
        batch.create_index(batch.f("ix_cases_duplicate_of_id"), ["duplicate_of_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(batch.f("ix_cases_duplicate_of_id"))
        batch.drop_column("likely_duplicates")
    op.drop_table("duplicate_term_counts")
    op.drop_index("ix_duplicate_terms_term_case", table_name="duplicate_terms")
    op.drop_table("duplicate_terms")
