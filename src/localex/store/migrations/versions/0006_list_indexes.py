"""indexes that keep every list endpoint independent of a user's closed history: open orders by
owner and status, a position's fills, open positions by owner

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_spot_orders_open", "spot_orders", ["uid", "status", "order_id"]),
    ("ix_positions_open", "positions", ["uid", "open", "market"]),
    ("ix_futures_orders_open", "futures_orders", ["uid", "status", "order_id"]),
    ("ix_futures_fills_position", "futures_fills", ["uid", "position_id", "trade_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
