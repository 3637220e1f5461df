"""The operator's commands: `localex status`, `price`, `advance`, `fault`, `journal`, `snapshot`,
`users`, `fund`, each one call (or a few) to a running server's control plane.

The server's URL and admin token come from --url / --admin-token or LOCALEX_URL /
LOCALEX_ADMIN_TOKEN. Calls are same-origin JSON (Content-Type: application/json), as the control
plane expects. A server that does not answer, or refuses, is said in one line.
"""

from __future__ import annotations

import json
import re
import sys
import time
from decimal import Decimal, InvalidOperation

import click

DEFAULT_URL = "http://127.0.0.1:8700"
UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class OperatorError(click.ClickException):
    def show(self, file=None) -> None:
        click.echo(f"localex: {self.message}", err=True)


def parse_duration(text: str) -> int:
    """'1h', '15m', '30s', '250ms', '2d' or plain milliseconds -> milliseconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*", text)
    if not found:
        raise click.BadParameter(f"'{text}' is not a duration (1h, 15m, 30s, 250ms, 2d)")
    return int(Decimal(found.group(1)) * UNITS_MS[found.group(2) or "ms"])


class Server:
    def __init__(self, url: str, token: str | None) -> None:
        import httpx

        self.url = url.rstrip("/")
        headers = {"content-type": "application/json", "accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def call(self, method: str, path: str, body=None, params=None):
        import httpx

        try:
            response = self.http.request(method, path, params=params,
                                         content=None if body is None else json.dumps(body))
        except httpx.TransportError:
            raise OperatorError(f"no localex server answers at {self.url} (start one with "
                                "`localex serve`, or point --url / LOCALEX_URL at it)") from None
        if response.status_code == 401:
            raise OperatorError("the server asks for its admin token: --admin-token or LOCALEX_ADMIN_TOKEN")
        try:
            data = response.json()
        except ValueError:
            raise OperatorError(f"{self.url} answered HTTP {response.status_code}, not localex's "
                                "control plane (is this a localex server?)") from None
        if response.status_code >= 400:
            err = data.get("error", {}) if isinstance(data, dict) else {}
            raise OperatorError(f"{err.get('code', response.status_code)}: {err.get('message', response.text)}")
        return data


def server_options(fn):
    fn = click.option("--admin-token", envvar="LOCALEX_ADMIN_TOKEN",
                      help="The server's admin token (env LOCALEX_ADMIN_TOKEN).")(fn)
    fn = click.option("--url", envvar="LOCALEX_URL", default=DEFAULT_URL, show_default=True,
                      help="The server (env LOCALEX_URL).")(fn)
    return fn


def _num(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"'{text}' is not a decimal number") from None
    if not value.is_finite():
        raise click.BadParameter(f"'{text}' is not a decimal number")
    return text


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def journal_line(e: dict) -> str:
    key = e.get("apiKey") or ""
    key = key[:10] + "…" if len(key) > 10 else key
    return " ".join(str(x) for x in (_when(e["time"]), e["venue"], e["method"], e["path"], e["status"],
                                      e.get("code") or "-", f"{e.get('latencyMs', 0):.1f}ms", key)).rstrip()


def register(main: click.Group) -> None:
    @main.command()
    @server_options
    def status(url, admin_token):
        """What the running server is: version, venues, clock, instruments, users, faults."""
        srv = Server(url, admin_token)
        health = srv.call("GET", "/localex/health")
        clock = srv.call("GET", "/localex/clock")
        prices = srv.call("GET", "/localex/prices")
        users = srv.call("GET", "/localex/users")
        faults = srv.call("GET", "/localex/faults")
        kind = clock.get("kind", "manual" if clock.get("manual") else "system")
        speed = f" x{clock['speed']}" if kind == "speed" else ""
        click.echo(f"localex {health['version']} at {srv.url}: {health['status']}")
        click.echo(f"  venues:      {', '.join(health['venues'])}")
        click.echo(f"  clock:       {kind}{speed}, market time {_when(clock['now'])}")
        click.echo(f"  users:       {len(users)}   faults: {len(faults)}")
        click.echo(f"  dashboard:   {srv.url}/localex/ui/")
        for key in sorted(prices):
            click.echo(f"  {key:<32} {prices[key]}")

    @main.command()
    @click.argument("symbol")
    @click.argument("price", callback=lambda c, p, v: _num(v))
    @click.option("--venue", default="bitget", show_default=True)
    @click.option("--market", default="spot", show_default=True,
                  help="spot, usdt-futures, coin-futures, usdc-futures, or CoinW's futures.")
    @server_options
    def price(symbol, price, venue, market, url, admin_token):
        """Set a mark price; every order it reaches fills (the fills are listed)."""
        srv = Server(url, admin_token)
        r = srv.call("POST", "/localex/prices", {"venue": venue, "market": market, "symbol": symbol,
                                                 "price": price})
        click.echo(f"{r['venue']} {r['market']} {r['symbol']} at {r['price']}: {len(r['fills'])} fill(s)"
                   + (f", {len(r['liquidations'])} liquidation(s)" if r.get("liquidations") else ""))
        for f in r["fills"]:
            click.echo(f"  fill  uid {f['uid']} order {f['orderId']} {f['side']} {f['size']} @ {f['price']}"
                       f" {f['liquidity']}")
        for liq in r.get("liquidations", []):
            click.echo(f"  liquidation  uid {liq['uid']} position {liq['positionId']} {liq['posSide']} "
                       f"{liq['size']} @ {liq['price']}")

    @main.command()
    @click.argument("duration")
    @server_options
    def advance(duration, url, admin_token):
        """Move a manual clock forward (1h, 15m, 30s, 250ms, 2d), walking the price paths."""
        ms = parse_duration(duration)
        r = Server(url, admin_token).call("POST", "/localex/clock", {"advance": ms})
        click.echo(f"market time {_when(r['now'])} ({r['pricesApplied']} price(s) applied)")

    @main.group()
    def fault():
        """Inject, list and clear faults."""

    @fault.command("add")
    @click.argument("kind", type=click.Choice(["error", "http", "rate_limit", "latency", "drop"]))
    @click.option("--venue", help="bitget or coinw (default: any).")
    @click.option("--path", default="*", show_default=True, help="Path pattern, e.g. '/api/v2/spot/*'.")
    @click.option("--method", help="Only this HTTP method.")
    @click.option("--count", type=int, help="The next N matching requests (default: every one).")
    @click.option("--probability", type=float, help="Each matching request with this probability (seeded).")
    @click.option("--code", help="The venue's error code (kind error).")
    @click.option("--message", help="The venue's error message (kind error).")
    @click.option("--status", type=int, help="HTTP status (kinds error and http).")
    @click.option("--latency-ms", type=int, help="Delay in milliseconds (kind latency).")
    @server_options
    def fault_add(kind, venue, path, method, count, probability, code, message, status, latency_ms,
                  url, admin_token):
        body = {"kind": kind, "venue": venue, "path": path, "method": method, "count": count,
                "probability": probability, "code": code, "message": message, "status": status,
                "latencyMs": latency_ms}
        r = Server(url, admin_token).call("POST", "/localex/faults",
                                          {k: v for k, v in body.items() if v is not None})
        click.echo(f"fault {r['id']} added: {r['kind']} on {r['venue'] or 'any venue'} {r['path']}")

    @fault.command("list")
    @server_options
    def fault_list(url, admin_token):
        faults = Server(url, admin_token).call("GET", "/localex/faults")
        if not faults:
            click.echo("no faults")
        for f in faults:
            left = f["remaining"] if f["remaining"] is not None else (
                f"p={f['probability']}" if f["probability"] is not None else "always")
            extra = " ".join(f"{k}={f[k]}" for k in ("code", "status", "latencyMs") if f.get(k))
            click.echo(f"{f['id']:>3} {f['kind']:<10} {f['venue'] or 'any':<7} {f['path']:<28} "
                       f"left {left} hits {f['hits']} {extra}".rstrip())

    @fault.command("clear")
    @click.option("--id", "fault_id", type=int, help="Remove only this fault.")
    @server_options
    def fault_clear(fault_id, url, admin_token):
        params = {"id": fault_id} if fault_id is not None else None
        r = Server(url, admin_token).call("DELETE", "/localex/faults", params=params)
        click.echo(f"fault {fault_id} removed" if fault_id is not None else "faults cleared")
        return r

    @main.command()
    @click.option("--follow", "-f", is_flag=True, help="Keep printing entries as they arrive.")
    @click.option("--venue", help="Only this venue.")
    @click.option("--path", help="Only paths matching this pattern.")
    @click.option("--tail", type=int, default=20, show_default=True, help="Start with the newest N.")
    @click.option("--count", type=int, help="Stop after printing N entries.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON entry a line (request and answer).")
    @server_options
    def journal(follow, venue, path, tail, count, as_json, url, admin_token):
        """The venue requests the server received, with status, venue code and latency."""
        srv = Server(url, admin_token)
        filters = {k: v for k, v in (("venue", venue), ("path", path)) if v}
        entries = srv.call("GET", "/localex/journal", params={**filters, "tail": max(tail, 0)})
        printed, seq = 0, 0
        if not entries:  # follow on from the newest entry there is
            newest = srv.call("GET", "/localex/journal", params={**filters, "tail": 1})
            seq = newest[-1]["seq"] if newest else 0
        while True:
            for e in entries:
                if count is not None and printed >= count:
                    return
                click.echo(json.dumps(e) if as_json else journal_line(e))
                sys.stdout.flush()
                printed += 1
                seq = max(seq, e["seq"])
            if not follow or (count is not None and printed >= count):
                return
            time.sleep(0.5)
            entries = srv.call("GET", "/localex/journal", params={**filters, "afterSeq": seq})

    @main.group()
    def snapshot():
        """Save the whole state to a file, or put one back."""

    @snapshot.command("save")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    @server_options
    def snapshot_save(file, url, admin_token):
        data = Server(url, admin_token).call("GET", "/localex/snapshot")
        with open(file, "w") as fh:
            json.dump(data, fh)
        click.echo(f"snapshot saved to {file}")

    @snapshot.command("load")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @server_options
    def snapshot_load(file, url, admin_token):
        try:
            with open(file) as fh:
                data = json.load(fh)
        except ValueError:
            raise OperatorError(f"{file} is not a JSON snapshot") from None
        r = Server(url, admin_token).call("POST", "/localex/snapshot", data)
        click.echo(f"snapshot {file} restored (market time {_when(r['now'])})")

    @main.command()
    @click.option("--venue", help="Only this venue.")
    @server_options
    def users(venue, url, admin_token):
        """Users, with their balances."""
        srv = Server(url, admin_token)
        rows = srv.call("GET", "/localex/users", params={"venue": venue} if venue else None)
        if not rows:
            click.echo("no users")
        for u in rows:
            click.echo(f"{u['venue']:<7} {u['uid']:<12} {u['name']}")
            account = srv.call("GET", "/localex/accounts", params={"uid": u["uid"]})
            for b in account["balances"]:
                click.echo(f"    {b['account']:<13} {b['asset']:<6} available {b['available']:<22} "
                           f"frozen {b['frozen']}")

    @main.command(context_settings={"ignore_unknown_options": True})  # "-150" is an amount
    @click.argument("uid")
    @click.argument("asset")
    @click.argument("amount", callback=lambda c, p, v: _num(v))
    @click.option("--account", default="spot", show_default=True,
                  help="spot, or a futures account: usdt-futures, coin-futures, usdc-futures, CoinW futures.")
    @server_options
    def fund(uid, asset, amount, account, url, admin_token):
        """Credit (a negative amount: debit) a user's available balance."""
        b = Server(url, admin_token).call("POST", "/localex/balances", {"uid": uid, "asset": asset,
                                                                        "amount": amount, "account": account})
        click.echo(f"{b['uid']} {b['account']} {b['asset']}: available {b['available']}, frozen {b['frozen']}")
