"""The relational schema, shared by every backend. Migrations under migrations/ create it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class Money(TypeDecorator):
    """Exact decimals. Stored as text, so no backend ever rounds through a float."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return format(Decimal(value), "f")

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value)


metadata = MetaData()

sequences = Table(
    "sequences",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("venue", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("fee_deduction", Boolean, nullable=False, default=False),
    Column("elite_trader", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("venue", "name", name="uq_users_venue_name"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("uid", String(32), nullable=False, index=True),
    Column("venue", String(16), nullable=False),
    Column("secret", Text, nullable=False),
    Column("passphrase", String(128), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("permissions", String(256), nullable=False),
    Column("ip_whitelist", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("label", String(128), nullable=False, default=""),
)

instruments = Table(
    "instruments",
    metadata,
    Column("venue", String(16), primary_key=True),
    Column("market", String(32), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("base", String(32), nullable=False),
    Column("quote", String(32), nullable=False),
    Column("price_scale", Integer, nullable=False),
    Column("size_scale", Integer, nullable=False),
    Column("quote_scale", Integer, nullable=False),
    Column("min_size", Money, nullable=False),
    Column("max_size", Money, nullable=False),
    Column("min_notional", Money, nullable=False),
    Column("maker_fee", Money, nullable=False),
    Column("taker_fee", Money, nullable=False),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False, server_default="spot"),
    Column("settle", String(32), nullable=False, server_default=""),
    Column("contract_size", Money, nullable=False, server_default="1"),
    Column("min_leverage", Integer, nullable=False, server_default="1"),
    Column("max_leverage", Integer, nullable=False, server_default="1"),
    Column("maintenance_margin_rate", Money, nullable=False, server_default="0"),
    Column("inverse", Boolean, nullable=False, server_default="0"),
    Column("funding_interval_h", Integer, nullable=False, server_default="8"),
    Column("funding_rate", Money, nullable=False, server_default="0.0001"),
    Column("delivery_ms", BigInteger, nullable=True),
    # position tiers as JSON [[level, start, end, max leverage, maintenance rate], ...]; "" none
    Column("tiers", Text, nullable=False, server_default=""),
)

mark_prices = Table(
    "mark_prices",
    metadata,
    Column("instrument", String(128), primary_key=True),
    Column("price", Money, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("account", String(32), primary_key=True),
    Column("asset", String(32), primary_key=True),
    Column("available", Money, nullable=False),
    Column("frozen", Money, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

spot_orders = Table(
    "spot_orders",
    metadata,
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("client_oid", String(64), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("force", String(16), nullable=False),
    Column("price", Money, nullable=True),
    Column("size", Money, nullable=False),
    Column("status", String(24), nullable=False),
    Column("filled_size", Money, nullable=False),
    Column("filled_quote", Money, nullable=False),
    Column("fee", Money, nullable=False),
    Column("fee_asset", String(32), nullable=False),
    Column("fee_value", Money, nullable=False),
    Column("frozen_asset", String(32), nullable=False),
    Column("frozen_amount", Money, nullable=False),
    Column("enter_point", String(16), nullable=False),
    Column("cancel_reason", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("due_ms", BigInteger, nullable=True),
    Column("stp_mode", String(16), nullable=False, server_default="none"),
    Column("tp_price", Money, nullable=True),
    Column("tp_execute", Money, nullable=True),
    Column("sl_price", Money, nullable=True),
    Column("sl_execute", Money, nullable=True),
    UniqueConstraint("uid", "client_oid", name="uq_spot_orders_client_oid"),
    Index("ix_spot_orders_uid_order", "uid", "order_id"),
    Index("ix_spot_orders_book", "venue", "symbol", "status"),
    Index("ix_spot_orders_open", "uid", "status", "order_id"),
)

spot_fills = Table(
    "spot_fills",
    metadata,
    Column("trade_id", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, nullable=False, index=True),
    Column("uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("price", Money, nullable=False),
    Column("size", Money, nullable=False),
    Column("quote", Money, nullable=False),
    Column("fee", Money, nullable=False),
    Column("fee_asset", String(32), nullable=False),
    Column("fee_value", Money, nullable=False),
    Column("liquidity", String(8), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_spot_fills_uid_trade", "uid", "trade_id"),
)

futures_accounts = Table(
    "futures_accounts",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("market", String(32), primary_key=True),
    Column("position_mode", String(16), nullable=False),
    Column("merge_positions", Boolean, nullable=False),
)

symbol_settings = Table(
    "symbol_settings",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("market", String(32), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("margin_mode", String(16), nullable=False),
    Column("long_leverage", Integer, nullable=False),
    Column("short_leverage", Integer, nullable=False),
)

positions = Table(
    "positions",
    metadata,
    Column("position_id", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("market", String(32), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("side", String(8), nullable=False),
    Column("margin_mode", String(16), nullable=False),
    Column("leverage", Integer, nullable=False),
    Column("size", Money, nullable=False),
    Column("entry_price", Money, nullable=False),
    Column("margin", Money, nullable=False),
    Column("realized_pnl", Money, nullable=False),
    Column("fees", Money, nullable=False),
    Column("funding", Money, nullable=False),
    Column("tp_price", Money, nullable=True),
    Column("sl_price", Money, nullable=True),
    Column("open", Boolean, nullable=False),
    Column("opened_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("closed_size", Money, nullable=False),
    Column("close_value", Money, nullable=False),
    Column("tag", String(128), nullable=False),
    Column("tp_id", BigInteger, nullable=True),
    Column("sl_id", BigInteger, nullable=True),
    Column("tp_execute", Money, nullable=True),
    Column("sl_execute", Money, nullable=True),
    Index("ix_positions_owner", "uid", "market", "symbol", "open"),
    Index("ix_positions_book", "venue", "market", "symbol", "open"),
    Index("ix_positions_open", "uid", "open", "market"),
)

futures_orders = Table(
    "futures_orders",
    metadata,
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("market", String(32), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("client_oid", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("side", String(8), nullable=False),
    Column("pos_side", String(8), nullable=False),
    Column("trade_side", String(8), nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("force", String(16), nullable=False),
    Column("price", Money, nullable=True),
    Column("size", Money, nullable=False),
    Column("reduce_only", Boolean, nullable=False),
    Column("status", String(24), nullable=False),
    Column("filled_size", Money, nullable=False),
    Column("filled_quote", Money, nullable=False),
    Column("fee", Money, nullable=False),
    Column("realized_pnl", Money, nullable=False),
    Column("leverage", Integer, nullable=False),
    Column("margin_mode", String(16), nullable=False),
    Column("frozen", Money, nullable=False),
    Column("position_id", BigInteger, nullable=True),
    Column("tp_price", Money, nullable=True),
    Column("sl_price", Money, nullable=True),
    Column("trigger_price", Money, nullable=True),
    Column("trigger_above", Boolean, nullable=True),
    Column("callback_rate", Money, nullable=True),
    Column("extreme_price", Money, nullable=True),
    Column("source", String(32), nullable=False),
    Column("cancel_reason", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("tag", String(256), nullable=False),
    Column("due_ms", BigInteger, nullable=True),
    Column("tp_execute", Money, nullable=True),
    Column("sl_execute", Money, nullable=True),
    UniqueConstraint("uid", "client_oid", name="uq_futures_orders_client_oid"),
    Index("ix_futures_orders_uid_order", "uid", "order_id"),
    Index("ix_futures_orders_book", "venue", "market", "symbol", "status"),
    Index("ix_futures_orders_open", "uid", "status", "order_id"),
)

futures_fills = Table(
    "futures_fills",
    metadata,
    Column("trade_id", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, nullable=False, index=True),
    Column("uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("market", String(32), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("side", String(8), nullable=False),
    Column("pos_side", String(8), nullable=False),
    Column("trade_side", String(8), nullable=False),
    Column("price", Money, nullable=False),
    Column("size", Money, nullable=False),
    Column("quote", Money, nullable=False),
    Column("fee", Money, nullable=False),
    Column("realized_pnl", Money, nullable=False),
    Column("liquidity", String(8), nullable=False),
    Column("position_id", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_futures_fills_uid_trade", "uid", "trade_id"),
    Index("ix_futures_fills_position", "uid", "position_id", "trade_id"),
)

# ---- copy trading (elite traders and their followers) ------------------------------------------

copy_traders = Table(
    "copy_traders",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("profit_share_ratio", Money, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("show_total_equity", Boolean, nullable=False),
    Column("show_tpsl", Boolean, nullable=False),
    Column("max_followers", Integer, nullable=False),
    Column("last_tpsl_ms", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

copy_symbols = Table(
    "copy_symbols",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("market", String(32), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("max_leverage", Integer, nullable=False),
    Column("min_open_size", Money, nullable=False),
    Column("tp_ratio", Integer, nullable=True),
    Column("sl_ratio", Integer, nullable=True),
)

copy_follows = Table(
    "copy_follows",
    metadata,
    Column("trader_uid", String(32), primary_key=True),
    Column("follower_uid", String(32), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("auto_copy", Boolean, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("copy_amount", Money, nullable=True),
    Column("margin_mode", String(16), nullable=False),
    Column("leverage_type", String(16), nullable=False),
    Column("leverage", Integer, nullable=False),
    Column("first_followed_ms", BigInteger, nullable=False),
    Column("followed_ms", BigInteger, nullable=False),
    Column("unfollowed_ms", BigInteger, nullable=True),
    Index("ix_copy_follows_follower", "follower_uid", "active"),
)

copy_follower_settings = Table(
    "copy_follower_settings",
    metadata,
    Column("trader_uid", String(32), primary_key=True),
    Column("follower_uid", String(32), primary_key=True),
    Column("market", String(32), primary_key=True),
    Column("symbol", String(64), primary_key=True),
    Column("margin_type", String(16), nullable=False),
    Column("margin_coin", String(32), nullable=False),
    Column("lever_type", String(16), nullable=False),
    Column("long_leverage", Integer, nullable=True),
    Column("short_leverage", Integer, nullable=True),
    Column("trace_type", String(16), nullable=False),
    Column("trace_value", Money, nullable=False),
    Column("max_hold_size", Money, nullable=True),
    Column("tp_ratio", Integer, nullable=True),
    Column("sl_ratio", Integer, nullable=True),
)

copy_tracking = Table(
    "copy_tracking",
    metadata,
    Column("tracking_no", BigInteger, primary_key=True, autoincrement=False),
    Column("trader_uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("market", String(32), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("pos_side", String(8), nullable=False),
    Column("margin_mode", String(16), nullable=False),
    Column("leverage", Integer, nullable=False),
    Column("position_id", BigInteger, nullable=False),
    Column("open_order_id", BigInteger, nullable=False),
    Column("open_price", Money, nullable=False),
    Column("open_size", Money, nullable=False),
    Column("open_fee", Money, nullable=False),
    Column("open_margin", Money, nullable=False),
    Column("open_ms", BigInteger, nullable=False),
    Column("tp_price", Money, nullable=True),
    Column("sl_price", Money, nullable=True),
    Column("follow_count", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("close_order_id", BigInteger, nullable=True),
    Column("close_price", Money, nullable=False),
    Column("close_size", Money, nullable=False),
    Column("close_fee", Money, nullable=False),
    Column("close_ms", BigInteger, nullable=True),
    Column("achieved_pl", Money, nullable=False),
    Column("stop_type", String(16), nullable=False),
    Index("ix_copy_tracking_trader", "trader_uid", "market", "status", "tracking_no"),
    Index("ix_copy_tracking_trader_symbol", "trader_uid", "market", "symbol", "status", "tracking_no"),
    Index("ix_copy_tracking_book", "venue", "market", "symbol", "status"),
)

copy_follower_orders = Table(
    "copy_follower_orders",
    metadata,
    Column("tracking_no", BigInteger, primary_key=True, autoincrement=False),
    Column("trader_tracking_no", BigInteger, nullable=False),
    Column("trader_uid", String(32), nullable=False),
    Column("follower_uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("market", String(32), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("pos_side", String(8), nullable=False),
    Column("margin_mode", String(16), nullable=False),
    Column("leverage", Integer, nullable=False),
    Column("position_id", BigInteger, nullable=False),
    Column("open_order_id", BigInteger, nullable=False),
    Column("open_price", Money, nullable=False),
    Column("open_size", Money, nullable=False),
    Column("open_fee", Money, nullable=False),
    Column("open_margin", Money, nullable=False),
    Column("open_ms", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("close_order_id", BigInteger, nullable=True),
    Column("close_price", Money, nullable=False),
    Column("close_size", Money, nullable=False),
    Column("close_fee", Money, nullable=False),
    Column("close_ms", BigInteger, nullable=True),
    Column("achieved_pl", Money, nullable=False),
    Column("profit_share", Money, nullable=False),
    Index("ix_copy_follower_orders_trader_no", "trader_tracking_no"),
    Index("ix_copy_follower_orders_follower", "follower_uid", "market", "status", "tracking_no"),
    Index("ix_copy_follower_orders_book", "venue", "market", "symbol", "status"),
)

copy_profit_shares = Table(
    "copy_profit_shares",
    metadata,
    Column("profit_id", BigInteger, primary_key=True, autoincrement=False),
    Column("trader_uid", String(32), nullable=False),
    Column("follower_uid", String(32), nullable=False),
    Column("coin", String(32), nullable=False),
    Column("amount", Money, nullable=False),
    Column("follower_tracking_no", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_copy_profit_shares_trader", "trader_uid", "profit_id"),
)

bills = Table(
    "bills",
    metadata,
    Column("bill_id", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("account", String(32), nullable=False),
    Column("asset", String(32), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", Money, nullable=False),
    Column("balance", Money, nullable=False),
    Column("ref_id", BigInteger, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("fee", Money, nullable=False, server_default="0"),
    Index("ix_bills_owner", "uid", "account", "bill_id"),
)

fill_models = Table(
    "fill_models",
    metadata,
    Column("scope", String(160), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("params", Text, nullable=False),
)

spot_plan_orders = Table(
    "spot_plan_orders",
    metadata,
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("symbol", String(64), nullable=False),
    Column("client_oid", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("execute_price", Money, nullable=True),
    Column("trigger_price", Money, nullable=False),
    Column("trigger_above", Boolean, nullable=False),
    Column("trigger_type", String(16), nullable=False),
    Column("size", Money, nullable=False),
    Column("size_in_quote", Boolean, nullable=False),
    Column("force", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("sub_order_id", BigInteger, nullable=True),
    Column("parent_id", BigInteger, nullable=True),
    Column("stp_mode", String(16), nullable=False),
    Column("enter_point", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    UniqueConstraint("uid", "client_oid", name="uq_spot_plan_orders_client_oid"),
    Index("ix_spot_plan_orders_uid_order", "uid", "order_id"),
    Index("ix_spot_plan_orders_book", "venue", "symbol", "status"),
)

transfers = Table(
    "transfers",
    metadata,
    Column("transfer_id", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", String(32), nullable=False),
    Column("venue", String(16), nullable=False),
    Column("asset", String(32), nullable=False),
    Column("amount", Money, nullable=False),
    Column("from_account", String(32), nullable=False),
    Column("to_account", String(32), nullable=False),
    Column("client_oid", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("uid", "client_oid", name="uq_transfers_client_oid"),
    Index("ix_transfers_owner", "uid", "transfer_id"),
)


# ---- the market tape (engine/tape.py) ----------------------------------------------------------

market_bars = Table(
    "market_bars",
    metadata,
    Column("instrument", String(128), primary_key=True),
    Column("ts", BigInteger, primary_key=True),  # the minute's first millisecond
    Column("open", Money, nullable=False),
    Column("high", Money, nullable=False),
    Column("low", Money, nullable=False),
    Column("close", Money, nullable=False),
    Column("open_ms", BigInteger, nullable=False),
    Column("high_ms", BigInteger, nullable=False),
    Column("low_ms", BigInteger, nullable=False),
    Column("close_ms", BigInteger, nullable=False),
    Column("fill_base", Money, nullable=False),
    Column("fill_quote", Money, nullable=False),
    Column("fills", Integer, nullable=False),
    Column("path_volume", Money, nullable=True),  # volume a replayed candle file gave
)

public_trades = Table(
    "public_trades",
    metadata,
    Column("trade_id", BigInteger, primary_key=True, autoincrement=False),
    Column("instrument", String(128), primary_key=True),
    Column("ts", BigInteger, nullable=False),
    Column("side", String(8), nullable=False),  # the taker's side
    Column("price", Money, nullable=False),
    Column("size", Money, nullable=False),
    Index("ix_public_trades_time", "instrument", "ts"),
)

TAPE_TABLES = [public_trades, market_bars]

COPY_TABLES = [copy_profit_shares, copy_follower_orders, copy_tracking, copy_follower_settings,
               copy_follows, copy_symbols, copy_traders]

# Every table a reset empties, children before parents.
ALL_TABLES = TAPE_TABLES + [transfers, spot_plan_orders, bills, fill_models] + COPY_TABLES + [futures_fills, futures_orders, positions, symbol_settings, futures_accounts,
              spot_fills, spot_orders, balances, mark_prices, instruments, api_keys, users, sequences]
