"""The outbox's head row dropped: the last event number is the outbox's highest seq

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("outbox_head")


def downgrade() -> None:
    op.create_table(
        "outbox_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO outbox_head (id, seq) SELECT 1, max(seq) FROM outbox HAVING count(*) > 0")
