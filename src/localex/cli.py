"""Command line: `localex serve`."""

from __future__ import annotations

import ipaddress
import json
import secrets
import sys

import click

import localex


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(db: str | None, seed: int, rate_limits: bool = True, admin_token: str | None = None,
              demo: bool = True, clock: str = "system", speed: float | None = None,
              price_path: str = "static", sign_with_market_clock: bool = False,
              restore: str | None = None, start: int | None = None, fresh_secrets: bool = False):
    """The engine, the app and the demo accounts, as `serve` runs them.

    clock: "system" or "manual" (moved through the control plane); speed: market time runs this
    many times faster than wall time; price_path: "static", "random" (a seeded random walk per
    instrument) or "candles" (the shipped candle sample, on every Bitget BTC instrument);
    restore: a snapshot file to start from; start: a manual clock's first time (ms; default the
    wall time); fresh_secrets: the demo keys' secrets from the OS's randomness, not the seed."""
    from localex.demo import set_price_paths, start_world
    from localex.engine import Engine
    from localex.engine.clock import ManualClock, ScaledClock, SystemClock
    from localex.server.app import LocalexApp
    from localex.store import open_store

    if start is not None and clock != "manual":
        raise click.UsageError("--start sets a manual clock's first time; it goes with --clock manual")
    if speed is not None and clock == "manual":
        raise click.UsageError("--speed runs the clock by itself; it does not go with --clock manual")
    if speed is not None:
        engine_clock = ScaledClock(speed)
    elif clock == "manual":
        engine_clock = ManualClock(SystemClock().now_ms() if start is None else start)
    else:
        engine_clock = SystemClock()
    engine = Engine(open_store(db), clock=engine_clock, seed=seed)
    if restore:
        from localex.store.snapshot import SnapshotError

        try:
            with open(restore, "rb") as fh:
                engine.restore(json.loads(fh.read()))
        except (ValueError, OSError) as err:  # SnapshotError, bad JSON, an unreadable file
            kind = "refused" if isinstance(err, SnapshotError) else "unreadable"
            raise click.UsageError(f"snapshot {restore} {kind}: {err}") from None
    accounts = start_world(engine, fresh_secrets=fresh_secrets) if demo else []
    if price_path != "static":
        set_price_paths(engine, price_path)
    app = LocalexApp(engine, rate_limits=rate_limits, admin_token=admin_token,
                     wall_clock=engine_clock if sign_with_market_clock else None)
    return app, accounts


@click.group()
@click.version_option(localex.__version__, prog_name="localex")
def main() -> None:
    """localex: a local, stateful, wire-faithful crypto-exchange API emulator."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, type=int, help="Port to listen on.")
@click.option("--db", default="localex.db", show_default=True,
              help='SQLite file, ":memory:", or an SQLAlchemy database URL.')
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random source.")
@click.option("--write-credentials", "credentials_file", type=click.Path(dir_okay=False),
              help="Write the demo accounts' credentials to this JSON file.")
@click.option("--no-demo", is_flag=True, help="Start empty: no instruments, prices or demo account.")
@click.option("--no-rate-limits", is_flag=True, help="Switch the venues' rate limits off.")
@click.option("--admin-token", envvar="LOCALEX_ADMIN_TOKEN",
              help="Token the control plane requires (generated when listening beyond loopback).")
@click.option("--clock", "clock_mode", default="system", show_default=True,
              type=click.Choice(["system", "manual"]),
              help="Market time: the system clock, or a manual clock moved through the control plane.")
@click.option("--start", "start_time", metavar="TIME",
              help="A manual clock's first time: epoch milliseconds or ISO 8601 "
                   "(2026-01-01T00:00:00Z). Two runs with the same --seed and --start give the "
                   "same bytes.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True),
              help="Run market time N times faster than wall time.")
@click.option("--price-path", default="static", show_default=True,
              type=click.Choice(["static", "random", "candles"]),
              help="How prices move by themselves: not at all, a seeded random walk, or the "
                   "shipped candle sample.")
@click.option("--sign-with-market-clock", is_flag=True,
              help="Check signature timestamps against market time instead of wall time.")
@click.option("--restore", "restore_file", type=click.Path(exists=True, dir_okay=False),
              help="Start from a snapshot file (GET /localex/snapshot).")
@click.option("--forwarded-allow-ips", envvar="LOCALEX_FORWARDED_ALLOW_IPS",
              help="Proxies (addresses or networks, comma-separated) whose X-Forwarded-For is "
                   "believed; by default none: the client address is the connection's.")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(host, port, db, seed, credentials_file, no_demo, no_rate_limits, admin_token, clock_mode,
          speed, price_path, sign_with_market_clock, restore_file, forwarded_allow_ips, log_level,
          start_time):
    """Run the emulator: every venue and the control plane on one port."""
    import uvicorn

    from localex.demo import credentials
    from localex.server.serving import uvicorn_config

    beyond_loopback = not _is_loopback(host)
    if not admin_token and beyond_loopback:  # an empty token guards nothing
        admin_token = secrets.token_urlsafe(24)
    try:
        from localex.engine.clock import parse_time

        start = parse_time(start_time) if start_time is not None else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--start") from None
    # beyond loopback the demo keys' secrets are new for every world: seeded ones are public
    app, accounts = build_app(db, seed, rate_limits=not no_rate_limits, admin_token=admin_token or None,
                              demo=not no_demo, clock=clock_mode, speed=speed, price_path=price_path,
                              sign_with_market_clock=sign_with_market_clock, restore=restore_file,
                              start=start, fresh_secrets=beyond_loopback)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    out = sys.stdout
    out.write(f"localex {localex.__version__} on {base}  (db: {db}, seed: {seed})\n")
    out.write(f"  Bitget V2:      {base}/api/v2/...\n")
    out.write(f"  CoinW futures:  {base}/v1/perpum/...  {base}/v1/perpumPublic/...\n")
    out.write(f"  control plane:  {base}/localex/health\n")
    if admin_token:
        out.write(f"  admin token:    {admin_token}  (header 'Authorization: Bearer <token>')\n")
    for acc in accounts:
        out.write(f"\n  {acc.venue} account '{acc.name}' (uid {acc.uid})\n")
        out.write(f"    apiKey      {acc.api_key}\n    secretKey   {acc.secret_key}\n")
        if acc.passphrase is not None:
            out.write(f"    passphrase  {acc.passphrase}\n")
    if credentials_file:
        with open(credentials_file, "w") as fh:
            json.dump(credentials(accounts), fh, indent=2)
            fh.write("\n")
        out.write(f"\n  credentials written to {credentials_file}\n")
    out.flush()
    # long work runs in slices between requests (server/app.py); on SIGINT / SIGTERM whatever
    # is still running is cancelled after half a second, so the server stops within a second
    uvicorn.Server(uvicorn_config(app, host=host, port=port, log_level=log_level,
                                  forwarded_allow_ips=forwarded_allow_ips,
                                  timeout_graceful_shutdown=0.5)).run()
