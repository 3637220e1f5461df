"""The operator CLI (localex status / price / advance / fault / journal / snapshot / users / fund)
against a real server's control plane."""

from __future__ import annotations

import json
import re
from decimal import Decimal as D

import pytest
from click.testing import CliRunner

from localex.cli import main
from localex.engine.model import OrderType, Side
from localex.operator import parse_duration
from localex.testing import ServerThread


def run(world, *args, ok=True, env=None):
    result = CliRunner().invoke(main, [*args, "--url", world.url], env=env or {"LOCALEX_ADMIN_TOKEN": None})
    if ok:
        assert result.exit_code == 0, (result.output, result.stderr)
    return result


def test_status_price_and_advance(world):
    alice = world.trader()
    order = world.engine.place_spot_order(alice.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("94000"))
    out = run(world, "status").output
    assert re.search(r"^localex \S+ at http://127\.0\.0\.1:\d+: ok$", out, re.M)
    assert "clock:       manual" in out and "bitget:spot:BTCUSDT" in out and "95000" in out
    out = run(world, "price", "BTCUSDT", "93900").output
    assert out.splitlines()[0] == "bitget spot BTCUSDT at 93900: 1 fill(s)"
    assert f"uid {alice.uid} order {order.order_id} buy 0.01 @ 94000 maker" in out
    assert world.engine.spot_order(alice.uid, order.order_id).status.value == "filled"
    before = world.engine.now_ms()
    assert "price(s) applied" in run(world, "advance", "1h").output
    assert world.engine.now_ms() == before + 3_600_000
    bad = run(world, "price", "NOPEUSDT", "1", ok=False)
    assert bad.exit_code == 1 and bad.stderr.startswith("localex: not_found:")
    assert run(world, "price", "BTCUSDT", "abc", ok=False).exit_code == 2  # a usage error
    assert run(world, "advance", "soon", ok=False).exit_code == 2


def test_durations():
    assert [parse_duration(t) for t in ("1h", "15m", "30s", "250ms", "2d", "1500", "1.5h")] == [
        3_600_000, 900_000, 30_000, 250, 172_800_000, 1500, 5_400_000]


def test_faults_add_list_clear(world):
    world.app.faults.clear()
    out = run(world, "fault", "add", "error", "--venue", "bitget", "--path", "/api/v2/spot/*",
              "--count", "2", "--code", "40725", "--message", "service busy").output
    (fault_id,) = re.findall(r"^fault (\d+) added: error on bitget /api/v2/spot/\*$", out, re.M)
    listed = run(world, "fault", "list").output
    assert re.search(rf"^\s*{fault_id} error\s+bitget\s+/api/v2/spot/\*\s+left 2 hits 0 code=40725$", listed, re.M)
    assert run(world, "fault", "clear", "--id", fault_id).output.strip() == f"fault {fault_id} removed"
    assert run(world, "fault", "list").output.strip() == "no faults"
    assert run(world, "fault", "clear", "--id", "999", ok=False).stderr.startswith("localex: not_found")
    run(world, "fault", "add", "latency", "--latency-ms", "5")
    assert run(world, "fault", "clear").output.strip() == "faults cleared"
    assert world.app.faults.list() == []


def test_journal_and_follow(world, http):
    world.app.journal.clear()
    alice = world.trader()
    client = world.client(alice)
    try:
        client.assets()
        client.spot_symbols()
    finally:
        client.close()
    lines = run(world, "journal").output.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\S+ \S+Z bitget GET /api/v2/spot/account/assets 200 00000 \d+\.\dms "
                        + re.escape(alice.api_key[:10]) + "…", lines[0]), lines[0]
    entry = json.loads(run(world, "journal", "--json", "--tail", "1").output)
    assert entry["path"] == "/api/v2/spot/public/symbols" and entry["code"] == "00000"
    # --follow prints what arrives afterwards (--count bounds it): a request made while it waits
    import threading

    later = threading.Timer(0.3, lambda: http.get("/api/v2/spot/public/time"))
    later.start()
    try:
        follow = run(world, "journal", "--follow", "--tail", "0", "--count", "1", "--path", "*/public/*")
    finally:
        later.join()
    (line,) = follow.output.splitlines()
    assert " bitget GET /api/v2/spot/public/time " in line


def test_snapshot_users_and_fund(world, tmp_path):
    alice = world.trader(funds={"USDT": "100"})
    out = run(world, "fund", alice.uid, "USDT", "50").output.strip()
    assert out == f"{alice.uid} spot USDT: available 150, frozen 0"
    run(world, "fund", alice.uid, "USDT", "10", "--account", "usdt-futures")
    assert world.engine.balance(alice.uid, "USDT", account="usdt-futures").available == D("10")
    listed = run(world, "users", "--venue", "bitget").output
    assert re.search(rf"^bitget\s+{alice.uid}\s+alice$", listed, re.M)
    assert re.search(r"^\s+spot\s+USDT\s+available 150\s+frozen 0$", listed, re.M)
    snap = tmp_path / "snap.json"
    assert run(world, "snapshot", "save", str(snap)).output.strip() == f"snapshot saved to {snap}"
    run(world, "fund", alice.uid, "USDT", "-150")
    assert world.engine.balance(alice.uid, "USDT").available == 0
    assert "restored" in run(world, "snapshot", "load", str(snap)).output
    assert world.engine.balance(alice.uid, "USDT").available == D("150")
    (tmp_path / "bad.json").write_text("{not json")
    assert run(world, "snapshot", "load", str(tmp_path / "bad.json"), ok=False).stderr == (
        f"localex: {tmp_path / 'bad.json'} is not a JSON snapshot\n")
    assert run(world, "fund", "0000000000", "USDT", "1", ok=False).stderr.startswith("localex: not_found")


def test_clear_errors_without_a_server_or_a_token(world, engine):
    from localex.server.app import LocalexApp

    gone = CliRunner().invoke(main, ["status", "--url", "http://127.0.0.1:9"])
    assert gone.exit_code == 1 and gone.stderr == (
        "localex: no localex server answers at http://127.0.0.1:9 (start one with `localex serve`, "
        "or point --url / LOCALEX_URL at it)\n")
    with ServerThread(LocalexApp(engine, admin_token="tok-123")).start() as guarded:
        refused = CliRunner().invoke(main, ["status", "--url", guarded.url], env={"LOCALEX_ADMIN_TOKEN": None})
        assert refused.exit_code == 1 and "asks for its admin token" in refused.stderr
        fine = CliRunner().invoke(main, ["status"], env={"LOCALEX_URL": guarded.url,
                                                         "LOCALEX_ADMIN_TOKEN": "tok-123"})
        assert fine.exit_code == 0 and ": ok" in fine.output
