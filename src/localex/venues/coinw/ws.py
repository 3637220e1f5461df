"""CoinW USDT-margined futures WebSocket (`wss://ws.futurescw.com/perpum`; CoinW's futures
WebSocket pages): `{"event":"ping"}` / `{"event":"pong"}`, login with the API key and the secret
key as `passphrase` (CoinW's own clients send it so; no signature), `sub` / `unsub` with
`biz`, `type` and `pairCode` (and `interval` for candles), and these channels:

- public: ticker_swap, depth, fills, candles_swap (UTC+8) and candles_swap_utc, index_price,
  mark_price, funding_rate;
- private (after login): order, position, assets.

Pushes: `{"biz":"futures","pairCode":"BTC","data":...,"type":"<type>"}` (candles add
`interval`; index, mark and funding pushes name the pair in lower case). Private channels push
only on change (nothing on subscribing), public ones their current state on subscribing and on
every change an engine event reports. Rows are the REST rows of the same things (rows.py).
"""

from __future__ import annotations

import hmac
from types import SimpleNamespace

import orjson

from localex.engine.events import EventKind
from localex.engine.model import OrderKind, OrderType, ZERO
from localex.engine.tape import DAY_MS, HOUR_MS, MINUTE_MS, Interval
from localex.wire.ws import CLOSE_ABNORMAL, Session, StreamProtocol, Subscriptions
from localex.wire.http import Request
from localex.venues.coinw.common import MARKET, VENUE, contracts, find_contract, user_id
from localex.venues.coinw.fmt import num
from localex.venues.coinw.rows import Book, facts, history_row, open_row, position_history_row, position_row

PATHS = ("/perpum",)
HOSTS = ("ws.futurescw.com",)
IDLE_TIMEOUT_S = 60.0  # CoinW's clients ping every 3 to 5 s; choose a minute (docs/fidelity.md)
DEPTH_LEVELS = 100
BIZ = "futures"
PUBLIC = ("ticker_swap", "depth", "fills", "candles_swap", "candles_swap_utc", "index_price",
          "mark_price", "funding_rate")
PRIVATE = ("order", "position", "assets")
LOWER_PAIR = ("index_price", "mark_price", "funding_rate")
UTC8 = 8 * HOUR_MS
INTERVALS = {"1": MINUTE_MS, "3": 3 * MINUTE_MS, "5": 5 * MINUTE_MS, "15": 15 * MINUTE_MS,
             "30": 30 * MINUTE_MS, "1h": HOUR_MS, "4h": 4 * HOUR_MS, "1d": DAY_MS}


def _interval(name: str, utc: bool) -> Interval | None:
    key = name.lower()
    offset = 0 if utc else UTC8
    if key in INTERVALS:
        return Interval("ms", INTERVALS[key], offset if INTERVALS[key] >= DAY_MS else 0)
    if key == "1w":
        return Interval("week", 1, offset)
    if key == "1m":  # one minute is "1"; the interval names are case-insensitive
        return Interval("month", 1, offset)
    return None


def dumps(payload: object) -> str:
    return orjson.dumps(payload).decode()


class CoinWStreams(StreamProtocol):
    name = "coinw"
    idle_timeout_s = IDLE_TIMEOUT_S

    def __init__(self, engine) -> None:
        self.engine = engine
        self.subs = Subscriptions()
        self.faults = None
        self.listen(engine.events)

    # transport -----------------------------------------------------------------------------
    def opened(self, session: Session) -> bool:
        session.state["coinw"] = SimpleNamespace(key=None, topics=set())
        return True

    def closed(self, session: Session) -> None:
        conn = session.state.get("coinw")
        if conn is not None:
            for topic in conn.topics:
                self.release(topic, session)
            self.subs.drop(session, conn.topics)
            conn.topics.clear()

    def received(self, session: Session, text: str) -> None:
        session.touch()
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            frame = None
        if not isinstance(frame, dict):
            session.reply(dumps({"channel": "error", "data": {"result": False, "errorMsg": "invalid message"}}))
            return
        event = frame.get("event")
        params = frame.get("params") if isinstance(frame.get("params"), dict) else {}
        if event == "ping":
            session.reply('{"event":"pong"}')
        elif event == "login":
            self._login(session, params)
        elif event in ("sub", "unsub"):
            self._subscribe(session, event, params)
        else:
            session.reply(dumps({"channel": "error", "data": {"result": False,
                                                              "errorMsg": f"unknown event {event}"}}))

    def _fault(self, session: Session, kinds):
        if self.faults is None:
            return None
        return self.faults.pick(self.name, Request("WS", session.path, "", {}), kinds)

    def _login(self, session: Session, params: dict) -> None:
        conn = session.state["coinw"]
        api_key, secret = params.get("api_key"), params.get("passphrase")
        fault = self._fault(session, ("error",))
        key = self.engine.get_api_key(api_key) if isinstance(api_key, str) and api_key else None
        ok = (fault is None and key is not None and key.venue == VENUE and isinstance(secret, str)
              and hmac.compare_digest(key.secret.encode(), secret.encode()))
        if not ok:
            code = str(fault.code) if fault is not None else "6000"
            msg = (fault.message if fault is not None and fault.message else
                   "api key does not exist" if key is None else "invalid passphrase")
            session.reply(dumps({"data": {"result": False, "errorCode": code, "errorMsg": msg},
                                 "channel": "login"}))
            return
        conn.key = key
        session.state["api_key"] = key.key
        session.reply('{"data":{"result":true},"channel":"login"}')

    def _subscribe(self, session: Session, event: str, params: dict) -> None:
        conn = session.state["coinw"]
        kind = params.get("type")
        pair = params.get("pairCode")
        interval = params.get("interval")
        ack: dict = {"biz": params.get("biz", BIZ)}
        if pair is not None:
            ack["pairCode"] = pair
        channel = "subscribe" if event == "sub" else "unsubscribe"

        def answer(result: bool, error: str | None = None) -> None:
            data: dict = {"result": result}
            if error:
                data["errorMsg"] = error
            body = {**ack, "data": data, "channel": channel, "type": kind}
            if interval is not None:
                body["interval"] = interval
            session.reply(dumps(body))

        if params.get("biz", BIZ) != BIZ or kind not in PUBLIC + PRIVATE:
            answer(False, "invalid type")
            return
        if kind in PRIVATE:
            if conn.key is None:
                answer(False, "please login first")
                return
            topic: tuple = ("private", kind, conn.key.uid)
            inst = None
        else:
            inst = find_contract(self.engine, str(pair)) if pair else None
            if inst is None:
                answer(False, "invalid pairCode")
                return
            if kind.startswith("candles"):
                if not isinstance(interval, str) or _interval(interval, kind.endswith("utc")) is None:
                    answer(False, "invalid interval")
                    return
                topic = ("public", kind, inst.symbol, interval)
            else:
                topic = ("public", kind, inst.symbol)
        if event == "unsub":
            self.release(topic, session)
            self.subs.remove(topic, session)
            conn.topics.discard(topic)
            answer(True)
            return
        answer(True)
        with self.engine.store.lock:
            self.subs.add(topic, session, (pair, interval))
            conn.topics.add(topic)
            if not self.delayed:
                snapshot = self._public_data(kind, inst, interval) if inst is not None else None
            else:  # events come late (several workers): the snapshot and where the events stand
                with self.engine.tx(read_only=True) as uow:
                    position = uow.event_head()
                    snapshot = self._public_data(kind, inst, interval) if inst is not None else None
                self.hold(topic, session, position)
        if snapshot is not None:
            session.reply(self.frame(kind, pair, interval, snapshot))

    # rows ------------------------------------------------------------------------------------
    def frame(self, kind: str, pair, interval, data) -> str:
        body: dict = {"biz": BIZ}
        if kind not in PRIVATE:
            body["pairCode"] = str(pair).lower() if kind in LOWER_PAIR else str(pair).upper()
        body["data"] = data
        body["type"] = kind
        if interval is not None:
            body["interval"] = interval
        return dumps(body)

    def _public_data(self, kind: str, inst, interval):
        engine = self.engine
        mark = engine.mark(inst) or ZERO
        if kind == "ticker_swap":
            stats = engine.stats_24h(inst)
            last = stats.last if stats else mark
            opened = stats.open if stats else mark
            change = (last - opened) / opened if opened else ZERO
            return {"high": str(stats.high if stats else mark), "vol": str(stats.base_volume if stats else 0),
                    "volUsdt": str(stats.quote_volume if stats else 0), "last": str(last),
                    "low": str(stats.low if stats else mark), "changeRate": str(round(change, 6)),
                    "currencyCode": inst.symbol, "open": str(opened)}
        if kind == "depth":
            book = engine.order_book(inst, DEPTH_LEVELS)
            return {"asks": [{"p": num(lv.price), "m": num(lv.size)} for lv in book.asks],
                    "bids": [{"p": num(lv.price), "m": num(lv.size)} for lv in book.bids],
                    "n": inst.symbol}
        if kind == "fills":
            return [self._print(inst, tr.ts, tr.price, tr.size, tr.side.value, tr.trade_id)
                    for tr in engine.public_trades(inst, limit=20)]
        if kind.startswith("candles"):
            rows = engine.candles(inst, _interval(interval, kind.endswith("utc")), limit=1)
            return [[str(c.ts), str(c.open), str(c.high), str(c.low), str(c.close), str(c.base_volume)]
                    for c in rows]
        if kind in ("index_price", "mark_price"):
            return {"p": num(mark), "n": inst.symbol.lower()}
        if kind == "funding_rate":
            from localex.venues.coinw.market import next_settlement

            return {"r": num(inst.funding_rate), "nt": next_settlement(inst, engine.now_ms()),
                    "n": inst.symbol.lower()}
        return None

    @staticmethod
    def _print(inst, ts, price, size, side, trade_id) -> dict:
        pieces = size / inst.contract_size if inst.contract_size else size
        return {"createdDate": ts, "quantity": num(size), "piece": num(pieces), "price": num(price),
                "id": trade_id, "direction": "long" if side == "buy" else "short"}

    # events -> pushes --------------------------------------------------------------------------
    def _send(self, topic: tuple, text_of) -> None:
        subscribers = self.subs.get(topic)
        held = self.held
        if held and subscribers:
            subscribers = [s for s in subscribers if (topic, s[0].id) not in held]
        if not subscribers:
            return
        texts: dict = {}
        for session, (pair, interval) in subscribers:
            key = (pair, interval)
            if key not in texts:
                texts[key] = text_of(pair, interval)
            fault = self._fault(session, ("drop", "latency"))
            if fault is None:
                session.push(texts[key])
            elif fault.kind == "latency":
                session.push(texts[key], fault.latency_ms / 1000)
            else:
                session.close(CLOSE_ABNORMAL, at_once=True)

    def on_events(self, events: list) -> None:
        touched: dict[str, object] = {}
        for e in events:
            kind, obj, uid = e.kind, e.obj, e.uid
            if kind is EventKind.MARK:
                if obj.instrument.startswith(f"{VENUE}:{MARKET}:"):
                    inst = self.engine.instrument(VENUE, MARKET, obj.instrument.split(":", 2)[2])
                    if inst is not None:
                        touched[inst.key] = inst
                continue
            if getattr(obj, "venue", VENUE) != VENUE:
                continue
            if kind is EventKind.FUTURES_ORDER and uid is not None:
                topic = ("private", "order", uid)
                if self.subs.get(topic):
                    book = Book(self.engine, uid)
                    row = open_row(facts(book, obj), book) if obj.status.is_open else history_row(facts(book, obj))
                    self._send(topic, lambda p, i, row=row: self.frame("order", p, i, [row]))
                if obj.kind is OrderKind.REGULAR and obj.order_type is OrderType.LIMIT:
                    inst = self.engine.instrument(VENUE, MARKET, obj.symbol)
                    if inst is not None:
                        touched[inst.key] = inst
            elif kind is EventKind.POSITION and uid is not None:
                topic = ("private", "position", uid)
                if self.subs.get(topic):
                    book = Book(self.engine, uid)
                    row = position_row(book, obj) if obj.open else position_history_row(book, obj)
                    self._send(topic, lambda p, i, row=row: self.frame("position", p, i, [row]))
            elif kind is EventKind.BALANCE and obj.account == MARKET and uid is not None:
                topic = ("private", "assets", uid)
                if self.subs.get(topic):
                    row = self._assets_row(uid, obj)
                    self._send(topic, lambda p, i, row=row: self.frame("assets", p, i, [row]))
            elif kind is EventKind.FUTURES_FILL:
                inst = self.engine.instrument(VENUE, MARKET, obj.symbol)
                if inst is None:
                    continue
                touched[inst.key] = inst
                side = obj.side.value if obj.liquidity.value == "taker" else (
                    "sell" if obj.side.value == "buy" else "buy")
                row = self._print(inst, obj.created_ms, obj.price, obj.size, side, obj.trade_id)
                self._send(("public", "fills", inst.symbol), lambda p, i, row=row: self.frame("fills", p, i, [row]))
        for inst in touched.values():
            for kind in PUBLIC:
                if kind == "fills":
                    continue
                if kind.startswith("candles"):
                    for topic in [t for t in self.subs.topics()
                                  if t[:3] == ("public", kind, inst.symbol)]:
                        self._send(topic, lambda p, i, kind=kind, inst=inst:
                                   self.frame(kind, p, i, self._public_data(kind, inst, i)))
                    continue
                self._send(("public", kind, inst.symbol), lambda p, i, kind=kind, inst=inst:
                           self.frame(kind, p, i, self._public_data(kind, inst, i)))

    def _assets_row(self, uid: str, bal) -> dict:
        held = sum((pos.margin for pos in self.engine.positions(uid, market=MARKET)), ZERO)
        return {"margin": num(held), "profitUnreal": 0, "freeze": num(bal.frozen),
                "size": num(bal.available + bal.frozen + held), "available": num(bal.available),
                "currency": bal.asset.lower(), "type": 1, "almightyGold": 0,
                "transferAvailable": num(bal.available), "userId": user_id(uid),
                "availableMargin": num(bal.available), "hold": num(held)}


__all__ = ["CoinWStreams", "PATHS", "HOSTS", "contracts"]
