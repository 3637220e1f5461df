"""A typed client for CoinW's USDT-margined futures API (/v1/perpum/...): signing, envelope
decoding, exact decimals and ids.

    from localex.client import CoinWClient
    client = CoinWClient("http://127.0.0.1:8700", api_key, secret_key)
    order_id = client.place_order("BTC", "long", "1", leverage=10, position_type="plan",
                                  open_price="90000")
    [order] = client.order_info("plan", source_ids=[order_id])

It speaks the real wire, so it works against api.coinw.com as well. Signing follows CoinW's rule:
sign = base64(HMAC-SHA256(secret, timestamp + METHOD + path [+ "?" + query] + body)), sent with
the headers api_key, timestamp and sign. GET parameters go in the query (in the order given);
POST, PUT and DELETE parameters in a JSON body. Numbers in answers are decoded exactly (Decimal),
so 19-digit position ids and amounts never pass through a float.

`body_style` picks how bodies are written ("compact": no spaces, like CoinW.Net; "spaced":
Python's default separators, like the official Python snippet); `encode_query` whether the query
is percent-encoded on the URL (the signature always covers the unencoded form).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping
from urllib.parse import quote

import httpx

DEFAULT_BASE_URL = "https://api.coinw.com"


class CoinWAPIError(Exception):
    """A refusal: CoinW's code and message (msg, or the gateway's message), and the HTTP status."""

    def __init__(self, status: int, code: int | None, msg: str, payload: Any = None) -> None:
        super().__init__(f"HTTP {status} code {code} {msg}")
        self.status, self.code, self.msg, self.payload = status, code, msg, payload


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _int(value: Any) -> int | None:
    return None if value is None or value == "" or value == "null" else int(value)


def _arg(value: Any) -> Any:
    """A parameter as sent: decimals as strings (exact), the rest as they are."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


@dataclass(frozen=True)
class Contract:
    name: str
    base: str
    quote: str
    one_lot_size: Decimal
    min_size: int
    price_precision: int
    min_leverage: int
    max_leverage: int
    maker_fee: Decimal
    taker_fee: Decimal
    status: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Ticker:
    name: str
    last_price: Decimal
    fair_price: Decimal
    contract_size: Decimal
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Order:
    """An order as GET /v1/perpum/order, orders/open and orders/history report it."""

    id: int
    instrument: str
    direction: str
    pos_type: str
    original_type: str
    order_status: str
    status: str
    order_price: Decimal | None
    quantity: Decimal
    quantity_unit: int
    total_piece: Decimal
    current_piece: Decimal | None
    leverage: int
    position_model: int
    margin: Decimal | None
    fee: Decimal | None
    frozen_fee: Decimal | None
    stop_loss_price: Decimal | None
    stop_profit_price: Decimal | None
    trigger_price: Decimal | None
    third_order_id: str | None
    open_id: int | None
    created: int
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Position:
    id: int
    instrument: str
    direction: str
    current_piece: Decimal
    open_price: Decimal
    leverage: int
    position_model: int
    margin: Decimal
    position_margin: Decimal
    fee: Decimal
    liquidation_price: Decimal | None
    profit_unreal: Decimal
    stop_loss_price: Decimal | None
    stop_profit_price: Decimal | None
    status: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    rows: list
    total: int


@dataclass(frozen=True)
class BatchResult:
    msg_code: int
    open_id: str | None
    third_order_id: str | None


@dataclass(frozen=True)
class Assets:
    available_usdt: Decimal
    available_margin: Decimal
    al_margin: Decimal
    al_freeze: Decimal
    user_id: int


def _order(row: Mapping[str, Any]) -> Order:
    return Order(
        id=int(row["id"]), instrument=row["instrument"], direction=row["direction"],
        pos_type=row.get("posType", ""), original_type=row.get("originalType", ""),
        order_status=row.get("orderStatus", ""), status=row.get("status", ""),
        order_price=_dec(row.get("orderPrice")), quantity=_dec(row.get("quantity")),
        quantity_unit=int(row.get("quantityUnit", 1)), total_piece=_dec(row.get("totalPiece")),
        current_piece=_dec(row.get("currentPiece")), leverage=int(row["leverage"]),
        position_model=int(row.get("positionModel", 0)), margin=_dec(row.get("margin")),
        fee=_dec(row.get("fee")), frozen_fee=_dec(row.get("frozenFee")),
        stop_loss_price=_dec(row.get("stopLossPrice")), stop_profit_price=_dec(row.get("stopProfitPrice")),
        trigger_price=_dec(row.get("triggerPrice")), third_order_id=row.get("thirdOrderId"),
        open_id=_int(row.get("openId")), created=int(row.get("createdDate", 0)), raw=row,
    )


def _position(row: Mapping[str, Any]) -> Position:
    return Position(
        id=int(row["id"]), instrument=row["instrument"], direction=row["direction"],
        current_piece=_dec(row["currentPiece"]), open_price=_dec(row["openPrice"]),
        leverage=int(row["leverage"]), position_model=int(row["positionModel"]),
        margin=_dec(row["margin"]), position_margin=_dec(row["positionMargin"]), fee=_dec(row["fee"]),
        liquidation_price=_dec(row.get("liquidationPrice")), profit_unreal=_dec(row["profitUnreal"]),
        stop_loss_price=_dec(row.get("stopLossPrice")), stop_profit_price=_dec(row.get("stopProfitPrice")),
        status=row["status"], raw=row,
    )


def _batch(rows: Iterable[Mapping[str, Any]]) -> list[BatchResult]:
    return [BatchResult(int(r["msgCode"]), r.get("openId"), r.get("thirdOrderId")) for r in rows]


class CoinWClient:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, api_key: str | None = None,
                 secret_key: str | None = None, *, http: httpx.Client | None = None,
                 timeout: float = 10.0, body_style: str = "compact", encode_query: bool = True) -> None:
        if body_style not in ("compact", "spaced"):
            raise ValueError("body_style is 'compact' or 'spaced'")
        self.base_url = base_url.rstrip("/")
        self.api_key, self.secret_key = api_key, secret_key
        self.http = http or httpx.Client(timeout=timeout)
        self.body_style, self.encode_query = body_style, encode_query

    # signing and transport ------------------------------------------------------------------
    def sign(self, timestamp: str, method: str, path: str, query: str, body: str) -> str:
        """base64(HMAC-SHA256(secret, timestamp + METHOD + path [+ "?" + query] + body))"""
        if self.secret_key is None:
            raise ValueError("signing needs a secret key")
        message = (timestamp + method.upper() + path + ("?" + query if query else "") + body).encode()
        return base64.b64encode(hmac.new(self.secret_key.encode(), message, hashlib.sha256).digest()).decode()

    def send(self, method: str, path: str, params: Mapping[str, Any] | list | None = None, *,
             signed: bool = True) -> tuple[int, Any]:
        """One request; (HTTP status, decoded JSON body) whatever the answer."""
        method = method.upper()
        query = body = ""
        if method == "GET":
            pairs = [(k, str(_arg(v))) for k, v in (params or {}).items() if v is not None]
            query = "&".join(f"{k}={v}" for k, v in pairs)
            sent_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs) \
                if self.encode_query else query
        else:
            if isinstance(params, list):
                payload: Any = [{k: _arg(v) for k, v in item.items() if v is not None} for item in params]
            else:
                payload = {k: _arg(v) for k, v in (params or {}).items() if v is not None}
            body = json.dumps(payload, separators=(",", ":")) if self.body_style == "compact" \
                else json.dumps(payload)
            sent_query = ""
        headers = {"Content-Type": "application/json"}
        if signed:
            timestamp = str(int(time.time() * 1000))
            headers.update({"api_key": self.api_key or "", "timestamp": timestamp,
                            "sign": self.sign(timestamp, method, path, query, body)})
        url = self.base_url + path + ("?" + sent_query if sent_query else "")
        response = self.http.request(method, url, content=body.encode() if body else None,
                                     headers=headers)
        try:
            payload = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            payload = None
        return response.status_code, payload

    def request(self, method: str, path: str, params: Mapping[str, Any] | list | None = None, *,
                signed: bool = True) -> Any:
        """One request; its `data` (None when the venue sends none), or CoinWAPIError."""
        status, payload = self.send(method, path, params, signed=signed)
        if not isinstance(payload, dict):
            raise CoinWAPIError(status, None, "not a CoinW answer", payload)
        if payload.get("code") != 0:
            raise CoinWAPIError(status, payload.get("code"),
                                payload.get("msg") or payload.get("message") or "", payload)
        return payload.get("data")

    # market ---------------------------------------------------------------------------------
    def instruments(self, name: str | None = None) -> list[Contract]:
        rows = self.request("GET", "/v1/perpum/instruments", {"name": name}, signed=False)
        return [Contract(r["name"], r["base"].upper(), r["quote"].upper(), _dec(r["oneLotSize"]),
                         int(r["minSize"]), int(r["pricePrecision"]), int(r["minLeverage"]),
                         int(r["maxLeverage"]), _dec(r["makerFee"]), _dec(r["takerFee"]), r["status"], r)
                for r in rows]

    def ticker(self, instrument: str) -> Ticker | None:
        rows = self.request("GET", "/v1/perpumPublic/ticker", {"instrument": instrument}, signed=False)
        return self._ticker(rows[0]) if rows else None

    def tickers(self) -> list[Ticker]:
        return [self._ticker(r) for r in self.request("GET", "/v1/perpumPublic/tickers", signed=False)]

    @staticmethod
    def _ticker(r: Mapping[str, Any]) -> Ticker:
        return Ticker(r["name"], _dec(r["last_price"]), _dec(r["fair_price"]), _dec(r["contract_size"]), r)

    def depth(self, base: str) -> dict:
        """{"asks": [(price, size), ...], "bids": [...]} (sizes in the base coin)."""
        data = self.request("GET", "/v1/perpumPublic/depth", {"base": base}, signed=False)
        return {side: [(_dec(level["p"]), _dec(level["m"])) for level in data[side]]
                for side in ("asks", "bids")}

    def trades(self, base: str) -> list[dict]:
        return self.request("GET", "/v1/perpumPublic/trades", {"base": base}, signed=False)

    def klines(self, instrument: str, granularity: str | int = 0, limit: int | None = None) -> list[list]:
        return self.request("GET", "/v1/perpumPublic/klines",
                            {"currencyCode": instrument, "granularity": granularity, "limit": limit},
                            signed=False)

    def funding_rate(self, instrument: str) -> Decimal:
        return _dec(self.request("GET", "/v1/perpum/fundingRate", {"instrument": instrument},
                                 signed=False)["value"])

    # orders ---------------------------------------------------------------------------------
    @staticmethod
    def order_params(instrument: str, direction: str, quantity: Decimal | str | int, *,
                     leverage: int, position_type: str = "execute", quantity_unit: int = 1,
                     position_model: int = 0, open_price: Decimal | str | None = None,
                     trigger_price: Decimal | str | None = None, trigger_type: int | None = None,
                     stop_profit_price: Decimal | str | None = None,
                     stop_loss_price: Decimal | str | None = None,
                     third_order_id: str | None = None) -> dict:
        """The body of one order (POST /order, batchOrders items, PUT /order)."""
        return {"instrument": instrument, "direction": direction, "leverage": leverage,
                "quantityUnit": quantity_unit, "quantity": str(quantity), "positionModel": position_model,
                "positionType": position_type, "openPrice": open_price, "triggerPrice": trigger_price,
                "triggerType": trigger_type, "stopProfitPrice": stop_profit_price,
                "stopLossPrice": stop_loss_price, "thirdOrderId": third_order_id}

    def place_order(self, instrument: str, direction: str, quantity: Decimal | str | int, *,
                    leverage: int, **options: Any) -> int | None:
        """Place an order; its id (None for a planTrigger order, whose id the venue withholds)."""
        data = self.request("POST", "/v1/perpum/order",
                            self.order_params(instrument, direction, quantity, leverage=leverage, **options))
        return _int(data["value"])

    def place_orders(self, orders: list[dict]) -> list[BatchResult]:
        """At most 20 bodies made with order_params()."""
        return _batch(self.request("POST", "/v1/perpum/batchOrders", orders))

    def modify_order(self, order_id: int, instrument: str, direction: str,
                     quantity: Decimal | str | int, *, leverage: int, **options: Any) -> tuple[int, int | None]:
        """Cancel and replace: (original id, new id)."""
        body = {"id": str(order_id), **self.order_params(instrument, direction, quantity,
                                                         leverage=leverage, **options)}
        data = self.request("PUT", "/v1/perpum/order", body)
        return int(data["originId"]), _int(data.get("editId"))

    def cancel_order(self, order_id: int) -> None:
        self.request("DELETE", "/v1/perpum/order", {"id": str(order_id)})

    def cancel_orders(self, order_ids: Iterable[int], pos_type: str | None = None) -> None:
        self.request("DELETE", "/v1/perpum/batchOrders",
                     {"sourceIds": [str(i) for i in order_ids], "posType": pos_type})

    def order_info(self, position_type: str, source_ids: Iterable[int] | None = None,
                   instrument: str | None = None) -> list[Order]:
        """Unfilled orders (GET /v1/perpum/order)."""
        ids = ",".join(str(i) for i in source_ids) if source_ids is not None else None
        rows = self.request("GET", "/v1/perpum/order",
                            {"positionType": position_type, "sourceIds": ids, "instrument": instrument})
        return [_order(r) for r in rows]

    def open_orders(self, instrument: str, position_type: str = "plan", page: int | None = None,
                    page_size: int | None = None) -> Page:
        data = self.request("GET", "/v1/perpum/orders/open",
                            {"instrument": instrument, "positionType": position_type, "page": page,
                             "pageSize": page_size})
        return Page([_order(r) for r in data["rows"]], int(data["total"]))

    def open_order_count(self) -> int:
        return int(self.request("GET", "/v1/perpum/orders/openQuantity")["value"])

    def order_history(self, instrument: str | None = None, origin_type: str | None = None,
                      page: int | None = None, page_size: int | None = None, *,
                      archive: bool = False) -> Page:
        """Orders with fills of the last 7 days (90 with archive=True)."""
        path = "/v1/perpum/orders/archive" if archive else "/v1/perpum/orders/history"
        data = self.request("GET", path, {"instrument": instrument, "originType": origin_type,
                                          "page": page, "pageSize": page_size})
        return Page([_order(r) for r in data["rows"]], int(data["total"]))

    def deals(self, instrument: str, origin_type: str | None = None, position_model: int | None = None,
              page: int | None = None, page_size: int | None = None) -> Page:
        """Fills (and unfilled cancellations) of the last 3 days, as raw rows."""
        data = self.request("GET", "/v1/perpum/orders/deals",
                            {"instrument": instrument, "originType": origin_type,
                             "positionModel": position_model, "page": page, "pageSize": page_size})
        return Page(list(data["rows"]), int(data["total"]))

    # positions ------------------------------------------------------------------------------
    def positions(self, instrument: str, open_ids: Iterable[int] | None = None) -> list[Position]:
        ids = ",".join(str(i) for i in open_ids) if open_ids is not None else None
        rows = self.request("GET", "/v1/perpum/positions", {"instrument": instrument, "openIds": ids})
        return [_position(r) for r in rows]

    def all_positions(self) -> list[Position]:
        return [_position(r) for r in self.request("GET", "/v1/perpum/positions/all")]

    def position_history(self, instrument: str | None = None, position_model: int | None = None) -> Page:
        data = self.request("GET", "/v1/perpum/positions/history",
                            {"instrument": instrument, "positionModel": position_model})
        return Page(list(data["rows"]), int(data["total"]))

    def close_position(self, position_id: int, *, close_num: int | None = None,
                       close_rate: Decimal | str | None = None,
                       order_price: Decimal | str | None = None) -> int:
        """Close part or all of a position, at market or (order_price) resting; the close order's id."""
        data = self.request("DELETE", "/v1/perpum/positions",
                            {"id": str(position_id), "positionType": "plan" if order_price else "execute",
                             "closeNum": close_num, "closeRate": close_rate, "orderPrice": order_price})
        return int(data["value"])

    def close_all(self, instrument: str) -> None:
        self.request("DELETE", "/v1/perpum/allpositions", {"instrument": instrument})

    def close_by_third_order_ids(self, third_order_ids: Iterable[str]) -> list[BatchResult]:
        return _batch(self.request("DELETE", "/v1/perpum/batchClose",
                                   [{"thirdOrderId": t} for t in third_order_ids]))

    def reverse_position(self, position_id: int) -> int:
        return int(self.request("POST", "/v1/perpum/positions/reverse", {"id": str(position_id)})["value"])

    def adjust_margin(self, position_id: int, *, add: Decimal | str | None = None,
                      reduce: Decimal | str | None = None) -> None:
        self.request("POST", "/v1/perpum/positions/margin",
                     {"id": str(position_id), "addMargin": add, "reduceMargin": reduce, "type": "all"})

    def set_tpsl(self, ident: int, instrument: str | None = None, *,
                 stop_profit_price: Decimal | str | None = None, stop_loss_price: Decimal | str | None = None,
                 stop_profit_rate: Decimal | str | None = None,
                 stop_loss_rate: Decimal | str | None = None) -> None:
        """TP / SL on a position (its id) or an unfilled order (its id)."""
        self.request("POST", "/v1/perpum/TPSL",
                     {"id": str(ident), "instrument": instrument, "stopProfitPrice": stop_profit_price,
                      "stopLossPrice": stop_loss_price, "stopProfitRate": stop_profit_rate,
                      "stopLossRate": stop_loss_rate})

    def tpsl(self, stop_from: int, *, order_id: int | None = None, open_id: int | None = None,
             plan_order_id: int | None = None, instrument: str | None = None) -> list[dict]:
        return self.request("GET", "/v1/perpum/TPSL",
                            {"stopFrom": stop_from, "orderId": order_id, "openId": open_id,
                             "planOrderId": plan_order_id, "instrument": instrument})

    def set_trailing(self, position_id: int, callback_rate: Decimal | str, *,
                     trigger_price: Decimal | str | None = None, quantity: Decimal | str | int | None = None,
                     quantity_unit: int | None = None) -> None:
        self.request("POST", "/v1/perpum/moveTPSL",
                     {"openId": str(position_id), "callbackRate": callback_rate,
                      "triggerPrice": trigger_price, "quantity": quantity, "quantityUnit": quantity_unit})

    def trailing(self) -> list[dict]:
        return self.request("GET", "/v1/perpum/moveTPSL") or []

    # account --------------------------------------------------------------------------------
    def assets(self) -> Assets:
        d = self.request("GET", "/v1/perpum/account/getUserAssets")
        return Assets(_dec(d["availableUsdt"]), _dec(d["availableMargin"]), _dec(d["alMargin"]),
                      _dec(d["alFreeze"]), int(d["userId"]))

    def fees(self) -> tuple[Decimal, Decimal]:
        d = self.request("GET", "/v1/perpum/account/fees")
        return _dec(d["makerFee"]), _dec(d["takerFee"])

    def available(self) -> Decimal:
        return _dec(self.request("GET", "/v1/perpum/account/available")["value"])

    def position_type(self) -> tuple[int, int]:
        """(positionModel, layout)"""
        d = self.request("GET", "/v1/perpum/positions/type")
        return int(d["positionModel"]), int(d["layout"])

    def set_position_type(self, position_model: int | None = None, layout: int | None = None) -> None:
        self.request("POST", "/v1/perpum/positions/type",
                     {"positionModel": position_model, "layout": layout})

    def leverage(self, *, position_id: int | None = None, order_id: int | None = None) -> int:
        return int(self.request("GET", "/v1/perpum/positions/leverage",
                                {"positionId": position_id, "orderId": order_id})["value"])

    def max_size(self, instrument: str, leverage: int | None = None,
                 order_price: Decimal | str | None = None) -> tuple[int, int]:
        d = self.request("GET", "/v1/perpum/orders/maxSize",
                         {"instrument": instrument, "leverage": leverage, "orderPrice": order_price})
        return int(d["maxBuy"]), int(d["maxSell"])

    def avail_size(self, instrument: str) -> tuple[Decimal, Decimal]:
        d = self.request("GET", "/v1/perpum/orders/availSize", {"instrument": instrument})
        return _dec(d["availBuy"]), _dec(d["availSell"])

    def close(self) -> None:
        self.http.close()
