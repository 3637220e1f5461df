"""Fault injection: make chosen requests fail the way real venues and networks do.

A fault matches a venue (or any), a path pattern (shell-style, "/api/v2/spot/*") and optionally a
method, and applies to the next N matching requests or to each with a seeded probability:

- error: the venue's own error envelope with a given code and message (and HTTP status);
- http: a bare HTTP error (e.g. 502) with a gateway-style HTML page, as a proxy would send;
- rate_limit: the venue's own rate-limit answer (Bitget HTTP 429 "429"; CoinW 29001);
- latency: the request is answered normally, `latency_ms` later;
- drop: the connection closes before a complete answer arrives.

On a stream path ("/v2/ws/*", "/perpum") a fault applies to the stream's frames (method "WS"):
error refuses the next login with the given code, latency delays pushes by `latency_ms`, drop
closes the connection (code 1006) in place of a push.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass
from http import HTTPStatus

from localex.wire.http import Request

KINDS = ("error", "http", "rate_limit", "latency", "drop")


@dataclass
class Fault:
    fault_id: int
    kind: str
    venue: str | None
    path: str
    method: str | None
    remaining: int | None  # the next N matching requests (None: no count)
    probability: float | None  # each matching request with this chance (None: always)
    code: str | None = None  # error
    message: str | None = None  # error
    status: int | None = None  # error, http
    latency_ms: int = 0  # latency
    hits: int = 0

    def matches(self, venue: str, request: Request) -> bool:
        return ((self.venue is None or self.venue == venue)
                and (self.method is None or self.method == request.method)
                and fnmatch.fnmatchcase(request.path, self.path))

    def as_json(self) -> dict:
        return {"id": self.fault_id, "kind": self.kind, "venue": self.venue, "path": self.path,
                "method": self.method, "remaining": self.remaining, "probability": self.probability,
                "code": self.code, "message": self.message, "status": self.status,
                "latencyMs": self.latency_ms, "hits": self.hits}


def gateway_page(status: int) -> bytes:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return (f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n").encode()


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(f"faults:{seed}")

    def add(self, kind: str, *, venue: str | None = None, path: str = "*", method: str | None = None,
            count: int | None = None, probability: float | None = None, code: str | None = None,
            message: str | None = None, status: int | None = None, latency_ms: int = 0) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"kind is one of {', '.join(KINDS)}")
        if count is not None and count <= 0:
            raise ValueError("count must be positive")
        if probability is not None and not 0 < probability <= 1:
            raise ValueError("probability must be in (0, 1]")
        if kind == "error" and not code:
            raise ValueError("an error fault needs the venue's code")
        if kind == "http" and (status is None or not 400 <= status <= 599):
            raise ValueError("an http fault needs a status from 400 to 599")
        if kind == "latency" and latency_ms <= 0:
            raise ValueError("a latency fault needs latency_ms > 0")
        with self._lock:
            fault = Fault(self._next_id, kind, venue, path, method.upper() if method else None, count,
                          probability, code, message, status, latency_ms)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def pick(self, venue: str, request: Request, kinds: tuple[str, ...] | None = None) -> Fault | None:
        """The fault that applies to this request, if any (counting it); `kinds` limits the
        kinds considered."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if not fault.matches(venue, request) or (kinds is not None and fault.kind not in kinds):
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return fault
        return None

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.fault_id != fault_id]
            return len(self._faults) != before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rng = random.Random(f"faults:{self._seed}")
