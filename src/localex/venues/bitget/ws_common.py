"""Bitget V2 WebSocket, the common part (Bitget's "WebSocket API" introduction page): the
connection rules, text ping / pong, login, subscribe / unsubscribe and their acks and errors.

Channels live in ws_public.py (ticker, candles, books, trade) and ws_private.py (account,
orders, fill, positions, orders-algo, positions-history); each registers itself in CHANNELS.
Both paths (/v2/ws/public and /v2/ws/private) serve every channel: one SDK (bitget-api's
`wsUrl`) sends both kinds to a single URL. A private channel needs a login first (30004).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import orjson

from localex.engine.clock import Clock, SystemClock
from localex.wire.http import Request
from localex.wire.ws import CLOSE_ABNORMAL, CLOSE_POLICY, Session, StreamProtocol, Subscriptions
from localex.venues.bitget.auth import authenticate
from localex.venues.bitget.errors import WS_LOGIN_CODES, WS_MESSAGES, BitgetError, ws_message

PATHS = ("/v2/ws/public", "/v2/ws/private")
HOSTS = ("ws.bitget.com", "wspap.bitget.com")
INST_TYPES = ("SPOT", "USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES")
FUTURES_TYPES = {"USDT-FUTURES": "usdt-futures", "COIN-FUTURES": "coin-futures",
                 "USDC-FUTURES": "usdc-futures"}
MARKET_TYPES = {v: k for k, v in FUTURES_TYPES.items()} | {"spot": "SPOT"}

# connection rules (the introduction page)
IDLE_TIMEOUT_S = 120.0  # no ping for two minutes: disconnected
MESSAGES_PER_S = 10  # inbound frames per connection per second (pings count)
CONNECTIONS_PER_IP = 100
SUBSCRIBE_REQUESTS_PER_HOUR = 240
CHANNELS_PER_CONNECTION = 1000
ARGS_MAX_BYTES = 4096


@dataclass(frozen=True)
class Sub:
    """One subscription: canonical instType, channel and instId (or coin for account)."""

    inst_type: str
    channel: str
    inst_id: str

    def arg(self, key: str) -> dict:
        return {"instType": self.inst_type, "channel": self.channel, key: self.inst_id}


@dataclass(frozen=True)
class Channel:
    name: str
    private: bool
    key: str  # "instId", or "coin" for account channels
    inst_types: tuple[str, ...]
    # the push made on subscribing (data rows), or None for no push
    snapshot: Callable[["BitgetStreams", Session, Sub], list | None] | None = None
    action: str = "snapshot"
    any_inst_id: bool = False  # private channels: "default" or a symbol


CHANNELS: dict[str, Channel] = {}


def channel(ch: Channel) -> Channel:
    CHANNELS[ch.name] = ch
    return ch


def channel_for(name: str) -> Channel | None:
    found = CHANNELS.get(name)
    if found is None and name.startswith("candle"):
        found = CHANNELS.get("candle*") if name[6:] in CANDLE_INTERVALS else None
    return found


# candle<suffix> channels (6H and longer open on the UTC+8 grid, the "utc" ones on UTC)
CANDLE_INTERVALS = frozenset({"1m", "3m", "5m", "15m", "30m", "1H", "4H", "6H", "12H", "1D", "3D",
                              "1W", "1M", "6Hutc", "12Hutc", "1Dutc", "3Dutc", "1Wutc", "1Mutc"})


@dataclass
class Conn:
    """A connection's Bitget state."""

    key: object = None  # the ApiKey it logged in with
    subs: set = field(default_factory=set)  # topics
    recent: deque = field(default_factory=deque)  # times of inbound frames, last second
    subscribe_times: deque = field(default_factory=deque)  # subscribe requests, last hour


def dumps(payload: object) -> str:
    return orjson.dumps(payload).decode()


def error_frame(code: int, msg: str, op: dict | None = None) -> str:
    frame: dict = {"event": "error"}
    if op is not None:
        frame["arg"] = op
    frame.update({"code": code, "msg": msg})
    return dumps(frame)


class BitgetStreams(StreamProtocol):
    """The Bitget stream service: sessions on both paths, the subscription table, and the
    engine's events turned into pushes (ws_public.route / ws_private.route)."""

    name = "bitget"
    idle_timeout_s = IDLE_TIMEOUT_S

    def __init__(self, engine, wall_clock: Clock | None = None, limits: bool = True) -> None:
        from localex.venues.bitget import ws_private, ws_public

        self.engine = engine
        self.wall_clock = wall_clock or SystemClock()
        self.limits = limits
        self.subs = Subscriptions()
        self.watched: dict[tuple, int] = {}  # (instType, instId) -> public subscriptions to it
        self.per_ip: dict[str, int] = {}
        self.faults = None  # the server's fault injector (server/faults.py), when there is one
        self.public = ws_public.PublicFeed(self)
        self._routers = (ws_private.route, self.public.route)
        self.listen(engine.events)

    # transport callbacks ---------------------------------------------------------------------
    def opened(self, session: Session) -> bool:
        session.state["bitget"] = Conn()
        ip = session.client_ip or "-"
        if self.limits and self.per_ip.get(ip, 0) >= CONNECTIONS_PER_IP:
            session.reply(error_frame(30006, ws_message(30006)))
            session.state["counted"] = False
            return False
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
        session.state["counted"] = True
        return True

    def closed(self, session: Session) -> None:
        conn: Conn = session.state.get("bitget")
        if conn is not None:
            for topic in list(conn.subs):
                self._unsubscribe(session, conn, topic)
        if session.state.get("counted"):
            ip = session.client_ip or "-"
            self.per_ip[ip] = max(0, self.per_ip.get(ip, 1) - 1)

    def key_revoked(self, session: Session) -> None:
        """The key this session logged in with was revoked: the error a login with it now gets
        (30011), then the close, as for a connection over its message rate (docs/fidelity.md)."""
        session.reply(error_frame(30011, ws_message(30011)))
        session.close(CLOSE_POLICY)

    def received(self, session: Session, text: str) -> None:
        conn: Conn = session.state["bitget"]
        if self.limits and self._over_rate(conn):
            session.reply(error_frame(30007, ws_message(30007)))
            session.close(CLOSE_POLICY)
            return
        if text == "ping":
            session.touch()
            session.reply("pong")
            return
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            session.reply(error_frame(30002, ws_message(30002)))
            return
        if not isinstance(frame, dict):
            session.reply(error_frame(30002, ws_message(30002)))
            return
        op = frame.get("op")
        args = frame.get("args")
        if op == "login":
            self._login(session, conn, args)
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(session, conn, op, args, text)
        else:
            session.reply(error_frame(30003, ws_message(30003)))

    def _over_rate(self, conn: Conn) -> bool:
        now = time.monotonic()
        recent = conn.recent
        recent.append(now)
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        return len(recent) > MESSAGES_PER_S

    # login -------------------------------------------------------------------------------------
    def _login(self, session: Session, conn: Conn, args) -> None:
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            session.reply(error_frame(30016, ws_message(30016)))
            return
        a = args[0]
        values = {}
        for name in ("apiKey", "passphrase", "timestamp", "sign"):
            value = a.get(name)
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                value = None
            values[name] = "" if value is None else str(value)
        fault = self._fault(session, ("error",))
        if fault is not None:
            code = int(fault.code) if str(fault.code).isdigit() else 30005
            default = ws_message(code) if code in WS_MESSAGES else ""
            session.reply(error_frame(code, fault.message or default))
            return
        request = Request(method="GET", path="/user/verify", raw_query="", body=b"",
                          headers={"access-key": values["apiKey"], "access-sign": values["sign"],
                                   "access-timestamp": values["timestamp"],
                                   "access-passphrase": values["passphrase"]},
                          client_ip=session.client_ip)
        try:
            key = authenticate(request, self.engine.get_api_key, self.wall_clock.now_ms(),
                               seconds_ok=True)
        except BitgetError as err:
            code = WS_LOGIN_CODES.get(err.code, 30005)
            session.reply(error_frame(code, ws_message(code)))
            return  # the connection stays open (as live v3 does; docs/fidelity.md)
        conn.key = key
        session.state["api_key"] = key.key
        session.reply(dumps({"event": "login", "code": 0, "msg": ""}))

    # subscribe ---------------------------------------------------------------------------------
    def _subscribe(self, session: Session, conn: Conn, op: str, args, text: str) -> None:
        if not isinstance(args, list) or not args:
            session.reply(error_frame(30016, ws_message(30016)))
            return
        if len(orjson.dumps(args)) > ARGS_MAX_BYTES:
            session.reply(error_frame(30016, ws_message(30016)))
            return
        if op == "subscribe" and self.limits:
            now = time.monotonic()
            times = conn.subscribe_times
            while times and times[0] <= now - 3600:
                times.popleft()
            if len(times) >= SUBSCRIBE_REQUESTS_PER_HOUR:
                session.reply(error_frame(30006, ws_message(30006)))
                return
            times.append(now)
        for arg in args:
            self._one(session, conn, op, arg)

    def _one(self, session: Session, conn: Conn, op: str, arg) -> None:
        if not isinstance(arg, dict):
            session.reply(error_frame(30016, ws_message(30016)))
            return
        inst_type = str(arg.get("instType", "")).upper()
        name = str(arg.get("channel", ""))
        ch = channel_for(name)
        key = ch.key if ch is not None else ("coin" if "coin" in arg else "instId")
        raw_id = arg.get(key)
        inst_id = str(raw_id).upper() if raw_id is not None else ""
        if inst_id == "DEFAULT":
            inst_id = "default"
        if ch is None or inst_type not in ch.inst_types or not inst_id:
            session.reply(error_frame(30001, ws_message(30001, arg.get("instType"), name, key,
                                                        raw_id), arg))
            return
        if ch.private and conn.key is None:
            session.reply(error_frame(30004, ws_message(30004), arg))
            return
        if not ch.private and not self.public.known(inst_type, inst_id):
            session.reply(error_frame(30001, ws_message(30001, arg.get("instType"), name, key,
                                                        raw_id), arg))
            return
        if ch.private and inst_id != "default" and not ch.any_inst_id:
            session.reply(error_frame(30001, ws_message(30001, arg.get("instType"), name, key,
                                                        raw_id), arg))
            return
        sub = Sub(inst_type, name, inst_id)
        topic = self.topic(sub, conn)
        if op == "unsubscribe":
            self._unsubscribe(session, conn, topic)
            session.reply(dumps({"event": "unsubscribe", "arg": arg}))
            return
        if self.limits and topic not in conn.subs and len(conn.subs) >= CHANNELS_PER_CONNECTION:
            session.reply(error_frame(30006, ws_message(30006), arg))
            return
        session.reply(dumps({"event": "subscribe", "arg": arg}))
        with self.engine.store.lock:  # no commit between the snapshot and the first push
            if self.subs.add(topic, session, sub) and topic[0] == "public":
                self.watched[topic[2:]] = self.watched.get(topic[2:], 0) + 1
            conn.subs.add(topic)
            if not self.delayed:
                rows = ch.snapshot(self, session, sub) if ch.snapshot is not None else None
            else:  # events come late (several workers): the snapshot and where the events stand
                with self.engine.tx(read_only=True) as uow:
                    position = uow.event_head()
                    rows = ch.snapshot(self, session, sub) if ch.snapshot is not None else None
                if ch.name != "books":  # books: its snapshot is what its updates were built on
                    self.hold(topic, session, position)
        if rows is not None:
            session.reply(self.frame(ch.action if ch.name != "books" else "snapshot", sub, rows))

    def _unsubscribe(self, session: Session, conn: Conn, topic: tuple) -> None:
        self.release(topic, session)
        if self.subs.remove(topic, session) and topic[0] == "public":
            left = self.watched.get(topic[2:], 1) - 1
            if left > 0:
                self.watched[topic[2:]] = left
            else:
                self.watched.pop(topic[2:], None)
        conn.subs.discard(topic)

    @staticmethod
    def topic(sub: Sub, conn: Conn) -> tuple:
        if channel_for(sub.channel).private:
            return ("private", sub.channel, sub.inst_type, conn.key.uid, sub.inst_id)
        return ("public", sub.channel, sub.inst_type, sub.inst_id)

    def frame(self, action: str, sub: Sub, rows: list) -> str:
        ch = channel_for(sub.channel)
        return dumps({"action": action, "arg": sub.arg(ch.key), "data": rows,
                      "ts": self.engine.now_ms()})

    # pushes ------------------------------------------------------------------------------------
    def on_events(self, events: list) -> None:
        """Committed events -> pushes, built only for topics someone holds."""
        for router in self._routers:
            for topic, action, rows in router(self, events):
                subscribers = self.subs.get(topic)
                if not subscribers:
                    continue
                held = self.held
                if held:
                    subscribers = [s for s in subscribers if (topic, s[0].id) not in held]
                    if not subscribers:
                        continue
                text = self.frame(action, subscribers[0][1], rows() if callable(rows) else rows)
                for session, _sub in subscribers:
                    fault = self._fault(session, ("drop", "latency"))
                    if fault is None:
                        session.push(text)
                    elif fault.kind == "latency":
                        session.push(text, fault.latency_ms / 1000)
                    else:
                        session.close(CLOSE_ABNORMAL, at_once=True)

    def _fault(self, session: Session, kinds: tuple[str, ...]):
        if self.faults is None:
            return None
        return self.faults.pick(self.name, Request("WS", session.path, "", {}), kinds)

    def has(self, topic: tuple) -> bool:
        return bool(self.subs.get(topic))
