"""In-process WebSocket: connections to the venues' stream hosts, made with aiohttp
(`ClientSession.ws_connect`, which ccxt pro uses) or the `websockets` library
(`websockets.connect`, asyncio), are served by the emulator's own ASGI app on the caller's event
loop: no socket, no thread. The app sees the same websocket scope a server would give it (path,
query, headers, client 127.0.0.1), so the same transport and venue code answer.

Protocol-level pings from the client are answered with a pong, as a server's WebSocket library
does; a close from either side reaches the other as a close frame with its code.
"""

from __future__ import annotations

import asyncio
from typing import Any

from urllib.parse import urlsplit

CLIENT = ("127.0.0.1", 50000)


class HandshakeRefused(ConnectionError):
    """The emulator refused the WebSocket handshake (no stream on that path): HTTP 403."""


class Bridge:
    """One in-memory WebSocket connection to an ASGI app."""

    def __init__(self, app, url: str, headers: list[tuple[str, str]] | None = None) -> None:
        parts = urlsplit(url)
        self.url = url
        path = parts.path or "/"
        self.scope = {
            "type": "websocket", "asgi": {"version": "3.0"}, "scheme": parts.scheme or "wss",
            "path": path, "raw_path": path.encode(), "query_string": parts.query.encode(),
            "headers": [(k.lower().encode("latin-1"), str(v).encode("latin-1"))
                        for k, v in (headers or [])] + [(b"host", (parts.hostname or "").encode())],
            "client": CLIENT, "server": (parts.hostname or "", parts.port or 443),
            "subprotocols": [],
        }
        self.app = app
        self._to_app: asyncio.Queue = asyncio.Queue()
        self.incoming: asyncio.Queue = asyncio.Queue()  # ("text", str) | ("pong", b"") | ("close", code)
        self.closed = False
        self.close_code: int | None = None
        self._task: asyncio.Task | None = None

    async def open(self) -> "Bridge":
        accepted: asyncio.Future = asyncio.get_running_loop().create_future()

        async def send(message: dict) -> None:
            kind = message["type"]
            if kind == "websocket.accept":
                if not accepted.done():
                    accepted.set_result(True)
            elif kind == "websocket.send":
                text = message.get("text")
                self.incoming.put_nowait(("text", text) if text is not None else ("bytes", message.get("bytes")))
            elif kind == "websocket.close":
                if not accepted.done():
                    accepted.set_result(False)
                    return
                self._closed_by_server(message.get("code", 1000))

        async def receive() -> dict:
            return await self._to_app.get()

        async def run() -> None:
            try:
                await self.app(self.scope, receive, send)
            finally:
                if not accepted.done():
                    accepted.set_result(False)
                if not self.closed:
                    self._closed_by_server(1006)

        self._to_app.put_nowait({"type": "websocket.connect"})
        self._task = asyncio.ensure_future(run())
        if not await accepted:
            raise HandshakeRefused(f"localex refused the WebSocket handshake to {self.url} (HTTP 403)")
        return self

    def _closed_by_server(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.incoming.put_nowait(("close", code))

    def send_text(self, text: str) -> None:
        if self.closed:
            raise ConnectionError("the WebSocket is closed")
        self._to_app.put_nowait({"type": "websocket.receive", "text": text})

    def ping(self, data: bytes = b"") -> None:
        if not self.closed:
            self.incoming.put_nowait(("pong", data))

    async def close(self, code: int = 1000) -> None:
        if not self.closed:
            self.closed = True
            self.close_code = code
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": code})
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            except (asyncio.TimeoutError, Exception):
                pass


# aiohttp ------------------------------------------------------------------------------------------
class AiohttpWebSocket:
    """The parts of aiohttp.ClientWebSocketResponse that clients use (ccxt pro among them)."""

    _conn = None  # ccxt pro peeks at the transport's buffer through this; there is none

    def __init__(self, bridge: Bridge, autoping: bool = True) -> None:
        self._bridge = bridge
        self._autoping = autoping
        self._closed_seen = False

    @property
    def closed(self) -> bool:
        return self._bridge.closed

    @property
    def close_code(self) -> int | None:
        return self._bridge.close_code

    @property
    def protocol(self) -> str | None:
        return None

    def exception(self) -> BaseException | None:
        return None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return CLIENT if name == "peername" else default

    async def send_str(self, data: str, compress: int | None = None) -> None:
        self._bridge.send_text(data)

    async def send_bytes(self, data: bytes, compress: int | None = None) -> None:
        self._bridge.send_text(bytes(data).decode("utf-8", "replace"))

    async def send_json(self, data: Any, compress: int | None = None, *, dumps=None) -> None:
        import json

        self._bridge.send_text((dumps or json.dumps)(data))

    async def ping(self, message: bytes = b"") -> None:
        self._bridge.ping(message)

    async def pong(self, message: bytes = b"") -> None:
        return None

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        if self._bridge.closed:
            return False
        await self._bridge.close(code)
        return True

    async def receive(self, timeout: float | None = None):
        from aiohttp import WSMessage, WSMsgType

        if self._closed_seen:
            return WSMessage(WSMsgType.CLOSED, None, None)
        while True:
            get = self._bridge.incoming.get()
            kind, value = await (asyncio.wait_for(get, timeout) if timeout else get)
            if kind == "text":
                return WSMessage(WSMsgType.TEXT, value, None)
            if kind == "bytes":
                return WSMessage(WSMsgType.BINARY, value, None)
            if kind == "pong":
                if self._autoping:
                    continue
                return WSMessage(WSMsgType.PONG, value, None)
            self._closed_seen = True
            return WSMessage(WSMsgType.CLOSE, value, "")

    async def receive_str(self, *, timeout: float | None = None) -> str:
        from aiohttp import WSMsgType

        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.TEXT:
            raise TypeError(f"Received message {msg.type}:{msg.data!r} is not str")
        return msg.data

    async def receive_json(self, *, loads=None, timeout: float | None = None) -> Any:
        import json

        return (loads or json.loads)(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> "AiohttpWebSocket":
        return self

    async def __anext__(self):
        from aiohttp import WSMsgType

        msg = await self.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg

    async def __aenter__(self) -> "AiohttpWebSocket":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


# websockets --------------------------------------------------------------------------------------
class WebsocketsConnection:
    """The parts of websockets.asyncio.client.ClientConnection that clients use."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    @property
    def close_code(self) -> int | None:
        return self._bridge.close_code

    @property
    def state(self):
        from websockets.protocol import State

        return State.CLOSED if self._bridge.closed else State.OPEN

    @property
    def remote_address(self):
        return CLIENT

    def _closed_error(self):
        from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
        from websockets.frames import Close

        code = self._bridge.close_code or 1006
        rcvd = Close(code, "") if code != 1006 else None
        return (ConnectionClosedOK if code in (1000, 1001) else ConnectionClosedError)(rcvd, None)

    async def send(self, message) -> None:
        if self._bridge.closed:
            raise self._closed_error()
        self._bridge.send_text(message if isinstance(message, str) else bytes(message).decode())

    async def recv(self, decode: bool | None = None):
        while True:
            if self._bridge.closed and self._bridge.incoming.empty():
                raise self._closed_error()
            kind, value = await self._bridge.incoming.get()
            if kind == "text":
                return value
            if kind == "bytes":
                return value
            if kind == "close":
                raise self._closed_error()

    async def ping(self, data: bytes = b""):
        future = asyncio.get_running_loop().create_future()
        future.set_result(0.0)
        return future

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._bridge.close(code)

    async def wait_closed(self) -> None:
        if self._bridge._task is not None:
            await asyncio.shield(self._bridge._task)

    def __aiter__(self) -> "WebsocketsConnection":
        return self

    async def __anext__(self):
        from websockets.exceptions import ConnectionClosedOK

        try:
            return await self.recv()
        except ConnectionClosedOK:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> "WebsocketsConnection":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


async def open_bridge(emulator, url: str, headers: list[tuple[str, str]] | None = None) -> Bridge:
    return await Bridge(emulator.app, url, headers).open()
