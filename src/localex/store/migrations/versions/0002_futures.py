"""futures: contract fields on instruments, accounts, symbol settings, positions, orders, fills

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from localex.store.schema import Money

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("elite_trader", sa.Boolean, nullable=False, server_default="0"))
    with op.batch_alter_table("instruments") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="spot"))
        batch.add_column(sa.Column("settle", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("contract_size", Money, nullable=False, server_default="1"))
        batch.add_column(sa.Column("min_leverage", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("max_leverage", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("maintenance_margin_rate", Money, nullable=False, server_default="0"))
        batch.add_column(sa.Column("inverse", sa.Boolean, nullable=False, server_default="0"))
        batch.add_column(sa.Column("funding_interval_h", sa.Integer, nullable=False, server_default="8"))
    op.create_table(
        "futures_accounts",
        sa.Column("uid", sa.String(32), primary_key=True),
        sa.Column("market", sa.String(32), primary_key=True),
        sa.Column("position_mode", sa.String(16), nullable=False),
        sa.Column("merge_positions", sa.Boolean, nullable=False),
    )
    op.create_table(
        "symbol_settings",
        sa.Column("uid", sa.String(32), primary_key=True),
        sa.Column("market", sa.String(32), primary_key=True),
        sa.Column("symbol", sa.String(64), primary_key=True),
        sa.Column("margin_mode", sa.String(16), nullable=False),
        sa.Column("long_leverage", sa.Integer, nullable=False),
        sa.Column("short_leverage", sa.Integer, nullable=False),
    )
    op.create_table(
        "positions",
        sa.Column("position_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("market", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("margin_mode", sa.String(16), nullable=False),
        sa.Column("leverage", sa.Integer, nullable=False),
        sa.Column("size", Money, nullable=False),
        sa.Column("entry_price", Money, nullable=False),
        sa.Column("margin", Money, nullable=False),
        sa.Column("realized_pnl", Money, nullable=False),
        sa.Column("fees", Money, nullable=False),
        sa.Column("funding", Money, nullable=False),
        sa.Column("tp_price", Money, nullable=True),
        sa.Column("sl_price", Money, nullable=True),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("opened_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("closed_size", Money, nullable=False),
        sa.Column("close_value", Money, nullable=False),
        sa.Column("tag", sa.String(128), nullable=False),
    )
    op.create_index("ix_positions_owner", "positions", ["uid", "market", "symbol", "open"])
    op.create_index("ix_positions_book", "positions", ["venue", "market", "symbol", "open"])
    op.create_table(
        "futures_orders",
        sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("market", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("client_oid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("pos_side", sa.String(8), nullable=False),
        sa.Column("trade_side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("force", sa.String(16), nullable=False),
        sa.Column("price", Money, nullable=True),
        sa.Column("size", Money, nullable=False),
        sa.Column("reduce_only", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("filled_size", Money, nullable=False),
        sa.Column("filled_quote", Money, nullable=False),
        sa.Column("fee", Money, nullable=False),
        sa.Column("realized_pnl", Money, nullable=False),
        sa.Column("leverage", sa.Integer, nullable=False),
        sa.Column("margin_mode", sa.String(16), nullable=False),
        sa.Column("frozen", Money, nullable=False),
        sa.Column("position_id", sa.BigInteger, nullable=True),
        sa.Column("tp_price", Money, nullable=True),
        sa.Column("sl_price", Money, nullable=True),
        sa.Column("trigger_price", Money, nullable=True),
        sa.Column("trigger_above", sa.Boolean, nullable=True),
        sa.Column("callback_rate", Money, nullable=True),
        sa.Column("extreme_price", Money, nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("cancel_reason", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("tag", sa.String(256), nullable=False),
        sa.UniqueConstraint("uid", "client_oid", name="uq_futures_orders_client_oid"),
    )
    op.create_index("ix_futures_orders_uid_order", "futures_orders", ["uid", "order_id"])
    op.create_index("ix_futures_orders_book", "futures_orders", ["venue", "market", "symbol", "status"])
    op.create_table(
        "futures_fills",
        sa.Column("trade_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("market", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("pos_side", sa.String(8), nullable=False),
        sa.Column("trade_side", sa.String(8), nullable=False),
        sa.Column("price", Money, nullable=False),
        sa.Column("size", Money, nullable=False),
        sa.Column("quote", Money, nullable=False),
        sa.Column("fee", Money, nullable=False),
        sa.Column("realized_pnl", Money, nullable=False),
        sa.Column("liquidity", sa.String(8), nullable=False),
        sa.Column("position_id", sa.BigInteger, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_futures_fills_order_id", "futures_fills", ["order_id"])
    op.create_index("ix_futures_fills_uid_trade", "futures_fills", ["uid", "trade_id"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("elite_trader")
    for table in ("futures_fills", "futures_orders", "positions", "symbol_settings", "futures_accounts"):
        op.drop_table(table)
    with op.batch_alter_table("instruments") as batch:
        for column in ("kind", "settle", "contract_size", "min_leverage", "max_leverage",
                       "maintenance_margin_rate", "inverse", "funding_interval_h"):
            batch.drop_column(column)
