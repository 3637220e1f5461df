"""A bot as a separate process, for tests/test_scale_out.py: places and cancels Bitget futures
orders against a localex URL and prints, one JSON line each, what the venue acknowledged.

    python tests/scale_client.py URL API_KEY SECRET PASSPHRASE ROUNDS [--tolerate-drops]

A round: a market open of 0.001 BTCUSDT, a limit buy far below the mark (it rests, holding
margin) and its cancel, a reduce-only market close. With --tolerate-drops a request that gets
no answer (a worker killed under it) is noted as unacknowledged and the bot goes on.
"""

from __future__ import annotations

import json
import sys

import httpx

from localex.client import BitgetAPIError, BitgetClient

PLACE = "/api/v2/mix/order/place-order"
CANCEL = "/api/v2/mix/order/cancel-order"
BASE = {"symbol": "BTCUSDT", "productType": "USDT-FUTURES", "marginMode": "crossed", "marginCoin": "USDT"}


def main(argv: list[str]) -> int:
    url, key, secret, passphrase, rounds = argv[:5]
    tolerate = "--tolerate-drops" in argv
    client = BitgetClient(url, key, secret, passphrase)
    out = sys.stdout

    def send(path: str, body: dict, what: str):
        try:
            data = client.request("POST", path, body)
        except (httpx.TransportError, BitgetAPIError) as err:
            if not tolerate:
                raise
            out.write(json.dumps({"unacknowledged": what, "error": type(err).__name__}) + "\n")
            return None
        out.write(json.dumps({"ack": what, "orderId": data["orderId"]}) + "\n")
        out.flush()
        return data["orderId"]

    for _ in range(int(rounds)):
        send(PLACE, {**BASE, "size": "0.001", "side": "buy", "orderType": "market"}, "open")
        resting = send(PLACE, {**BASE, "size": "0.001", "side": "buy", "orderType": "limit",
                               "price": "50000", "force": "gtc"}, "limit")
        if resting is not None:
            send(CANCEL, {"symbol": "BTCUSDT", "productType": "USDT-FUTURES", "orderId": resting}, "cancel")
        send(PLACE, {**BASE, "size": "0.001", "side": "sell", "orderType": "market",
                     "reduceOnly": "YES"}, "close")
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
