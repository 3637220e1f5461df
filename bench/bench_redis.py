"""What sharing a world through Redis costs a request: orderInfo through LocalexApp.handle with
the in-memory rate limiter (one process) and with a Cluster (the Redis limiter plus the cache
version read before every request), side by side, interleaved in rounds in one run; and the
version check alone.

    .venv/bin/python bench/bench_redis.py [--n 2000] [--rounds 5] [--redis redis://127.0.0.1:6379/0]

Prints JSON: per configuration the median wall and CPU µs per request (this process's CPU;
Redis's own work shows in the wall time only) and the Redis round trips per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import bitget_request, new_engine  # noqa: E402

from decimal import Decimal as D  # noqa: E402

from localex.engine.model import OrderType, Side  # noqa: E402
from localex.scale import Cluster  # noqa: E402
from localex.server.app import LocalexApp  # noqa: E402


def _setup(cluster):
    engine = new_engine()
    app = LocalexApp(engine, rate_limits=True, cluster=cluster)
    user = engine.create_user("bitget", name="bench")
    engine.fund(user.uid, "USDT", D("100000000"))
    key = engine.create_api_key(user.uid)
    order = engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D("90000"))
    query = urlencode({"orderId": str(order.order_id)})
    return app, lambda: bitget_request(key, "GET", "/api/v2/spot/trade/orderInfo", query)


def _round(app, make, n: int, cluster) -> dict:
    wall, cpu = [], []
    calls = 0
    if cluster is not None:
        before = _commands(cluster)
    for i in range(n):
        request = make()
        if i % 9 == 0:
            app.limiter.reset()  # stay under the limit (10 a second for orderInfo)
        t0, c0 = time.perf_counter(), time.process_time()
        response = app.handle(request)
        wall.append((time.perf_counter() - t0) * 1e6)
        cpu.append((time.process_time() - c0) * 1e6)
        assert response.status == 200, response.body
    if cluster is not None:
        calls = (_commands(cluster) - before) / n
    return {"wall_us": statistics.median(wall), "cpu_us": statistics.median(cpu), "redis_calls": calls}


def _commands(cluster) -> int:
    """Commands this process has sent to Redis."""
    return cluster.sync.sent


def _count_commands(client) -> None:
    client.sent = 0
    execute = client.execute_command

    def counted(*args, **kwargs):
        client.sent += 1
        return execute(*args, **kwargs)
    client.execute_command = counted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    prefix = f"localex-bench-{uuid.uuid4().hex[:8]}"
    cluster = Cluster(args.redis, prefix=prefix, worker="bench")
    _count_commands(cluster.sync)
    memory_app, memory_make = _setup(None)
    redis_app, redis_make = _setup(cluster)
    rounds = {"memory": [], "redis": []}
    for _ in range(args.rounds):
        rounds["memory"].append(_round(memory_app, memory_make, args.n, None))
        rounds["redis"].append(_round(redis_app, redis_make, args.n, cluster))
    check = []
    for _ in range(args.n):
        t0 = time.perf_counter()
        cluster.before_request()
        check.append((time.perf_counter() - t0) * 1e6)
    out = {name: {k: round(statistics.median(r[k] for r in rs), 1) for k in rs[0]} for name, rs in rounds.items()}
    out["redis"]["redis_calls"] = round(out["redis"]["redis_calls"] - 2 / 9, 2)  # less the bench's own resets
    out["version_check_wall_us"] = round(statistics.median(check), 1)
    out["ratio_wall"] = round(out["redis"]["wall_us"] / out["memory"]["wall_us"], 2)
    out["ratio_cpu"] = round(out["redis"]["cpu_us"] / out["memory"]["cpu_us"], 2)
    out["rounds"] = rounds
    cluster.limiter.reset()
    for key in cluster.sync.scan_iter(match=prefix + ":*"):
        cluster.sync.delete(key)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
