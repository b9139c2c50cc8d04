"""scheduled payments: one-time payments set for a later day, charged by the daily run

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("request_key", sa.String(80), nullable=False, unique=True),
        sa.Column("confirmation_number", sa.String(20), nullable=False, unique=True),
        sa.Column("target_kind", sa.String(20), nullable=False),
        sa.Column("target_reference", sa.String(40), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("pay_on", sa.Date(), nullable=False),
        sa.Column(
            "saved_method_id",
            sa.Integer(),
            sa.ForeignKey("saved_payment_methods.id"),
            nullable=True,
        ),
        sa.Column("method_kind", sa.String(10), nullable=False),
        sa.Column("method_brand", sa.String(30), nullable=True),
        sa.Column("method_last4", sa.String(4), nullable=False),
        sa.Column("method_exp", sa.String(4), nullable=True),
        sa.Column("account_type", sa.String(30), nullable=True),
        sa.Column("token", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("ach_accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ach_text", sa.String(2000), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("charging_cents", sa.BigInteger(), nullable=True),
        sa.Column("next_try_on", sa.Date(), nullable=True),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("decline_code", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_channel", sa.String(20), nullable=True),
        sa.Column("cancel_call_sid", sa.String(64), nullable=True),
    )
    op.create_index("ix_scheduled_payments_member_id", "scheduled_payments", ["member_id"])
    op.create_index(
        "ix_scheduled_payments_status_pay_on", "scheduled_payments", ["status", "pay_on"]
    )


def downgrade() -> None:
    op.drop_table("scheduled_payments")
