"""A typed client for Bitget V2: signing (HMAC or RSA), envelope decoding, Decimal fields.

    from localex.client import BitgetClient
    client = BitgetClient("http://127.0.0.1:8700", api_key, secret_key, passphrase)
    ref = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.001", price="90000")
    order = client.spot_order(order_id=ref.order_id)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping
from urllib.parse import urlencode

import httpx

DEFAULT_BASE_URL = "https://api.bitget.com"


class BitgetAPIError(Exception):
    """A non-success answer: Bitget's code and message, and the HTTP status."""

    def __init__(self, status: int, code: str, msg: str, data: Any = None) -> None:
        super().__init__(f"HTTP {status} {code} {msg}")
        self.status, self.code, self.msg, self.data = status, code, msg, data


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


@dataclass(frozen=True)
class OrderRef:
    order_id: str
    client_oid: str


@dataclass(frozen=True)
class SpotSymbol:
    symbol: str
    base_coin: str
    quote_coin: str
    price_precision: int
    quantity_precision: int
    quote_precision: int
    min_trade_usdt: Decimal
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal
    status: str


@dataclass(frozen=True)
class Ticker:
    symbol: str
    last: Decimal
    bid: Decimal
    ask: Decimal
    ts: int


@dataclass(frozen=True)
class Asset:
    coin: str
    available: Decimal
    frozen: Decimal
    locked: Decimal
    u_time: int


@dataclass(frozen=True)
class SpotOrder:
    """One spot order as orderInfo / history-orders / unfilled-orders report it.

    `price` is the order price and `price_avg` the average fill price on every endpoint (the
    client undoes unfilled-orders' swap of priceAvg/basePrice)."""

    order_id: str
    client_oid: str
    symbol: str
    side: str
    order_type: str
    status: str
    price: Decimal | None
    size: Decimal
    price_avg: Decimal | None
    base_volume: Decimal
    quote_volume: Decimal
    fee_detail: dict | None
    order_source: str
    enter_point_source: str
    cancel_reason: str | None
    c_time: int
    u_time: int
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class SpotFill:
    trade_id: str
    order_id: str
    symbol: str
    side: str
    order_type: str
    price: Decimal
    size: Decimal
    amount: Decimal
    fee_coin: str
    total_fee: Decimal
    trade_scope: str
    c_time: int


def _order(row: Mapping[str, Any]) -> SpotOrder:
    unfilled = "basePrice" in row
    price = _dec(row["priceAvg"] if unfilled else row.get("price"))
    detail = row.get("feeDetail")
    return SpotOrder(
        order_id=row["orderId"], client_oid=row.get("clientOid", ""), symbol=row["symbol"],
        side=row["side"], order_type=row["orderType"], status=row["status"],
        price=price if price else None, size=Decimal(row["size"]),
        price_avg=_dec(row["basePrice"] if unfilled else row.get("priceAvg")),
        base_volume=Decimal(row["baseVolume"]), quote_volume=Decimal(row["quoteVolume"]),
        fee_detail=json.loads(detail) if detail else None, order_source=row.get("orderSource", ""),
        enter_point_source=row.get("enterPointSource", ""), cancel_reason=row.get("cancelReason"),
        c_time=int(row["cTime"]), u_time=int(row.get("uTime") or row["cTime"]), raw=row,
    )


class BitgetClient:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, api_key: str | None = None,
                 secret_key: str | None = None, passphrase: str | None = None, *,
                 private_key_pem: str | None = None, http: httpx.Client | None = None,
                 timeout: float = 10.0, locale: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key, self.secret_key, self.passphrase = api_key, secret_key, passphrase
        self._rsa = None
        if private_key_pem:
            from cryptography.hazmat.primitives import serialization

            self._rsa = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        self.http = http or httpx.Client(timeout=timeout)
        self.locale = locale

    # signing -----------------------------------------------------------------------------
    def sign(self, timestamp: str, method: str, path: str, query: str, body: str) -> str:
        message = (timestamp + method.upper() + path + ("?" + query if query else "") + body).encode()
        if self._rsa is not None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding

            return base64.b64encode(self._rsa.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
        if self.secret_key is None:
            raise ValueError("signing needs a secret key or an RSA private key")
        digest = hmac.new(self.secret_key.encode(), message, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None, *,
                signed: bool = True) -> Any:
        """Send one request; return `data`, or raise BitgetAPIError."""
        method = method.upper()
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        query = body = ""
        if method == "GET":
            ordered = sorted(clean.items())
            query = urlencode(ordered)
            signed_query = "&".join(f"{k}={v}" for k, v in ordered)
        else:
            body = json.dumps(clean, separators=(",", ":"))
            signed_query = ""
        headers = {"Content-Type": "application/json"}
        if self.locale:
            headers["locale"] = self.locale
        if signed:
            timestamp = str(int(time.time() * 1000))
            headers.update({
                "ACCESS-KEY": self.api_key or "",
                "ACCESS-SIGN": self.sign(timestamp, method, path, signed_query, body),
                "ACCESS-TIMESTAMP": timestamp,
                "ACCESS-PASSPHRASE": self.passphrase or "",
            })
        url = self.base_url + path + ("?" + query if query else "")
        response = self.http.request(method, url, content=body.encode() if body else None, headers=headers)
        try:
            payload = response.json()
        except ValueError:
            raise BitgetAPIError(response.status_code, "", response.text[:200]) from None
        if response.status_code != 200 or payload.get("code") != "00000":
            raise BitgetAPIError(response.status_code, str(payload.get("code")), payload.get("msg", ""),
                                 payload.get("data"))
        return payload.get("data")

    # common and market -------------------------------------------------------------------
    def server_time(self) -> int:
        return int(self.request("GET", "/api/v2/public/time", signed=False)["serverTime"])

    def spot_symbols(self, symbol: str | None = None) -> list[SpotSymbol]:
        rows = self.request("GET", "/api/v2/spot/public/symbols", {"symbol": symbol}, signed=False)
        return [SpotSymbol(r["symbol"], r["baseCoin"], r["quoteCoin"], int(r["pricePrecision"]),
                           int(r["quantityPrecision"]), int(r["quotePrecision"]),
                           Decimal(r["minTradeUSDT"]), Decimal(r["makerFeeRate"]),
                           Decimal(r["takerFeeRate"]), r["status"]) for r in rows]

    def tickers(self, symbol: str | None = None) -> list[Ticker]:
        rows = self.request("GET", "/api/v2/spot/market/tickers", {"symbol": symbol}, signed=False)
        return [Ticker(r["symbol"], Decimal(r["lastPr"]), Decimal(r["bidPr"]), Decimal(r["askPr"]),
                       int(r["ts"])) for r in rows]

    # account -----------------------------------------------------------------------------
    def assets(self, coin: str | None = None, asset_type: str | None = None) -> list[Asset]:
        rows = self.request("GET", "/api/v2/spot/account/assets", {"coin": coin, "assetType": asset_type})
        return [Asset(r["coin"], Decimal(r["available"]), Decimal(r["frozen"]), Decimal(r["locked"]),
                      int(r["uTime"])) for r in rows]

    # trade -------------------------------------------------------------------------------
    def place_spot_order(self, symbol: str, side: str, order_type: str, size: Decimal | str,
                         price: Decimal | str | None = None, force: str = "gtc",
                         client_oid: str | None = None, **extra: Any) -> OrderRef:
        params = {"symbol": symbol, "side": side, "orderType": order_type, "force": force,
                  "size": str(size), "price": None if price is None else str(price),
                  "clientOid": client_oid, **extra}
        data = self.request("POST", "/api/v2/spot/trade/place-order", params)
        return OrderRef(data["orderId"], data["clientOid"])

    def cancel_spot_order(self, symbol: str, order_id: str | None = None,
                          client_oid: str | None = None) -> OrderRef:
        data = self.request("POST", "/api/v2/spot/trade/cancel-order",
                            {"symbol": symbol, "orderId": order_id, "clientOid": client_oid})
        return OrderRef(data["orderId"], data["clientOid"])

    def spot_order(self, order_id: str | None = None, client_oid: str | None = None) -> SpotOrder | None:
        rows = self.request("GET", "/api/v2/spot/trade/orderInfo",
                            {"orderId": order_id, "clientOid": client_oid})
        return _order(rows[0]) if rows else None

    def unfilled_orders(self, symbol: str | None = None, **params: Any) -> list[SpotOrder]:
        rows = self.request("GET", "/api/v2/spot/trade/unfilled-orders", {"symbol": symbol, **params})
        return [_order(r) for r in rows]

    def history_orders(self, symbol: str | None = None, **params: Any) -> list[SpotOrder]:
        rows = self.request("GET", "/api/v2/spot/trade/history-orders", {"symbol": symbol, **params})
        return [_order(r) for r in rows]

    def fills(self, symbol: str | None = None, **params: Any) -> list[SpotFill]:
        rows = self.request("GET", "/api/v2/spot/trade/fills", {"symbol": symbol, **params})
        return [SpotFill(r["tradeId"], r["orderId"], r["symbol"], r["side"], r["orderType"],
                         Decimal(r["priceAvg"]), Decimal(r["size"]), Decimal(r["amount"]),
                         r["feeDetail"]["feeCoin"], Decimal(r["feeDetail"]["totalFee"]),
                         r["tradeScope"], int(r["cTime"])) for r in rows]

    def close(self) -> None:
        self.http.close()
