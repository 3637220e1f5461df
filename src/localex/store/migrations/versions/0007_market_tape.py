"""market tape: one-minute bars and the public trade tape; delivery times of dated contracts

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from localex.store.schema import Money

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instruments") as batch:
        batch.add_column(sa.Column("delivery_ms", sa.BigInteger, nullable=True))
    op.create_table(
        "market_bars",
        sa.Column("instrument", sa.String(128), primary_key=True),
        sa.Column("ts", sa.BigInteger, primary_key=True),
        sa.Column("open", Money, nullable=False),
        sa.Column("high", Money, nullable=False),
        sa.Column("low", Money, nullable=False),
        sa.Column("close", Money, nullable=False),
        sa.Column("open_ms", sa.BigInteger, nullable=False),
        sa.Column("high_ms", sa.BigInteger, nullable=False),
        sa.Column("low_ms", sa.BigInteger, nullable=False),
        sa.Column("close_ms", sa.BigInteger, nullable=False),
        sa.Column("fill_base", Money, nullable=False),
        sa.Column("fill_quote", Money, nullable=False),
        sa.Column("fills", sa.Integer, nullable=False),
        sa.Column("path_volume", Money, nullable=True),
    )
    op.create_table(
        "public_trades",
        sa.Column("trade_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("instrument", sa.String(128), primary_key=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("price", Money, nullable=False),
        sa.Column("size", Money, nullable=False),
    )
    op.create_index("ix_public_trades_time", "public_trades", ["instrument", "ts"])


def downgrade() -> None:
    op.drop_table("public_trades")
    op.drop_table("market_bars")
    with op.batch_alter_table("instruments") as batch:
        batch.drop_column("delivery_ms")
