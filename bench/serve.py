"""One benchmark target in its own process: `python bench/serve.py TARGET [--db DB]`.

TARGET is `localex` (the emulator as `localex serve` builds it, rate limits off, with the demo
world) or `bare` (a fixed-answer ASGI app). Both run under the same uvicorn settings. The process
binds a free loopback port itself, prints one JSON line ({"port": ..., ...}) on stdout, then
serves until it is terminated.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys

import uvicorn

HOST = "127.0.0.1"

# A Bitget-shaped orderInfo answer, the size of localex's (same fields, same 16-decimal padding).
BARE_BODY = (
    b'{"code":"00000","msg":"success","requestTime":1700000000000,"data":[{"userId":"1234567890",'
    b'"symbol":"BTCUSDT","orderId":"1234567890123456789","clientOid":"1234567890123456789",'
    b'"price":"90000.0000000000000000","size":"0.0010000000000000",'
    b'"orderType":"limit","side":"buy","status":"live","priceAvg":"0","baseVolume":'
    b'"0.0000000000000000","quoteVolume":"0.0000000000000000","enterPointSource":"API",'
    b'"feeDetail":"","orderSource":"normal","cancelReason":"","cTime":"1700000000000",'
    b'"uTime":"1700000000000"}]}'
)


async def bare_app(scope, receive, send) -> None:
    """The floor: the same ASGI conversation as LocalexApp, no work in between."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BARE_BODY})


def build_localex(db: str) -> tuple[object, dict]:
    from localex.cli import build_app

    app, accounts = build_app(db, seed=0, rate_limits=False)
    acc = next(a for a in accounts if a.venue == "bitget")
    return app, {"apiKey": acc.api_key, "secretKey": acc.secret_key, "passphrase": acc.passphrase}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", choices=["localex", "bare"])
    parser.add_argument("--db", default=":memory:", help='SQLite file or ":memory:" (localex only)')
    parser.add_argument("--loop", default="uvloop")
    parser.add_argument("--http", default="httptools")
    args = parser.parse_args(argv)

    if args.target == "localex":
        app, credentials = build_localex(args.db)
    else:
        app, credentials = bare_app, {}

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(2048)  # connections queue from here on, before uvicorn accepts them
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host=HOST, port=port, workers=1, loop=args.loop, http=args.http,
                            access_log=False, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    sys.stdout.write(json.dumps({"port": port, "credentials": credentials}) + "\n")
    sys.stdout.flush()
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
