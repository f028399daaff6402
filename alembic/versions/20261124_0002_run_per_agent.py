"""run.per_agent: tokens, cost and latency of each agent in a run

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode rebuilds the table on SQLite and is a plain ALTER TABLE on PostgreSQL.
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('per_agent', sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_column('per_agent')
