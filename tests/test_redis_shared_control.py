"""Control-plane state every worker shares through Redis: price paths set through any worker are
the ones the leader walks, and every worker lists the same."""

from __future__ import annotations

import pytest

from redis_support import redis_prefix  # noqa: F401 (fixture)
from scale_support import Worker, Workers, wait_for

KEY = "bitget:spot:BTCUSDT"
# three flat candles of two seconds: the path is at 51000, then 52000, then 53000 (and stays)
CANDLES = "timestamp,open,high,low,close,volume\n" + "\n".join(
    f"{i * 2000},{p},{p},{p},{p},1" for i, p in enumerate((51000, 52000, 53000)))


@pytest.fixture
def cluster(tmp_path, redis_prefix):  # noqa: F811
    workers = Workers(tmp_path, redis_prefix, "--no-rate-limits")
    yield workers.start
    workers.stop()


def _mark(worker: Worker) -> str:
    return worker.http.get("/localex/prices").json()[KEY]


def _set_path(worker: Worker, body: dict):
    r = worker.http.post("/localex/paths", json={"venue": "bitget", "symbol": "BTCUSDT", **body})
    assert r.status_code == 200, r.text
    return r


def test_a_path_set_through_the_follower_is_walked_by_the_leader(cluster):
    a = cluster("a")
    wait_for(a.leads, 10, "a leads")
    b = cluster("b")
    assert not b.leads()
    before = _mark(a)
    assert before not in ("51000", "52000", "53000")
    _set_path(b, {"kind": "candles", "csv": CANDLES})
    listed = [{"venue": "bitget", "market": "spot", "symbol": "BTCUSDT", "kind": "candles",
               "intervalMs": 2000}]
    assert b.http.get("/localex/paths").json() == listed
    assert a.http.get("/localex/paths").json() == listed
    # the leader walks the path: the mark passes 52000 on its way to the last close, 53000
    seen = set()

    def at_end():
        seen.add(_mark(b))
        return _mark(a) == "53000"

    wait_for(at_end, 15, "the leader walks the path set through the follower", step=0.2)
    assert "52000" in seen and before != "53000"
    assert _mark(b) == "53000"
    # cleared through the leader: every worker lists no path, and a price set by hand stays
    _set_path(a, {"kind": "static"})
    assert a.http.get("/localex/paths").json() == [] and b.http.get("/localex/paths").json() == []


def test_a_new_leader_walks_the_stored_paths(cluster):
    a = cluster("a")
    wait_for(a.leads, 10, "a leads")
    b = cluster("b")
    flat = "timestamp,open,high,low,close,volume\n" + "\n".join(
        f"{i * 1000},{p},{p},{p},{p},1" for i, p in enumerate([50500] * 7 + [54000]))
    _set_path(a, {"kind": "candles", "csv": flat})  # through the leader; b never asked for it
    a.kill9()
    wait_for(b.leads, 10, "b takes over")
    # the last candle opens 7 s after the path was set: b, leading by then, walks it
    wait_for(lambda: _mark(b) == "54000", 15, "the new leader walks the stored path", step=0.2)
    assert b.http.get("/localex/paths").json()[0]["symbol"] == "BTCUSDT"


def test_a_reset_clears_every_workers_paths(cluster):
    a = cluster("a", "--price-path", "random")
    wait_for(a.leads, 10, "a leads")
    b = cluster("b", "--price-path", "random")
    assert b.http.get("/localex/paths").json() != []  # each worker's start-up paths
    r = b.http.post("/localex/reset", json={})
    assert r.status_code == 200, r.text
    assert a.http.get("/localex/paths").json() == [] and b.http.get("/localex/paths").json() == []


def _time_code(worker: Worker) -> str:
    return worker.http.get("/api/v2/public/time").json()["code"]


def test_a_fault_added_through_one_worker_is_counted_once_across_workers(cluster):
    a = cluster("a")
    b = cluster("b")
    r = a.http.post("/localex/faults", json={"kind": "error", "venue": "bitget",
                                            "path": "/api/v2/public/time", "count": 3,
                                            "code": "40725", "message": "service return an error"})
    assert r.status_code == 200, r.text
    fault_id = r.json()["id"]
    codes = [_time_code((b, a)[i % 2]) for i in range(2)]  # b first: it never saw the request
    assert codes == ["40725", "40725"]
    for worker in (a, b):  # both list it, counted across both
        listed = worker.http.get("/localex/faults").json()
        assert [(f["id"], f["remaining"], f["hits"]) for f in listed] == [(fault_id, 1, 2)]
    codes = [_time_code((b, a)[i % 2]) for i in range(4)]
    assert codes == ["40725", "00000", "00000", "00000"]  # the third, then none: three in all
    assert a.http.get("/localex/faults").json() == [] and b.http.get("/localex/faults").json() == []


def test_a_fault_removed_through_one_worker_is_gone_on_every_worker(cluster):
    a = cluster("a")
    b = cluster("b")
    r = b.http.post("/localex/faults", json={"kind": "http", "path": "/api/v2/public/time", "status": 502})
    assert r.status_code == 200, r.text
    assert [a.http.get("/api/v2/public/time").status_code for _ in range(3)] == [502] * 3
    assert b.http.get("/api/v2/public/time").status_code == 502
    assert a.http.get("/localex/faults").json()[0]["hits"] == 4
    r = a.http.delete("/localex/faults", params={"id": str(r.json()["id"])})
    assert r.status_code == 200, r.text
    assert b.http.get("/api/v2/public/time").status_code == 200
    assert a.http.get("/api/v2/public/time").status_code == 200
    assert b.http.delete("/localex/faults", params={"id": "1"}).status_code == 404
