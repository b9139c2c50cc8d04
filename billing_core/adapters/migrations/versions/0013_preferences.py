"""message preferences per member and kind; consents to texts; paperless enrollments

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_preferences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("delivery", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("member_id", "kind", name="uq_message_preferences_member_kind"),
    )
    op.create_table(
        "text_agreements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_text", sa.String(2000), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
    )
    with op.batch_alter_table("text_agreements") as batch_op:
        batch_op.create_index("ix_text_agreements_member_id", ["member_id"])
    op.create_table(
        "paperless_enrollments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("wording_version", sa.String(30), nullable=False),
        sa.Column("terms_text", sa.String(4000), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_channel", sa.String(20), nullable=True),
    )
    with op.batch_alter_table("paperless_enrollments") as batch_op:
        batch_op.create_index("ix_paperless_enrollments_member_id", ["member_id"])
        batch_op.create_index(
            "uq_paperless_enrollments_active_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )


def downgrade() -> None:
    op.drop_table("paperless_enrollments")
    op.drop_table("text_agreements")
    op.drop_table("message_preferences")
