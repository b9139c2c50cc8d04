"""saved payment methods

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_payment_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("brand", sa.String(length=30), nullable=True),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        sa.Column("account_type", sa.String(length=30), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "token"),
    )
    with op.batch_alter_table("saved_payment_methods") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_saved_payment_methods_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("saved_payment_methods") as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_payment_methods_member_id"))
    op.drop_table("saved_payment_methods")
