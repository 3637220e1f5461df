"""Minimal HTTP request/response values shared by the venues and the control plane."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import orjson


class _once:
    """functools.cached_property without its lock (Python 3.11 takes one at every first read,
    once per request): the value is computed at the first read and kept in the instance."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.fn(instance)
        return value


@dataclass
class Request:
    method: str
    path: str
    raw_query: str  # exactly as received, still percent-encoded
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""
    client_ip: str | None = None
    raw_path: str = ""  # the path as sent, still percent-encoded (what clients sign)

    def __post_init__(self) -> None:
        if not self.raw_path:
            self.raw_path = self.path

    @_once
    def query_pairs(self) -> list[tuple[str, str]]:
        """Every decoded (name, value) pair of the query, in the order received."""
        return query_pairs(self.raw_query)

    @_once
    def query(self) -> dict[str, str]:
        """Decoded query parameters; a repeated name keeps its first value."""
        params: dict[str, str] = {}
        # the pairs if already read, else decoded here without keeping them (a signature that
        # verifies on the query as received never reads them)
        for name, value in self.__dict__.get("query_pairs") or query_pairs(self.raw_query):
            params.setdefault(name, value)
        return params

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def query_pairs(raw: str) -> list[tuple[str, str]]:
    """parse_qsl(raw, keep_blank_values=True): a query with nothing to decode (no "%", no "+",
    the common case) is split directly, to the same pairs."""
    if "%" in raw or "+" in raw:
        return parse_qsl(raw, keep_blank_values=True)
    pairs = []
    for part in raw.split("&") if raw else ():
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


@dataclass
class Response:
    status: int
    body: bytes
    content_type: bytes = b"application/json"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    delay_ms: int = 0  # injected latency: answer this much later
    dropped: bool = False  # injected failure: the connection closes before a complete answer

    @classmethod
    def json(cls, status: int, payload: object) -> "Response":
        return cls(status, orjson.dumps(payload))

    def json_body(self) -> object:
        return orjson.loads(self.body)


def names_same_pairs(signed: str, pairs: list[tuple[str, str]], *, any_order: bool = False) -> bool:
    """Whether a decoded query a client signed ("a=1&b=2", read literally: no further decoding)
    names exactly the pairs the handler reads. A decoded form is only a stand-in for the bytes
    received when it cannot be read two ways: "symbol=BTCUSDT%26productType%3DX" decodes to text
    that reads as two parameters while the handler reads one, so that form must not verify."""
    read = []
    for part in signed.split("&") if signed else []:
        name, sep, value = part.partition("=")
        read.append((name, value))
    if any_order:
        return sorted(read) == sorted(pairs)
    return read == list(pairs)
