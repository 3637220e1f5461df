"""TP/SL: position take-profit / stop-loss ids and limit execution prices, preset limit prices
on futures orders; the fee a bill carries (futures trade bills)

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from localex.store.schema import Money

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("tp_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("sl_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("tp_execute", Money, nullable=True))
        batch.add_column(sa.Column("sl_execute", Money, nullable=True))
    with op.batch_alter_table("futures_orders") as batch:
        batch.add_column(sa.Column("tp_execute", Money, nullable=True))
        batch.add_column(sa.Column("sl_execute", Money, nullable=True))
    with op.batch_alter_table("bills") as batch:
        batch.add_column(sa.Column("fee", Money, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("bills") as batch:
        batch.drop_column("fee")
    with op.batch_alter_table("futures_orders") as batch:
        batch.drop_column("sl_execute")
        batch.drop_column("tp_execute")
    with op.batch_alter_table("positions") as batch:
        for name in ("sl_execute", "tp_execute", "sl_id", "tp_id"):
            batch.drop_column(name)
