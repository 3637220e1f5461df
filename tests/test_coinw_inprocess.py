"""In-process mode: a bot's own httpx or requests calls to https://api.coinw.com reach the CoinW
venue of the emulator, unchanged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal as D

import requests

from localex.client import CoinWClient
from localex.testing import mock_exchanges

COINW = "https://api.coinw.com"


class OfficialStyleClient:
    """A bot written the way CoinW's own Python snippet is: requests, GET parameters in dict order
    (signed unencoded, sent encoded by requests), bodies json.dumps()'d with Python's default
    separators, signed and sent as the same string."""

    def __init__(self, api_key: str, secret: str) -> None:
        self.api_key, self.secret = api_key, secret

    def call(self, method: str, path: str, params: dict) -> dict:
        timestamp = str(int(time.time() * 1000))
        if method == "GET":
            query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
            message = timestamp + method + path + ("?" + query if query else "")
            body = None
        else:
            body = json.dumps(params)
            message = timestamp + method + path + body
        sign = base64.b64encode(hmac.new(self.secret.encode(), message.encode(), hashlib.sha256).digest())
        headers = {"api_key": self.api_key, "timestamp": timestamp, "sign": sign.decode(),
                   "Content-type": "application/json"}
        if method == "GET":
            response = requests.get(COINW + path, params=params, headers=headers)
        else:
            response = requests.request(method, COINW + path, data=body, headers=headers)
        return response.json()


def test_a_bot_trades_coinw_futures_in_process():
    with mock_exchanges() as emu:
        creds = emu.create_user("coinw", funds={"USDT": 20000})
        assert emu.balances(creds.uid, "futures")["USDT"].available == D("20000")
        emu.set_price("BTC", "90000", venue="coinw", market="futures")

        # httpx, through the typed client, to the venue's real address
        client = CoinWClient(api_key=creds.api_key, secret_key=creds.secret_key)
        order_id = client.place_order("BTC", "long", "100", leverage=10, position_type="plan",
                                      quantity_unit=0, open_price="88000", third_order_id="bot-1")
        [order] = client.order_info("execute", source_ids=[order_id])  # plan orders answer too
        assert (order.pos_type, order.total_piece, order.third_order_id) == ("plan", 11, "bot-1")

        # requests, the official way: the order is there, and the price move fills it as maker
        bot = OfficialStyleClient(creds.api_key, creds.secret_key)
        seen = bot.call("GET", "/v1/perpum/order", {"positionType": "plan", "sourceIds": f"{order_id},1"})
        assert seen["code"] == 0 and [r["id"] for r in seen["data"]] == [order_id]
        emu.set_price("BTC", "87900", venue="coinw", market="futures")
        assert bot.call("GET", "/v1/perpum/order", {"positionType": "plan"})["data"] == []
        [pos] = client.all_positions()
        assert pos.current_piece == 11 and pos.open_price == D("88000")

        # protect it, then close half at market and the rest with the bot
        client.set_tpsl(pos.id, "BTC", stop_loss_price="80000")
        assert client.tpsl(2, open_id=pos.id)[0]["stopLossPrice"] == 80000
        client.close_position(pos.id, close_num=5)
        closed = bot.call("DELETE", "/v1/perpum/positions", {"id": str(pos.id), "closeRate": 1})
        assert closed["code"] == 0 and isinstance(closed["data"]["value"], int)
        assert client.all_positions() == []
        deals = client.deals("BTC").rows
        assert [d["status"] for d in deals].count("close") == 2 and len(deals) == 3

        # what reached the venue, secrets redacted
        assert {r.host for r in emu.requests} == {"api.coinw.com"}
        assert all(r.headers["sign"] == "<redacted>" and r.status == 200 for r in emu.requests)
        client.close()


def test_a_coinw_request_is_answered_in_coinw_envelopes_in_process():
    with mock_exchanges() as emu:
        emu.create_user("coinw")
        public = requests.get(COINW + "/v1/perpumPublic/ticker", params={"instrument": "btc"}).json()
        assert public["code"] == 0 and public["data"][0]["name"] == "BTCUSDT"
        missing = requests.get(COINW + "/v1/perpum/nope")
        assert missing.status_code == 404 and missing.json()["code"] == 404
        unsigned = requests.get(COINW + "/v1/perpum/positions/all").json()
        assert unsigned == {"code": 6000, "message": "api_key is required", "retry": False, "success": False}
