"""copy trading: elite traders, copy symbols, followers and their settings, tracking orders,
follower copies, profit shares

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from localex.store.schema import Money

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("copy_profit_shares", "copy_follower_orders", "copy_tracking", "copy_follower_settings",
          "copy_follows", "copy_symbols", "copy_traders")


def upgrade() -> None:
    op.create_table(
        "copy_traders",
        sa.Column("uid", sa.String(32), primary_key=True),
        sa.Column("profit_share_ratio", Money, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("show_total_equity", sa.Boolean, nullable=False),
        sa.Column("show_tpsl", sa.Boolean, nullable=False),
        sa.Column("max_followers", sa.Integer, nullable=False),
        sa.Column("last_tpsl_ms", sa.BigInteger, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "copy_symbols",
        sa.Column("uid", sa.String(32), primary_key=True),
        sa.Column("market", sa.String(32), primary_key=True),
        sa.Column("symbol", sa.String(64), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("max_leverage", sa.Integer, nullable=False),
        sa.Column("min_open_size", Money, nullable=False),
        sa.Column("tp_ratio", sa.Integer, nullable=True),
        sa.Column("sl_ratio", sa.Integer, nullable=True),
    )
    op.create_table(
        "copy_follows",
        sa.Column("trader_uid", sa.String(32), primary_key=True),
        sa.Column("follower_uid", sa.String(32), primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("auto_copy", sa.Boolean, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("copy_amount", Money, nullable=True),
        sa.Column("margin_mode", sa.String(16), nullable=False),
        sa.Column("leverage_type", sa.String(16), nullable=False),
        sa.Column("leverage", sa.Integer, nullable=False),
        sa.Column("first_followed_ms", sa.BigInteger, nullable=False),
        sa.Column("followed_ms", sa.BigInteger, nullable=False),
        sa.Column("unfollowed_ms", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_copy_follows_follower", "copy_follows", ["follower_uid", "active"])
    op.create_table(
        "copy_follower_settings",
        sa.Column("trader_uid", sa.String(32), primary_key=True),
        sa.Column("follower_uid", sa.String(32), primary_key=True),
        sa.Column("market", sa.String(32), primary_key=True),
        sa.Column("symbol", sa.String(64), primary_key=True),
        sa.Column("margin_type", sa.String(16), nullable=False),
        sa.Column("margin_coin", sa.String(32), nullable=False),
        sa.Column("lever_type", sa.String(16), nullable=False),
        sa.Column("long_leverage", sa.Integer, nullable=True),
        sa.Column("short_leverage", sa.Integer, nullable=True),
        sa.Column("trace_type", sa.String(16), nullable=False),
        sa.Column("trace_value", Money, nullable=False),
        sa.Column("max_hold_size", Money, nullable=True),
        sa.Column("tp_ratio", sa.Integer, nullable=True),
        sa.Column("sl_ratio", sa.Integer, nullable=True),
    )
    op.create_table(
        "copy_tracking",
        sa.Column("tracking_no", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("trader_uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("market", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("pos_side", sa.String(8), nullable=False),
        sa.Column("margin_mode", sa.String(16), nullable=False),
        sa.Column("leverage", sa.Integer, nullable=False),
        sa.Column("position_id", sa.BigInteger, nullable=False),
        sa.Column("open_order_id", sa.BigInteger, nullable=False),
        sa.Column("open_price", Money, nullable=False),
        sa.Column("open_size", Money, nullable=False),
        sa.Column("open_fee", Money, nullable=False),
        sa.Column("open_margin", Money, nullable=False),
        sa.Column("open_ms", sa.BigInteger, nullable=False),
        sa.Column("tp_price", Money, nullable=True),
        sa.Column("sl_price", Money, nullable=True),
        sa.Column("follow_count", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("close_order_id", sa.BigInteger, nullable=True),
        sa.Column("close_price", Money, nullable=False),
        sa.Column("close_size", Money, nullable=False),
        sa.Column("close_fee", Money, nullable=False),
        sa.Column("close_ms", sa.BigInteger, nullable=True),
        sa.Column("achieved_pl", Money, nullable=False),
        sa.Column("stop_type", sa.String(16), nullable=False),
    )
    op.create_index("ix_copy_tracking_trader_symbol", "copy_tracking", ["trader_uid", "market", "symbol", "status", "tracking_no"])
    op.create_index("ix_copy_tracking_trader", "copy_tracking", ["trader_uid", "market", "status", "tracking_no"])
    op.create_index("ix_copy_tracking_book", "copy_tracking", ["venue", "market", "symbol", "status"])
    op.create_table(
        "copy_follower_orders",
        sa.Column("tracking_no", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("trader_tracking_no", sa.BigInteger, nullable=False),
        sa.Column("trader_uid", sa.String(32), nullable=False),
        sa.Column("follower_uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("market", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("pos_side", sa.String(8), nullable=False),
        sa.Column("margin_mode", sa.String(16), nullable=False),
        sa.Column("leverage", sa.Integer, nullable=False),
        sa.Column("position_id", sa.BigInteger, nullable=False),
        sa.Column("open_order_id", sa.BigInteger, nullable=False),
        sa.Column("open_price", Money, nullable=False),
        sa.Column("open_size", Money, nullable=False),
        sa.Column("open_fee", Money, nullable=False),
        sa.Column("open_margin", Money, nullable=False),
        sa.Column("open_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("close_order_id", sa.BigInteger, nullable=True),
        sa.Column("close_price", Money, nullable=False),
        sa.Column("close_size", Money, nullable=False),
        sa.Column("close_fee", Money, nullable=False),
        sa.Column("close_ms", sa.BigInteger, nullable=True),
        sa.Column("achieved_pl", Money, nullable=False),
        sa.Column("profit_share", Money, nullable=False),
    )
    op.create_index("ix_copy_follower_orders_trader_no", "copy_follower_orders", ["trader_tracking_no"])
    op.create_index("ix_copy_follower_orders_book", "copy_follower_orders", ["venue", "market", "symbol", "status"])
    op.create_index("ix_copy_follower_orders_follower", "copy_follower_orders", ["follower_uid", "market", "status", "tracking_no"])
    op.create_table(
        "copy_profit_shares",
        sa.Column("profit_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("trader_uid", sa.String(32), nullable=False),
        sa.Column("follower_uid", sa.String(32), nullable=False),
        sa.Column("coin", sa.String(32), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("follower_tracking_no", sa.BigInteger, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_copy_profit_shares_trader", "copy_profit_shares", ["trader_uid", "profit_id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
