"""reminders: outbox quiet hours and unsubscribable emails; unsubscribed addresses

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.add_column(sa.Column("quiet_zone", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("unsubscribe_language", sa.String(8), nullable=True))
    op.create_table(
        "email_opt_outs",
        sa.Column("address_digest", sa.String(64), primary_key=True),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_opt_outs")
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_column("unsubscribe_language")
        batch_op.drop_column("quiet_zone")
