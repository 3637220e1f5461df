"""CoinW futures on the wire: every endpoint and error, the JSON type of each field, and GET
/v1/perpum/order exactly as seed 002 describes it."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from coinw_support import FUTURES, ORDER, Api, coinw_headers, exact, make_user, no_limits, set_price  # noqa: F401
from localex.engine.model import PositionMode



def error(payload, code: int, msg: str | None = None) -> None:
    assert payload["code"] == code, payload
    if msg is not None:
        assert payload["msg"] == msg


@pytest.fixture
def api(world, http, no_limits):
    set_price(world.engine, "BTC", "85880.1")
    return Api(http, make_user(world.engine))


@pytest.fixture
def bob(world, http, no_limits):
    return Api(http, make_user(world.engine, "bob"))


def types(row: dict) -> dict:
    return {k: type(v).__name__ for k, v in row.items()}


# ---- envelope and routing ----------------------------------------------------------------------

def test_unknown_paths_answer_404_in_the_envelope(http, api):
    for method, path in [("GET", "/v1/perpum/nope"), ("GET", "/v1/perpumPublic/nope"),
                         ("PATCH", ORDER), ("GET", "/v1/perpum/order/")]:
        response = http.request(method, path)
        assert response.status_code == 404
        assert response.json() == {"code": 404, "msg": "Requested address does not exist"}


def test_an_action_without_a_result_has_no_data_key(api):
    order_id = api.place(positionType="plan", openPrice="80000")
    assert api.delete(ORDER, {"id": order_id}) == {"code": 0, "msg": ""}


def test_venue_answers_for_injected_faults_and_crashes(world):
    venue = world.app.venue("coinw")
    assert venue.internal_error().status == 500
    assert json.loads(venue.internal_error().body) == {"code": 500, "msg": "Internal server error"}
    assert json.loads(venue.rate_limited_response().body) == {"code": 29001, "msg": "API access frequently"}
    faulted = venue.error_response("9042", None, None)
    assert faulted.status == 200 and json.loads(faulted.body)["code"] == 9042
    assert json.loads(venue.error_response("6001", None, None).body)["message"] == "invalid sign"


def test_a_body_that_is_not_json_is_a_parameter_error(http, api):
    headers = coinw_headers(api.user.api_key, api.user.secret, "POST", ORDER, body=b"instrument=BTC")
    response = http.post(ORDER, content=b"instrument=BTC", headers=headers)
    assert response.json() == {"code": 9016, "data": None,
                               "msg": "Incorrect parameter format/type or missing information."}


# ---- GET /v1/perpum/order: seed 002 ------------------------------------------------------------

SEED_FIELDS = {
    "id": "int", "baseSize": "Decimal", "contractType": "int", "userId": "int", "fee": "str",
    "createdDate": "int", "currentPiece": "int", "direction": "str", "frozenFee": "str",
    "indexPrice": "Decimal", "instrument": "str", "leverage": "int", "liquidateBy": "str",
    "makerFee": "str", "takerFee": "str", "margin": "int", "orderPrice": "int", "totalPiece": "int",
    "orderStatus": "str", "originalType": "str", "posType": "str", "positionMargin": "int",
    "positionModel": "int", "quantity": "int", "quantityUnit": "int", "status": "str",
    "stopLossPrice": "int", "stopLossRate": "Decimal", "stopProfitPrice": "int",
    "stopProfitRate": "Decimal",
    "updatedDate": "int", "source": "str", "thirdOrderId": "str", "triggerPrice": "int",
    "triggerType": "int",
}


def seed_order(api) -> int:
    """The order of the seed's example response: 100 USDT at leverage 2 on a plan order at 84000
    with SL 83000, TP 95000, trigger 84400 (market trigger type), client id 103-12-53."""
    return api.place(direction="long", leverage=2, quantityUnit=0, quantity="100", positionModel=0,
                     positionType="plan", openPrice="84000", stopLossPrice="83000",
                     stopProfitPrice="95000", triggerPrice="84400", triggerType=1,
                     thirdOrderId="103-12-53")


def test_seed_example_response(api, world):
    order_id = seed_order(api)
    [row] = api.data("GET", ORDER, {"positionType": "execute", "sourceIds": order_id})
    assert types(row) == SEED_FIELDS
    now = world.engine.now_ms()
    assert row == {
        "baseSize": D("0.002"), "contractType": 1, "createdDate": now, "currentPiece": 2,
        "direction": "long", "fee": "0", "frozenFee": "0.0168", "id": order_id,
        "indexPrice": D("85880.1"), "instrument": "BTC", "leverage": 2, "liquidateBy": "manual",
        "makerFee": "0.0001", "margin": 84, "orderPrice": 84000, "orderStatus": "unFinish",
        "originalType": "plan", "posType": "plan", "positionMargin": 84, "positionModel": 0,
        "quantity": 100, "quantityUnit": 0, "source": "api", "status": "open",
        "stopLossPrice": 83000, "stopLossRate": D("0.02380952"),
        "stopProfitPrice": 95000, "stopProfitRate": D("0.2619048"),
        "takerFee": "0.0006", "thirdOrderId": "103-12-53", "totalPiece": 2, "triggerPrice": 84400,
        "triggerType": 1, "updatedDate": now, "userId": int(api.user.uid),
    }
    assert len(str(order_id)) == 17 and len(api.user.uid) == 7


# fields an order without them leaves out (CoinW sends no null: seed 002's example has no
# stopLossOrderPrice / stopProfitOrderPrice for an order without them)
UNSET_FIELDS = {"thirdOrderId", "triggerPrice", "triggerType", "stopLossPrice", "stopLossRate",
                "stopProfitPrice", "stopProfitRate"}


def test_a_bare_limit_order_leaves_out_what_it_does_not_have(api):
    order_id = api.place(positionType="plan", openPrice="80000")
    [row] = api.data("GET", ORDER, {"positionType": "plan"})
    assert set(row) == set(SEED_FIELDS) - UNSET_FIELDS
    assert row["id"] == order_id and None not in row.values()


def test_limit_price_tpsl_is_set_and_shown(api, world):
    order_id = api.place(positionType="plan", openPrice="80000", stopLossPrice="78000",
                         stopLossOrderPrice="77900", stopProfitPrice="90000")
    [row] = api.data("GET", ORDER, {"positionType": "plan"})
    assert (row["stopLossPrice"], row["stopLossOrderPrice"], row["stopProfitPrice"]) == (78000, 77900, 90000)
    assert "stopProfitOrderPrice" not in row
    assert set(row) == set(SEED_FIELDS) - {"thirdOrderId", "triggerPrice", "triggerType"} | {"stopLossOrderPrice"}
    [stop] = api.data("GET", "/v1/perpum/TPSL", {"stopFrom": 1, "orderId": order_id})
    assert (stop["stopLossOrderPrice"], stop["stopLossType"], stop["stopProfitType"]) == (77900, "plan", "execute")
    # a position's TP with a limit price: the close rests at the limit once the mark triggers it
    api.place(direction="short")
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert api.post("/v1/perpum/TPSL", {"id": pos["id"], "stopProfitPrice": "85000",
                                        "stopProfitOrderPrice": "84900"}) == {"code": 0, "msg": ""}
    [stop] = api.data("GET", "/v1/perpum/TPSL", {"stopFrom": 2})
    assert (stop["stopProfitPrice"], stop["stopProfitOrderPrice"]) == (85000, 84900)
    set_price(world.engine, "BTC", "84950")  # triggered at 85000; the buy limit 84900 not reached
    assert api.data("GET", "/v1/perpum/positions/all")[0]["currentPiece"] == 1
    set_price(world.engine, "BTC", "84800")
    assert api.data("GET", "/v1/perpum/positions/all") == []


def test_position_type_is_required_and_checked(api):
    error(api.get(ORDER), 402, "param required")
    error(api.get(ORDER, positionType="limit"), 9016)
    assert api.data("GET", ORDER, {"positionType": "EXECUTE"}) == []


def test_source_ids_up_to_twenty_comma_separated(api):
    ids = [api.place(positionType="plan", openPrice=str(80000 + i)) for i in range(3)]
    rows = api.data("GET", ORDER, {"positionType": "plan", "sourceIds": f"{ids[0]},{ids[2]}"})
    assert sorted(r["id"] for r in rows) == sorted([ids[0], ids[2]])
    twenty = ",".join([str(ids[1])] + [str(10**16 + i) for i in range(19)])
    assert [r["id"] for r in api.data("GET", ORDER, {"positionType": "plan", "sourceIds": twenty})] == [ids[1]]
    error(api.get(ORDER, positionType="plan", sourceIds=twenty + ",1"), 9016)
    error(api.get(ORDER, positionType="plan", sourceIds="12,abc"), 9016)
    error(api.get(ORDER, positionType="plan", sourceIds="12,,13"), 9016)


def test_without_instrument_or_ids_every_unfilled_order_of_the_type(api, world):
    set_price(world.engine, "ETH", "3200")
    set_price(world.engine, "1000PEPE", "0.0098120")
    a = api.place(positionType="plan", openPrice="80000")
    b = api.place(instrument="eth", positionType="plan", openPrice="3000")
    c = api.place(instrument="1000pepe", positionType="plan", openPrice="0.009", leverage=10)
    api.place()  # a market order: filled at once, so never unfilled
    rows = api.data("GET", ORDER, {"positionType": "plan"})
    assert {r["id"] for r in rows} == {a, b, c}
    assert {r["instrument"] for r in rows} == {"BTC", "ETH", "1000PEPE"}


@pytest.mark.parametrize("name", ["BTC", "btc", "Btc"])
def test_instrument_is_case_insensitive(api, name):
    order_id = api.place(positionType="plan", openPrice="80000")
    assert [r["id"] for r in api.data("GET", ORDER, {"positionType": "plan", "instrument": name})] == [order_id]


def test_instruments_starting_with_digits_and_usdc_contracts(api, world):
    set_price(world.engine, "1000PEPE", "0.0098120")
    world.engine.fund(api.user.uid, "USDC", D("10000"), account=FUTURES)
    pepe = api.place(instrument="1000pepe", positionType="plan", openPrice="0.009")
    usdc = api.place(instrument="btc_usdc", positionType="plan", openPrice="80000")
    for name in ("1000PEPE", "1000pepe"):
        [row] = api.data("GET", ORDER, {"positionType": "plan", "instrument": name})
        assert row["id"] == pepe and row["instrument"] == "1000PEPE" and row["baseSize"] == 1000
    for name in ("BTC_USDC", "btc_usdc"):
        [row] = api.data("GET", ORDER, {"positionType": "plan", "instrument": name})
        assert row["id"] == usdc and row["instrument"] == "BTC_USDC"
    error(api.get(ORDER, positionType="plan", instrument="BTCUSDT"), 9001, "Contract not found.")


def test_only_unfilled_orders_and_only_the_callers(api, bob, world):
    resting = api.place(positionType="plan", openPrice="80000")
    filled = api.place()
    api.place(positionType="plan", openPrice="90000")  # marketable: fills at once
    bob_order = bob.place(positionType="plan", openPrice="80000")
    ids = f"{resting},{filled},{bob_order}"
    assert [r["id"] for r in api.data("GET", ORDER, {"positionType": "execute", "sourceIds": ids})] == [resting]
    api.delete(ORDER, {"id": resting})
    assert api.data("GET", ORDER, {"positionType": "execute"}) == []
    set_price(world.engine, "BTC", "79000")
    assert bob.data("GET", ORDER, {"positionType": "plan"}) == []  # filled as the price passed it


def test_a_type_returns_other_types_the_way_the_venue_does(api, world):
    """execute answers with plan orders too; plan does not answer with trailing stops; moveStop
    answers with trailing stops only; stopProfitLoss with the TP / SL in force."""
    plan = api.place(positionType="plan", openPrice="80000")
    api.place()
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    api.post("/v1/perpum/moveTPSL", {"openId": pos["id"], "callbackRate": "0.05"})
    [trailing] = api.data("GET", ORDER, {"positionType": "moveStop"})
    assert trailing["posType"] == "moveStopProfitLoss" and trailing["status"] == "close"
    assert trailing["callbackRate"] == D("0.05")
    assert [r["id"] for r in api.data("GET", ORDER, {"positionType": "moveStopProfitLoss"})] == [trailing["id"]]
    assert [r["id"] for r in api.data("GET", ORDER, {"positionType": "execute"})] == [plan]
    assert [r["id"] for r in api.data("GET", ORDER, {"positionType": "plan"})] == [plan]
    assert api.data("GET", ORDER, {"positionType": "stopProfitLoss"}) == []
    api.post("/v1/perpum/TPSL", {"id": pos["id"], "stopLossPrice": "80000"})
    [stop] = api.data("GET", ORDER, {"positionType": "stopProfitLoss"})
    assert set(stop) == set(SEED_FIELDS) - {"triggerPrice", "stopProfitPrice", "stopProfitRate", "thirdOrderId"}
    assert stop["posType"] == "stopProfitLoss" and stop["stopLossPrice"] == 80000
    assert "stopProfitPrice" not in stop and stop["currentPiece"] == 1
    by_id = api.data("GET", ORDER, {"positionType": "stopProfitLoss", "sourceIds": stop["id"]})
    assert by_id == [stop]


def test_plan_trigger_orders_appear_only_once_triggered(api, world):
    assert api.place(positionType="planTrigger", triggerPrice="84400", openPrice="84000",
                     triggerType=0, thirdOrderId="pt") is None  # the venue withholds the id
    for kind in ("execute", "plan", "planTrigger"):
        assert api.data("GET", ORDER, {"positionType": kind}) == []
    waiting = api.data("GET", "/v1/perpum/orders/open", {"instrument": "BTC", "positionType": "planTrigger"})
    [pending] = waiting["rows"]
    assert pending["posType"] == "planTrigger" and pending["triggerPrice"] == 84400
    set_price(world.engine, "BTC", "84300")  # triggered: a limit buy at 84000 now rests
    for kind in ("execute", "plan", "planTrigger"):
        [row] = api.data("GET", ORDER, {"positionType": kind})
        assert row["id"] == pending["id"] and row["originalType"] == "planTrigger"
        assert row["posType"] == "plan" and row["orderPrice"] == 84000 and row["thirdOrderId"] == "pt"


def test_big_ids_are_exact_json_integers(api, http):
    api.place()
    response_text = http.get("/v1/perpum/positions/all", headers=coinw_headers(
        api.user.api_key, api.user.secret, "GET", "/v1/perpum/positions/all")).text
    [pos] = json.loads(response_text)["data"]
    assert isinstance(pos["id"], int) and pos["id"] > 2**53 and len(str(pos["id"])) == 19
    assert f'"id":{pos["id"]}' in response_text


# ---- placing ------------------------------------------------------------------------------------

def test_execute_fills_and_answers_a_string_id(api, world):
    order_id = api.place(quantity="3", thirdOrderId="x-1")
    [pos] = api.data("GET", "/v1/perpum/positions", {"instrument": "btc"})
    assert pos["currentPiece"] == 3 and pos["openPrice"] == D("85880.1") and pos["thirdOrderId"] == "x-1"
    [hist] = api.data("GET", "/v1/perpum/orders/history")["rows"]
    assert hist["id"] == str(order_id) and hist["openId"] == pos["id"]


@pytest.mark.parametrize("unit,quantity,leverage,pieces", [
    (1, "7", 10, 7),            # contracts
    (2, "0.0079", 10, 7),       # base coin: floor(0.0079 / 0.001)
    (0, "100", 10, 11),         # USDT margin: floor(100 * 10 / 85.8801)
    (0, "100", 1, 1),
])
def test_quantity_units(api, unit, quantity, leverage, pieces):
    api.place(quantityUnit=unit, quantity=quantity, leverage=leverage)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert pos["currentPiece"] == pieces
    [hist] = api.data("GET", "/v1/perpum/orders/history")["rows"]
    assert hist["quantity"] == quantity and hist["quantityUnit"] == unit and hist["totalPiece"] == str(pieces)


def test_quantity_errors(api):
    error(api.post(ORDER, {"instrument": "BTC", "direction": "long", "leverage": 10, "quantityUnit": 2,
                           "quantity": "0.0009", "positionType": "execute"}), 9009,
          "The order quantity is less than one contract.")
    error(api.post(ORDER, {"instrument": "BTC", "direction": "long", "leverage": 10, "quantityUnit": 1,
                           "quantity": "1.5", "positionType": "execute"}), 9016)
    error(api.post(ORDER, {"instrument": "BTC", "direction": "long", "leverage": 10,
                           "quantity": "-1", "positionType": "execute"}), 9016)


BASE_ORDER = {"instrument": "BTC", "direction": "long", "leverage": 10, "quantity": "1",
              "positionType": "execute"}


@pytest.mark.parametrize("missing", ["instrument", "direction", "leverage", "quantity", "positionType"])
def test_mandatory_place_parameters(api, missing):
    body = {k: v for k, v in BASE_ORDER.items() if k != missing}
    error(api.post(ORDER, body), 402, "param required")


@pytest.mark.parametrize("field,value", [
    ("direction", "up"), ("positionType", "limit"), ("quantityUnit", 3), ("positionModel", 2),
    ("triggerType", 5), ("quantity", "abc"), ("leverage", "1.5"), ("openPrice", "x"),
    ("thirdOrderId", "x" * 101), ("useAlmightyGold", "maybe"),
])
def test_malformed_place_parameters(api, field, value):
    error(api.post(ORDER, {**BASE_ORDER, field: value}), 9016)


def test_plan_orders_need_their_prices(api):
    error(api.post(ORDER, {**BASE_ORDER, "positionType": "plan"}), 402)
    error(api.post(ORDER, {**BASE_ORDER, "positionType": "planTrigger"}), 402)
    error(api.post(ORDER, {**BASE_ORDER, "positionType": "planTrigger", "triggerPrice": "80000",
                           "triggerType": 0}), 402)


def test_place_refusals(api, world):
    error(api.post(ORDER, {**BASE_ORDER, "instrument": "NOPE"}), 9001)
    error(api.post(ORDER, {**BASE_ORDER, "leverage": 201}), 9006, "Leverage is out of range.")
    error(api.post(ORDER, {**BASE_ORDER, "quantity": "100000"}), 9004, "Insufficient available margin.")
    error(api.post(ORDER, {**BASE_ORDER, "stopLossPrice": "90000"}), 9007)
    error(api.post(ORDER, {**BASE_ORDER, "positionType": "plan", "openPrice": "80000.05"}), 9016)


def test_9050_margin_mode_and_9081_leverage_must_match_existing_orders(api):
    api.place(positionType="plan", openPrice="80000", positionModel=0, leverage=10)
    error(api.post(ORDER, {**BASE_ORDER, "positionModel": 1}), 9050,
          "The margin mode cannot be changed for existing orders.")
    error(api.post(ORDER, {**BASE_ORDER, "leverage": 20}), 9081, "New opening cannot adjust leverage multiples")
    api.place(positionModel=0, leverage=10, direction="short")  # same mode and leverage: fine


def test_positions_are_hedged(api, world):
    api.place(direction="long")
    api.place(direction="short")
    rows = api.data("GET", "/v1/perpum/positions/all")
    assert sorted(r["direction"] for r in rows) == ["long", "short"]
    assert world.engine.futures_account(api.user.uid, FUTURES).position_mode is PositionMode.HEDGE


def test_layout_merged_or_split(api):
    api.place()
    api.place(quantity="2")
    [merged] = api.data("GET", "/v1/perpum/positions/all")
    assert merged["currentPiece"] == 3
    api.delete("/v1/perpum/allpositions", {"instrument": "BTC"})
    assert api.data("POST", "/v1/perpum/positions/type", {"layout": 1}) == "TRANSACTION_SUCCESS"
    assert api.data("GET", "/v1/perpum/positions/type") == {"layout": 1, "positionModel": 0}
    api.place()
    api.place(quantity="2")
    assert sorted(r["currentPiece"] for r in api.data("GET", "/v1/perpum/positions/all")) == [1, 2]


def test_plan_trigger_with_a_market_order_fires_at_the_trigger(api, world):
    api.place(positionType="planTrigger", triggerPrice="86000", triggerType=1)
    set_price(world.engine, "BTC", "86100")
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert pos["openPrice"] == 86000


# ---- modify, cancel, batches --------------------------------------------------------------------

def test_modify_cancels_and_replaces(api):
    order_id = api.place(positionType="plan", openPrice="80000", thirdOrderId="keep")
    payload = api.put(ORDER, {**BASE_ORDER, "id": str(order_id), "positionType": "plan",
                              "openPrice": "81000", "quantity": "2"})
    data = payload["data"]
    assert set(data) == {"originId", "editId"} and data["originId"] == order_id
    assert isinstance(data["editId"], int) and data["editId"] != order_id
    [row] = api.data("GET", ORDER, {"positionType": "plan"})
    assert row["id"] == data["editId"] and row["orderPrice"] == 81000 and row["totalPiece"] == 2
    assert row["thirdOrderId"] == "keep"


def test_an_error_while_modifying_cancels_the_original(api):
    order_id = api.place(positionType="plan", openPrice="80000", leverage=10)
    api.place(positionType="plan", openPrice="79000", leverage=10)
    error(api.put(ORDER, {**BASE_ORDER, "id": order_id, "positionType": "plan", "openPrice": "81000",
                          "leverage": 20}), 9081)
    assert order_id not in [r["id"] for r in api.data("GET", ORDER, {"positionType": "plan"})]


def test_modify_refusals(api):
    error(api.put(ORDER, {**BASE_ORDER, "positionType": "plan", "openPrice": "1"}), 402)
    error(api.put(ORDER, {**BASE_ORDER, "id": "123", "positionType": "plan", "openPrice": "1"}), 9002,
          "Order does not exist.")


def test_cancel(api):
    order_id = api.place(positionType="plan", openPrice="80000")
    assert api.delete(ORDER, {"id": order_id}) == {"code": 0, "msg": ""}
    error(api.delete(ORDER, {"id": order_id}), 9002)
    error(api.delete(ORDER, {"id": "12"}), 9002)
    error(api.delete(ORDER), 402)
    error(api.delete(ORDER, {"id": "abc"}), 9016)
    a = api.place(positionType="plan", openPrice="80000")
    b = api.place(positionType="plan", openPrice="79000")
    assert api.delete(ORDER, {"id": f"{a},{b}"}) == {"code": 0, "msg": ""}
    assert api.data("GET", "/v1/perpum/orders/openQuantity") == {"value": 0}


def test_batch_place(api):
    good = {**BASE_ORDER, "positionType": "plan", "openPrice": "80000", "thirdOrderId": "b1"}
    results = api.data("POST", "/v1/perpum/batchOrders",
                       [good, {**BASE_ORDER, "instrument": "NOPE", "thirdOrderId": "b2"},
                        {**BASE_ORDER, "positionType": "planTrigger", "triggerPrice": "90000"}, "x"])
    assert results[0]["msgCode"] == 0 and isinstance(results[0]["openId"], str)
    assert results[0]["thirdOrderId"] == "b1"
    assert results[1] == {"msgCode": 9001, "openId": None, "thirdOrderId": "b2"}
    assert results[2] == {"msgCode": 0, "openId": "null", "thirdOrderId": None}
    assert results[3]["msgCode"] == 9016
    error(api.post("/v1/perpum/batchOrders", [good] * 21), 9016)
    error(api.post("/v1/perpum/batchOrders", []), 9016)
    error(api.post("/v1/perpum/batchOrders", good), 9016)


def test_batch_cancel(api):
    ids = [api.place(positionType="plan", openPrice=str(80000 + i)) for i in range(3)]
    assert api.delete("/v1/perpum/batchOrders", {"sourceIds": [ids[0], str(ids[1])]}) == {"code": 0, "msg": ""}
    assert [r["id"] for r in api.data("GET", ORDER, {"positionType": "plan"})] == [ids[2]]
    api.delete("/v1/perpum/batchOrders", {"sourceIds": [ids[2]], "posType": "moveStop"})
    assert len(api.data("GET", ORDER, {"positionType": "plan"})) == 1  # not a trailing stop: kept
    api.delete("/v1/perpum/batchOrders", {"sourceIds": [ids[2]], "posType": "plan"})
    assert api.data("GET", ORDER, {"positionType": "plan"}) == []
    error(api.delete("/v1/perpum/batchOrders", {"sourceIds": list(range(1, 22))}), 9016)
    error(api.delete("/v1/perpum/batchOrders", {"sourceIds": [1], "posType": "nope"}), 9016)
    error(api.delete("/v1/perpum/batchOrders", {}), 402)


# ---- order queries ------------------------------------------------------------------------------

OPEN_FIELDS = {"baseSize", "contractType", "createdDate", "currentPiece", "direction", "fee",
               "frozenFee", "id", "indexPrice", "instrument", "leverage", "liquidateBy", "makerFee",
               "margin", "orderPrice", "orderStatus", "originalType", "posType", "positionMargin",
               "positionModel", "processStatus", "quantity", "quantityUnit", "source", "status",
               "takerFee", "totalPiece", "updatedDate", "userId"}


def test_orders_open_paged_with_numbers(api):
    ids = [api.place(positionType="plan", openPrice=str(80000 + i)) for i in range(3)]
    page = api.data("GET", "/v1/perpum/orders/open", {"instrument": "btc", "positionType": "plan",
                                                      "page": 1, "pageSize": 2})
    assert page["total"] == 3 and page["nextId"] == 0 and page["prevId"] == 0 and len(page["rows"]) == 2
    row = page["rows"][0]
    assert set(row) == OPEN_FIELDS
    assert isinstance(row["fee"], int) and isinstance(row["frozenFee"], D) and isinstance(row["makerFee"], D)
    assert isinstance(row["id"], int) and row["id"] in ids
    page2 = api.data("GET", "/v1/perpum/orders/open", {"instrument": "BTC", "positionType": "plan",
                                                       "page": 2, "pageSize": 2})
    assert len(page2["rows"]) == 1
    assert api.data("GET", "/v1/perpum/orders/open", {"instrument": "ETH", "positionType": "plan"}) == \
        {"nextId": 0, "prevId": 0, "rows": [], "total": 0}
    error(api.get("/v1/perpum/orders/open", positionType="plan"), 402)
    error(api.get("/v1/perpum/orders/open", instrument="BTC"), 402)
    error(api.get("/v1/perpum/orders/open", instrument="BTC", positionType="x"), 9016)
    error(api.get("/v1/perpum/orders/open", instrument="BTC", positionType="plan", page=0), 9016)


def test_open_quantity_counts_every_pending_order(api):
    api.place(positionType="plan", openPrice="80000")
    api.place(positionType="planTrigger", triggerPrice="90000")
    assert api.data("GET", "/v1/perpum/orders/openQuantity") == {"value": 2}


HISTORY_TYPES = {"avgPrice": "str", "baseSize": "str", "cancelPiece": "int", "completeUsdt": "str",
                 "contractType": "int", "createdDate": "int", "currentPiece": "str", "direction": "str",
                 "entrustUsdt": "str", "fee": "str", "havShortfall": "bool", "id": "str",
                 "indexPrice": "str", "instrument": "str", "leverage": "str", "liquidateBy": "str",
                 "margin": "str", "openId": "int", "orderId": "int", "orderPrice": "str",
                 "orderStatus": "str", "originalType": "str", "posType": "str", "positionModel": "int",
                 "quantity": "str", "quantityUnit": "int", "source": "str", "status": "str",
                 "stepMarginVersion": "int", "thirdOrderId": "str", "totalPiece": "str",
                 "tradePiece": "int", "updatedDate": "int", "userId": "int"}


def test_order_history_and_archive(api, world):
    api.place(thirdOrderId="h1")
    cancelled = api.place(positionType="plan", openPrice="80000")
    api.delete(ORDER, {"id": cancelled})
    for path in ("/v1/perpum/orders/history", "/v1/perpum/orders/archive"):
        page = api.data("GET", path, {"instrument": "BTC"})
        [row] = page["rows"]  # an order cancelled without a fill is not history
        assert types(row) == HISTORY_TYPES
        assert row["orderStatus"] == "finish" and row["thirdOrderId"] == "h1"
        assert row["avgPrice"] == "85880.1" and row["completeUsdt"] == "85.8801"
    assert api.data("GET", "/v1/perpum/orders/history", {"originType": "plan"})["rows"] == []
    world.engine.clock.advance(8 * 86_400_000)
    assert api.data("GET", "/v1/perpum/orders/history")["rows"] == []
    assert len(api.data("GET", "/v1/perpum/orders/archive")["rows"]) == 1


def test_deals(api, world):
    api.place(quantity="2", leverage=10)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    set_price(world.engine, "BTC", "86880.1")
    api.delete("/v1/perpum/positions", {"id": pos["id"], "closeNum": 1})
    cancelled = api.place(positionType="plan", openPrice="80000", leverage=10)
    api.delete(ORDER, {"id": cancelled})
    rows = api.data("GET", "/v1/perpum/orders/deals", {"instrument": "BTC"})["rows"]
    by_kind = {(r["status"], r["orderStatus"]): r for r in rows}
    opening = by_kind[("open", "finish")]
    closing = by_kind[("close", "finish")]
    gone = by_kind[("open", "cancel")]
    assert gone["id"] == cancelled and gone["fee"] == "0"
    for row in rows:
        assert isinstance(row["fee"], str) and isinstance(row["feeRate"], str)
        assert isinstance(row["id"], int) and isinstance(row["openId"], int)
    assert opening["currentPiece"] == 2 and opening["feeRate"] == "0.0006" and opening["takerMaker"] == 1
    assert closing["closedPiece"] == 1 and closing["closePrice"] == D("86880.1")
    assert closing["openPrice"] == D("85880.1")
    # net profit of the close: (86880.1 - 85880.1) * 0.001 - 86.8801 * 0.0006
    assert closing["netProfit"] == D("1") - D("0.05212806")
    error(api.get("/v1/perpum/orders/deals"), 402)
    assert api.data("GET", "/v1/perpum/orders/deals/history", {"instrument": "BTC"})["total"] == 3


# ---- positions ---------------------------------------------------------------------------------

POSITION_TYPES = {"autoDeleveragingScore": "int", "base": "str", "baseSize": "Decimal",
                  "closedPiece": "int", "createdDate": "int", "currentPiece": "int", "direction": "str",
                  "fee": "str", "fundingFee": "str", "fundingSettle": "int", "id": "int",
                  "indexPrice": "Decimal", "instrument": "str", "leverage": "int",
                  "liquidationPrice": "Decimal", "margin": "Decimal", "openPrice": "Decimal",
                  "orderPrice": "int", "originalType": "str", "posType": "str",
                  "positionMargin": "Decimal", "positionModel": "int", "positionVersion": "int",
                  "profitReal": "int", "profitUnreal": "int", "quantity": "Decimal",
                  "quantityUnit": "int", "source": "str", "status": "str", "totalPiece": "int",
                  "updatedDate": "int", "userId": "int"}


def test_positions_and_their_types(api):
    api.place(leverage=2, quantity="1", positionModel=0)
    [row] = api.data("GET", "/v1/perpum/positions", {"instrument": "BTC"})
    assert types(row) == POSITION_TYPES
    assert row["positionMargin"] == D("42.94005") and row["fee"] == "0.0515"
    assert row["margin"] == D("42.8885") and row["quantity"] == D("42.94005")
    assert api.data("GET", "/v1/perpum/positions", {"instrument": "BTC", "openIds": row["id"]}) == [row]
    assert api.data("GET", "/v1/perpum/positions", {"instrument": "BTC", "openIds": "5"}) == []
    assert api.data("GET", "/v1/perpum/positions", {"instrument": "ETH"}) == []
    error(api.get("/v1/perpum/positions"), 402)
    assert api.data("GET", "/v1/perpum/positions/all") == [row]


def test_cross_positions_have_no_liquidation_price(api):
    api.place(positionModel=1)
    [row] = api.data("GET", "/v1/perpum/positions/all")
    assert row["positionModel"] == 1 and "liquidationPrice" not in row


def test_position_history(api, world):
    api.place(leverage=1)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    page = api.data("GET", "/v1/perpum/positions/history")
    [row] = page["rows"]
    assert row["openId"] == str(pos["id"]) and row["userId"] == api.user.uid
    assert row["status"] == "open" and row["margin"] == "85.8801"
    set_price(world.engine, "BTC", "86880.1")
    api.delete("/v1/perpum/allpositions", {"instrument": "BTC"})
    [row] = api.data("GET", "/v1/perpum/positions/history", {"instrument": "btc", "positionModel": 0})["rows"]
    assert row["status"] == "close" and row["avgClosePrice"] == "86880.1"
    assert all(isinstance(v, str) for k, v in row.items()
               if k not in ("positionModel", "tradeStartDate", "tradeEndDate", "havShortfall"))
    assert api.data("GET", "/v1/perpum/positions/history", {"positionModel": 1})["rows"] == []


def test_close_by_number_rate_and_price(api, world):
    api.place(quantity="10")
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    closed = api.data("DELETE", "/v1/perpum/positions", {"id": pos["id"], "closeNum": 3})
    assert isinstance(closed["value"], int)
    api.data("DELETE", "/v1/perpum/positions", {"id": str(pos["id"]), "closeRate": "0.5"})  # floor(7 * 0.5)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert pos["currentPiece"] == 4 and pos["closedPiece"] == 6
    resting = api.data("DELETE", "/v1/perpum/positions", {"id": pos["id"], "positionType": "plan",
                                                          "closeNum": 2, "orderPrice": "90000"})["value"]
    [row] = api.data("GET", ORDER, {"positionType": "plan"})
    assert row["id"] == resting and row["status"] == "close" and row["orderPrice"] == 90000
    set_price(world.engine, "BTC", "90000")
    assert api.data("GET", "/v1/perpum/positions/all")[0]["currentPiece"] == 2
    error(api.delete("/v1/perpum/positions", {"id": pos["id"]}), 402)
    error(api.delete("/v1/perpum/positions", {"id": pos["id"], "closeNum": 1, "closeRate": "0.5"}), 9016)
    error(api.delete("/v1/perpum/positions", {"id": pos["id"], "closeNum": 3}), 9005)
    error(api.delete("/v1/perpum/positions", {"id": pos["id"], "closeRate": "1.5"}), 9016)
    error(api.delete("/v1/perpum/positions", {"id": pos["id"], "closeRate": "0.1"}), 9009)
    error(api.delete("/v1/perpum/positions", {"id": "123", "closeNum": 1}), 9003, "Position does not exist.")
    error(api.delete("/v1/perpum/positions", {"id": pos["id"], "positionType": "plan", "closeNum": 1}), 402)


def test_close_all_and_batch_close_by_third_order_id(api):
    api.place(thirdOrderId="t1")
    api.place(direction="short", thirdOrderId="t2")
    api.place(direction="short", thirdOrderId="t2", quantity="2")
    results = api.data("DELETE", "/v1/perpum/batchClose", [{"thirdOrderId": "t2"}, {"thirdOrderId": "zz"}])
    assert results[0]["msgCode"] == 0 and results[0]["thirdOrderId"] == "t2"
    assert isinstance(results[0]["openId"], str) and results[0]["openId"].isdigit()
    assert results[1] == {"msgCode": 9003, "openId": None, "thirdOrderId": "zz"}
    assert [r["direction"] for r in api.data("GET", "/v1/perpum/positions/all")] == ["long"]
    assert api.delete("/v1/perpum/allpositions", {"instrument": "BTC"}) == {"code": 0, "msg": ""}
    assert api.data("GET", "/v1/perpum/positions/all") == []
    error(api.delete("/v1/perpum/allpositions", {}), 402)
    error(api.delete("/v1/perpum/batchClose", {"thirdOrderId": "x"}), 9016)


def test_reverse(api):
    api.place(quantity="3", leverage=5)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    value = api.data("POST", "/v1/perpum/positions/reverse", {"id": pos["id"]})["value"]
    assert isinstance(value, str)
    [short] = api.data("GET", "/v1/perpum/positions/all")
    assert short["direction"] == "short" and short["currentPiece"] == 3 and short["leverage"] == 5
    error(api.post("/v1/perpum/positions/reverse", {"id": pos["id"]}), 9003)


def test_margin_add_and_reduce(api):
    api.place(leverage=10)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert api.post("/v1/perpum/positions/margin", {"id": pos["id"], "addMargin": "10", "type": "all"}) == \
        {"code": 0, "msg": ""}
    [after] = api.data("GET", "/v1/perpum/positions/all")
    assert after["positionMargin"] == pos["positionMargin"] + 10
    api.data("POST", "/v1/perpum/positions/margin", {"id": pos["id"], "reduceMargin": "5"})
    error(api.post("/v1/perpum/positions/margin", {"id": pos["id"], "reduceMargin": "50"}), 9004)
    error(api.post("/v1/perpum/positions/margin", {"id": pos["id"]}), 402)
    error(api.post("/v1/perpum/positions/margin", {"id": pos["id"], "addMargin": "1", "reduceMargin": "1"}), 9016)
    api.delete("/v1/perpum/allpositions", {"instrument": "BTC"})
    api.place(positionModel=1)
    [cross] = api.data("GET", "/v1/perpum/positions/all")
    error(api.post("/v1/perpum/positions/margin", {"id": cross["id"], "addMargin": "1"}), 9008)


# ---- TP / SL and trailing stops -----------------------------------------------------------------

def test_tpsl_on_a_position_fires(api, world):
    api.place(leverage=10)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert api.post("/v1/perpum/TPSL", {"id": pos["id"], "instrument": "BTC", "stopProfitPrice": "90000",
                                        "stopLossPrice": "80000"}) == {"code": 0, "msg": ""}
    [row] = api.data("GET", "/v1/perpum/TPSL", {"stopFrom": 2, "openId": pos["id"]})
    assert row["openId"] == pos["id"] and isinstance(row["id"], int) and row["stopProfitPrice"] == 90000
    assert row["stopLossType"] == "execute" and row["stopType"] == 2 and row["triggerStatus"] == 0
    assert row["stopProfitRate"] == D("0.479727")  # (90000 - 85880.1) / 85880.1 * 10, 7 digits
    set_price(world.engine, "BTC", "90001")
    assert api.data("GET", "/v1/perpum/positions/all") == []
    [close] = [r for r in api.data("GET", "/v1/perpum/orders/history")["rows"] if r["status"] == "close"]
    assert close["liquidateBy"] == "stopProfit" and close["avgPrice"] == "90000"


def test_tpsl_by_rate_on_an_unfilled_order(api):
    order_id = api.place(positionType="plan", openPrice="80000", leverage=10)
    api.data("POST", "/v1/perpum/TPSL", {"id": order_id, "stopLossRate": "0.5"})  # 5% under 80000
    [row] = api.data("GET", ORDER, {"positionType": "plan"})
    assert row["stopLossPrice"] == 76000 and row["stopLossRate"] == D("0.5")
    [stop] = api.data("GET", "/v1/perpum/TPSL", {"stopFrom": 1, "orderId": order_id})
    assert stop["id"] == order_id and stop["openId"] == 0
    assert api.data("GET", "/v1/perpum/TPSL", {"stopFrom": 3}) == []
    api.delete("/v1/perpum/batchOrders", {"sourceIds": [order_id], "posType": "stopProfitLoss"})
    assert "stopLossPrice" not in api.data("GET", ORDER, {"positionType": "plan"})[0]


def test_tpsl_refusals(api):
    api.place()
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    error(api.post("/v1/perpum/TPSL", {"id": pos["id"]}), 402)
    error(api.post("/v1/perpum/TPSL", {"id": pos["id"], "stopLossPrice": "90000"}), 9007)
    error(api.post("/v1/perpum/TPSL", {"id": pos["id"], "stopProfitOrderPrice": "79000",
                                       "stopLossPrice": "80000"}), 9016)  # a limit without its TP
    error(api.post("/v1/perpum/TPSL", {"id": pos["id"], "stopLossPrice": "80000",
                                       "stopLossOrderPrice": "-1"}), 9016)
    error(api.post("/v1/perpum/TPSL", {"id": "99", "stopLossPrice": "80000"}), 9002)
    error(api.post("/v1/perpum/TPSL", {"id": pos["id"], "instrument": "ETH", "stopLossPrice": "80000"}), 9003)
    error(api.get("/v1/perpum/TPSL"), 402)


def test_trailing_stop_follows_and_fires(api, world):
    api.place(quantity="2", leverage=10)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert api.data("GET", "/v1/perpum/moveTPSL") is None  # null when there are none
    assert api.post("/v1/perpum/moveTPSL", {"openId": pos["id"], "callbackRate": "0.01",
                                            "triggerPrice": "87000", "quantity": "1",
                                            "quantityUnit": 1}) == {"code": 0, "msg": ""}
    [row] = api.data("GET", "/v1/perpum/moveTPSL")
    assert isinstance(row["id"], str) and row["openId"] == str(pos["id"]) and row["callbackRate"] == D("0.01")
    assert row["triggerPrice"] == 87000 and row["status"] == "open" and row["currentPiece"] == 1
    set_price(world.engine, "BTC", "86500")  # not yet active
    set_price(world.engine, "BTC", "88000")  # active; best 88000
    set_price(world.engine, "BTC", "87200")  # 88000 * 0.99 = 87120 not reached
    assert api.data("GET", "/v1/perpum/positions/all")[0]["currentPiece"] == 2
    set_price(world.engine, "BTC", "87000")  # fires at 87120
    [after] = api.data("GET", "/v1/perpum/positions/all")
    assert after["currentPiece"] == 1
    assert api.data("GET", "/v1/perpum/moveTPSL") is None
    [fired] = [r for r in api.data("GET", "/v1/perpum/orders/history")["rows"] if r["status"] == "close"]
    assert fired["liquidateBy"] == "moveStopProfitAndLoss" and fired["originalType"] == "moveStopProfitLoss"
    assert fired["avgPrice"] == "87120"
    error(api.post("/v1/perpum/moveTPSL", {"openId": pos["id"]}), 402)
    error(api.post("/v1/perpum/moveTPSL", {"openId": pos["id"], "callbackRate": "0.1", "quantity": "5"}), 9005)
    error(api.post("/v1/perpum/moveTPSL", {"openId": pos["id"], "callbackRate": "1.5"}), 9016)
    # a close of the whole position replaces its pending closes (trailing stops, resting closes)
    api.data("POST", "/v1/perpum/moveTPSL", {"openId": pos["id"], "callbackRate": "0.02"})
    resting = api.data("DELETE", "/v1/perpum/positions", {"id": pos["id"], "positionType": "plan",
                                                          "closeNum": 1, "orderPrice": "99000"})["value"]
    assert api.data("GET", "/v1/perpum/moveTPSL") is None
    assert [r["id"] for r in api.data("GET", ORDER, {"positionType": "plan"})] == [resting]
    api.data("DELETE", "/v1/perpum/positions", {"id": pos["id"], "closeRate": "1"})
    assert api.data("GET", "/v1/perpum/orders/openQuantity") == {"value": 0}
    assert api.data("GET", "/v1/perpum/moveTPSL") is None
    error(api.post("/v1/perpum/moveTPSL", {"openId": pos["id"]}), 9003)  # closed by now


# ---- account -----------------------------------------------------------------------------------

def test_account_endpoints(api):
    assets = api.data("GET", "/v1/perpum/account/getUserAssets")
    assert assets == {"alFreeze": 0, "alMargin": 0, "almightyGold": 0, "availableMargin": 100000,
                      "availableUsdt": 100000, "time": assets["time"], "userId": int(api.user.uid)}
    api.place(leverage=10)
    assets = api.data("GET", "/v1/perpum/account/getUserAssets")
    assert assets["alMargin"] == D("8.58801")
    assert assets["availableUsdt"] == D("100000") - D("8.58801") - D("0.05152806")
    assert api.data("GET", "/v1/perpum/account/fees") == {"makerFee": "0.0001", "takerFee": "0.0006",
                                                          "userId": int(api.user.uid)}
    assert api.data("GET", "/v1/perpum/account/available") == {"value": str(assets["availableUsdt"])}


def test_position_type_settings(api):
    assert api.data("GET", "/v1/perpum/positions/type") == {"layout": 0, "positionModel": 0}
    assert api.data("POST", "/v1/perpum/positions/type", {"positionModel": 1}) == "TRANSACTION_SUCCESS"
    assert api.data("GET", "/v1/perpum/positions/type") == {"layout": 0, "positionModel": 1}
    api.post(ORDER, {**BASE_ORDER})  # no positionModel: the account's default, cross
    assert api.data("GET", "/v1/perpum/positions/all")[0]["positionModel"] == 1
    error(api.post("/v1/perpum/positions/type", {"positionModel": 0}), 9042,
          "You have an open order in this mode, please close or cancel it first.")
    assert api.data("POST", "/v1/perpum/positions/type", {"positionModel": 1}) == "TRANSACTION_SUCCESS"
    error(api.post("/v1/perpum/positions/type", {}), 402)
    error(api.post("/v1/perpum/positions/type", {"layout": 3}), 9016)


def test_leverage_and_sizes(api):
    order_id = api.place(positionType="plan", openPrice="80000", leverage=7)
    assert api.data("GET", "/v1/perpum/positions/leverage", {"orderId": order_id}) == {"value": 7}
    api.place(leverage=7, quantity="3")
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    assert api.data("GET", "/v1/perpum/positions/leverage", {"positionId": pos["id"]}) == {"value": 7}
    error(api.get("/v1/perpum/positions/leverage"), 402)
    error(api.get("/v1/perpum/positions/leverage", positionId=5), 9003)
    error(api.get("/v1/perpum/positions/leverage", orderId=5), 9002)
    sizes = api.data("GET", "/v1/perpum/orders/maxSize", {"instrument": "BTC", "leverage": 10,
                                                          "orderPrice": "100000"})
    assert set(sizes) == {"maxBuy", "maxSell"} and isinstance(sizes["maxBuy"], int)
    # available / (0.001 * 100000 * (1/10 + 0.0006))
    avail = D(str(api.data("GET", "/v1/perpum/account/available")["value"]))
    assert sizes["maxBuy"] == int(avail / D("10.06"))
    assert api.data("GET", "/v1/perpum/orders/availSize", {"instrument": "BTC"}) == {"availBuy": 0, "availSell": 3}
    api.delete("/v1/perpum/positions", {"id": pos["id"], "positionType": "plan", "closeNum": 1,
                                        "orderPrice": "99000"})
    assert api.data("GET", "/v1/perpum/orders/availSize", {"instrument": "BTC"}) == {"availBuy": 0, "availSell": 2}
    error(api.get("/v1/perpum/orders/maxSize", instrument="BTC", leverage=500), 9006)


# ---- public market data ---------------------------------------------------------------------------

def test_instruments(http, api):
    rows = http.get("/v1/perpum/instruments").json()["data"]
    names = [r["name"] for r in rows]
    assert {"BTC", "ETH", "1000PEPE", "BTC_USDC"} <= set(names)
    [btc] = exact(http.get("/v1/perpum/instruments", params={"name": "btc"}))["data"]
    assert btc["oneLotSize"] == D("0.001") and btc["minSize"] == 1 and btc["pricePrecision"] == 1
    assert btc["makerFee"] == "0.0001" and btc["takerFee"] == "0.0006"
    assert btc["minLeverage"] == 1 and btc["maxLeverage"] == 200 and btc["base"] == "btc"
    assert btc["quote"] == "usdt" and btc["status"] == "online" and btc["id"] == 1
    [usdc] = exact(http.get("/v1/perpum/instruments", params={"name": "BTC_USDC"}))["data"]
    assert usdc["quote"] == "usdc" and usdc["id"] == 148
    assert http.get("/v1/perpum/instruments", params={"name": "NOPE"}).json() == {"code": 0, "data": [], "msg": ""}
    listed = http.get("/v1/perpum/instrumentList", params={"symbols": "BTC,eth"}).json()["data"]
    assert [r["name"] for r in listed] == ["BTC", "ETH"]


def test_tickers(http, api):
    [row] = exact(http.get("/v1/perpumPublic/ticker", params={"instrument": "btc"}))["data"]
    assert row["name"] == "BTCUSDT" and row["last_price"] == D("85880.1") and row["contract_size"] == D("0.001")
    assert row["contract_id"] == 1 and row["fair_price"] == D("85880.1")
    assert http.get("/v1/perpumPublic/ticker", params={"instrument": "BTCUSDT"}).json()["data"] == []
    names = {r["name"] for r in http.get("/v1/perpumPublic/tickers").json()["data"]}
    assert {"BTCUSDT", "ETHUSDT", "1000PEPEUSDT", "BTCUSDC"} <= names


def test_depth_trades_klines(http, api, world):
    book = exact(http.get("/v1/perpumPublic/depth", params={"base": "btc"}))["data"]
    assert set(book) == {"asks", "bids", "n", "t"} and book["n"] == "btc" and book["t"] == world.engine.now_ms()
    assert len(book["asks"]) == len(book["bids"]) == 20
    # the engine's book (issue 9): 20,000 USDT a level on the contract grid, one tick apart
    assert book["asks"][0] == {"m": D("0.232"), "p": D("85880.1")} and book["bids"][1]["p"] == D("85880.0")
    assert book["asks"] == [{"m": D(lv.size), "p": D(lv.price)} for lv in world.engine.order_book(
        "coinw:futures:BTC", 20).asks]
    trades = exact(http.get("/v1/perpumPublic/trades", params={"base": "BTC"}))["data"]
    assert 1 <= len(trades) <= 20 and trades[0]["createdDate"] >= trades[-1]["createdDate"]
    tape = world.engine.public_trades("coinw:futures:BTC", limit=20)
    assert [(t["id"], t["price"], t["quantity"], t["direction"]) for t in trades] == [
        (tr.trade_id, format(tr.price.normalize(), "f"), format(tr.size.normalize(), "f"),
         "long" if tr.side.value == "buy" else "short") for tr in tape]
    assert all(D(t["piece"]) == D(t["quantity"]) / D("0.001") for t in trades)
    world.engine.clock.advance(5 * 60_000)
    world.engine.set_mark("coinw", "futures", "BTC", D("86000.5"))
    candles = exact(http.get("/v1/perpumPublic/klines", params={"currencyCode": "btc", "granularity": 0,
                                                                 "limit": 3}))["data"]
    assert len(candles) == 3 and candles[1][0] - candles[0][0] == 60_000 and candles[-1][0] % 60_000 == 0
    assert candles[0][1:5] == [D("85880.1")] * 4 and candles[-1][1:5] == [D("86000.5")] * 4
    [ticker] = exact(http.get("/v1/perpumPublic/ticker", params={"instrument": "btc"}))["data"]
    stats = world.engine.stats_24h("coinw:futures:BTC")
    assert (ticker["high"], ticker["low"], ticker["last_price"]) == (stats.high, stats.low, D("86000.5"))
    assert ticker["total_volume"] == stats.base_volume > 0
    assert ticker["rise_fall_rate"] == stats.change.quantize(D("0.0001"))
    assert all(c[5] > 0 for c in candles)  # volumes real (issue 9)


def test_funding_rate(http, api):
    assert http.get("/v1/perpum/fundingRate", params={"instrument": "btc"}).json() == \
        {"code": 0, "data": {"value": 0.0001}, "msg": ""}  # the demo instruments' rate
    for name in ("NOPE", "BTC_USDC"):
        assert http.get("/v1/perpum/fundingRate", params={"instrument": name}).json() == \
            {"code": 9001, "msg": "Contract not found."}


def test_public_parameter_errors(http, api):
    for path in ("/v1/perpumPublic/ticker", "/v1/perpumPublic/depth", "/v1/perpum/fundingRate",
                 "/v1/perpumPublic/klines", "/v1/perpumPublic/trades"):
        response = http.get(path)
        assert response.status_code == 400
        assert response.json() == {"code": 904, "msg": "Method parameters verification failed"}
    for params in ({"base": "NOPE"}, {"base": "BTCUSDT"}):
        assert http.get("/v1/perpumPublic/depth", params=params).json() == \
            {"code": 9016, "data": None, "msg": "Incorrect parameter format/type or missing information."}
    bad = http.get("/v1/perpumPublic/klines", params={"currencyCode": "BTC", "granularity": "77"})
    assert bad.json()["code"] == 9016


# ---- rate limits ---------------------------------------------------------------------------------

def test_get_order_is_limited_to_ten_a_second(world, http):
    alice = Api(http, make_user(world.engine))
    answers = [alice.get(ORDER, positionType="plan")["code"] for _ in range(11)]
    assert answers[:10] == [0] * 10 and answers[10] == 29001
    assert alice.get(ORDER, positionType="plan") == {"code": 29001, "msg": "API access frequently"}
    assert alice.status == 200
    # the limit is per endpoint: another one still answers
    assert alice.get("/v1/perpum/positions/all")["code"] == 0


def test_the_global_limit_per_uid_spans_endpoints(world, http, monkeypatch):
    """Every private endpoint counts towards one limit per UID (100/s; 5/s here to keep it short)."""
    import localex.venues.coinw.service as service

    monkeypatch.setattr(service, "GLOBAL_UID_LIMIT", (5, 1000))
    alice = Api(http, make_user(world.engine))
    codes = [alice.get(path)["code"] for path in ("/v1/perpum/positions/all", "/v1/perpum/orders/openQuantity",
                                                   "/v1/perpum/account/fees", "/v1/perpum/moveTPSL",
                                                   "/v1/perpum/positions/type", "/v1/perpum/account/available")]
    assert codes == [0] * 5 + [29001]
    bob = Api(http, make_user(world.engine, "bob"))
    assert bob.get("/v1/perpum/positions/all")["code"] == 0  # per UID


def test_the_global_limit_is_a_hundred_a_second(world, http):
    from localex.venues.coinw.routes import GLOBAL_MARKET_LIMIT, GLOBAL_UID_LIMIT

    assert GLOBAL_UID_LIMIT == (100, 1000) and GLOBAL_MARKET_LIMIT == (30, 1000)


def test_an_endpoint_limit_on_public_data(world, http):
    codes = [http.get("/v1/perpumPublic/tickers").json()["code"] for _ in range(6)]
    assert codes == [0] * 5 + [29001]  # tickers: 5 a second per IP


def test_the_public_market_group_is_limited_to_thirty_a_second_per_ip(world, http):
    calls = ([("/v1/perpumPublic/ticker", {"instrument": "BTC"})] * 5
             + [("/v1/perpumPublic/klines", {"currencyCode": "BTC", "granularity": "0"})] * 20
             + [("/v1/perpumPublic/trades", {"base": "BTC"})] * 6)
    codes = [http.get(path, params=params).json()["code"] for path, params in calls]
    assert codes == [0] * 30 + [29001]
    assert http.get("/v1/perpum/instruments").json()["code"] == 0  # not in the group


# ---- the demo world ----------------------------------------------------------------------------

def test_serve_starts_a_funded_coinw_user(tmp_path):
    from localex.cli import build_app
    from localex.demo import credentials
    from localex.wire.http import Request

    app, accounts = build_app(str(tmp_path / "demo.db"), seed=3)
    [coinw] = [a for a in accounts if a.venue == "coinw"]
    assert coinw.passphrase is None and len(coinw.uid) == 7
    assert credentials(accounts)["coinw"] == [{"name": "demo", "uid": coinw.uid, "apiKey": coinw.api_key,
                                               "secretKey": coinw.secret_key}]
    headers = coinw_headers(coinw.api_key, coinw.secret_key, "GET", "/v1/perpum/account/getUserAssets")
    response = app.handle(Request("GET", "/v1/perpum/account/getUserAssets", "",
                                  {k.lower(): v for k, v in headers.items()}, b"", "127.0.0.1"))
    assert json.loads(response.body)["data"]["availableUsdt"] == 100000
    assert app.engine.balance(coinw.uid, "USDC", account=FUTURES).available == 100000
    # a restart on the same database finds the same user and key, funded once
    app.engine.store.close()
    again, accounts_again = build_app(str(tmp_path / "demo.db"), seed=3)
    assert [a for a in accounts_again if a.venue == "coinw"] == [coinw]
    assert again.engine.balance(coinw.uid, "USDT", account=FUTURES).available == 100000
    again.engine.store.close()
