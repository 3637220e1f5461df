"""The control plane under /localex/: the emulator's own JSON API (not a venue's).

Errors answer {"error": {"code": ..., "message": ...}} with a 4xx status.
"""

from __future__ import annotations

import dataclasses
import enum
import hmac
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import orjson

import localex
from localex.engine.clock import ManualClock, parse_time
from localex.engine.errors import Conflict, DomainError, NotFound
from localex.engine.model import CancelReason, KeyKind, Liquidity, Permission
from localex.control import guard
from localex.wire.http import Request, Response


REJECT_REASONS = ("rejected", "user", "ioc", "fok", "post_only", "stp")


def _fill_model(model) -> dict:
    return {"scope": model.scope, "kind": model.kind, "params": model.params}


class Deferred:
    """Long work a control endpoint hands back instead of an answer: `steps` is a generator
    (yielding between slices, returning a value) and `answer(value)` the JSON answer."""

    def __init__(self, steps, answer) -> None:
        self.steps, self.answer = steps, answer


def drain(steps):
    """Run a generator of slices to its end; its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _is_id(field_name: str) -> bool:
    """An identifier field (order_id, trade_id, position_id, tracking_no, ...): sent as a string,
    as the venues send them, since 19-digit numbers do not survive a JavaScript number."""
    return field_name.endswith(("_id", "_no"))


def to_json(obj: Any) -> Any:
    """Engine values as JSON: Decimals as strings, enums by value, dataclasses as objects, ids
    (fields named *_id / *_no) as strings."""
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            name = "".join(w if i == 0 else w.capitalize() for i, w in enumerate(f.name.split("_")))
            value = getattr(obj, f.name)
            if _is_id(f.name) and isinstance(value, int) and not isinstance(value, bool):
                out[name] = str(value)
            else:
                out[name] = to_json(value)
        return out
    if isinstance(obj, Decimal):
        return format(obj, "f")
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (list, tuple)):
        return [to_json(x) for x in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(to_json(x) for x in obj)
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    return obj


def _body(request: Request) -> dict:
    if not request.body.strip():
        return {}
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise ControlError(400, "bad_json", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "bad_json", "the body must be a JSON object")
    return body


def _need(body: dict, name: str) -> Any:
    value = body.get(name)
    if value is None or value == "":
        raise ControlError(400, "missing_field", f"'{name}' is required")
    return value


def _text(body: dict, name: str, required: bool = False) -> str | None:
    value = _need(body, name) if required else body.get(name)
    if value is not None and not isinstance(value, str):
        raise ControlError(400, "bad_field", f"'{name}' must be a string")
    return value


def _decimal(body: dict, name: str) -> Decimal:
    try:
        value = Decimal(str(_need(body, name)))
    except InvalidOperation:
        raise ControlError(400, "bad_field", f"'{name}' must be a decimal number") from None
    if not value.is_finite():
        raise ControlError(400, "bad_field", f"'{name}' must be a decimal number")
    return value


class ControlPlane:
    def __init__(self, app, admin_token: str | None = None) -> None:
        self.app = app
        self.engine = app.engine
        self.admin_token = admin_token or None  # an empty token would guard nothing
        self.routes: dict[tuple[str, str], Callable[[Request], Any]] = {
            ("GET", "/localex/health"): self.health,
            ("POST", "/localex/reset"): self.reset,
            ("GET", "/localex/users"): self.list_users,
            ("POST", "/localex/users"): self.create_user,
            ("POST", "/localex/keys"): self.create_key,
            ("DELETE", "/localex/keys"): self.revoke_key,
            ("POST", "/localex/balances"): self.fund,
            ("GET", "/localex/accounts"): self.account,
            ("GET", "/localex/instruments"): self.instruments,
            ("GET", "/localex/prices"): self.prices,
            ("POST", "/localex/prices"): self.set_price,
            ("GET", "/localex/orders"): self.orders,
            ("GET", "/localex/positions"): self.positions,
            ("POST", "/localex/orders/fill"): self.fill_order,
            ("POST", "/localex/orders/reject"): self.reject_order,
            ("GET", "/localex/fill-models"): self.list_fill_models,
            ("POST", "/localex/fill-models"): self.set_fill_model,
            ("DELETE", "/localex/fill-models"): self.remove_fill_models,
            ("GET", "/localex/faults"): self.list_faults,
            ("POST", "/localex/faults"): self.add_fault,
            ("DELETE", "/localex/faults"): self.remove_faults,
            ("GET", "/localex/journal"): self.journal,
            ("DELETE", "/localex/journal"): self.clear_journal,
            ("GET", "/localex/journal/stats"): self.journal_stats,
            ("GET", "/localex/snapshot"): self.snapshot,
            ("POST", "/localex/snapshot"): self.restore,
            ("GET", "/localex/clock"): self.clock,
            ("POST", "/localex/clock"): self.move_clock,
            ("POST", "/localex/paths"): self.set_path,
            ("POST", "/localex/funding"): self.set_funding,
            ("POST", "/localex/copy/traders"): self.make_trader,
            ("POST", "/localex/copy/followers"): self.follow_trader,
            ("GET", "/localex/copy/tracking"): self.tracking_orders,
            # read-only views (control/views.py), the dashboard's among them
            ("GET", "/localex/keys"): lambda r: views.keys(self.engine, r.query),
            ("GET", "/localex/fills"): lambda r: views.fills(self.engine, r.query),
            ("GET", "/localex/futures-accounts"): lambda r: views.futures_accounts(self.engine, r.query),
            ("GET", "/localex/paths"): lambda r: views.paths(self.engine),
            ("GET", "/localex/prices/history"): lambda r: views.mark_history(
                self.engine, self.app.mark_history, r.query),
            ("GET", "/localex/copy/traders"): lambda r: views.copy_traders(self.engine, r.query),
            ("GET", "/localex/candles"): lambda r: views.candles(self.engine, r.query),
        }

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if request.method in ("GET", "HEAD") and (path in ("/localex", "/localex/ui")
                                                  or request.path.startswith("/localex/ui/")):
            # the dashboard's files are no secret: its calls to the control plane carry the token
            from localex.control.ui import serve_ui

            return serve_ui(request)
        try:
            try:
                guard.check(request, token_required=self.admin_token is not None)
            except guard.Refusal as refusal:
                raise ControlError(refusal.status, refusal.code, refusal.message) from None
            self._authorize(request)
            handler = self.routes.get((request.method, request.path.rstrip("/")))
            if handler is None:
                raise ControlError(404, "not_found", f"no control endpoint {request.method} {request.path}")
            result = handler(request)
            if isinstance(result, Deferred):
                return result  # the app runs it in slices and answers with what it returns
            return Response.json(200, result)
        except ControlError as err:
            return Response.json(err.status, {"error": {"code": err.code, "message": err.message}})
        except NotFound as err:
            return Response.json(404, {"error": {"code": "not_found", "message": err.message}})
        except Conflict as err:
            return Response.json(409, {"error": {"code": "conflict", "message": err.message}})
        except (DomainError, ValueError, ArithmeticError) as err:
            return Response.json(400, {"error": {"code": "rejected", "message": str(err)}})

    def finish(self, deferred: "Deferred", value) -> Response:
        """The answer to a request whose work ran in slices."""
        return Response.json(200, deferred.answer(value))

    def internal_error(self) -> Response:
        return Response.json(500, {"error": {"code": "internal", "message": "internal error"}})

    def _authorize(self, request: Request) -> None:
        if self.admin_token is None or request.path.rstrip("/") == "/localex/health":
            return
        given = request.headers.get("x-localex-token", "")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not hmac.compare_digest(given.encode(), self.admin_token.encode()):
            raise ControlError(401, "unauthorized", "a valid admin token is required")

    # endpoints ---------------------------------------------------------------------------
    def health(self, request: Request) -> dict:
        out = {"status": "ok", "version": localex.__version__,
               "venues": [v.name for v in self.app.venues], "now": self.engine.now_ms()}
        cluster = getattr(self.app, "cluster", None) or getattr(self.app, "leader", None)
        if cluster is not None:  # several workers (localex/scale): who answered, who leads
            out["cluster"] = cluster.status()
        return out

    def reset(self, request: Request) -> dict:
        body = _body(request)
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ControlError(400, "bad_field", "'seed' must be an integer")
        start = body.get("start")  # a manual clock's new first time: ms or ISO 8601
        if start is not None:
            if not isinstance(self.engine.clock, ManualClock):
                raise ControlError(409, "system_clock", "'start' sets a manual clock; start with a manual clock")
            try:
                if isinstance(start, bool) or not isinstance(start, (int, str)):
                    raise ValueError
                start = start if isinstance(start, int) else parse_time(start)
                if not 0 <= start < 2**63:
                    raise ValueError
            except ValueError:
                raise ControlError(400, "bad_field", "'start' is epoch milliseconds or an ISO 8601 time") from None
            self.engine.clock.set(start)
        self.engine.reset(seed)
        self.app.limiter.reset()
        self.app.journal.clear()
        self.app.faults.clear()
        self.app.mark_history.clear()
        return {"status": "reset", "seed": self.engine.seed}

    def list_users(self, request: Request) -> list:
        return to_json(self.engine.list_users(request.query.get("venue")))

    def create_user(self, request: Request) -> dict:
        body = _body(request)
        venue = _text(body, "venue", required=True)
        if venue not in {v.name for v in self.app.venues}:
            raise ControlError(400, "bad_field", f"unknown venue '{venue}'")
        user = self.engine.create_user(venue, name=_text(body, "name"), uid=_text(body, "uid"),
                                       fee_deduction=bool(body.get("feeDeduction", False)))
        return to_json(user)

    def create_key(self, request: Request) -> dict:
        body = _body(request)
        try:
            permissions = body.get("permissions")
            perms = [Permission(p) for p in permissions] if permissions is not None else None
            kind = KeyKind(body.get("kind", "hmac"))
        except (TypeError, ValueError) as err:
            raise ControlError(400, "bad_field", str(err)) from None
        ips = body.get("ipWhitelist") or []
        if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
            raise ControlError(400, "bad_field", "'ipWhitelist' must be a list of addresses")
        uid = _text(body, "uid", required=True)
        try:
            key = self.engine.create_api_key(
                uid, permissions=perms, ip_whitelist=ips, kind=kind,
                passphrase=_text(body, "passphrase"), public_key=_text(body, "publicKey"),
                label=_text(body, "label") or "",
            )
        except ValueError as err:
            raise ControlError(400, "bad_field", str(err)) from None
        out = {"apiKey": key.key, "secretKey": key.secret if kind == KeyKind.HMAC else None,
               "passphrase": key.passphrase, "uid": key.uid, "venue": key.venue, "kind": key.kind.value,
               "permissions": sorted(p.value for p in key.permissions),
               "ipWhitelist": list(key.ip_whitelist)}
        return out

    def revoke_key(self, request: Request) -> dict:
        """?apiKey= (or a body {"apiKey"}): the key is deleted; every request signed with it is
        refused from now on (by every worker: localex/scale)."""
        given = request.query.get("apiKey")
        key = given if given else _text(_body(request), "apiKey", required=True)
        revoked = self.engine.revoke_api_key(key)
        self.app.keys_revoked([revoked.key])  # its logged-in streams close, on every worker
        return {"status": "revoked", "apiKey": revoked.key, "uid": revoked.uid}

    def fund(self, request: Request) -> dict:
        body = _body(request)
        bal = self.engine.fund(_text(body, "uid", required=True), str(_need(body, "asset")).upper(),
                               _decimal(body, "amount"), body.get("account", "spot"))
        return to_json(bal)

    def account(self, request: Request) -> dict:
        uid = request.query.get("uid")
        if not uid:
            raise ControlError(400, "missing_field", "'uid' is required")
        user = self.engine.get_user(uid)
        return {**to_json(user), "balances": to_json(self.engine.balances(uid))}

    def instruments(self, request: Request) -> list:
        return to_json(self.engine.instruments(request.query.get("venue")))

    def prices(self, request: Request) -> dict:
        """Every mark price by instrument key ("bitget:spot:BTCUSDT"): ?venue=&market=&symbol="""
        q = request.query
        venue, market = q.get("venue"), q.get("market")
        symbol = q.get("symbol").upper() if q.get("symbol") else None
        marks = self.engine.marks()
        out = {}
        for key, price in marks.items():
            v, m, s = key.split(":", 2)
            if (venue is None or v == venue) and (market is None or m == market) and (
                    symbol is None or s == symbol):
                out[key] = format(price, "f")
        return out

    def set_price(self, request: Request) -> dict:
        body = _body(request)
        venue, symbol = _need(body, "venue"), str(_need(body, "symbol")).upper()
        market = body.get("market", "spot")
        price = _decimal(body, "price")
        fills, liquidated = self.engine.move_mark(venue, market, symbol, price)
        return {"venue": venue, "market": market, "symbol": symbol, "price": format(price, "f"),
                "fills": to_json(fills),
                "liquidations": [{"uid": f.uid, "positionId": str(f.position_id),
                                  "posSide": f.pos_side.value, "size": format(f.size, "f"),
                                  "price": format(f.price, "f"), "orderId": str(f.order_id)}
                                 for f in liquidated]}

    def orders(self, request: Request) -> list:
        q = request.query
        uid = q.get("uid")
        if not uid:
            raise ControlError(400, "missing_field", "'uid' is required")
        self.engine.get_user(uid)
        status = q.get("status", "all")
        if status not in ("all", "open", "closed"):
            raise ControlError(400, "bad_field", "'status' is one of all, open, closed")
        open_only = {"all": None, "open": True, "closed": False}[status]
        market = q.get("market", "spot")
        symbol = q.get("symbol").upper() if q.get("symbol") else None
        if market == "spot":
            return to_json(self.engine.spot_orders(uid, open_only=open_only, symbol=symbol, limit=1000))
        return to_json(self.engine.futures_orders(uid, market=market, open_only=open_only,
                                                  symbol=symbol, limit=1000))

    def positions(self, request: Request) -> list:
        """A user's futures positions: ?uid=&market=&symbol=&status=open|closed|all"""
        q = request.query
        uid = q.get("uid")
        if not uid:
            raise ControlError(400, "missing_field", "'uid' is required")
        self.engine.get_user(uid)
        status = q.get("status", "open")
        if status not in ("all", "open", "closed"):
            raise ControlError(400, "bad_field", "'status' is one of all, open, closed")
        open_only = {"all": None, "open": True, "closed": False}[status]
        symbol = q.get("symbol").upper() if q.get("symbol") else None
        return views.positions(self.engine, self.engine.positions(uid, market=q.get("market"),
                                                                  symbol=symbol, open_only=open_only))

    def fill_order(self, request: Request) -> dict:
        """Fill part ("size") or all of an open spot or futures order: {"uid", "orderId", "size",
        "price", "liquidity": maker|taker}. A limit order fills at its price as maker, a market
        order at the mark as taker, unless told otherwise. A spot order answers the fill; a
        futures order {"order", "fills"}."""
        body = _body(request)
        uid = _text(body, "uid", required=True)
        order_id = self._order_id(body)
        size = _decimal(body, "size") if body.get("size") not in (None, "") else None
        price = _decimal(body, "price") if body.get("price") not in (None, "") else None
        liquidity = body.get("liquidity")
        if liquidity is not None:
            if liquidity not in ("maker", "taker"):
                raise ControlError(400, "bad_field", "'liquidity' is maker or taker")
            liquidity = Liquidity(liquidity)
        if self.engine.spot_order(uid, order_id) is not None:
            return to_json(self.engine.fill_spot_order(uid, order_id, size, price, liquidity))
        order, fills = self.engine.fill_futures_order(uid, order_id, size, price, liquidity)
        return {"order": to_json(order), "fills": to_json(fills)}

    def reject_order(self, request: Request) -> dict:
        """Cancel an open spot or futures order as refused by the venue: {"uid", "orderId",
        "reason": rejected (default) | user | ioc | fok | post_only | stp} — the reason picks
        the cancelReason the venue shows (Bitget: stp -> stp_cancel, user / ioc / fok / post_only
        -> normal_cancel, rejected -> "")."""
        body = _body(request)
        uid = _text(body, "uid", required=True)
        order_id = self._order_id(body)
        reason = _text(body, "reason") or CancelReason.REJECTED.value
        if reason not in REJECT_REASONS:
            raise ControlError(400, "bad_field", f"'reason' is one of {', '.join(REJECT_REASONS)}")
        return to_json(self.engine.reject_order(uid, order_id, CancelReason(reason)))

    @staticmethod
    def _order_id(body: dict) -> int:
        order_id = _need(body, "orderId")
        if isinstance(order_id, bool) or not str(order_id).isdigit():
            raise ControlError(400, "bad_field", "'orderId' must be a numeric order id")
        return int(order_id)

    def list_fill_models(self, request: Request) -> list:
        """Every fill model set, by scope; ?venue=&market=&symbol= answers the one model an
        instrument's orders meet (its own, its venue's, or immediate) instead."""
        q = request.query
        if q.get("symbol"):
            venue = q.get("venue")
            if not venue:
                raise ControlError(400, "missing_field", "'venue' is required with 'symbol'")
            model = self.engine.fill_model_for(venue, q.get("market") or "spot", q["symbol"].upper())
            return [_fill_model(model)]
        return [_fill_model(m) for m in self.engine.list_fill_models()]

    def set_fill_model(self, request: Request) -> dict:
        """{"scope": "bitget" | "bitget:spot:BTCUSDT", "kind": immediate | latency | liquidity |
        manual, "params": {"ms"} | {"size", "step", "levels"}}"""
        body = _body(request)
        scope = _text(body, "scope", required=True)
        kind = _text(body, "kind", required=True)
        params = body.get("params") or {}
        if not isinstance(params, dict):
            raise ControlError(400, "bad_field", "'params' must be an object")
        venue = scope.split(":")[0].lower()
        if venue not in {v.name for v in self.app.venues}:
            raise ControlError(400, "bad_field", f"unknown venue '{venue}'")
        try:
            model = self.engine.set_fill_model(scope, kind, params)
        except ValueError as err:
            raise ControlError(400, "bad_field", str(err)) from None
        return _fill_model(model)

    def remove_fill_models(self, request: Request) -> dict:
        """?scope= removes one scope's model (its orders fall back to the venue's, or immediate);
        without it, every model."""
        scope = request.query.get("scope")
        try:
            removed = self.engine.delete_fill_model(scope)
        except ValueError as err:
            raise ControlError(400, "bad_field", str(err)) from None
        if scope is not None and not removed:
            raise ControlError(404, "not_found", f"no fill model for '{scope}'")
        return {"status": "removed" if scope is not None else "cleared", "removed": removed}

    def list_faults(self, request: Request) -> list:
        return [f.as_json() for f in self.app.faults.list()]

    def add_fault(self, request: Request) -> dict:
        """{"kind": error|http|rate_limit|latency|drop, "venue", "path" (pattern), "method",
        "count" (the next N requests) or "probability" (seeded), "code", "message", "status",
        "latencyMs"}"""
        body = _body(request)
        numbers = {}
        for name, kind in (("count", int), ("status", int), ("latencyMs", int), ("probability", float)):
            value = body.get(name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                        kind is int and not isinstance(value, int)):
                    raise ControlError(400, "bad_field", f"'{name}' must be a number")
                numbers[name] = value
        try:
            fault = self.app.faults.add(
                _text(body, "kind", required=True), venue=_text(body, "venue"),
                path=_text(body, "path") or "*", method=_text(body, "method"),
                count=numbers.get("count"), probability=numbers.get("probability"),
                code=None if body.get("code") is None else str(body["code"]),
                message=_text(body, "message"), status=numbers.get("status"),
                latency_ms=numbers.get("latencyMs", 0))
        except ValueError as err:
            raise ControlError(400, "bad_field", str(err)) from None
        return fault.as_json()

    def remove_faults(self, request: Request) -> dict:
        """?id=N removes one fault; without it, every fault."""
        fault_id = request.query.get("id")
        if fault_id is None:
            self.app.faults.clear()
            return {"status": "cleared"}
        if not fault_id.isdigit() or not self.app.faults.remove(int(fault_id)):
            raise ControlError(404, "not_found", f"no fault {fault_id}")
        return {"status": "removed"}

    def journal(self, request: Request) -> list:
        """What reached the venues, oldest first: ?venue=&apiKey=&path=(pattern)&method=
        &since=&until=(market ms)&afterSeq=&limit=&tail= (the newest N)"""
        q = request.query
        ints = {}
        for name in ("since", "until", "afterSeq", "limit", "tail"):
            value = q.get(name)
            if value is not None:
                if not value.isdigit():
                    raise ControlError(400, "bad_field", f"'{name}' must be a non-negative integer")
                ints[name] = int(value)
        entries = self.app.journal.entries(
            venue=q.get("venue"), api_key=q.get("apiKey"), path=q.get("path"), method=q.get("method"),
            since_ms=ints.get("since"), until_ms=ints.get("until"), after_seq=ints.get("afterSeq"),
            limit=ints.get("limit"), tail=ints.get("tail"))
        return [{**e.as_json(), "latencyMs": round(e.latency_ms, 3)} for e in entries]

    def journal_stats(self, request: Request) -> dict:
        """{"entries", "bytes", "maxEntries", "maxBytes", "dropped"}: what the journal holds."""
        return self.app.journal.stats()

    def clear_journal(self, request: Request) -> dict:
        self.app.journal.clear()
        return {"status": "cleared"}

    def snapshot(self, request: Request) -> dict:
        snap = self.engine.snapshot()
        cluster = getattr(self.app, "cluster", None)
        if cluster is not None:  # several workers: the shared paths and faults go with it
            from localex.scale import snapshot as shared

            snap["extra"].update(shared.shared_state(cluster))
        return snap

    def restore(self, request: Request) -> dict:
        from localex.store.snapshot import SnapshotError

        body = _body(request)
        cluster = getattr(self.app, "cluster", None)
        try:
            if cluster is not None:  # the shared paths and faults it carries, checked first
                from localex.scale import snapshot as shared

                paths, faults = shared.checked(body)
                shared.keep_leader(cluster, body)  # the leader's token is the cluster's
            self.engine.restore(body)
        except SnapshotError as err:
            raise ControlError(400, "bad_snapshot", str(err)) from None
        self.app.limiter.reset()
        if cluster is not None:
            shared.restore(cluster, paths, faults)  # for every worker, as a reset clears them
        return {"status": "restored", "now": self.engine.now_ms()}

    def clock(self, request: Request) -> dict:
        """{"now", "manual", "kind": system | manual | speed, "speed"}"""
        return views.clock(self.engine)

    def move_clock(self, request: Request) -> dict:
        clock = self.engine.clock
        if not isinstance(clock, ManualClock):
            raise ControlError(409, "system_clock", "the clock is the system clock; start with a manual clock")
        body = _body(request)
        applied = 0
        if "set" in body:
            if not isinstance(body["set"], int) or isinstance(body["set"], bool):
                raise ControlError(400, "bad_field", "'set' must be integer milliseconds")
            self.engine.set_clock(body["set"])
        elif "advance" in body:
            if not isinstance(body["advance"], int) or isinstance(body["advance"], bool) or body["advance"] < 0:
                raise ControlError(400, "bad_field", "'advance' must be non-negative integer milliseconds")
            steps = self.engine.simulation.advancing(body["advance"])
            answer = lambda applied: {"now": clock.now_ms(), "manual": True, "pricesApplied": applied}  # noqa: E731
            if self.app.slicing:  # served by the ASGI app: long work runs in slices (server/app.py)
                return Deferred(steps, answer)
            return answer(drain(steps))
        else:
            raise ControlError(400, "missing_field", "'set' or 'advance' is required")
        return {"now": clock.now_ms(), "manual": True, "pricesApplied": applied}

    def set_path(self, request: Request) -> dict:
        """{"venue", "market" (default spot), "symbol", "kind": static | random_walk | candles,
        random_walk: "drift", "volatility" (per hour), "stepMs", "seed";
        candles: "csv" (the file's text; default the shipped sample)}"""
        from localex.control import paths

        body = _body(request)
        venue, symbol = _text(body, "venue", required=True), _text(body, "symbol", required=True).upper()
        market = _text(body, "market") or "spot"
        inst = self.engine.instrument(venue, market, symbol)
        if inst is None:
            raise ControlError(404, "not_found", f"no instrument {venue} {market} {symbol}")
        kind = _text(body, "kind", required=True)
        if kind == "candles":
            _text(body, "csv")
        try:
            spec = paths.spec(self.engine, inst, body)
            path = paths.build(spec)
        except LookupError as err:
            raise ControlError(409, "no_price", str(err)) from None
        except (TypeError, ValueError, ArithmeticError) as err:
            raise ControlError(400, "bad_field", str(err)) from None
        self.engine.simulation.set_path(inst, path)
        cluster = getattr(self.app, "cluster", None)
        if cluster is not None:  # several workers (localex/scale): the leader walks this path too
            cluster.share_path(inst, spec, path)
        return {"venue": venue, "market": market, "symbol": symbol, "kind": kind}

    def set_funding(self, request: Request) -> dict:
        """A perpetual's funding rate per interval (longs pay when positive) from the next
        settlement on: {"venue", "market" (default: the venue's contract of that symbol),
        "symbol", "rate", "intervalH" (optional, hours)}"""
        body = _body(request)
        venue, symbol = _text(body, "venue", required=True), _text(body, "symbol", required=True).upper()
        market = _text(body, "market")
        if market is None:
            found = [i for i in self.engine.instruments(venue) if i.symbol == symbol and i.is_contract]
            if len(found) != 1:
                raise ControlError(404, "not_found", f"no single contract {symbol} on {venue}; name its market")
            market = found[0].market
        rate = _decimal(body, "rate")
        if abs(rate) >= 1:
            raise ControlError(400, "bad_field", "'rate' is a fraction per interval (0.0001 = 0.01%)")
        interval = body.get("intervalH")
        if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int) or interval <= 0):
            raise ControlError(400, "bad_field", "'intervalH' must be a positive whole number of hours")
        inst = self.engine.set_funding_rate(venue, market, symbol, rate, interval)
        period = inst.funding_interval_h * 3_600_000
        return {"venue": venue, "market": market, "symbol": symbol, "rate": format(inst.funding_rate, "f"),
                "intervalH": inst.funding_interval_h,
                "nextSettlement": (self.engine.now_ms() // period + 1) * period}

    # copy trading ------------------------------------------------------------------------
    def make_trader(self, request: Request) -> dict:
        """Make a user an elite trader: {"uid", "symbols": ["BTCUSDT", ...] or
        [{"symbol", "productType"}], "productType" (default usdt-futures), "profitShareRatio",
        "maxLeverage", "maxFollowers"}. The symbols become copy symbols; the accounts hedge mode."""
        from localex.control.copy import make_trader

        return make_trader(self.engine, _body(request))

    def follow_trader(self, request: Request) -> dict:
        """Make a user follow a trader: {"uid", "traderUid", "settings": [{"symbol", "productType",
        "traceType": fixed_amount|multiple|fixed_size, "traceValue", ...}]} or {"uid",
        "traderUid", "copyAmount"} (sized by ratio to the trader's equity)."""
        from localex.control.copy import follow_trader

        return follow_trader(self.engine, _body(request))

    def tracking_orders(self, request: Request) -> list:
        """A trader's tracking orders with their copies: ?uid=&productType=&status=open|closed|all."""
        from localex.control.copy import tracking_orders

        return tracking_orders(self.engine, request.query)


from localex.control import views  # noqa: E402  (views build on ControlError and to_json above)
