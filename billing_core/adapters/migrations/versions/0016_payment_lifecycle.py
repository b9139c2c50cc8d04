"""bank debits that settle or return, refunds and voids, and every payment status change

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("return_code", sa.String(4), nullable=True))
        batch_op.add_column(sa.Column("returned_item_fee_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("refunded_cents", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(80), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("gateway_reference", sa.String(100), nullable=True),
        sa.Column("failure_reason", sa.String(200), nullable=True),
        sa.Column("requested_by", sa.String(60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_refunds_payment_id", "refunds", ["payment_id"])
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("return_code", sa.String(4), nullable=True),
        sa.Column("refund_id", sa.Integer(), sa.ForeignKey("refunds.id"), nullable=True),
    )
    op.create_index("ix_payment_events_payment_id", "payment_events", ["payment_id"])
    op.create_index("ix_payment_events_at", "payment_events", ["at"])
    op.create_table(
        "payment_reversals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("refund_id", sa.Integer(), sa.ForeignKey("refunds.id"), nullable=True),
        sa.Column("bill_id", sa.Integer(), sa.ForeignKey("medical_bills.id"), nullable=True),
        sa.Column(
            "premium_invoice_id",
            sa.Integer(),
            sa.ForeignKey("premium_invoices.id"),
            nullable=True,
        ),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_payment_reversals_payment_id", "payment_reversals", ["payment_id"])
    op.create_table(
        "sandbox_refunds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("idempotency_key", sa.String(80), nullable=False, unique=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("charge_reference", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sandbox_refunds_charge_reference", "sandbox_refunds", ["charge_reference"])


def downgrade() -> None:
    op.drop_table("sandbox_refunds")
    op.drop_table("payment_reversals")
    op.drop_table("payment_events")
    op.drop_table("refunds")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_column("refunded_cents")
        batch_op.drop_column("returned_item_fee_cents")
        batch_op.drop_column("return_code")
