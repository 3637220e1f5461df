"""A snapshot restore is whole or nothing: every refusal answers a clear control-plane error and
leaves the store, the random source and the clock exactly as they were."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

from decimal import Decimal as D

import pytest

from localex.engine.model import KeyKind, OrderType, Permission, Side
from localex.store.snapshot import SnapshotError


@pytest.fixture
def saved(world, http):
    """A world with a user, a key and a balance; its snapshot (the one the tests corrupt)."""
    alice = world.trader("alice")
    snap = http.get("/localex/snapshot").json()
    bob = world.trader("bob")  # state after the snapshot: a refusal must keep bob
    return alice, bob, snap


def corrupt(snap: dict, change) -> dict:
    bad = copy.deepcopy(snap)
    change(bad)
    return bad


def key_row(snap: dict, api_key: str) -> dict:
    return next(r for r in snap["tables"]["api_keys"] if r["key"] == api_key)


def tiered_row(snap: dict) -> dict:
    return next(r for r in snap["tables"]["instruments"] if r["tiers"])


def first_row(table: str):
    return lambda s: s["tables"][table][0]


CORRUPTIONS = {
    "rng of the wrong size": lambda s: s["extra"].update(rng=[3, [1, 2, 3], None]),
    "rng not a list": lambda s: s["extra"].update(rng="nope"),
    "rng of strings": lambda s: s["extra"].update(rng=[3, ["x"] * 625, None]),
    "extra null": lambda s: s.update(extra=None),
    "clock not a number": lambda s: s["extra"].update(clock_ms="soon"),
    "seed not a number": lambda s: s["extra"].update(seed=[1]),
    "tables not an object": lambda s: s.update(tables=[]),
    "rows not a list": lambda s: s["tables"].update(users={}),
    "row not an object": lambda s: s["tables"]["users"].append(["uid"]),
    "unknown column": lambda s: first_row("users")(s).update(shoe_size=9),
    "missing column": lambda s: first_row("users")(s).pop("venue"),
    "null in a required column": lambda s: first_row("balances")(s).update(available=None),
    "money not a number": lambda s: first_row("balances")(s).update(available="lots"),
    "money not finite": lambda s: first_row("balances")(s).update(available="NaN"),
    "integer as a string": lambda s: first_row("users")(s).update(created_ms="1"),
    "text as a number": lambda s: first_row("users")(s).update(name=7),
    "unknown permission": lambda s: first_row("api_keys")(s).update(permissions="read,nonsense"),
    "unknown key kind": lambda s: first_row("api_keys")(s).update(kind="dsa"),
    "unknown order side": lambda s: first_row("spot_orders")(s).update(side="up"),
    "key of no user": lambda s: first_row("api_keys")(s).update(uid="0000000001"),
    "duplicate primary key": lambda s: s["tables"]["users"].append(dict(s["tables"]["users"][0])),
    "unknown table": lambda s: s["tables"].update(nothing=[]),
    "bad fill model": lambda s: s["tables"]["fill_models"].append(
        {"scope": "bitget", "kind": "teleport", "params": "{}"}),
    "wrong revision": lambda s: s.update(revision="0000"),
    "tiers not JSON": lambda s: tiered_row(s).update(tiers="[[1,"),
    "tier without a rate": lambda s: tiered_row(s).update(tiers='[[1,"0","150000",125]]'),
    "tier rate as a number": lambda s: tiered_row(s).update(tiers='[[1,"0","150000",125,0.004]]'),
    "tier ending where it starts": lambda s: tiered_row(s).update(tiers='[[1,"10","10",125,"0.004"]]'),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_a_refused_snapshot_changes_nothing(world, http, saved, name):
    alice, bob, snap = saved
    world.engine.place_spot_order(alice.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D("90000"))
    snap = http.get("/localex/snapshot").json()  # now with an order row to corrupt
    world.trader("carol")  # and state after it
    before = json.dumps(world.engine.snapshot(), sort_keys=True)
    rng_before = world.engine.rng.getstate()
    response = http.post("/localex/snapshot", json=corrupt(snap, CORRUPTIONS[name]))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_snapshot" and error["message"]
    assert json.dumps(world.engine.snapshot(), sort_keys=True) == before
    assert world.engine.rng.getstate() == rng_before
    # signed requests still work with the keys that were there
    assert world.client(bob).assets()


def test_a_permission_outside_the_known_set_is_refused_before_any_request_can_meet_it(world, http, saved):
    alice, _, snap = saved
    bad = corrupt(snap, lambda s: key_row(s, alice.api_key).update(permissions="read,nonsense"))
    response = http.post("/localex/snapshot", json=bad)
    assert response.json()["error"]["message"].endswith(
        "'permissions' value 'nonsense' is not one of " + ", ".join(p.value for p in Permission))
    assert world.client(alice).assets()


def test_a_good_snapshot_still_restores(world, http, saved):
    alice, bob, snap = saved
    response = http.post("/localex/snapshot", json=snap)
    assert response.status_code == 200 and response.json()["status"] == "restored"
    assert world.engine.get_user(alice.uid) is not None
    assert [u.name for u in world.engine.list_users()] == ["alice"]


def test_a_coinw_rsa_key_in_a_snapshot_is_refused(world, http, saved):
    _, _, snap = saved
    user = world.engine.create_user("coinw", name="c")
    world.engine.create_api_key(user.uid)
    snap = http.get("/localex/snapshot").json()
    bad = corrupt(snap, lambda s: next(r for r in s["tables"]["api_keys"] if r["venue"] == "coinw")
                  .update(kind=KeyKind.RSA.value))
    response = http.post("/localex/snapshot", json=bad)
    assert response.status_code == 400 and "coinw has no RSA keys" in response.json()["error"]["message"]


def test_serve_restore_refuses_a_bad_snapshot_with_a_clear_message(world, http, saved, tmp_path):
    _, _, snap = saved
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(corrupt(snap, CORRUPTIONS["rng of the wrong size"])))
    run = subprocess.run([sys.executable, "-m", "localex", "serve", "--db", ":memory:", "--restore",
                          str(path), "--port", "1"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2  # a usage error, before any port is opened
    assert "refused: extra.rng is not a random source's state" in run.stderr
    assert "Traceback" not in run.stderr


def test_engine_restore_raises_snapshot_error(world, saved):
    _, _, snap = saved
    before = json.dumps(world.engine.snapshot(), sort_keys=True)
    with pytest.raises(SnapshotError):
        world.engine.restore(corrupt(snap, CORRUPTIONS["unknown permission"]))
    assert json.dumps(world.engine.snapshot(), sort_keys=True) == before
