"""`localex serve` as a newcomer runs it: a real subprocess, a real port, a SQLite file."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path

import httpx
import pytest

from localex.cli import _is_loopback, build_app
from localex.client import BitgetClient
from localex.demo import DEMO_FUNDS
from serving_support import START_WAIT_S, free_port, serve_command, stop, wait_healthy


class Served:
    """One `localex serve` subprocess; always terminated by stop()."""

    def __init__(self, workdir: Path, name: str, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out_path = workdir / f"{name}.out"
        self.err_path = workdir / f"{name}.err"
        env = {k: v for k, v in os.environ.items() if k != "LOCALEX_ADMIN_TOKEN"}
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(serve_command("--port", str(self.port), *args),
                                         stdout=out, stderr=err, cwd=workdir, env=env)

    def wait_healthy(self) -> dict:
        return wait_healthy(self.proc, self.url,
                            lambda: f"{self.output}\n{self.err_path.read_text()}")[1]

    @property
    def output(self) -> str:
        return self.out_path.read_text()

    def stop(self) -> None:
        stop(self.proc)


@pytest.fixture
def serve(tmp_path):
    started: list[Served] = []

    def start(name: str, *args: str) -> Served:
        served = Served(tmp_path, name, *args)
        started.append(served)
        served.wait_healthy()
        return served

    yield start
    for served in started:
        served.stop()


def printed_account(output: str) -> dict:
    found = {name: re.search(rf"^\s+{name}\s+(\S+)\s*$", output, re.M) for name in
             ("apiKey", "secretKey", "passphrase")}
    assert all(found.values()), output
    uid = re.search(r"account 'demo' \(uid (\d+)\)", output)
    assert uid, output
    return {"uid": uid.group(1), **{k: m.group(1) for k, m in found.items()}}


def test_serve_first_minute_and_restart(serve, tmp_path):
    db, creds_file = str(tmp_path / "x.db"), tmp_path / "creds.json"
    first = serve("first", "--db", db, "--write-credentials", str(creds_file))
    health = httpx.get(first.url + "/localex/health").json()
    assert health["status"] == "ok" and "bitget" in health["venues"]

    out = first.output
    assert f"on {first.url}" in out and f"{first.url}/api/v2/" in out
    assert "admin token" not in out  # loopback needs none
    printed = printed_account(out)
    creds = json.loads(creds_file.read_text())
    assert list(creds)[0] == "bitget"
    # the demo account, then the copy-trading demo: an elite trader and its followers
    assert [a["name"] for a in creds["bitget"]] == ["demo", "trader", "follower-1", "follower-2", "follower-3"]
    account = creds["bitget"][0]
    for each in creds["bitget"]:
        assert set(each) == {"name", "uid", "apiKey", "secretKey", "passphrase"}
        assert all(isinstance(v, str) and v for v in each.values())
        assert f"bitget account '{each['name']}' (uid {each['uid']})" in out
    assert account["name"] == "demo"
    assert {k: account[k] for k in printed} == printed
    assert f"credentials written to {creds_file}" in out

    # the first minute: the printed credentials trade at once
    client = BitgetClient(first.url, account["apiKey"], account["secretKey"], account["passphrase"])
    try:
        assert {s.symbol for s in client.spot_symbols()} >= {"BTCUSDT", "ETHUSDT", "BGBUSDT"}
        ref = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.001", price="90000",
                                      client_oid="first-minute")
        order = client.spot_order(order_id=ref.order_id)
        assert order.status == "live" and order.client_oid == "first-minute"
        assert order.price == D("90000") and order.size == D("0.001")
        market = client.place_spot_order("BTCUSDT", "sell", "market", size="0.01")
        assert client.spot_order(order_id=market.order_id).status == "filled"
        assets = {a.coin: a for a in client.assets()}
        assert assets["USDT"].frozen == D("90")
    finally:
        client.close()
    first.stop()
    assert first.proc.returncode is not None

    # a restart on the same database: same credentials, same state, no second funding
    creds_again = tmp_path / "creds2.json"
    second = serve("second", "--db", db, "--write-credentials", str(creds_again))
    assert printed_account(second.output) == printed
    assert json.loads(creds_again.read_text()) == creds
    client = BitgetClient(second.url, account["apiKey"], account["secretKey"], account["passphrase"])
    try:
        order = client.spot_order(order_id=ref.order_id)
        assert order.status == "live" and order.client_oid == "first-minute"
        assert client.spot_order(order_id=market.order_id).status == "filled"
        after = {a.coin: a for a in client.assets()}
        assert after["USDT"].available == assets["USDT"].available
        assert after["USDT"].frozen == D("90")
        assert after["BTC"].available == assets["BTC"].available < DEMO_FUNDS["BTC"]
        assert len(client.unfilled_orders("BTCUSDT")) == 1
    finally:
        client.close()
    # no second demo world: each account once (users created in the same millisecond list by uid,
    # which the start time seeds, so the order is not the creation order)
    users = httpx.get(second.url + "/localex/users").json()
    assert sorted(u["name"] for u in users if u["venue"] == "bitget") == [
        "demo", "follower-1", "follower-2", "follower-3", "trader"]


def test_serve_no_demo_starts_empty(serve, tmp_path):
    served = serve("empty", "--db", str(tmp_path / "empty.db"), "--no-demo")
    assert httpx.get(served.url + "/localex/users").json() == []
    assert httpx.get(served.url + "/localex/instruments").json() == []
    assert httpx.get(served.url + "/localex/prices").json() == {}
    assert "apiKey" not in served.output


def test_same_seed_same_demo_credentials(tmp_path):
    accounts = []
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        app, world = build_app(str(tmp_path / f"{name}.db"), seed=seed)
        app.engine.store.close()
        accounts.append(world)
    a, b, c = accounts
    assert a == b  # the demo account and the copy-trading accounts alike
    assert (c[0].uid, c[0].api_key, c[0].secret_key) != (a[0].uid, a[0].api_key, a[0].secret_key)


def test_loopback_detection():
    assert _is_loopback("127.0.0.1") and _is_loopback("localhost") and _is_loopback("::1")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.2")
    assert not _is_loopback("example.com")


def test_a_sped_up_market_moves_prices_by_itself(serve, tmp_path):
    served = serve("fast", "--db", str(tmp_path / "fast.db"), "--speed", "60",
                   "--price-path", "random", "--seed", "4")
    first = httpx.get(served.url + "/localex/prices").json()["bitget:spot:BTCUSDT"]
    wall0 = time.monotonic()
    t0 = httpx.get(served.url + "/localex/clock").json()["now"]
    # wait on the market's own progress, not the wall's: a loaded machine only makes it slower;
    # the wall bound is there only for a server that hangs
    while time.monotonic() - wall0 < START_WAIT_S:
        time.sleep(0.3)
        prices = httpx.get(served.url + "/localex/prices").json()
        if prices["bitget:spot:BTCUSDT"] != first:
            break
    assert prices["bitget:spot:BTCUSDT"] != first
    # a wall second is a market minute: between the two clock reads the market ran 60 times the
    # wall time (at most the time from before the first read to after the second, plus a second
    # of market time for the server's own clock readings)
    now = httpx.get(served.url + "/localex/clock").json()["now"]
    wall = time.monotonic() - wall0
    assert now - t0 >= 60_000 * 0.3
    assert now - t0 <= 60_000 * wall + 1_000


def test_a_manual_clock_walks_candles_and_a_snapshot_restarts_the_server(serve, tmp_path):
    served = serve("manual", "--db", ":memory:", "--clock", "manual", "--price-path", "candles")
    moved = httpx.post(served.url + "/localex/clock", json={"advance": 3_600_000}).json()
    assert moved["pricesApplied"] > 0
    price = httpx.get(served.url + "/localex/prices").json()["bitget:spot:BTCUSDT"]
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(httpx.get(served.url + "/localex/snapshot").text)
    again = serve("restored", "--db", ":memory:", "--restore", str(snapshot))
    assert httpx.get(again.url + "/localex/prices").json()["bitget:spot:BTCUSDT"] == price
    assert re.findall(r"apiKey\s+(\S+)", again.output) == re.findall(r"apiKey\s+(\S+)", served.output)
    with pytest.raises(Exception):
        build_app(":memory:", 0, clock="manual", speed=2)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_long_advance_stops_the_server_cleanly(serve, tmp_path, signum):
    from localex.store import open_store

    db = str(tmp_path / "stop.db")
    served = serve("long", "--db", db, "--clock", "manual", "--start", "1767225600000",
                   "--price-path", "random")
    start = httpx.get(served.url + "/localex/clock").json()["now"]
    answer: dict = {}

    def advance() -> None:  # a year: far more than the test waits for
        response = httpx.post(served.url + "/localex/clock", json={"advance": 365 * 86_400_000},
                              timeout=120)
        answer.update(status=response.status_code, body=response.json())

    worker = threading.Thread(target=advance)
    worker.start()
    for _ in range(2000):  # requests get in between slices: wait until the walk is under way
        if httpx.get(served.url + "/localex/clock").json()["now"] > start:
            break
        time.sleep(0.01)
    served.proc.send_signal(signum)
    served.proc.wait(60)
    worker.join(60)
    assert served.proc.returncode == 0
    assert "Traceback" not in served.err_path.read_text() and "Aborted" not in served.output
    assert answer["status"] == 503 and answer["body"]["error"]["code"] == "stopping"
    # nothing half-written: the tape's newest minute reached the file with the last marks
    store = open_store(db)
    try:
        with store.transaction(True) as uow:
            marks = uow.list_marks()
            assert marks
            for mark in marks:
                minute = mark.updated_ms - mark.updated_ms % 60_000
                bar = uow.get_bar(mark.instrument, minute)
                assert bar is not None and bar.close == mark.price, mark
                assert start < mark.updated_ms < start + 365 * 86_400_000
    finally:
        store.close()


# ---- a first run without stumbles ----------------------------------------------------------------

def refused(tmp_path, monkeypatch, *args: str) -> str:
    """Run `localex serve ARGS` in-process where it must refuse to start: its one stderr line."""
    from click.testing import CliRunner

    from localex.cli import main

    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exit_code != 0, result.output
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("localex: "), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no db, no credentials file
    return lines[0]


def test_refusals_are_one_clear_line_before_anything_is_created(tmp_path, monkeypatch):
    assert "port 70000 is out of range" in refused(tmp_path, monkeypatch, "--port", "70000")
    assert "port -1 is out of range" in refused(tmp_path, monkeypatch, "--port", "-1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refused(tmp_path, monkeypatch, "--port", str(port))
    assert f"port {port} on 127.0.0.1 is already in use" in line and "--port 0" in line
    line = refused(tmp_path, monkeypatch, "--port", "0", "--db", str(tmp_path / "nowhere" / "x.db"))
    assert "cannot create database" in line and "does not exist" in line
    # a PostgreSQL server that is not there: the driver's reason, the password never printed
    line = refused(tmp_path, monkeypatch, "--port", "0", "--db", "postgresql://bot:hush@127.0.0.1:1/localex")
    assert "cannot open database postgresql://bot:***@127.0.0.1:1/localex" in line
    assert "Connection refused" in line and "hush" not in line
    # several workers share one world only through PostgreSQL and a clock that moves by itself
    line = refused(tmp_path, monkeypatch, "--port", "0", "--workers", "2")
    assert "--workers 2 needs a PostgreSQL database" in line and "SQLite" in line
    line = refused(tmp_path, monkeypatch, "--port", "0", "--workers", "2", "--clock", "manual",
                   "--db", "postgresql://bot@127.0.0.1:1/localex")
    assert "--workers 2 needs a clock that moves by itself" in line
    (tmp_path / "notes.db").write_text("not a database")
    assert "notes.db: it is not a SQLite database" in refused(tmp_path, monkeypatch, "--port", "0",
                                                              "--db", "notes.db")
    (tmp_path / "adir").mkdir()
    assert "it is a directory" in refused(tmp_path, monkeypatch, "--port", "0", "--db", "adir")


def test_port_zero_prints_the_real_port_and_writes_the_default_credentials_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LOCALEX_ADMIN_TOKEN"}
    out_path = tmp_path / "zero.out"
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "localex", "serve", "--port", "0",
                                 "--db", "first.db"], stdout=out, stderr=subprocess.STDOUT,
                                cwd=tmp_path, env=env)
    try:
        deadline, url = time.monotonic() + 30, None
        while time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"on (http://127\.0\.0\.1:(\d+))", out_path.read_text())
            if found and "credentials written" in out_path.read_text():
                url = found.group(1)
                break
            time.sleep(0.05)
        assert url and not url.endswith(":0"), out_path.read_text()
        assert httpx.get(url + "/localex/health").json()["status"] == "ok"
        assert f"dashboard:      {url}/localex/ui/" in out_path.read_text()
        creds = json.loads((tmp_path / "localex-credentials.json").read_text())
        assert creds["bitget"][0]["name"] == "demo"
        # the request log: one line per venue request, with venue, method, path, status, code
        httpx.get(url + "/api/v2/spot/account/assets")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "/api/v2/spot/account/assets" not in out_path.read_text():
            time.sleep(0.05)
        assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} bitget GET /api/v2/spot/account/assets 400 40001 "
                         r"\d+\.\dms$", out_path.read_text(), re.M), out_path.read_text()
    finally:
        proc.terminate()
        proc.wait(10)
    # the credentials file is one git would never show
    gitignore = (Path(__file__).parent.parent / ".gitignore").read_text().splitlines()
    assert "localex-credentials.json" in gitignore


def test_a_database_made_with_another_seed_is_said(serve, tmp_path):
    db = str(tmp_path / "seeded.db")
    first = serve("seed-a", "--db", db, "--seed", "1", "--quiet")
    assert "warning" not in first.output
    first.stop()
    same = serve("seed-b", "--db", db, "--seed", "1", "--quiet")
    assert "warning" not in same.output
    same.stop()
    other = serve("seed-c", "--db", db, "--seed", "2", "--quiet")
    assert f"warning: {db} was made with --seed 1, not 2" in other.output
