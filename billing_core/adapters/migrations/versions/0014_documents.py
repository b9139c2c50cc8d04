"""documents: statements and letters as PDFs, mailing addresses, an email's attachment

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("address_line1", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("address_line2", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("address_city", sa.String(60), nullable=True))
        batch_op.add_column(sa.Column("address_state", sa.String(2), nullable=True))
        batch_op.add_column(sa.Column("address_zip", sa.String(10), nullable=True))
    op.create_table(
        "document_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("delivery", sa.String(10), nullable=False),
        sa.Column("member_name", sa.String(201), nullable=False),
        sa.Column("mail_address", sa.JSON(), nullable=True),
        sa.Column("file_name", sa.String(80), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_document_requests_member_id", "document_requests", ["member_id"])
    op.create_index(
        "ix_document_requests_delivery_created", "document_requests", ["delivery", "created_at"]
    )
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_outbox_messages_document_id", "document_requests", ["document_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_constraint("fk_outbox_messages_document_id", type_="foreignkey")
        batch_op.drop_column("document_id")
    op.drop_index("ix_document_requests_delivery_created", table_name="document_requests")
    op.drop_index("ix_document_requests_member_id", table_name="document_requests")
    op.drop_table("document_requests")
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("address_zip")
        batch_op.drop_column("address_state")
        batch_op.drop_column("address_city")
        batch_op.drop_column("address_line2")
        batch_op.drop_column("address_line1")
