"""The request journal across workers (`--redis`): `GET /localex/journal` on any worker lists the
requests every worker answered, in one order, with the entries, filters and bounds of one
process's journal."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import aiohttp
import orjson
import pytest

from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.scale import Cluster
from localex.scale.journal import SharedJournal
from localex.server.app import LocalexApp
from localex.server.journal import Journal
from localex.store import open_store
from localex.wire.http import Request, Response
from redis_support import REDIS_URL, redis_client, redis_prefix  # noqa: F401 (fixtures)
from scale_support import cluster, demo_credentials, login_frame, wait_for  # noqa: F401 (fixture)
from serving_support import START_WAIT_S
from wire_signing import signed_headers

ORDER_INFO = "/api/v2/spot/trade/orderInfo"
ASSETS = "/api/v2/spot/account/assets"
SYMBOLS = "/api/v2/spot/public/symbols"
START = 1_767_225_600_000


def _signed(key, path: str, query: str, ts: str) -> Request:
    headers = {k.lower(): v for k, v in signed_headers(key.key, key.secret, key.passphrase, "GET", path,
                                                       query, timestamp=ts).items()}
    headers.update({"host": "127.0.0.1", "user-agent": "test"})
    return Request(method="GET", path=path, raw_query=query, headers=headers, body=b"", client_ip="127.0.0.1")


def _control(method: str, path: str, query: str = "") -> Request:
    return Request(method=method, path=path, raw_query=query, headers={"host": "127.0.0.1"}, body=b"",
                   client_ip="127.0.0.1")


def _journal(app, query: str = "") -> list:
    response = app.handle(_control("GET", "/localex/journal", query))
    assert response.status == 200, response.body
    return [{k: v for k, v in e.items() if k != "latencyMs"} for e in orjson.loads(response.body)]


@pytest.fixture
def worlds(tmp_path, redis_prefix):
    """Two apps over one SQLite file sharing a Redis, as two workers are, and one process on a
    world of its own built the same way: made(shared) -> the apps."""
    made = []

    def make(shared: bool) -> list:
        path = str(tmp_path / f"world-{shared}.db")
        apps = []
        for n in range(2 if shared else 1):
            engine = Engine(open_store(path), clock=ManualClock(START), seed=5)
            cluster = Cluster(REDIS_URL, prefix=redis_prefix, worker=f"w{n}") if shared else None
            apps.append(LocalexApp(engine, rate_limits=False, cluster=cluster))
            made.append(apps[-1])
        return apps

    yield make
    for app in made:
        if app.cluster is not None:
            app.journal.close()
            app.cluster.sync.close()


def _requests(engine, ts: str | None = None) -> list[Request]:
    ts = ts or str(int(time.time() * 1000))
    alice = engine.create_user("bitget", name="alice")
    bob = engine.create_user("bitget", name="bob")
    a, b = engine.create_api_key(alice.uid), engine.create_api_key(bob.uid)
    return [_signed(a, ORDER_INFO, "orderId=1", ts), _signed(b, ASSETS, "coin=USDT", ts),
            Request(method="GET", path=SYMBOLS, raw_query="", headers={"host": "x"}, body=b""),
            _signed(a, ASSETS, "coin=BTC", ts)]


def test_any_worker_lists_every_workers_requests_as_one_process_does(worlds):
    one = worlds(False)[0]
    a, b = worlds(True)
    ts = str(int(time.time() * 1000))
    for request in _requests(one.engine, ts):
        one.handle(request)
    for i, request in enumerate(_requests(a.engine, ts)):  # the same users and keys (one seed)
        (a, b)[i % 2].handle(request)
    queries = ["", "apiKey=" + _journal(one)[0]["apiKey"], "path=/api/v2/spot/*/assets&afterSeq=2",
               "limit=2", "tail=2", "tail=0", "venue=coinw", "method=get&since=0&until=" + str(START),
               "afterSeq=3"]
    for query in queries:
        expected = _journal(one, query)
        assert _journal(a, query) == expected and _journal(b, query) == expected, query
    everything = _journal(b)
    assert [e["seq"] for e in everything] == [1, 2, 3, 4]
    assert everything[0]["headers"]["access-sign"] == "<redacted>"
    assert "user-agent" not in everything[0]["headers"]
    stats = [orjson.loads(app.handle(_control("GET", "/localex/journal/stats")).body) for app in (one, a, b)]
    assert stats[1] == stats[0] and stats[2] == stats[0]
    assert a.handle(_control("DELETE", "/localex/journal")).status == 200  # cleared for every worker
    assert _journal(b) == []
    b.handle(Request(method="GET", path=SYMBOLS, raw_query="", headers={}, body=b""))
    assert [e["seq"] for e in _journal(a)] == [1]  # numbered afresh, as one process does


def _request(body: bytes) -> Request:
    return Request(method="POST", path="/api/v2/spot/trade/place-order", raw_query="",
                   headers={"content-type": "application/json"}, body=body)


@pytest.mark.parametrize("capacity,max_bytes,size", [(3, 1 << 20, 10), (1000, 1_000, 300), (5, 2_000, 50)])
def test_the_shared_journal_keeps_the_same_bounds(redis_client, redis_prefix, capacity, max_bytes, size):
    """Past either bound the oldest entries go, counted as dropped: the same as one process."""
    alone = Journal(capacity=capacity, max_bytes=max_bytes)
    shared = SharedJournal(redis_client, redis_prefix, "w", capacity=capacity, max_bytes=max_bytes)
    answer = Response(200, b'{"code":"00000"}')
    for i in range(12):
        body = b"x" * (size * (1 + i % 3))
        alone.record("bitget", "access-key", i, _request(body), answer)
        shared.record("bitget", "access-key", i, _request(body), answer)
    assert shared.stats() == alone.stats()
    assert [e.as_json() for e in shared.entries()] == [e.as_json() for e in alone.entries()]
    shared.close()


def test_a_reset_through_one_worker_clears_the_journal_for_all(worlds):
    a, b = worlds(True)
    for request in _requests(a.engine):
        b.handle(request)
    assert len(_journal(a)) == 4
    assert a.handle(_control("POST", "/localex/reset")).status == 200
    assert _journal(b) == [] and _journal(a) == []


# real worker processes ---------------------------------------------------------------------------

def test_requests_to_two_worker_processes_are_journaled_once_in_one_order(cluster):
    """Four clients at once, each sending its requests one after another to both workers in
    turn: every worker lists every request once, numbered 1..N, and each client's requests in
    the order it sent them."""
    a = cluster("a", "--no-rate-limits")
    b = cluster("b", "--no-rate-limits")
    per_client = 15

    def client(n: int) -> None:
        for i in range(per_client):
            worker = (a, b)[(n + i) % 2]
            assert worker.http.get(SYMBOLS, params={"client": n, "i": i}).status_code == 200

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lists = [w.http.get("/localex/journal").json() for w in (a, b)]
    strip = [[{k: v for k, v in e.items() if k != "latencyMs"} for e in listed] for listed in lists]
    assert strip[0] == strip[1]
    entries = lists[0]
    assert [e["seq"] for e in entries] == list(range(1, 4 * per_client + 1))
    for n in range(4):
        mine = [e["query"] for e in entries if e["query"].startswith(f"client={n}&")]
        assert mine == [f"client={n}&i={i}" for i in range(per_client)]
    assert a.http.get("/localex/journal/stats").json()["entries"] == 4 * per_client
    # a client following the journal through one worker sees what the other answers next
    last = entries[-1]["seq"]
    b.http.get(SYMBOLS, params={"after": "follow"})
    newer = a.http.get("/localex/journal", params={"afterSeq": str(last)}).json()
    assert [(e["seq"], e["query"]) for e in newer] == [(last + 1, "after=follow")]


def test_stream_frames_at_one_worker_are_journaled_for_every_worker(cluster):
    a = cluster("a", "--no-rate-limits")
    b = cluster("b", "--no-rate-limits")
    creds = demo_credentials(a.out_path.parent)

    async def login_at_b():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(b.url + "/v2/ws/private") as ws:
                await ws.send_str(login_frame(creds))
                reply = orjson.loads((await ws.receive(timeout=START_WAIT_S)).data)
                assert reply["event"] == "login" and reply["code"] == 0

    asyncio.run(login_at_b())
    frames = wait_for(lambda: [e for e in a.http.get("/localex/journal", params={"path": "/v2/ws/*"}).json()]
                      or None, 10, "the frames listed through a")
    assert [e["method"] for e in frames[:2]] == ["WS-IN", "WS-OUT"]
    assert {e["headers"]["session"] for e in frames[:2]} == {frames[0]["headers"]["session"]}
    assert frames[0]["headers"]["session"].startswith("b/")  # the worker's own session numbers
    login = json.loads(frames[0]["body"])["args"][0]
    assert login["sign"] == "<redacted>" and login["passphrase"] == "<redacted>"
    assert creds["passphrase"] not in json.dumps(frames)
    assert all(e["apiKey"] == creds["apiKey"] for e in frames[1:2])
