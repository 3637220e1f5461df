"""API-key revocation and cache invalidation seen by every worker at once (one version in Redis,
read before each request)."""

from __future__ import annotations

import json

import orjson
import pytest

from localex.engine import Engine
from localex.engine.model import Permission
from localex.scale import Cluster
from localex.scale.invalidation import Invalidation
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.wire.http import Request
from redis_support import REDIS_URL, redis_client, redis_prefix  # noqa: F401 (fixtures)
from wire_signing import signed_headers

ASSETS = "/api/v2/spot/account/assets"


def _signed(key) -> Request:
    headers = {k.lower(): v for k, v in signed_headers(key.key, key.secret, key.passphrase, "GET", ASSETS).items()}
    return Request(method="GET", path=ASSETS, raw_query="", headers=headers, body=b"", client_ip="127.0.0.1")


def _control(method: str, path: str, body: dict | None = None) -> Request:
    raw = json.dumps(body).encode() if body is not None else b""
    headers = {"host": "127.0.0.1", "content-type": "application/json"} if body is not None else {"host": "127.0.0.1"}
    return Request(method=method, path=path, raw_query="", headers=headers, body=raw, client_ip="127.0.0.1")


def _code(response) -> str:
    return orjson.loads(response.body)["code"]


@pytest.fixture
def workers(tmp_path, redis_prefix):
    """Two apps over one SQLite file, as two worker processes would be; `shared` says whether
    they share a Redis."""
    made = []

    def make(shared: bool):
        apps = []
        for n in range(2):
            engine = Engine(open_store(str(tmp_path / f"world-{shared}.db")), seed=3)
            cluster = Cluster(REDIS_URL, prefix=redis_prefix, worker=f"w{n}") if shared else None
            apps.append(LocalexApp(engine, rate_limits=False, cluster=cluster))
            made.append(apps[-1])
        return apps

    yield make
    for app in made:
        if app.cluster is not None:
            app.cluster.sync.close()


@pytest.mark.parametrize("shared", [True, False])
def test_a_key_revoked_through_one_worker_is_refused_by_the_other(workers, shared):
    a, b = workers(shared)
    user = a.engine.create_user("bitget", name="bot")
    key = a.engine.create_api_key(user.uid, permissions=[Permission.READ])
    assert _code(b.handle(_signed(key))) == "00000"  # b has read (and cached) the key
    answer = a.handle(_control("DELETE", "/localex/keys", {"apiKey": key.key}))
    assert answer.status == 200 and orjson.loads(answer.body)["status"] == "revoked"
    assert _code(a.handle(_signed(key))) == "40037"
    if shared:
        assert _code(b.handle(_signed(key))) == "40037"  # at once: the very next request
    else:
        assert _code(b.handle(_signed(key))) == "00000"  # without Redis b still trusts its cache


def test_revoking_refuses_bad_input_and_changes_nothing(workers):
    a, b = workers(True)
    user = a.engine.create_user("bitget", name="bot")
    key = a.engine.create_api_key(user.uid)
    version = a.cluster.invalidation.seen
    missing = a.handle(_control("DELETE", "/localex/keys", {}))
    assert missing.status == 400 and orjson.loads(missing.body)["error"]["code"] == "missing_field"
    unknown = a.handle(_control("DELETE", "/localex/keys", {"apiKey": "bg_nope"}))
    assert unknown.status == 404 and orjson.loads(unknown.body)["error"]["code"] == "not_found"
    assert a.cluster.invalidation.seen == version  # a refusal tells nobody to forget anything
    assert b.engine.get_api_key(key.key) == key


def test_version_bumps_and_checks(redis_client, redis_prefix):
    one, two = Invalidation(redis_client, redis_prefix), Invalidation(redis_client, redis_prefix)
    assert one.changed() is False and two.changed() is False
    assert one.bump() is False  # nobody else changed anything in between
    assert one.changed() is False  # its own change
    assert two.changed() is True and two.changed() is False  # once per change
    one.bump()
    assert two.bump() is True  # two missed one's change: it must forget too
    assert one.changed() is True
