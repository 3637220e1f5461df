"""A revoked API key closes the WebSocket sessions logged in with it, on every worker: two real
worker processes sharing one world through Redis, and two servers on one PostgreSQL without
Redis; raw frames on sockets at both."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import orjson
import pytest

from redis_support import redis_prefix  # noqa: F401 (fixture)
from scale_support import cluster, demo_credentials, login_frame, pg_hosts  # noqa: F401 (fixtures)
from serving_support import START_WAIT_S

START = "2026-01-01T00:00:00Z"
ARGS = ("--clock", "manual", "--start", START, "--no-rate-limits")


@pytest.fixture
def pair(cluster):
    return cluster("a", *ARGS), cluster("b", *ARGS)


async def _bitget_login(http: aiohttp.ClientSession, url: str, creds: dict):
    ws = await http.ws_connect(url + "/v2/ws/private", autoclose=False, autoping=False)
    await ws.send_str(login_frame(creds))
    ack = await ws.receive(timeout=START_WAIT_S)
    assert orjson.loads(ack.data) == {"event": "login", "code": 0, "msg": ""}, ack.data
    return ws


async def _coinw_login(http: aiohttp.ClientSession, url: str, creds: dict):
    ws = await http.ws_connect(url + "/perpum", autoclose=False, autoping=False)
    await ws.send_str(orjson.dumps({"event": "login", "params": {
        "api_key": creds["apiKey"], "passphrase": creds["secretKey"]}}).decode())
    ack = await ws.receive(timeout=START_WAIT_S)
    assert ack.data == '{"data":{"result":true},"channel":"login"}', ack.data
    return ws


async def _last_frames(ws) -> list:
    """What the server sends until it closes the socket: (type, data) pairs."""
    got = []
    while True:
        msg = await ws.receive(timeout=START_WAIT_S)
        got.append((msg.type, msg.data))
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return got


def test_a_key_revoked_through_one_worker_closes_its_sessions_on_every_worker(pair):
    a, b = pair
    workdir = a.out_path.parent
    creds = demo_credentials(workdir)
    coinw = orjson.loads((workdir / "creds.json").read_bytes())["coinw"][0]
    other = a.http.post("/localex/keys", json={"uid": creds["uid"], "passphrase": "other-pass"}).json()
    other = {"apiKey": other["apiKey"], "secretKey": other["secretKey"], "passphrase": "other-pass"}

    async def scenario():
        async with aiohttp.ClientSession() as http:
            revoked = [await _bitget_login(http, a.url, creds), await _bitget_login(http, b.url, creds)]
            coinw_ws = [await _coinw_login(http, a.url, coinw), await _coinw_login(http, b.url, coinw)]
            kept = [await _bitget_login(http, a.url, other), await _bitget_login(http, b.url, other)]

            def revoke():  # through b; a answers no request meanwhile: it hears it from Redis
                for key in (creds["apiKey"], coinw["apiKey"]):
                    r = b.http.request("DELETE", "/localex/keys", params={"apiKey": key})
                    assert r.status_code == 200, r.text

            await asyncio.get_running_loop().run_in_executor(None, revoke)
            bitget_last = [await _last_frames(ws) for ws in revoked]
            coinw_last = [await _last_frames(ws) for ws in coinw_ws]
            closes = [ws.close_code for ws in revoked + coinw_ws]
            alive = []
            for ws in kept:  # another key of the same user: still logged in, still answering
                await ws.send_str("ping")
                alive.append((await ws.receive(timeout=START_WAIT_S)).data)
            # logging in again with the revoked key is refused, on both workers
            relogin = []
            for url in (a.url, b.url):
                async with http.ws_connect(url + "/v2/ws/private") as ws:
                    await ws.send_str(login_frame(creds))
                    relogin.append(orjson.loads((await ws.receive(timeout=START_WAIT_S)).data))
            for ws in revoked + coinw_ws + kept:
                await ws.close()
            return bitget_last, coinw_last, closes, alive, relogin

    bitget_last, coinw_last, closes, alive, relogin = asyncio.run(scenario())
    error = '{"event":"error","code":30011,"msg":"Invalid ACCESS_KEY"}'
    for frames in bitget_last:  # on the revoking worker and on the other alike
        assert frames == [(aiohttp.WSMsgType.TEXT, error), (aiohttp.WSMsgType.CLOSE, 1008)]
    for frames in coinw_last:
        assert frames == [(aiohttp.WSMsgType.CLOSE, 1008)]
    assert closes == [1008] * 4
    assert alive == ["pong", "pong"]
    assert relogin == [orjson.loads(error)] * 2



def test_without_redis_a_key_revoked_through_one_server_closes_its_sessions_on_another(pg_hosts):
    """On PostgreSQL without Redis every worker asks the store once a second for the keys its
    logged-in streams use."""
    one = pg_hosts("host-a", "--clock", "manual", "--start", START)
    two = pg_hosts("host-b", "--clock", "manual", "--start", START)
    creds = one.creds

    async def scenario():
        async with aiohttp.ClientSession() as http:
            sockets = [await _bitget_login(http, url, creds) for url in (one.url, two.url)]

            def revoke():
                r = httpx.request("DELETE", one.url + "/localex/keys", params={"apiKey": creds["apiKey"]},
                                  timeout=10)
                assert r.status_code == 200, r.text

            await asyncio.get_running_loop().run_in_executor(None, revoke)
            return [await _last_frames(ws) for ws in sockets]

    error = '{"event":"error","code":30011,"msg":"Invalid ACCESS_KEY"}'
    for frames in asyncio.run(scenario()):  # at the server revoked through and at the other
        assert frames == [(aiohttp.WSMsgType.TEXT, error), (aiohttp.WSMsgType.CLOSE, 1008)]
