"""Several localex processes on one PostgreSQL database, as real processes over real sockets:
no lost update, all or nothing under kill -9, the ledger identity under ten client processes,
acknowledged orders surviving a killed worker, and `serve --workers` itself. Needs a PostgreSQL
server (tests/stores.py: skipped locally without one, failed on CI)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path

import httpx
import pytest

from localex.client import BitgetAPIError, BitgetClient
from localex.demo import install_market
from localex.engine import Engine
from localex.engine.copy import FollowerSetting
from localex.engine.model import OrderType, Permission, PositionSide, TradeSide
from localex.store.sql import WORLD_LOCK_KEY
from serving_support import printed_url, serve_command, wait_healthy
from stores import pg_store, require_pg

USDT_M = "usdt-futures"
CLOSE = "/api/v2/copy/mix-trader/order-close-positions"
COPY_KEY = [Permission.READ, Permission.FUTURES_TRADE, Permission.COPY_TRADE]
HERE = Path(__file__).parent


class Server:
    """`localex serve` as a child process on a free port."""

    def __init__(self, db: str, tmp: Path, *args: str) -> None:
        self.log = tmp / f"serve-{os.urandom(3).hex()}.out"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                serve_command("--db", db, "--port", "0", "--no-demo", "--no-rate-limits", "--quiet",
                              "--no-credentials-file", *args),
                stdout=out, stderr=subprocess.STDOUT, cwd=tmp)
        self.url = wait_healthy(self.proc, lambda: printed_url(self.log), self.log.read_text)[0]

    def workers(self) -> list[int]:
        """The pids of this server's worker processes (its children)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                    pids.append(int(entry.name))
        return sorted(pids)

    def stop(self) -> float:
        """SIGTERM; seconds until the process (and its workers) are gone."""
        if self.proc.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.monotonic() - started


@pytest.fixture
def db():
    return require_pg()


@pytest.fixture
def servers(db, tmp_path):
    started: list[Server] = []

    def start(*args: str) -> Server:
        server = Server(db, tmp_path, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def engine(db):
    """The test's own connection to the world (stream 99: never a worker's ids)."""
    engine = Engine(pg_store(), seed=5, stream=99)
    install_market(engine)
    return engine


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.funded = D(0)

    def user(self, name: str, usdt: str = "100000"):
        user = self.engine.create_user("bitget", name=name)
        key = self.engine.create_api_key(user.uid, permissions=COPY_KEY)
        self.engine.fund(user.uid, "USDT", D(usdt), account=USDT_M)
        self.funded += D(usdt)
        return user, key

    def client(self, url: str, key) -> BitgetClient:
        return BitgetClient(url, key.key, key.secret, key.passphrase)

    def ledger(self) -> tuple[D, D]:
        """(users' USDT + open margin + the house, what was funded): equal to the last digit."""
        e = self.engine
        users = sum((b.total for u in e.list_users("bitget") for b in e.balances(u.uid) if b.asset == "USDT"),
                    D(0))
        margins = e.position_margin().get(USDT_M, D(0))
        return users + margins + e.house_balance("bitget", "USDT"), self.funded


def copy_world(engine: Engine, followers: int):
    accounts = Accounts(engine)
    trader, trader_key = accounts.user("lead")
    engine.copy.make_trader(trader.uid, [(USDT_M, "BTCUSDT")], max_followers=1000)
    for i in range(followers):
        fan, _ = accounts.user(f"fan{i}", "1000")
        engine.copy.follow(fan.uid, trader.uid, [FollowerSetting("", "", USDT_M, "BTCUSDT",
                                                                trace_type="fixed_size",
                                                                trace_value=D("0.001"))])
    return accounts, trader, trader_key


def open_tracking(engine: Engine, uid: str):
    engine.place_futures_order(uid, USDT_M, "BTCUSDT", pos_side=PositionSide.LONG, trade_side=TradeSide.OPEN,
                               order_type=OrderType.MARKET, size=D("0.01"))
    return engine.copy.tracking_orders(uid, USDT_M, limit=1)[0]


def test_two_processes_closing_one_tracking_order_at_once_exactly_one_succeeds(engine, servers):
    accounts, trader, key = copy_world(engine, followers=5)
    a, b = servers(), servers()  # two hosts' worth of processes on one database
    clients = [accounts.client(a.url, key), accounts.client(b.url, key)]
    for _round in range(5):
        tracking = open_tracking(engine, trader.uid)
        start = threading.Barrier(2)
        results: list = [None, None]

        def close(i):
            start.wait()
            try:
                results[i] = clients[i].request("POST", CLOSE, {"productType": "USDT-FUTURES",
                                                                "trackingNo": str(tracking.tracking_no)})
            except BitgetAPIError as err:
                results[i] = err

        threads = [threading.Thread(target=close, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        won = [r for r in results if isinstance(r, list)]
        lost = [r for r in results if isinstance(r, BitgetAPIError)]
        assert len(won) == 1 and len(lost) == 1, results
        assert won[0] == [{"trackingNo": str(tracking.tracking_no), "symbol": "BTCUSDT",
                           "productType": "USDT-FUTURES"}]
        assert (lost[0].code, lost[0].msg) == ("43064", "Tracking order status error")
        copies = engine.copy.copies_of(tracking.tracking_no)
        assert len(copies) == 5 and all(c.status == "closed" for c in copies)
    # five opens and five closes of the trader's: no close happened twice
    assert len(engine.futures_orders(trader.uid)) == 10
    assert engine.positions(trader.uid) == []
    total, funded = accounts.ledger()
    assert total == funded


def _world_lock_held_by_another(conn) -> bool:
    low = WORLD_LOCK_KEY & 0xFFFFFFFF
    high = WORLD_LOCK_KEY >> 32
    return conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s "
        "AND objid = %s AND pid <> pg_backend_pid()", (high, low)).fetchone()[0] > 0


def test_kill_9_in_the_middle_of_closing_a_trader_and_500_followers_leaves_all_or_nothing(engine, servers, db):
    import psycopg

    accounts, trader, key = copy_world(engine, followers=500)
    tracking = open_tracking(engine, trader.uid)
    assert len(engine.copy.copies_of(tracking.tracking_no)) == 500
    victim, survivor = servers(), servers()
    client = accounts.client(victim.url, key)
    answer: list = []

    def close():
        try:
            answer.append(client.request("POST", CLOSE, {"productType": "USDT-FUTURES",
                                                        "trackingNo": str(tracking.tracking_no)}))
        except (httpx.TransportError, BitgetAPIError) as err:
            answer.append(err)

    with psycopg.connect("postgresql://" + db.split("://", 1)[1], autocommit=True) as watch:
        closer = threading.Thread(target=close)
        closer.start()
        deadline = time.monotonic() + 30
        while not _world_lock_held_by_another(watch):  # the close's transaction is under way
            assert time.monotonic() < deadline and closer.is_alive(), answer
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        closer.join(30)
        # the killed process's transaction ends when the server sees its connection gone
        deadline = time.monotonic() + 30
        while _world_lock_held_by_another(watch):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    copies = engine.copy.copies_of(tracking.tracking_no)
    closed = sum(c.status == "closed" for c in copies)
    assert closed in (0, 500), closed  # never some of them
    trader_open = [p for p in engine.positions(trader.uid) if p.size > 0]
    assert (len(trader_open) == 0) == (closed == 500)
    if closed == 0:  # what the killed worker began is gone: another process closes it whole
        data = accounts.client(survivor.url, key).request("POST", CLOSE, {
            "productType": "USDT-FUTURES", "trackingNo": str(tracking.tracking_no)})
        assert data[0]["trackingNo"] == str(tracking.tracking_no)
    copies = engine.copy.copies_of(tracking.tracking_no)
    assert len(copies) == 500 and all(c.status == "closed" for c in copies)
    assert engine.positions(trader.uid) == []
    total, funded = accounts.ledger()
    assert total == funded


def _run_clients(url: str, keys: list, rounds: int, *flags: str) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, str(HERE / "scale_client.py"), url, k.key, k.secret,
                              k.passphrase, str(rounds), *flags], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for k in keys]


def test_ten_client_processes_on_two_workers_keep_the_ledger_to_the_last_digit(engine, servers):
    accounts = Accounts(engine)
    users = [accounts.user(f"bot{i}", "10000") for i in range(10)]
    server = servers("--workers", "2")
    assert len(server.workers()) == 2
    procs = _run_clients(server.url, [k for _u, k in users], rounds=6)
    acked = 0
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        lines = [json.loads(line) for line in out.splitlines()]
        assert len(lines) == 6 * 4 and all("ack" in line for line in lines)
        acked += len(lines)
    assert acked == 240
    for user, _key in users:
        orders = engine.futures_orders(user.uid, limit=1000)
        assert len(orders) == 18  # 6 opens, 6 resting limits (cancelled), 6 closes
        assert engine.positions(user.uid) == []
    total, funded = accounts.ledger()
    assert total == funded


def test_kill_9_of_a_worker_under_load_loses_no_acknowledged_order(engine, servers):
    accounts = Accounts(engine)
    users = [accounts.user(f"bot{i}", "10000") for i in range(4)]
    server = servers("--workers", "2")
    before = server.workers()
    assert len(before) == 2
    procs = _run_clients(server.url, [k for _u, k in users], 15, "--tolerate-drops")
    time.sleep(1.0)  # under load
    os.kill(before[0], signal.SIGKILL)
    outputs = [proc.communicate(timeout=240) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _out, err in outputs]
    acked = []
    for out, _err in outputs:
        acked += [json.loads(line) for line in out.splitlines() if '"ack"' in line]
    assert len(acked) > 20
    stored = {o.order_id for user, _ in users for o in engine.futures_orders(user.uid, limit=1000)}
    assert {int(a["orderId"]) for a in acked} <= stored  # every acknowledged order is there
    # the supervisor started a new worker 1 in place of the killed one
    deadline = time.monotonic() + 20
    while len(server.workers()) != 2 or before[0] in server.workers():
        assert time.monotonic() < deadline, server.workers()
        time.sleep(0.05)
    assert "worker 1" in server.log.read_text() and "was killed by signal 9" in server.log.read_text()
    total, funded = accounts.ledger()
    assert total == funded


def test_workers_answer_on_one_port_and_all_stop_on_sigterm(engine, servers):
    server = servers("--workers", "3")
    workers = server.workers()
    assert len(workers) == 3
    with httpx.Client(base_url=server.url) as http:
        for _ in range(30):
            assert http.get("/localex/health").json()["status"] == "ok"
    assert "workers:        3 processes" in server.log.read_text()
    server.stop()
    assert server.proc.returncode == 0
    for pid in workers:  # reaped by the parent before it exited: no such process
        assert not Path(f"/proc/{pid}").exists()


def test_workers_sharing_redis_elect_one_market_leader(engine, servers, monkeypatch):
    """With --redis the lease, not the worker's number, picks the one process that runs the
    market's work: of two workers exactly one says it leads."""
    from redis_support import REDIS_URL, drop_prefix, need_redis

    need_redis()
    prefix = f"localex-pg-test-{os.urandom(4).hex()}"
    monkeypatch.setenv("LOCALEX_REDIS_PREFIX", prefix)  # the servers inherit it
    server = None
    try:
        server = servers("--workers", "2", "--redis", REDIS_URL)
        assert len(server.workers()) == 2
        seen: dict[str, bool] = {}
        deadline = time.monotonic() + 30
        while len(seen) < 2 or sum(seen.values()) != 1:  # a new connection each: any worker
            assert time.monotonic() < deadline, seen
            cluster = httpx.get(server.url + "/localex/health").json()["cluster"]
            seen[cluster["worker"]] = cluster["leader"]
        assert sorted(seen.values()) == [False, True]
        assert "a leader elected on Redis" in server.log.read_text()
    finally:
        if server is not None:
            server.stop()  # before its keys go, so that none is written again
        drop_prefix(prefix)
