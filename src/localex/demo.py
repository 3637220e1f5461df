"""The demo world `localex serve` starts with: instruments, prices and a funded demo account."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from decimal import Decimal as D

from localex.engine.model import Instrument, PositionTier
from localex.engine.spot import SPOT


def bitget_spot(symbol: str, base: str, price_scale: int, size_scale: int,
                min_notional: str = "1") -> Instrument:
    return Instrument(
        venue="bitget", market=SPOT, symbol=symbol, base=base, quote="USDT",
        price_scale=price_scale, size_scale=size_scale, quote_scale=6,
        min_size=D("0"), max_size=D("10000000000"), min_notional=D(min_notional),
        maker_fee=D("0.001"), taker_fee=D("0.001"),
    )


BITGET_SPOT = [
    (bitget_spot("BTCUSDT", "BTC", 2, 6), D("95000.00")),
    (bitget_spot("ETHUSDT", "ETH", 2, 4), D("3200.00")),
    (bitget_spot("BGBUSDT", "BGB", 4, 2), D("5.0000")),
    (bitget_spot("SOLUSDT", "SOL", 2, 4), D("180.00")),
    (bitget_spot("XRPUSDT", "XRP", 4, 2), D("2.2000")),
    (bitget_spot("USDCUSDT", "USDC", 4, 2), D("1.0000")),
]

def tiers(*rows: tuple[str, int, str]) -> tuple[PositionTier, ...]:
    """Position tiers from (end value, max leverage, maintenance rate) rows, lowest first; each
    starts where the one before ends."""
    out, start = [], D(0)
    for level, (end, lever, rate) in enumerate(rows, 1):
        out.append(PositionTier(level, start, D(end), lever, D(rate)))
        start = D(end)
    return tuple(out)


# Bitget's position tiers for the demo contracts (query-position-lever): values in the margin
# coin (USDT, USDC; BTC for the coin-margined ones). Tiers 1-3 of BTCUSDT are those captured
# from the venue; the rest follow the venue's published pattern (docs/fidelity.md, "Position
# tiers").
BITGET_TIERS = {
    "BTCUSDT": tiers(("150000", 125, "0.004"), ("600000", 100, "0.005"), ("2000000", 75, "0.01"),
                     ("5000000", 50, "0.015"), ("10000000", 25, "0.025"), ("20000000", 20, "0.03"),
                     ("50000000", 10, "0.05"), ("150000000", 5, "0.1")),
    "ETHUSDT": tiers(("100000", 125, "0.004"), ("500000", 100, "0.005"), ("1500000", 75, "0.01"),
                     ("4000000", 50, "0.015"), ("8000000", 25, "0.025"), ("20000000", 20, "0.03"),
                     ("50000000", 10, "0.05")),
    "BTCPERP": tiers(("100000", 125, "0.004"), ("500000", 100, "0.005"), ("1000000", 50, "0.01"),
                     ("5000000", 20, "0.025"), ("150000000", 10, "0.05")),
    "BTCUSD": tiers(("10", 125, "0.004"), ("50", 100, "0.005"), ("200", 50, "0.01"),
                    ("500", 20, "0.025"), ("1000", 10, "0.05"), ("2000", 5, "0.1")),
    "BTCUSDH27": tiers(("10", 75, "0.004"), ("50", 50, "0.01"), ("200", 20, "0.025"),
                       ("2000", 10, "0.05")),
}


def bitget_contract(market: str, symbol: str, base: str, quote: str, settle: str, price_scale: int,
                    size_scale: int, step: str, max_leverage: int = 125, inverse: bool = False,
                    delivery_ms: int | None = None) -> Instrument:
    """A perpetual, or with delivery_ms a dated (delivery) contract, which pays no funding."""
    dated = delivery_ms is not None
    position_tiers = BITGET_TIERS.get(symbol, ())
    return Instrument(
        venue="bitget", market=market, symbol=symbol, base=base, quote=quote,
        price_scale=price_scale, size_scale=size_scale, quote_scale=price_scale,
        min_size=D(step), max_size=D("1200"), min_notional=D("5"),
        maker_fee=D("0.0002"), taker_fee=D("0.0006"), kind="delivery" if dated else "perpetual",
        settle=settle, contract_size=D(step), min_leverage=1, max_leverage=max_leverage,
        maintenance_margin_rate=position_tiers[0].maintenance_rate if position_tiers else D("0.004"),
        inverse=inverse, funding_interval_h=0 if dated else 8,
        funding_rate=D(0) if dated else D("0.0001"), delivery_ms=delivery_ms, tiers=position_tiers,
    )


# the coin-margined quarterly: delivered on the last Friday of March 2027, 08:00 UTC
DELIVERY_MS = 1_806_048_000_000


BITGET_FUTURES = [
    (bitget_contract("usdt-futures", "BTCUSDT", "BTC", "USDT", "USDT", 1, 4, "0.0001"), D("95000.0")),
    (bitget_contract("usdt-futures", "ETHUSDT", "ETH", "USDT", "USDT", 2, 2, "0.01"), D("3200.00")),
    (bitget_contract("coin-futures", "BTCUSD", "BTC", "USD", "BTC", 1, 3, "0.001", inverse=True),
     D("95000.0")),
    (bitget_contract("coin-futures", "BTCUSDH27", "BTC", "USD", "BTC", 1, 3, "0.001", inverse=True,
                     max_leverage=75, delivery_ms=DELIVERY_MS), D("95500.0")),
    (bitget_contract("usdc-futures", "BTCPERP", "BTC", "USDC", "USDC", 1, 4, "0.0001"), D("95000.0")),
]


def coinw_contract(name: str, base: str, settle: str, price_scale: int, lot: str, max_leverage: int,
                   maintenance: str = "0.0036", max_contracts: int = 20000) -> Instrument:
    """A CoinW USDT- (or USDC-) margined perpetual: one contract is `lot` (oneLotSize) of the base
    coin; fees as CoinW's instrument list shows them (maker 0.0001, taker 0.0006)."""
    size = D(lot)
    return Instrument(
        venue="coinw", market="futures", symbol=name, base=base, quote=settle,
        price_scale=price_scale, size_scale=max(0, -size.normalize().as_tuple().exponent),
        quote_scale=price_scale, min_size=size, max_size=size * max_contracts, min_notional=D("0"),
        maker_fee=D("0.0001"), taker_fee=D("0.0006"), kind="perpetual", settle=settle,
        contract_size=size, min_leverage=1, max_leverage=max_leverage,
        maintenance_margin_rate=D(maintenance), funding_interval_h=8,
    )


COINW_FUTURES = [
    (coinw_contract("BTC", "BTC", "USDT", 1, "0.001", 200), D("95000.0")),
    (coinw_contract("ETH", "ETH", "USDT", 2, "0.01", 100), D("3200.00")),
    (coinw_contract("1000PEPE", "1000PEPE", "USDT", 7, "1000", 50, maintenance="0.01"),
     D("0.0098120")),
    (coinw_contract("BTC_USDC", "BTC", "USDC", 1, "0.001", 100), D("95000.0")),
]

DEMO_FUNDS = {"USDT": D("100000"), "BTC": D("1"), "ETH": D("10"), "BGB": D("100")}
# the CoinW demo user's futures account ("futures")
COINW_DEMO_FUNDS = {"USDT": D("100000"), "USDC": D("100000")}
# futures accounts: market -> (coin, amount)
DEMO_FUTURES_FUNDS = {"usdt-futures": ("USDT", D("100000")), "coin-futures": ("BTC", D("1")),
                      "usdc-futures": ("USDC", D("100000"))}


@dataclass
class Account:
    venue: str
    name: str
    uid: str
    api_key: str
    secret_key: str
    passphrase: str | None

    def as_json(self) -> dict:
        out = {"name": self.name, "uid": self.uid, "apiKey": self.api_key, "secretKey": self.secret_key}
        if self.passphrase is not None:
            out["passphrase"] = self.passphrase
        return out


def fresh_secret(fresh: bool) -> dict:
    """Key options for a demo key: {} (the seeded random source picks its secret and passphrase,
    the same on every fresh server with that seed: fine on loopback) or, `fresh`, a secret and
    passphrase from the operating system's randomness, new for every world (for a server others
    can reach)."""
    if not fresh:
        return {}
    alphabet = string.ascii_letters + string.digits
    return {"secret": secrets.token_hex(32),
            "passphrase": "".join(secrets.choice(alphabet) for _ in range(12))}


def install_market(engine) -> None:
    """Instruments and opening prices; prices already set (a reopened database) are kept."""
    marks = engine.marks()
    for inst, price in BITGET_SPOT + BITGET_FUTURES + COINW_FUTURES:
        engine.add_instrument(inst)
        if inst.key not in marks:
            engine.set_mark(inst.venue, inst.market, inst.symbol, price)


def demo_account(engine, venue: str = "bitget", name: str = "demo", fresh: bool = False) -> Account:
    """The funded demo user, created once; on a reopened database its first key is reused."""
    user = engine.find_user(venue, name)
    if user is None:
        user = engine.create_user(venue, name=name)
        for asset, amount in DEMO_FUNDS.items():
            engine.fund(user.uid, asset, amount)
        for market, (asset, amount) in DEMO_FUTURES_FUNDS.items():
            engine.fund(user.uid, asset, amount, account=market)
        key = engine.create_api_key(user.uid, label="demo", **fresh_secret(fresh))
    else:
        key = engine.list_api_keys(user.uid)[0]
    return Account(venue=venue, name=name, uid=user.uid, api_key=key.key, secret_key=key.secret,
                   passphrase=key.passphrase)


def set_price_paths(engine, kind: str) -> None:
    """Give every instrument a path: "random" (a seeded random walk from its current price,
    1% hourly volatility, a step a second) or "candles" (the shipped BTCUSDT candle sample, on
    every Bitget BTC instrument; the others stay still)."""
    from localex.engine.pricepaths import CandleReplay, RandomWalk, sample_candles

    now = engine.now_ms()
    marks = engine.marks()
    for inst in engine.instruments():
        mark = marks.get(inst.key)
        if mark is None:
            continue
        if kind == "random":
            path = RandomWalk(mark, origin_ms=now, seed=f"{engine.seed}:{inst.key}", volatility=0.01,
                              step_ms=1000, price_scale=inst.price_scale)
        elif kind == "candles" and inst.venue == "bitget" and inst.base == "BTC":
            path = CandleReplay(sample_candles(), origin_ms=now)
        else:
            continue
        engine.simulation.set_path(inst, path)


# the copy-trading demo: an elite trader on BTCUSDT and ETHUSDT (USDT-M) and followers sized three ways
COPY_MARKET = "usdt-futures"
COPY_SYMBOLS = ("BTCUSDT", "ETHUSDT")
COPY_TRADER_FUNDS = D("100000")
COPY_FOLLOWER_FUNDS = D("10000")
COPY_FOLLOWERS = [  # name, engine trace type (None: a copy amount, sized by ratio), value
    ("follower-1", "fixed_amount", D("100")),
    ("follower-2", "multiple", D("0.5")),
    ("follower-3", None, D("1000")),
]


def _copy_account(engine, name: str, venue: str = "bitget", fresh: bool = False):
    """A user with a copy-trading key and USDT-M funds; (user, key, created now)."""
    from localex.engine.model import DEFAULT_PERMISSIONS, Permission

    user = engine.find_user(venue, name)
    if user is not None:
        return user, engine.list_api_keys(user.uid)[0], False
    user = engine.create_user(venue, name=name)
    funds = COPY_TRADER_FUNDS if name == "trader" else COPY_FOLLOWER_FUNDS
    engine.fund(user.uid, "USDT", funds, account=COPY_MARKET)
    key = engine.create_api_key(user.uid, permissions=DEFAULT_PERMISSIONS | {Permission.COPY_TRADE},
                                label=name, **fresh_secret(fresh))
    return user, key, True


def copy_world(engine, venue: str = "bitget", fresh: bool = False) -> list[Account]:
    """An elite trader ("trader") and followers ("follower-1"...), created once."""
    from localex.engine.copy import FollowerSetting

    trader, key, created = _copy_account(engine, "trader", venue, fresh)
    if created:
        engine.copy.make_trader(trader.uid, [(COPY_MARKET, s) for s in COPY_SYMBOLS])
    accounts = [Account(venue, "trader", trader.uid, key.key, key.secret, key.passphrase)]
    for name, trace, value in COPY_FOLLOWERS:
        user, key, created = _copy_account(engine, name, venue, fresh)
        if created and trace is None:
            engine.copy.copy_settings(user.uid, trader.uid, value)
        elif created:
            engine.copy.follow(user.uid, trader.uid, [FollowerSetting(trader.uid, user.uid, COPY_MARKET, s,
                                                                      trace_type=trace, trace_value=value)
                                                      for s in COPY_SYMBOLS])
        accounts.append(Account(venue, name, user.uid, key.key, key.secret, key.passphrase))
    return accounts


def coinw_demo_account(engine, name: str = "demo", fresh: bool = False) -> Account:
    """The funded CoinW demo user (futures USDT and USDC), created once; no passphrase."""
    user = engine.find_user("coinw", name)
    if user is None:
        user = engine.create_user("coinw", name=name)
        for asset, amount in COINW_DEMO_FUNDS.items():
            engine.fund(user.uid, asset, amount, account="futures")
        key = engine.create_api_key(user.uid, label="demo", **fresh_secret(fresh))
    else:
        key = engine.list_api_keys(user.uid)[0]
    return Account(venue="coinw", name=name, uid=user.uid, api_key=key.key, secret_key=key.secret,
                   passphrase=None)


def start_world(engine, fresh_secrets: bool = False) -> list[Account]:
    """The demo market and accounts. fresh_secrets: the keys' secrets and passphrases come from
    the operating system's randomness (see fresh_secret), as `localex serve` does beyond
    loopback."""
    install_market(engine)
    return ([demo_account(engine, fresh=fresh_secrets), coinw_demo_account(engine, fresh=fresh_secrets)]
            + copy_world(engine, fresh=fresh_secrets))


def credentials(accounts: list[Account]) -> dict:
    """{"bitget": [{name, uid, apiKey, secretKey, passphrase}, ...],
    "coinw": [{name, uid, apiKey, secretKey}, ...]}"""
    out: dict[str, list] = {}
    for acc in accounts:
        out.setdefault(acc.venue, []).append(acc.as_json())
    return out
