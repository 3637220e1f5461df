"""spot trading: trigger (plan) orders, self-trade prevention and preset TP/SL on spot orders,
transfers between accounts

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

from localex.store.schema import Money

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spot_orders") as batch:
        batch.add_column(sa.Column("stp_mode", sa.String(16), nullable=False, server_default="none"))
        for name in ("tp_price", "tp_execute", "sl_price", "sl_execute"):
            batch.add_column(sa.Column(name, Money, nullable=True))
    op.create_table(
        "spot_plan_orders",
        sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("client_oid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("execute_price", Money, nullable=True),
        sa.Column("trigger_price", Money, nullable=False),
        sa.Column("trigger_above", sa.Boolean, nullable=False),
        sa.Column("trigger_type", sa.String(16), nullable=False),
        sa.Column("size", Money, nullable=False),
        sa.Column("size_in_quote", sa.Boolean, nullable=False),
        sa.Column("force", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sub_order_id", sa.BigInteger, nullable=True),
        sa.Column("parent_id", sa.BigInteger, nullable=True),
        sa.Column("stp_mode", sa.String(16), nullable=False),
        sa.Column("enter_point", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("uid", "client_oid", name="uq_spot_plan_orders_client_oid"),
    )
    op.create_index("ix_spot_plan_orders_uid_order", "spot_plan_orders", ["uid", "order_id"])
    op.create_index("ix_spot_plan_orders_book", "spot_plan_orders", ["venue", "symbol", "status"])
    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("from_account", sa.String(32), nullable=False),
        sa.Column("to_account", sa.String(32), nullable=False),
        sa.Column("client_oid", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("uid", "client_oid", name="uq_transfers_client_oid"),
    )
    op.create_index("ix_transfers_owner", "transfers", ["uid", "transfer_id"])


def downgrade() -> None:
    op.drop_table("transfers")
    op.drop_table("spot_plan_orders")
    with op.batch_alter_table("spot_orders") as batch:
        for name in ("sl_execute", "sl_price", "tp_execute", "tp_price", "stp_mode"):
            batch.drop_column(name)
