"""Copy trading through ccxt's own `bitget` class, unchanged but for its URLs: a hedged futures
open by an elite trader with createOrder becomes a tracking order, read and closed with ccxt's
implicit copy-trading methods; the followers' side through theirs."""

from __future__ import annotations

from decimal import Decimal as D

import ccxt
import pytest

from localex.engine.copy import FollowerSetting
from localex.engine.model import Permission

USDT_M = "usdt-futures"
BTC_SWAP = "BTC/USDT:USDT"
COPY_KEY = [Permission.READ, Permission.FUTURES_TRADE, Permission.COPY_TRADE]

_MARKETS: list = []  # ccxt's load of the demo market, done once


def exchange(world, who) -> ccxt.bitget:
    ex = ccxt.bitget({"apiKey": who.api_key, "secret": who.secret_key, "password": who.passphrase})
    ex.urls["api"] = {name: world.url for name in ex.urls["api"]}
    if not _MARKETS:
        loader = ccxt.bitget()
        loader.urls["api"] = ex.urls["api"]
        loader.load_markets()
        _MARKETS.append((loader.markets, loader.currencies))
    markets, currencies = _MARKETS[0]
    ex.set_markets(list(markets.values()), currencies)
    return ex


def user(world, name: str, usdt: str = "100000"):
    who = world.trader(name, funds={}, permissions=COPY_KEY)
    world.engine.fund(who.uid, "USDT", D(usdt), account=USDT_M)
    return who


@pytest.fixture
def lead(world):
    who = user(world, "lead")
    world.engine.copy.make_trader(who.uid, [(USDT_M, "BTCUSDT"), (USDT_M, "ETHUSDT")])
    return who


def test_hedged_create_order_becomes_a_tracking_order_closed_through_ccxt(world, lead):
    fan = user(world, "fan", "10000")
    world.engine.copy.follow(fan.uid, lead.uid, [FollowerSetting("", "", USDT_M, "BTCUSDT",
                                                                 trace_type="fixed_size", trace_value=D("0.01"))])
    ex = exchange(world, lead)
    order = ex.create_order(BTC_SWAP, "market", "buy", 0.02, None, {"hedged": True})
    track = ex.privateCopyGetV2CopyMixTraderOrderCurrentTrack({"productType": "USDT-FUTURES", "symbol": "BTCUSDT"})
    assert track["code"] == "00000"
    (row,) = track["data"]["trackingList"]
    assert row["openOrderId"] == order["id"] and row["trackingNo"] != order["id"]
    assert (row["posSide"], row["openSize"], row["followCount"]) == ("long", "0.0200000000000000", "1")
    assert track["data"]["endId"] == row["trackingNo"]
    # ccxt's own close of a tracked position is refused with the venue's code (an elite trader
    # may place one order a second: the window is reset rather than waited for)
    world.app.limiter.reset()
    with pytest.raises(ccxt.ExchangeError, match="40866"):
        ex.create_order(BTC_SWAP, "market", "sell", 0.02, None, {"hedged": True, "reduceOnly": True})
    closed = ex.privateCopyPostV2CopyMixTraderOrderClosePositions(
        {"productType": "USDT-FUTURES", "trackingNo": row["trackingNo"]})
    assert closed["data"] == [{"trackingNo": row["trackingNo"], "symbol": "BTCUSDT", "productType": "USDT-FUTURES"}]
    history = ex.privateCopyGetV2CopyMixTraderOrderHistoryTrack({"productType": "USDT-FUTURES"})
    assert [r["trackingNo"] for r in history["data"]["trackingList"]] == [row["trackingNo"]]
    assert ex.fetch_positions([BTC_SWAP]) == [] and world.engine.positions(fan.uid) == []


def test_ccxt_errors_and_trader_implicit_methods(world, lead):
    ex = exchange(world, lead)
    with pytest.raises(ccxt.ExchangeError, match="43065"):
        ex.privateCopyPostV2CopyMixTraderOrderClosePositions({"productType": "USDT-FUTURES", "trackingNo": "1"})
    with pytest.raises(ccxt.BadRequest, match="40019"):
        ex.privateCopyGetV2CopyMixTraderOrderCurrentTrack({})
    symbols = ex.privateCopyGetV2CopyMixTraderConfigQuerySymbols({"productType": "USDT-FUTURES"})["data"]
    assert [s["symbol"] for s in symbols if s["openTrader"] == "yes"] == ["BTCUSDT", "ETHUSDT"]
    assert ex.privateCopyPostV2CopyMixTraderConfigSettingSymbols({"settingList": [
        {"symbol": "ETHUSDT", "productType": "USDT-FUTURES", "settingType": "UPDATE",
         "stopSurplusRatio": "50"}]})["data"] == "success"
    detail = ex.privateCopyGetV2CopyMixTraderOrderTotalDetail()["data"]
    assert detail["tradingOrderNum"] == "0" and detail["tradingPairsAvailableList"] == ["BTCUSDT", "ETHUSDT"]
    assert ex.privateCopyGetV2CopyMixTraderProfitHistorySummarys()["data"]["profitHistoryList"] == []
    assert ex.privateCopyGetV2CopyMixTraderConfigQueryFollowers()["data"] == []
    plain = exchange(world, user(world, "plain"))
    with pytest.raises(ccxt.ExchangeError, match="40732"):
        plain.privateCopyGetV2CopyMixTraderOrderCurrentTrack({"productType": "USDT-FUTURES"})


def test_follower_implicit_methods(world, lead):
    fan = user(world, "fan", "10000")
    ex = exchange(world, fan)
    assert ex.privateCopyPostV2CopyMixFollowerSettings({"traderId": lead.uid, "settings": [
        {"symbol": "BTCUSDT", "productType": "USDT-FUTURES", "marginType": "trader", "leverType": "trader",
         "traceType": "count", "traceValue": "0.01"}]})["data"] == "success"
    lead_ex = exchange(world, lead)
    lead_ex.create_order(BTC_SWAP, "market", "sell", 0.01, None, {"hedged": True})
    current = ex.privateCopyGetV2CopyMixFollowerQueryCurrentOrders({"productType": "USDT-FUTURES"})["data"]
    (row,) = current["trackingList"]
    assert (row["traderId"], row["posSide"], row["openSize"]) == (lead.uid, "short", "0.0100000000000000")
    closed = ex.privateCopyPostV2CopyMixFollowerClosePositions({"productType": "USDT-FUTURES",
                                                                "trackingNo": row["trackingNo"]})
    assert len(closed["data"]["orderIdList"]) == 1
    history = ex.privateCopyGetV2CopyMixFollowerQueryHistoryOrders({"productType": "USDT-FUTURES"})["data"]
    assert [r["trackingNo"] for r in history["trackingList"]] == [row["trackingNo"]]
    traders = ex.privateCopyGetV2CopyMixFollowerQueryTraders()["data"]
    assert [t["traderId"] for t in traders] == [lead.uid]
    assert ex.privateCopyGetV2CopyMixFollowerQuerySettings({"traderId": lead.uid})["data"]["followerEnable"] == "YES"
    assert ex.privateCopyPostV2CopyMixFollowerCancelTrader({"traderId": lead.uid})["data"] == "success"
    limits = ex.privateCopyGetV2CopyMixFollowerQueryQuantityLimit({"productType": "USDT-FUTURES",
                                                                   "symbol": "BTCUSDT"})["data"]
    assert limits == [{"maxFollowSize": "1200", "minFollowSize": "0.0001", "symbol": "BTCUSDT"}]
