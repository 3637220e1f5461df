from decimal import Decimal

from localex.client import BitgetAPIError


def test_limit_order_rests_then_fills_when_the_mark_reaches_it(world):
    alice = world.trader()
    client = world.client(alice)
    ref = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.01", price="94000")
    order = client.spot_order(order_id=ref.order_id)
    assert order.status == "live"
    world.engine.set_mark("bitget", "spot", "BTCUSDT", Decimal("93999"))
    order = client.spot_order(order_id=ref.order_id)
    assert order.status == "filled"
    assert order.price_avg == Decimal("94000")
    try:
        client.cancel_spot_order("BTCUSDT", order_id=ref.order_id)
    except BitgetAPIError as err:
        assert err.code == "43001"
    else:
        raise AssertionError("cancelling a filled order must fail")
