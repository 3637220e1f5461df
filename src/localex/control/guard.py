"""What a request to the control plane must look like before its token (if any) is even read.

A web page the user visits can make the browser send requests to 127.0.0.1: simple cross-origin
requests (a form post, a `text/plain` fetch) go out without asking, and a page whose name the
attacker re-points at 127.0.0.1 (DNS rebinding) reads the answers as its own. So:

- Host: without an admin token, only a loopback name or address ("localhost", "127.0.0.1",
  "[::1]", any port) is answered; a rebinding page sends its own name. With an admin token the
  token is the guard (a page cannot know it), so the Host may be any name the server is reached by.
- Origin: when a browser says where a request comes from (Origin, or Sec-Fetch-Site), it must be
  this very server (scheme-less host:port equal to Host): the dashboard under /localex/ui/ is
  same-origin and passes; every other page is refused.
- Writes (POST, PUT, PATCH) must say `Content-Type: application/json` whenever they name a
  Content-Type at all, or come from a browser (Origin / Sec-Fetch-* headers): no HTML form and no
  simple fetch can send that type without a CORS preflight, which the control plane never
  grants. A non-browser client that names no Content-Type (curl -X POST .../reset, a script
  posting raw JSON bytes) is taken at its word.

Non-browser clients (the project's own, curl, the pytest plugin, httpx) send no Origin and a
loopback Host, and pass unchanged.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from localex.wire.http import Request

WRITES = frozenset({"POST", "PUT", "PATCH"})
BROWSER_HEADERS = ("origin", "sec-fetch-site", "sec-fetch-mode")


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def host_name(host: str) -> str:
    """"example.com:8700" -> "example.com"; "[::1]:8700" -> "::1"; lower-cased."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_loopback_name(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check(request: Request, *, token_required: bool) -> None:
    """Raise Refusal unless the request may reach the control plane's endpoints."""
    host = request.headers.get("host")
    if not token_required and host is not None and not is_loopback_name(host_name(host)):
        raise Refusal(403, "forbidden_host",
                      f"Host '{host}' is not a loopback name: without an admin token the control "
                      "plane answers only requests to localhost / 127.0.0.1 / [::1]")
    origin = request.headers.get("origin")
    if origin is not None:
        where = urlsplit(origin).netloc.lower() if origin != "null" else "null"
        if host is None or where != host.strip().lower():
            raise Refusal(403, "cross_origin",
                          f"requests from origin '{origin}' are refused: the control plane answers "
                          "its own origin only")
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise Refusal(403, "cross_origin", "cross-site requests are refused")
    if request.method in WRITES:
        content_type = request.headers.get("content-type")
        media = (content_type or "").split(";", 1)[0].strip().lower()
        browser = any(name in request.headers for name in BROWSER_HEADERS)
        if (content_type is not None or browser) and media != "application/json":
            raise Refusal(415, "json_required",
                          "a control-plane write carries JSON: Content-Type: application/json")
