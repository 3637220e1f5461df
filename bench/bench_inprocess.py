"""The cost of one authenticated orderInfo request: in-process versus loopback HTTP.

    .venv/bin/python bench/bench_inprocess.py [--count 2000] [--seconds 30] [--batch 100]

The same signed GET /api/v2/spot/trade/orderInfo is sent through the same client code three ways:

- in-process: to https://api.bitget.com inside mock_exchanges() (no socket at all);
- loopback, server process: to a uvicorn server in a child process on 127.0.0.1, as `localex
  serve` runs (same build_app, rate limits off);
- loopback, server thread: to a uvicorn server in a thread of this process, as the
  `localex_server` pytest fixture runs.

It also times LocalexApp.handle alone on a ready-made signed request: the work every transport
shares.

Each is measured with httpx (localex's own BitgetClient) and with requests (a Session), one
request at a time over a kept-alive connection, in interleaved batches (every target in turn), so
a busy machine slows all of them alike. The run stops when every target has had --count requests
or after --seconds, whichever comes first. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import base64
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Callable
from urllib.parse import urlencode

HOST = "127.0.0.1"
PATH = "/api/v2/spot/trade/orderInfo"


def serve() -> None:
    """Child process: the emulator as `localex serve` builds it; print one JSON line, serve."""
    import uvicorn

    from localex.cli import build_app

    app, accounts = build_app(":memory:", seed=0, rate_limits=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    acc = accounts[0]
    print(json.dumps({"port": sock.getsockname()[1], "apiKey": acc.api_key,
                      "secretKey": acc.secret_key, "passphrase": acc.passphrase}), flush=True)
    config = uvicorn.Config(app, host=HOST, access_log=False, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


class Creds:
    def __init__(self, api_key: str, secret_key: str, passphrase: str) -> None:
        self.api_key, self.secret_key, self.passphrase = api_key, secret_key, passphrase


def signed_headers(creds: Creds, query: str) -> dict[str, str]:
    ts = str(int(time.time() * 1000))
    sign = base64.b64encode(hmac.new(creds.secret_key.encode(), (ts + "GET" + PATH + "?" + query).encode(),
                                     hashlib.sha256).digest()).decode()
    return {"ACCESS-KEY": creds.api_key, "ACCESS-SIGN": sign, "ACCESS-TIMESTAMP": ts,
            "ACCESS-PASSPHRASE": creds.passphrase, "Content-Type": "application/json"}


def requests_order_info(session, base: str, creds: Creds, order_id: str):
    query = urlencode({"orderId": order_id})
    resp = session.get(f"{base}{PATH}?{query}", headers=signed_headers(creds, query))
    body = resp.json()
    assert body["code"] == "00000", body
    return body


def order_info_calls(base: str, creds: Creds, stack: contextlib.ExitStack) -> dict[str, Callable]:
    """One orderInfo call per client library, against `base`, on an order placed there."""
    import httpx
    import requests

    from localex.client import BitgetClient

    http = stack.enter_context(httpx.Client())
    client = BitgetClient(base, creds.api_key, creds.secret_key, creds.passphrase, http=http)
    order_id = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.001", price="90000").order_id
    session = stack.enter_context(requests.Session())
    return {"httpx": lambda: client.spot_order(order_id=order_id),
            "requests": lambda: requests_order_info(session, base, creds, order_id)}


def start_server_process(stack: contextlib.ExitStack) -> tuple[str, Creds]:
    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)

    def stop() -> None:
        child.terminate()
        child.wait(10)

    stack.callback(stop)
    info = json.loads(child.stdout.readline())
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((HOST, info["port"]), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    return f"http://{HOST}:{info['port']}", Creds(info["apiKey"], info["secretKey"], info["passphrase"])


def run(targets: dict[str, Callable], count: int, seconds: float, batch: int) -> dict[str, list[float]]:
    """Interleaved batches (every target in turn, `batch` calls each) until every target has had
    `count` calls or `seconds` have passed; seconds per call of each batch."""
    for fn in targets.values():  # warm-up: connections, caches
        for _ in range(20):
            fn()
    per_batch: dict[str, list[float]] = {name: [] for name in targets}
    deadline = time.perf_counter() + seconds
    done = 0
    while done < count and time.perf_counter() < deadline:
        for name, fn in targets.items():
            t0 = time.perf_counter()
            for _ in range(batch):
                fn()
            per_batch[name].append((time.perf_counter() - t0) / batch)
        done += batch
    return per_batch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="at most this many requests per target")
    parser.add_argument("--seconds", type=float, default=30.0, help="at most this long in all")
    parser.add_argument("--batch", type=int, default=100, help="requests per timed batch")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return

    from localex.wire.http import Request
    from localex.testing import Emulator, mock_exchanges

    targets: dict[str, Callable] = {}
    with contextlib.ExitStack() as stack:
        emu = stack.enter_context(mock_exchanges(rate_limits=False))
        c = emu.create_user()
        creds = Creds(c.api_key, c.secret_key, c.passphrase)
        for lib, fn in order_info_calls("https://api.bitget.com", creds, stack).items():
            targets[f"in-process|{lib}"] = fn

        # the floor: the app alone, handed a ready-made signed Request (no client, no adapter)
        query = urlencode({"orderId": emu.orders(c.uid)[0].order_id})

        def direct() -> None:
            # signed afresh each time (a signature older than the receive window is refused)
            headers = {k.lower(): v for k, v in signed_headers(creds, query).items()}
            headers["host"] = "api.bitget.com"
            assert emu.app.handle(Request("GET", PATH, query, headers, b"", "127.0.0.1")).status == 200

        targets["LocalexApp.handle alone|-"] = direct

        base, creds = start_server_process(stack)
        for lib, fn in order_info_calls(base, creds, stack).items():
            targets[f"loopback, server process|{lib}"] = fn

        threaded = Emulator(rate_limits=False)
        server = threaded.serve()
        stack.callback(server.stop)
        c = threaded.create_user()
        for lib, fn in order_info_calls(server.url, Creds(c.api_key, c.secret_key, c.passphrase),
                                        stack).items():
            targets[f"loopback, server thread|{lib}"] = fn

        results = run(targets, args.count, args.seconds, args.batch)

    n = len(next(iter(results.values()))) * args.batch
    print(f"authenticated GET {PATH}, one request at a time, {n} per target in interleaved "
          f"batches of {args.batch} (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print(f"{'target':28} {'client':9} {'best batch':>11} {'median':>10} {'vs in-process (median)':>23}")
    for key, batches in results.items():
        name, lib = key.split("|")
        median = statistics.median(batches)
        base_key = f"in-process|{lib}"
        ratio = f"{median / statistics.median(results[base_key]):.2f}×" if base_key in results else ""
        print(f"{name:28} {lib:9} {min(batches) * 1e6:8.0f} µs {median * 1e6:7.0f} µs {ratio:>23}")
    print(json.dumps({key: round(statistics.median(batches) * 1e6, 1) for key, batches in results.items()}))


if __name__ == "__main__":
    main()
