"""ccxt.async_support's bitget, unchanged but for its URLs, driving the spot order-management
surface over the server (aiohttp to the session server) and in-process (mock_exchanges
intercepting aiohttp): create_orders, cancel_orders, cancel_all_orders, edit_order (plain and
trigger), create_trigger_order, fetch_open_orders({'trigger': True}), fetch_ledger, transfer,
fetch_transfers."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from decimal import Decimal

import ccxt
import ccxt.async_support as ccxt_async
import pytest
from test_ccxt_bitget import BTC, ETH, connect, d
from test_ccxt_bitget_spot_trade import FUNDS, PERMISSIONS

from localex.testing import mock_exchanges

D = Decimal


@contextmanager
def async_bot(mode: str, world):
    """(a factory of async exchanges, the engine, the user's uid) for one mode."""
    connect(world)  # the demo markets as ccxt loads them, loaded once
    from test_ccxt_bitget import _DEMO_MARKETS

    markets, currencies = _DEMO_MARKETS[0]

    def make(config: dict, url: str | None):
        exchange = ccxt_async.bitget({**config, "enableRateLimit": False})
        if url is not None:
            exchange.urls["api"] = {name: url for name in exchange.urls["api"]}
        exchange.set_markets(list(markets.values()), currencies)
        return exchange

    if mode == "server":
        trader = world.trader("alice", funds=FUNDS, permissions=PERMISSIONS)
        config = {"apiKey": trader.api_key, "secret": trader.secret_key, "password": trader.passphrase}
        yield (lambda: make(config, world.url)), world.engine, trader.uid
        return
    with mock_exchanges(clock="manual") as emu:
        creds = emu.create_user(funds=FUNDS, permissions=PERMISSIONS)
        yield (lambda: make(creds.ccxt, None)), emu.engine, creds.uid


def run(make, scenario):
    async def main():
        exchange = make()
        try:
            await exchange.fetch_balance()  # ccxt's one probe of the account mode goes first
            return await scenario(exchange)
        finally:
            await exchange.close()

    return asyncio.run(main())


MODES = ["server", "in-process"]


@pytest.mark.parametrize("mode", MODES)
def test_async_batches_cancel_orders_and_cancel_all(world, mode):
    with async_bot(mode, world) as (make, engine, uid):
        async def scenario(exchange):
            orders = await exchange.create_orders([
                {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": 90000,
                 "params": {"clientOrderId": "a1"}},
                {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.00001, "price": 90000,
                 "params": {"clientOrderId": "a2"}},  # below the minimum: refused alone
                {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": 89000},
            ])
            third = await exchange.create_order(BTC, "limit", "buy", 0.01, 88000)
            eth = await exchange.create_order(ETH, "limit", "buy", 0.1, 3000)
            cancelled = await exchange.cancel_orders([orders[0]["id"], "1767225600000000001"], BTC)
            await exchange.cancel_all_orders(BTC)
            left = await exchange.fetch_open_orders(ETH)
            return orders, third, eth, cancelled, left, await exchange.fetch_open_orders(BTC)

        orders, third, eth, cancelled, eth_open, btc_open = run(make, scenario)
        assert [o["clientOrderId"] for o in orders[:1]] == ["a1"] and len(orders) == 2
        assert engine.spot_order(uid, client_oid="a2") is None
        assert [o["id"] for o in cancelled] == [orders[0]["id"]]
        assert btc_open == [] and [o["id"] for o in eth_open] == [eth["id"]]
        statuses = [engine.spot_order(uid, int(o["id"])).status.value for o in (orders[0], orders[1], third)]
        assert statuses == ["cancelled", "cancelled", "cancelled"]
        usdt = engine.balance(uid, "USDT")
        assert (usdt.available, usdt.frozen) == (D("9700"), D("300"))  # only the ETH buy holds funds


@pytest.mark.parametrize("mode", MODES)
def test_async_edit_order_and_trigger_orders(world, mode):
    with async_bot(mode, world) as (make, engine, uid):
        async def scenario(exchange):
            plain = await exchange.create_order(BTC, "limit", "buy", 0.01, 90000)
            edited = await exchange.edit_order(plain["id"], BTC, "limit", "buy", 0.02, 91000)
            trigger = await exchange.create_trigger_order(BTC, "limit", "buy", 0.01, 96100, 96000)
            listed = await exchange.fetch_open_orders(BTC, params={"trigger": True})
            moved = await exchange.edit_order(trigger["id"], BTC, "limit", "buy", 0.02, 97100,
                                              {"triggerPrice": 97000})
            relisted = await exchange.fetch_open_orders(BTC, params={"trigger": True})
            gone = await exchange.cancel_order(trigger["id"], BTC, {"trigger": True})
            after = await exchange.fetch_open_orders(BTC, params={"trigger": True})
            return plain, edited, trigger, listed, moved, relisted, gone, after

        plain, edited, trigger, listed, moved, relisted, gone, after = run(make, scenario)
        old, new = engine.spot_order(uid, int(plain["id"])), engine.spot_order(uid, int(edited["id"]))
        assert old.status.value == "cancelled" and edited["id"] != plain["id"]
        assert (new.price, new.size, new.status.value) == (D("91000"), D("0.02"), "live")
        assert [(o["id"], o["triggerPrice"], o["price"]) for o in listed] == [(trigger["id"], 96000.0, 96100.0)]
        assert moved["id"] == trigger["id"]
        assert [(o["triggerPrice"], o["price"], o["amount"]) for o in relisted] == [(97000.0, 97100.0, 0.02)]
        assert gone["info"] == {"result": "success"} and after == []
        plan = engine.spot_plan(uid, int(trigger["id"]))
        assert (plan.status.value, plan.trigger_price, plan.execute_price) == ("cancelled", D("97000"), D("97100"))


@pytest.mark.parametrize("mode", MODES)
def test_async_transfer_fetch_transfers_and_fetch_ledger(world, mode):
    with async_bot(mode, world) as (make, engine, uid):
        async def scenario(exchange):
            moved = await exchange.transfer("USDT", 250, "spot", "swap")
            back = await exchange.transfer("USDT", 50, "swap", "spot")
            try:
                await exchange.transfer("USDT", 20000, "spot", "swap")
                refused = None
            except ccxt.InsufficientFunds as exc:
                refused = exc
            return (moved, back, refused, await exchange.fetch_transfers("USDT"),
                    await exchange.fetch_ledger("USDT"), await exchange.fetch_ledger("USDT", params={"type": "swap"}))

        moved, back, refused, records, ledger, swap = run(make, scenario)
        assert refused is not None and len(engine.transfers(uid)) == 2
        assert engine.balance(uid, "USDT", "usdt-futures").available == D("200")
        assert [(r["id"], d(r["amount"]), r["fromAccount"], r["toAccount"]) for r in records] == [
            (moved["id"], D("250"), "spot", "swap")]
        assert [(e["type"], e["direction"], d(e["amount"]), d(e["after"]))
                for e in sorted(ledger, key=lambda e: e["id"])] == [
            ("transfer", "out", D("250"), D("9750")), ("transfer", "in", D("50"), D("9800"))]
        assert sorted((e["type"], e["direction"], d(e["amount"])) for e in swap) == [
            ("transfer", "in", D("250")), ("transfer", "out", D("50"))]
        assert back["currency"] == "USDT"
