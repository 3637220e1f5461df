"""The worked examples of the CoinW reference (section 4.5), reproduced on the wire: contracts,
baseSize, margin, positionMargin, frozenFee, fee and net profit as the venue shows them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from coinw_support import ORDER, Api, make_user, no_limits, set_price  # noqa: F401
from localex.demo import coinw_contract
from localex.engine.model import PositionSide
from localex.venues.coinw import calc, fmt


@pytest.fixture
def api(world, http, no_limits):
    return Api(http, make_user(world.engine, funds={"USDT": "10000"}))


def add_contract(world, name: str, price_scale: int, lot: str, price: str) -> None:
    world.engine.add_instrument(coinw_contract(name, name, "USDT", price_scale, lot, 50))
    set_price(world.engine, name, price)


# ---- the rules, on their own ------------------------------------------------------------------

def test_contracts_from_each_quantity_unit():
    btc = coinw_contract("BTC", "BTC", "USDT", 1, "0.001", 200)
    assert calc.contracts_for(D("100"), 0, btc, 1, D("95400")) == 1     # 100 / 95.4 = 1.048
    assert calc.contracts_for(D("100"), 0, btc, 2, D("84000")) == 2     # the seed: 100 * 2 / 84 = 2.38
    assert calc.contracts_for(D("5"), 1, btc, 10, None) == 5
    assert calc.contracts_for(D("0.0059"), 2, btc, 10, None) == 5
    with pytest.raises(Exception):
        calc.contracts_for(D("0.0009"), 2, btc, 10, None)


def test_truncation_and_rates():
    assert calc.shown_fee(D("0.06529674")) == D("0.0652")
    assert calc.shown_margin(D("54.41395"), D("0.06529674")) == D("54.3486")
    assert calc.roe_rate(D("84000"), D("83000"), 2) == D("0.02380952")
    assert calc.roe_rate(D("84000"), D("95000"), 2) == D("0.2619048")
    assert fmt.sig7(D("0.0540430212")) == D("0.05404302")
    btc = coinw_contract("BTC", "BTC", "USDT", 1, "0.001", 200)
    assert calc.level_from_rate(D("80000"), D("0.5"), 10, PositionSide.LONG, False, btc) == D("76000")
    assert calc.level_from_rate(D("80000"), D("0.5"), 10, PositionSide.SHORT, True, btc) == D("76000")


# ---- the seed's example (GET /v1/perpum/order) ------------------------------------------------------

def test_seed_example_100_usdt_at_leverage_2(api, world):
    set_price(world.engine, "BTC", "85880.1")
    api.place(leverage=2, quantityUnit=0, quantity="100", positionType="plan", openPrice="84000",
              stopLossPrice="83000", stopProfitPrice="95000")
    [row] = api.data("GET", ORDER, {"positionType": "plan"})
    assert (row["totalPiece"], row["currentPiece"], row["baseSize"]) == (2, 2, D("0.002"))
    assert row["margin"] == row["positionMargin"] == 84       # 2 * 0.001 * 84000 / 2
    assert row["frozenFee"] == "0.0168"                      # 168 * 0.0001
    assert (row["stopLossRate"], row["stopProfitRate"]) == (D("0.02380952"), D("0.2619048"))


# ---- reference section 4.5 ---------------------------------------------------------------------

def test_example_1_resting_btc_plan_order(api, world):
    """quantity 100 USDT, orderPrice 95400, leverage 1: 1 contract, baseSize 0.001, margin =
    positionMargin = 95.4, frozenFee = 95.4 * 0.0001 = 0.00954."""
    set_price(world.engine, "BTC", "97299.7")
    api.place(leverage=1, quantityUnit=0, quantity="100", positionType="plan", openPrice="95400")
    [row] = api.data("GET", "/v1/perpum/orders/open", {"instrument": "BTC", "positionType": "plan"})["rows"]
    assert (row["totalPiece"], row["currentPiece"], row["baseSize"]) == (1, 1, D("0.001"))
    assert row["margin"] == row["positionMargin"] == D("95.4")
    assert row["frozenFee"] == D("0.00954") and row["fee"] == 0
    assert (row["quantity"], row["quantityUnit"], row["indexPrice"]) == (100, 0, D("97299.7"))
    [seed_row] = api.data("GET", ORDER, {"positionType": "plan"})
    assert seed_row["frozenFee"] == "0.00954"  # the same amount, a string on that endpoint


def test_example_2_btc_short_at_leverage_2(api, world):
    """1 contract at 108827.9, leverage 2: positionMargin 54.41395, fee "0.0652" (0.06529674 cut),
    margin 54.3486 (positionMargin less the fee, cut), quantity 54.41395."""
    set_price(world.engine, "BTC", "108827.9")
    api.place(direction="short", leverage=2, quantityUnit=1, quantity="1")
    [row] = api.data("GET", "/v1/perpum/positions/all")
    assert row["positionMargin"] == D("54.41395") and row["quantity"] == D("54.41395")
    assert row["fee"] == "0.0652" and row["margin"] == D("54.3486")
    assert (row["currentPiece"], row["baseSize"], row["openPrice"]) == (1, D("0.001"), D("108827.9"))


def test_example_3_sand_long(api, world):
    """1 contract of 10 SAND at 0.24477, leverage 2: positionMargin 1.22385, fee "0.0014",
    margin 1.2223, baseSize 10."""
    add_contract(world, "SAND", 5, "10", "0.24477")
    api.place(instrument="SAND", leverage=2, quantity="1")
    [row] = api.data("GET", "/v1/perpum/positions/all")
    assert row["positionMargin"] == D("1.22385") and row["fee"] == "0.0014"
    assert row["margin"] == D("1.2223") and row["baseSize"] == 10 and row["base"] == "sand"


def test_example_4_the_older_fixture_is_not_followed(api, world):
    """1 contract at 88230.5, leverage 1: the older sample shows margin = positionMargin = 88.2305
    (the fee not taken off); the newer samples (2, 3) take it off, and so does localex."""
    set_price(world.engine, "BTC", "88230.5")
    api.place(direction="short", leverage=1, quantityUnit=0, quantity="100")
    [row] = api.data("GET", "/v1/perpum/positions/all")
    assert row["positionMargin"] == row["quantity"] == D("88.2305") and row["fee"] == "0.0529"
    assert row["margin"] == D("88.1775")  # 88.2305 - 0.0529383, cut


def test_example_5_closed_jup_position(api, world):
    """1 contract of 1 JUP, open 0.3456, close 0.3454, leverage 10, 0.0006: the close fee is
    0.00020724 and the net profit -0.00040724 = (0.3454 - 0.3456) * 1 - 0.00020724; the margin
    net of the opening fee is 0.03435264 = 0.03456 - 0.00020736."""
    add_contract(world, "JUP", 4, "1", "0.3456")
    api.place(instrument="JUP", leverage=10, quantity="1")
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert pos["positionMargin"] == D("0.03456") and pos["fee"] == "0.0002"
    assert pos["positionMargin"] - D("0.00020736") == D("0.03435264")
    assert pos["margin"] == D("0.0343")  # shown cut to 4 decimals
    set_price(world.engine, "JUP", "0.3454")
    api.delete("/v1/perpum/positions", {"id": pos["id"], "closeRate": "1"})
    rows = api.data("GET", "/v1/perpum/orders/deals", {"instrument": "JUP"})["rows"]
    [close] = [r for r in rows if r["status"] == "close"]
    assert close["fee"] == "0.00020724" and close["netProfit"] == D("-0.00040724")
    assert close["closePrice"] == D("0.3454") and close["openPrice"] == D("0.3456")
    [opening] = [r for r in rows if r["status"] == "open"]
    assert opening["fee"] == "0.00020736"


def test_example_6_position_history_btc_cross(api, world):
    """1 contract at 87553.7, leverage 1, cross: margin "87.5537", fee "0.05253222" (full precision
    on this endpoint)."""
    set_price(world.engine, "BTC", "87553.7")
    api.place(direction="short", leverage=1, positionModel=1, quantity="1")
    [row] = api.data("GET", "/v1/perpum/positions/history")["rows"]
    assert row["margin"] == "87.5537" and row["fee"] == "0.05253222"
    assert row["avgOpenPrice"] == "87553.7" and row["positionModel"] == 1 and row["leverage"] == "1"
    assert row["totalPiece"] == row["tradePiece"] == "1"


def test_example_7_base_size_is_the_whole_order(api, world):
    """1000 contracts at 37006.09, leverage 20: baseSize 1 (1000 * 0.001, the whole order, not one
    contract), margin 1850.3045."""
    world.engine.add_instrument(coinw_contract("XBT", "XBT", "USDT", 2, "0.001", 125))
    set_price(world.engine, "XBT", "40000")
    api.place(instrument="XBT", leverage=20, quantity="1000", positionType="plan", openPrice="37006.09")
    [row] = api.data("GET", "/v1/perpum/orders/open", {"instrument": "XBT", "positionType": "plan"})["rows"]
    assert (row["baseSize"], row["currentPiece"], row["totalPiece"]) == (1, 1000, 1000)
    assert row["margin"] == D("1850.3045") and row["orderPrice"] == D("37006.09")
