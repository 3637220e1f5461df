"""market simulation: funding rates, bills, order due times for latency fills, fill models

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from localex.store.schema import Money

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instruments") as batch:
        batch.add_column(sa.Column("funding_rate", Money, nullable=False, server_default="0.0001"))
    with op.batch_alter_table("spot_orders") as batch:
        batch.add_column(sa.Column("due_ms", sa.BigInteger, nullable=True))
    with op.batch_alter_table("futures_orders") as batch:
        batch.add_column(sa.Column("due_ms", sa.BigInteger, nullable=True))
    op.create_table(
        "bills",
        sa.Column("bill_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("balance", Money, nullable=False),
        sa.Column("ref_id", sa.BigInteger, nullable=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_bills_owner", "bills", ["uid", "account", "bill_id"])
    op.create_table(
        "fill_models",
        sa.Column("scope", sa.String(160), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fill_models")
    op.drop_table("bills")
    for table in ("futures_orders", "spot_orders"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("due_ms")
    with op.batch_alter_table("instruments") as batch:
        batch.drop_column("funding_rate")
