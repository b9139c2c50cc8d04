"""bills and premiums keep the billing system's paid figure apart from this line's payments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 11:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("medical_bills", "premium_invoices"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("feed_paid_cents", sa.BigInteger(), nullable=False, server_default="0")
            )
        # Until the next feed, what is recorded as paid is the best figure there is.
        op.execute(f"UPDATE {table} SET feed_paid_cents = paid_cents")
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("feed_paid_cents", server_default=None)


def downgrade() -> None:
    for table in ("medical_bills", "premium_invoices"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("feed_paid_cents")
