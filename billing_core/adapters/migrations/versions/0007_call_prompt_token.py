"""call sessions keep the token of the prompt an answer must carry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_sessions") as batch_op:
        batch_op.add_column(sa.Column("prompt_token", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_sessions") as batch_op:
        batch_op.drop_column("prompt_token")
