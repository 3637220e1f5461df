"""Control-plane state every worker shares through Redis: price paths set through any worker are
the ones the leader walks, and every worker lists the same."""

from __future__ import annotations

import pytest

from redis_support import redis_client, redis_prefix  # noqa: F401 (fixtures)
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


def _faults(worker: Worker) -> list:
    return [(f["id"], f["kind"], f["remaining"], f["hits"]) for f in worker.http.get("/localex/faults").json()]


def _restore(worker: Worker, snapshot: dict):
    return worker.http.post("/localex/snapshot", json=snapshot)


def test_a_restore_through_any_worker_puts_back_the_paths_and_faults_for_all(cluster):
    a = cluster("a")
    wait_for(a.leads, 10, "a leads")
    b = cluster("b")
    _set_path(a, {"kind": "candles", "csv": CANDLES})  # ends at 53000 and stays there
    r = b.http.post("/localex/faults", json={"kind": "http", "path": "/api/v2/public/time", "status": 502,
                                            "count": 4})
    assert r.status_code == 200, r.text
    assert a.http.get("/api/v2/public/time").status_code == 502  # one of four taken
    snapshot = b.http.get("/localex/snapshot").json()
    assert snapshot["extra"]["paths"]["specs"][KEY]["kind"] == "candles"
    assert [(f["kind"], f["remaining"], f["hits"]) for f in snapshot["extra"]["faults"]] == [("http", 3, 1)]
    # after the snapshot: another path (flat at 40000), the fault gone, another one added
    flat = "timestamp,open,high,low,close,volume\n" + "\n".join(
        f"{i * 2000},40000,40000,40000,40000,1" for i in range(60))
    _set_path(b, {"kind": "candles", "csv": flat})
    wait_for(lambda: _mark(a) == "40000", 15, "the leader walks the second path", step=0.2)
    assert a.http.delete("/localex/faults").status_code == 200
    r = a.http.post("/localex/faults", json={"kind": "error", "venue": "bitget", "path": "/api/v2/spot/*",
                                            "code": "40725"})
    assert r.status_code == 200, r.text
    later = r.json()["id"]
    restored = _restore(b, snapshot)
    assert restored.status_code == 200, restored.text
    listed = [{"venue": "bitget", "market": "spot", "symbol": "BTCUSDT", "kind": "candles", "intervalMs": 2000}]
    expected = [(snapshot["extra"]["faults"][0]["id"], "http", 3, 1)]
    for worker in (a, b):
        assert worker.http.get("/localex/paths").json() == listed
        assert _faults(worker) == expected
    # the leader walks the restored path again (to its last close), not the later one
    wait_for(lambda: _mark(a) == "53000" and _mark(b) == "53000", 15, "the restored path walked", step=0.2)
    # the restored fault is counted on across workers: three more, then none
    codes = [(a, b)[i % 2].http.get("/api/v2/public/time").status_code for i in range(4)]
    assert codes == [502, 502, 502, 200]
    r = b.http.post("/localex/faults", json={"kind": "http", "path": "/x", "status": 503})
    assert r.json()["id"] > later  # ids stay unique after a restore


def test_a_restore_refuses_bad_shared_parts_and_keeps_them_without(cluster):
    a = cluster("a")
    b = cluster("b")
    r = a.http.post("/localex/faults", json={"kind": "http", "path": "/api/v2/public/time", "status": 502})
    assert r.status_code == 200, r.text
    snapshot = a.http.get("/localex/snapshot").json()
    bad = {**snapshot, "extra": {**snapshot["extra"], "faults": [{**snapshot["extra"]["faults"][0], "status": 200}]}}
    refused = _restore(b, bad)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_snapshot"
    bad = {**snapshot, "extra": {**snapshot["extra"], "paths": {"cleared": False, "specs": {KEY: {"kind": "x"}}}}}
    assert _restore(a, bad).status_code == 400
    assert _faults(a) == _faults(b) == [(r.json()["id"], "http", None, 0)]  # nothing changed
    # a snapshot carrying neither (as one process takes them) leaves them as they are
    alone = {**snapshot, "extra": {k: v for k, v in snapshot["extra"].items() if k not in ("paths", "faults")}}
    assert a.http.delete("/localex/faults").status_code == 200
    _set_path(b, {"kind": "candles", "csv": CANDLES})
    assert _restore(b, alone).status_code == 200
    assert _faults(a) == _faults(b) == []
    assert len(a.http.get("/localex/paths").json()) == 1 and len(b.http.get("/localex/paths").json()) == 1


def test_a_restore_keeps_the_leaders_token(cluster, redis_client, redis_prefix):  # noqa: F811
    """A snapshot taken under a larger fencing token (another cluster's) restored: the store
    keeps the live leader's token, and the leader walks on."""
    a = cluster("a")
    wait_for(a.leads, 10, "a leads")
    b = cluster("b")

    def fence(snapshot: dict) -> int:
        return next(r["value"] for r in snapshot["tables"]["sequences"] if r["name"] == "localex.leader.fence")

    snapshot = wait_for(lambda: (lambda s: s if any(r["name"] == "localex.leader.fence" for r in
                                                   s["tables"]["sequences"]) else None)(
        b.http.get("/localex/snapshot").json()), 10, "the leader's token stored")
    for row in snapshot["tables"]["sequences"]:
        if row["name"] == "localex.leader.fence":
            row["value"] = 10**6
    assert _restore(b, snapshot).status_code == 200
    token = int(redis_client.get(f"{redis_prefix}:leader").split(b":")[0])
    assert fence(b.http.get("/localex/snapshot").json()) == token
    _set_path(b, {"kind": "candles", "csv": CANDLES})
    wait_for(lambda: _mark(a) == "53000", 15, "the leader walks on after the restore", step=0.2)
    assert a.leads()
