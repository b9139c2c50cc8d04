"""autopay: enrollments (one active per member) and the attempts of each run

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "autopay_enrollments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column(
            "saved_method_id",
            sa.Integer(),
            sa.ForeignKey("saved_payment_methods.id"),
            nullable=False,
        ),
        sa.Column("max_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method_kind", sa.String(10), nullable=False),
        sa.Column("method_brand", sa.String(30), nullable=True),
        sa.Column("method_last4", sa.String(4), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("wording_version", sa.String(20), nullable=False),
        sa.Column("authorization_text", sa.String(4000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_channel", sa.String(20), nullable=True),
        sa.Column("cancel_call_sid", sa.String(64), nullable=True),
    )
    op.create_index("ix_autopay_enrollments_member_id", "autopay_enrollments", ["member_id"])
    op.create_index(
        "uq_autopay_enrollments_active_member",
        "autopay_enrollments",
        ["member_id"],
        unique=True,
        sqlite_where=sa.text("cancelled_at IS NULL"),
        postgresql_where=sa.text("cancelled_at IS NULL"),
    )
    op.create_table(
        "autopay_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "enrollment_id",
            sa.Integer(),
            sa.ForeignKey("autopay_enrollments.id"),
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("coverage_month", sa.Date(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("decline_code", sa.String(40), nullable=True),
        sa.Column("next_retry_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("member_id", "coverage_month", "attempt"),
    )
    op.create_index("ix_autopay_attempts_enrollment_id", "autopay_attempts", ["enrollment_id"])
    op.create_index("ix_autopay_attempts_next_retry_on", "autopay_attempts", ["next_retry_on"])


def downgrade() -> None:
    op.drop_table("autopay_attempts")
    op.drop_table("autopay_enrollments")
