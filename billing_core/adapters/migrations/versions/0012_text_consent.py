"""text consent: each number's STOP or START, and when a number was last auto-replied to

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "text_consents",
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "opted_out",
                "opted_in",
                name="text_consent_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keyword", sa.String(20), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "sms", "phone", "staff", name="text_consent_channel", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_table(
        "text_auto_replies",
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )


def downgrade() -> None:
    op.drop_table("text_auto_replies")
    op.drop_table("text_consents")
