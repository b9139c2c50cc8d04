"""payment plans: a member's medical bills paid in monthly installments

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("request_key", sa.String(80), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("first_cents", sa.BigInteger(), nullable=False),
        sa.Column("monthly_cents", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "saved_method_id",
            sa.Integer(),
            sa.ForeignKey("saved_payment_methods.id"),
            nullable=False,
        ),
        sa.Column("method_kind", sa.String(10), nullable=False),
        sa.Column("method_brand", sa.String(30), nullable=True),
        sa.Column("method_last4", sa.String(4), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("wording_version", sa.String(20), nullable=False),
        sa.Column("authorization_text", sa.String(4000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_payment_plans_member_id", "payment_plans", ["member_id"])
    op.create_index(
        "uq_payment_plans_active_member",
        "payment_plans",
        ["member_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "plan_bills",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("payment_plans.id"), nullable=False),
        sa.Column("bill_id", sa.Integer(), sa.ForeignKey("medical_bills.id"), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("plan_id", "bill_id"),
    )
    op.create_index("ix_plan_bills_bill_id", "plan_bills", ["bill_id"])
    op.create_table(
        "plan_installments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("payment_plans.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("next_try_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("plan_id", "number"),
    )
    op.create_index(
        "ix_plan_installments_status_due_on", "plan_installments", ["status", "due_on"]
    )


def downgrade() -> None:
    op.drop_table("plan_installments")
    op.drop_table("plan_bills")
    op.drop_index("uq_payment_plans_active_member", table_name="payment_plans")
    op.drop_table("payment_plans")
