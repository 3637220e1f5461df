"""initial schema: users, keys, instruments, prices, balances, spot orders and fills

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from localex.store.schema import Money

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sequences",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("uid", sa.String(32), primary_key=True),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("fee_deduction", sa.Boolean, nullable=False),
        sa.UniqueConstraint("venue", "name", name="uq_users_venue_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("passphrase", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("permissions", sa.String(256), nullable=False),
        sa.Column("ip_whitelist", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("label", sa.String(128), nullable=False),
    )
    op.create_index("ix_api_keys_uid", "api_keys", ["uid"])
    op.create_table(
        "instruments",
        sa.Column("venue", sa.String(16), primary_key=True),
        sa.Column("market", sa.String(32), primary_key=True),
        sa.Column("symbol", sa.String(64), primary_key=True),
        sa.Column("base", sa.String(32), nullable=False),
        sa.Column("quote", sa.String(32), nullable=False),
        sa.Column("price_scale", sa.Integer, nullable=False),
        sa.Column("size_scale", sa.Integer, nullable=False),
        sa.Column("quote_scale", sa.Integer, nullable=False),
        sa.Column("min_size", Money, nullable=False),
        sa.Column("max_size", Money, nullable=False),
        sa.Column("min_notional", Money, nullable=False),
        sa.Column("maker_fee", Money, nullable=False),
        sa.Column("taker_fee", Money, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_table(
        "mark_prices",
        sa.Column("instrument", sa.String(128), primary_key=True),
        sa.Column("price", Money, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "balances",
        sa.Column("uid", sa.String(32), primary_key=True),
        sa.Column("account", sa.String(32), primary_key=True),
        sa.Column("asset", sa.String(32), primary_key=True),
        sa.Column("available", Money, nullable=False),
        sa.Column("frozen", Money, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "spot_orders",
        sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("client_oid", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("force", sa.String(16), nullable=False),
        sa.Column("price", Money, nullable=True),
        sa.Column("size", Money, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("filled_size", Money, nullable=False),
        sa.Column("filled_quote", Money, nullable=False),
        sa.Column("fee", Money, nullable=False),
        sa.Column("fee_asset", sa.String(32), nullable=False),
        sa.Column("fee_value", Money, nullable=False),
        sa.Column("frozen_asset", sa.String(32), nullable=False),
        sa.Column("frozen_amount", Money, nullable=False),
        sa.Column("enter_point", sa.String(16), nullable=False),
        sa.Column("cancel_reason", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("uid", "client_oid", name="uq_spot_orders_client_oid"),
    )
    op.create_index("ix_spot_orders_uid_order", "spot_orders", ["uid", "order_id"])
    op.create_index("ix_spot_orders_book", "spot_orders", ["venue", "symbol", "status"])
    op.create_table(
        "spot_fills",
        sa.Column("trade_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("price", Money, nullable=False),
        sa.Column("size", Money, nullable=False),
        sa.Column("quote", Money, nullable=False),
        sa.Column("fee", Money, nullable=False),
        sa.Column("fee_asset", sa.String(32), nullable=False),
        sa.Column("fee_value", Money, nullable=False),
        sa.Column("liquidity", sa.String(8), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_spot_fills_order_id", "spot_fills", ["order_id"])
    op.create_index("ix_spot_fills_uid_trade", "spot_fills", ["uid", "trade_id"])


def downgrade() -> None:
    for table in ("spot_fills", "spot_orders", "balances", "mark_prices", "instruments", "api_keys",
                  "users", "sequences"):
        op.drop_table(table)
