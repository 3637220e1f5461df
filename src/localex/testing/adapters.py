"""Adapters from HTTP client libraries to the in-process emulator.

Each adapter patches the one place its library hands a finished request to the network:

- httpx:    HTTPTransport.handle_request and AsyncHTTPTransport.handle_async_request
- requests: HTTPAdapter.send
- aiohttp:  ClientSession._request (the request is built by aiohttp's own ClientRequest, so
            headers, query and body are the bytes aiohttp would put on the wire)
- WebSocket: aiohttp's ClientSession._ws_connect and websockets' asyncio connect.connect: a
            connection to a venue's stream host is served in memory (testing/streams.py)

A request whose host routes to a venue becomes a localex Request (method, percent-decoded path,
raw path, raw query, headers, raw body, client IP 127.0.0.1) answered by the emulator; any other
request goes to the original method. Libraries that are not installed are skipped.
"""

from __future__ import annotations

import asyncio
import http
import io
import json as jsonlib
import time
from typing import Any, Callable, Iterable
from urllib.parse import unquote, urlsplit

from localex.wire.http import Request, Response

CLIENT_IP = "127.0.0.1"

_route: Callable[[str | None], Any] | None = None
_originals: list[tuple[type, str, Any]] = []


def install(route: Callable[[str | None], Any]) -> None:
    """Patch every installed library; `route(host)` gives (emulator, venue) or None."""
    global _route
    if _originals:
        raise RuntimeError("localex adapters are already installed")
    _route = route
    for patcher in (_patch_httpx, _patch_requests, _patch_aiohttp, _patch_aiohttp_ws, _patch_websockets):
        patcher()


def uninstall() -> None:
    global _route
    while _originals:
        cls, name, original = _originals.pop()
        setattr(cls, name, original)
    _route = None


def _patch(cls: type, name: str, make: Callable[[Any], Any]) -> None:
    original = cls.__dict__[name]
    _originals.append((cls, name, original))
    setattr(cls, name, make(original))


def _target(host: str | None):
    route = _route
    return None if route is None else route(host)


def _build_request(method: str, raw_path: str, raw_query: str,
                   headers: Iterable[tuple[str, str]], body: bytes) -> Request:
    """A localex Request as the ASGI server builds one (a repeated header keeps its last value)."""
    raw_path = raw_path or "/"
    return Request(method=method.upper(), path=unquote(raw_path), raw_query=raw_query,
                   headers={k.lower(): v for k, v in headers}, body=body, client_ip=CLIENT_IP,
                   raw_path=raw_path)


def _response_headers(response: Response) -> list[tuple[str, str]]:
    """What the server sends: content-type, the venue's own headers, content-length."""
    headers = [("content-type", response.content_type.decode("latin-1"))]
    headers += [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]
    headers.append(("content-length", str(len(response.body))))
    return headers


def _wait(answer: Response) -> None:
    """Injected latency, for synchronous clients."""
    if answer.delay_ms:
        time.sleep(answer.delay_ms / 1000)


async def _async_wait(answer: Response) -> None:
    if answer.delay_ms:
        await asyncio.sleep(answer.delay_ms / 1000)


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


# httpx ------------------------------------------------------------------------------------
def _patch_httpx() -> None:
    try:
        import httpx
    except ImportError:
        return

    def localex_request(request: "httpx.Request") -> Request:
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        return _build_request(request.method, raw_path, raw_query, headers, request.content)

    def httpx_response(request: "httpx.Request", response: Response) -> "httpx.Response":
        return httpx.Response(response.status, headers=_response_headers(response),
                              content=response.body, request=request,
                              extensions={"http_version": b"HTTP/1.1",
                                          "reason_phrase": _reason(response.status).encode()})

    def make_sync(original):
        def handle_request(self, request):
            target = _target(request.url.host)
            if target is None:
                return original(self, request)
            emulator, venue = target
            request.read()
            answer = emulator.dispatch(venue, localex_request(request))
            _wait(answer)
            if answer.dropped:
                raise httpx.RemoteProtocolError("peer closed connection without sending complete "
                                                "message body", request=request)
            return httpx_response(request, answer)
        return handle_request

    def make_async(original):
        async def handle_async_request(self, request):
            target = _target(request.url.host)
            if target is None:
                return await original(self, request)
            emulator, venue = target
            await request.aread()
            answer = emulator.dispatch(venue, localex_request(request))
            await _async_wait(answer)
            if answer.dropped:
                raise httpx.RemoteProtocolError("peer closed connection without sending complete "
                                                "message body", request=request)
            return httpx_response(request, answer)
        return handle_async_request

    _patch(httpx.HTTPTransport, "handle_request", make_sync)
    _patch(httpx.AsyncHTTPTransport, "handle_async_request", make_async)


# requests ---------------------------------------------------------------------------------
def _body_bytes(body: Any) -> bytes:
    """A PreparedRequest body as urllib3 would send it."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


def _patch_requests() -> None:
    try:
        from requests.adapters import HTTPAdapter
        from urllib3 import HTTPResponse
    except ImportError:
        return

    default_ports = {"http": 80, "https": 443}

    def make(original):
        def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
            parts = urlsplit(request.url)
            target = _target(parts.hostname)
            if target is None:
                return original(self, request, stream=stream, timeout=timeout, verify=verify,
                                cert=cert, proxies=proxies)
            emulator, venue = target
            headers = list(request.headers.items())
            if "host" not in {k.lower() for k, _ in headers}:  # http.client adds it on the wire
                host = parts.hostname or ""
                if parts.port and parts.port != default_ports.get(parts.scheme):
                    host = f"{host}:{parts.port}"
                headers.insert(0, ("Host", host))
            answer = emulator.dispatch(venue, _build_request(request.method, parts.path, parts.query,
                                                             headers, _body_bytes(request.body)))
            _wait(answer)
            if answer.dropped:
                from requests.exceptions import ConnectionError as RequestsConnectionError

                raise RequestsConnectionError("Connection aborted: the remote end closed the "
                                              "connection without a complete response", request=request)
            raw = HTTPResponse(body=io.BytesIO(answer.body), headers=_response_headers(answer),
                               status=answer.status, reason=_reason(answer.status), version=11,
                               preload_content=False, decode_content=False)
            return self.build_response(request, raw)
        return send

    _patch(HTTPAdapter, "send", make)


# aiohttp ----------------------------------------------------------------------------------
class _Done:
    """An already finished awaitable (aiohttp's release() may or may not be awaited)."""

    def __await__(self):
        return iter(())


class _Content:
    """The response body as a minimal aiohttp StreamReader."""

    def __init__(self, body: bytes) -> None:
        self._buf = io.BytesIO(body)

    async def read(self, n: int = -1) -> bytes:
        return self._buf.read(n)

    async def readany(self) -> bytes:
        return self._buf.read()

    async def readline(self) -> bytes:
        return self._buf.readline()

    async def readexactly(self, n: int) -> bytes:
        data = self._buf.read(n)
        if len(data) < n:
            raise asyncio.IncompleteReadError(data, n)
        return data

    def at_eof(self) -> bool:
        return self._buf.tell() >= len(self._buf.getbuffer())

    async def iter_chunked(self, n: int):
        while chunk := self._buf.read(n):
            yield chunk

    async def iter_any(self):
        if chunk := self._buf.read():
            yield chunk


class AiohttpResponse:
    """The parts of aiohttp.ClientResponse that clients use (ccxt.async_support among them)."""

    def __init__(self, method: str, url, status: int, headers: list[tuple[str, str]], body: bytes,
                 request_headers) -> None:
        import aiohttp
        from multidict import CIMultiDict, CIMultiDictProxy

        self.method = method
        self.url = self.real_url = url
        self.status = status
        self.reason = _reason(status)
        self.version = aiohttp.HttpVersion11
        self.headers = CIMultiDictProxy(CIMultiDict(headers))
        self.raw_headers = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers)
        self.history: tuple = ()
        self.request_info = aiohttp.RequestInfo(url, method, CIMultiDictProxy(CIMultiDict(request_headers)), url)
        self.content = _Content(body)
        self._body = body
        self.closed = False

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset":
                return value.strip('"') or None
        return None

    @property
    def content_length(self) -> int:
        return len(self._body)

    def get_encoding(self) -> str:
        return self.charset or "utf-8"

    async def read(self) -> bytes:
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        return self._body.decode(encoding or self.get_encoding(), errors)

    async def json(self, *, encoding: str | None = None, loads: Callable = jsonlib.loads,
                   content_type: str | None = "application/json") -> Any:
        import aiohttp

        if content_type and content_type not in self.content_type:
            raise aiohttp.ContentTypeError(
                self.request_info, self.history, status=self.status, headers=self.headers,
                message=f"Attempt to decode JSON with unexpected mimetype: {self.content_type}")
        text = self._body.decode(encoding or self.get_encoding()).strip()
        return loads(text) if text else None

    def raise_for_status(self) -> None:
        import aiohttp

        if not self.ok:
            raise aiohttp.ClientResponseError(self.request_info, self.history, status=self.status,
                                              message=self.reason, headers=self.headers)

    def release(self) -> _Done:
        return _Done()

    def close(self) -> None:
        self.closed = True

    async def wait_for_close(self) -> None:
        return None

    async def __aenter__(self) -> "AiohttpResponse":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<localex AiohttpResponse({self.url}) [{self.status} {self.reason}]>"


async def _payload_bytes(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if hasattr(body, "as_bytes"):
        return await body.as_bytes()

    class Collect:  # older aiohttp: let the payload write itself
        def __init__(self) -> None:
            self.chunks: list[bytes] = []

        async def write(self, chunk: bytes) -> None:
            self.chunks.append(bytes(chunk))

    sink = Collect()
    await body.write(sink)
    return b"".join(sink.chunks)


def _patch_aiohttp() -> None:
    try:
        import aiohttp
        from aiohttp import payload
        from multidict import istr
        from yarl import URL
    except ImportError:
        return

    def make(original):
        async def _request(self, method, str_or_url, **kwargs):
            build = getattr(self, "_build_url", None)
            url = build(str_or_url) if build is not None else URL(str_or_url)
            target = _target(url.host)
            if target is None:
                return await original(self, method, str_or_url, **kwargs)
            emulator, venue = target
            if self.closed:
                raise RuntimeError("Session is closed")
            data, json_value = kwargs.get("data"), kwargs.get("json")
            if data is not None and json_value is not None:
                raise ValueError("data and json parameters can not be used at the same time")
            if json_value is not None:
                data = payload.JsonPayload(json_value, dumps=self._json_serialize)
            skip = kwargs.get("skip_auto_headers")
            skip_headers = ({istr(h) for h in skip} | set(self._skip_auto_headers)
                            if skip is not None else (self._skip_auto_headers or None))
            req = self._request_class(
                method.upper(), url, params=kwargs.get("params"),
                headers=self._prepare_headers(kwargs.get("headers")),
                skip_auto_headers=skip_headers, data=data,
                cookies=self._cookie_jar.filter_cookies(url),
                auth=kwargs.get("auth") or self._default_auth, version=self._version,
                loop=asyncio.get_running_loop(), session=self,
            )
            sent = req.url
            body = await _payload_bytes(req.body)
            headers = list(req.headers.items())
            answer = emulator.dispatch(venue, _build_request(req.method, sent.raw_path,
                                                             sent.raw_query_string, headers, body))
            await _async_wait(answer)
            if answer.dropped:
                raise aiohttp.ServerDisconnectedError()
            response = AiohttpResponse(req.method, sent, answer.status, _response_headers(answer),
                                       answer.body, req.headers)
            check = kwargs.get("raise_for_status")
            if check is None:
                check = getattr(self, "_raise_for_status", False)
            if check is True:
                response.raise_for_status()
            elif callable(check):
                await check(response)
            return response
        return _request

    _patch(aiohttp.ClientSession, "_request", make)


# WebSocket ----------------------------------------------------------------------------------
def _patch_aiohttp_ws() -> None:
    try:
        import aiohttp
        from yarl import URL
    except ImportError:
        return
    from localex.testing.streams import AiohttpWebSocket, Bridge

    def make(original):
        async def _ws_connect(self, url, **kwargs):
            build = getattr(self, "_build_url", None)
            target_url = build(url) if build is not None else URL(url)
            target = _target(target_url.host)
            if target is None:
                return await original(self, url, **kwargs)
            emulator, _venue = target
            headers = list((kwargs.get("headers") or {}).items()) if isinstance(
                kwargs.get("headers"), dict) else list(kwargs.get("headers") or [])
            bridge = await Bridge(emulator.app, str(target_url), headers).open()
            return AiohttpWebSocket(bridge, autoping=kwargs.get("autoping", True))
        return _ws_connect

    _patch(aiohttp.ClientSession, "_ws_connect", make)


def _patch_websockets() -> None:
    try:
        from websockets.asyncio import client
    except ImportError:
        return
    from localex.testing.streams import Bridge, WebsocketsConnection

    def make(original):
        async def connect(self):
            uri = getattr(self, "uri", None)
            host = urlsplit(uri).hostname if isinstance(uri, str) else None
            target = _target(host)
            if target is None:
                return await original(self)
            emulator, _venue = target
            headers = getattr(self, "additional_headers", None) or []
            if isinstance(headers, dict):
                headers = list(headers.items())
            bridge = await Bridge(emulator.app, uri, list(headers)).open()
            return WebsocketsConnection(bridge)
        return connect

    _patch(client.connect, "connect", make)
