"""plan payments: which plan and installment a payment pays, a payment ahead; bills in dispute

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("plan_installment", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_payments_plan_id", "payment_plans", ["plan_id"], ["id"])
        batch_op.create_index("ix_payments_plan_id", ["plan_id"])
    with op.batch_alter_table("plan_installments") as batch_op:
        batch_op.add_column(sa.Column("ahead_key", sa.String(80), nullable=True))
    with op.batch_alter_table("medical_bills") as batch_op:
        batch_op.add_column(
            sa.Column("disputed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("medical_bills") as batch_op:
        batch_op.drop_column("disputed")
    with op.batch_alter_table("plan_installments") as batch_op:
        batch_op.drop_column("ahead_key")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_index("ix_payments_plan_id")
        batch_op.drop_constraint("fk_payments_plan_id", type_="foreignkey")
        batch_op.drop_column("plan_installment")
        batch_op.drop_column("plan_id")
