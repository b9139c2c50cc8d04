"""billing feed details: account key and credit on members, adjustments on bills, payments
made elsewhere

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("account_key", sa.String(40), nullable=True))
        batch_op.add_column(
            sa.Column("credit_cents", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("medical_bills") as batch_op:
        batch_op.add_column(
            sa.Column("adjustments_cents", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "feed_payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("bill_number", sa.String(40), nullable=True),
        sa.Column("coverage_month", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("member_id", "reference"),
    )
    op.create_index("ix_feed_payments_member_id", "feed_payments", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_feed_payments_member_id", table_name="feed_payments")
    op.drop_table("feed_payments")
    with op.batch_alter_table("medical_bills") as batch_op:
        batch_op.drop_column("adjustments_cents")
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("credit_cents")
        batch_op.drop_column("account_key")
