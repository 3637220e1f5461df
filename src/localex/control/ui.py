"""The dashboard's files (localex/ui/), served at /localex/ui/ by the control plane.

Plain HTML, CSS and JavaScript shipped in the package: nothing is fetched from elsewhere, so the
dashboard works offline. The page reads and steers the emulator through the control plane's JSON
API, same-origin, with the admin token when the server asks for one.
"""

from __future__ import annotations

from importlib import resources

from localex.wire.http import Request, Response

TYPES = {".html": b"text/html; charset=utf-8", ".js": b"text/javascript; charset=utf-8",
         ".css": b"text/css; charset=utf-8", ".svg": b"image/svg+xml"}
NO_STORE = [(b"cache-control", b"no-cache"), (b"x-content-type-options", b"nosniff")]


def _files() -> dict[str, bytes]:
    root = resources.files("localex") / "ui"
    return {entry.name: entry.read_bytes() for entry in root.iterdir()
            if entry.is_file() and any(entry.name.endswith(ext) for ext in TYPES)}


_CACHE: dict[str, bytes] | None = None


def serve_ui(request: Request) -> Response:
    global _CACHE
    path = request.path
    if path.rstrip("/") in ("/localex", "/localex/ui") and not path.endswith("/ui/"):
        return Response(308, b"", content_type=b"text/plain", headers=[(b"location", b"/localex/ui/")])
    if _CACHE is None:
        _CACHE = _files()
    name = path[len("/localex/ui/"):] or "index.html"
    body = _CACHE.get(name)
    if body is None:
        return Response.json(404, {"error": {"code": "not_found", "message": f"no dashboard file {name}"}})
    ext = name[name.rfind("."):]
    return Response(200, b"" if request.method == "HEAD" else body, content_type=TYPES[ext],
                    headers=list(NO_STORE))
