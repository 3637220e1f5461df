import ccxt, json, time
from decimal import Decimal

def make(world, t=None):
    ex = ccxt.bitget({"apiKey": t.api_key, "secret": t.secret_key, "password": t.passphrase} if t else {})
    ex.urls["api"] = {k: world.url for k in ex.urls["api"]}
    calls = []
    orig = ex.fetch
    def rec(url, method="GET", headers=None, body=None):
        try:
            r = orig(url, method, headers, body)
            calls.append((method, url, r.get("code") if isinstance(r, dict) else r))
            return r
        except Exception as e:
            calls.append((method, url, repr(e)[:150]))
            raise
    ex.fetch = rec
    ex.calls = calls
    return ex

def test_explore(world):
    t = world.trader()
    ex = make(world, t)
    t0 = time.time()
    m = ex.load_markets()
    print(time.time() - t0)
    for c in ex.calls: print(c)
    del ex.calls[:]
    print(list(ex.fetch_tickers().keys()))
    print(list(ex.fetch_tickers(["BTC/USDT"]).keys()))
    ms = ex.create_order("BTC/USDT", "market", "sell", 0.01)
    print(ex.fetch_order(ms["id"], "BTC/USDT"))
    try:
        ex.create_order("BTC/USDT", "market", "buy", 0.01)
    except Exception as e: print("MB", repr(e))
    o = ex.create_order("BTC/USDT", "market", "buy", 100, params={"createMarketBuyOrderRequiresPrice": False})
    print(ex.fetch_order(o["id"], "BTC/USDT")["amount"])
    o = ex.create_order("BTC/USDT", "market", "buy", 0, params={"cost": 50})
    print(ex.fetch_order(o["id"], "BTC/USDT")["amount"])
    print(ex.fetch_my_trades("BTC/USDT", since=world.engine.now_ms() - 1000, limit=5))
    print(ex.fetch_closed_orders("BTC/USDT", since=world.engine.now_ms() - 1000, limit=5))
    print(ex.fetch_open_orders())
    for c in ex.calls: print(c)
    for code, args in [("ins", ("BTC/USDT", "limit", "buy", 1, 90000)), ("min", ("BTC/USDT", "limit", "buy", 0.00001, 50000))]:
        try: ex.create_order(*args)
        except Exception as e: print(code, repr(e))
    for f in [lambda: ex.cancel_order("1767225600000000001", "BTC/USDT"), lambda: ex.fetch_order("1767225600000000001", "BTC/USDT")]:
        try: f()
        except Exception as e: print(repr(e))
