"""Command line: `localex serve`."""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import secrets
import socket
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
              restore: str | None = None, start: int | None = None, fresh_secrets: bool = False,
              request_log=None, redis: str | None = None):
    """The engine, the app and the demo accounts, as `serve` runs them.

    clock: "system" or "manual" (moved through the control plane); speed: market time runs this
    many times faster than wall time; price_path: "static", "random" (a seeded random walk per
    instrument) or "candles" (the shipped candle sample, on every Bitget BTC instrument);
    restore: a snapshot file to start from; start: a manual clock's first time (ms; default the
    wall time); fresh_secrets: the demo keys' secrets from the OS's randomness, not the seed;
    request_log: a server.requestlog.RequestLog; redis: a Redis URL shared by every worker of
    one world (localex/scale; key prefix $LOCALEX_REDIS_PREFIX, worker name $LOCALEX_WORKER)."""
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
    cluster = None
    if redis:
        from localex.scale import Cluster

        # limits on Redis's own clock, so that hosts need not agree on theirs (unless the
        # market clock is the wall clock: then every worker reads the same market time)
        cluster = Cluster(redis, server_time=not sign_with_market_clock)
    app = LocalexApp(engine, rate_limits=rate_limits, admin_token=admin_token,
                     wall_clock=engine_clock if sign_with_market_clock else None,
                     request_log=request_log, cluster=cluster, leader=pg_leader(engine, cluster))
    return app, accounts


def pg_leader(engine, cluster, worker: str | None = None):
    """On a PostgreSQL store without Redis, other processes (workers, hosts) may share the
    world: the market's work goes to whichever holds a PostgreSQL session advisory lock
    (scale/pglease.py). None otherwise (its lease connection opens when the server starts)."""
    if cluster is not None or engine.store.dialect.name != "postgresql":
        return None
    from localex.scale.pglease import PgLeader

    return PgLeader(engine.store.url, worker=worker)


@click.group()
@click.version_option(localex.__version__, prog_name="localex")
def main() -> None:
    """localex: a local, stateful, wire-faithful crypto-exchange API emulator."""


class StartError(click.ClickException):
    """A reason `serve` cannot start, said in one line (no usage text, no traceback)."""

    def show(self, file=None) -> None:
        click.echo(f"localex: {self.message}", err=True)


def check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise StartError(f"port {port} is out of range: use 1-65535, or 0 for a free one")


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen before anything else happens, so a taken port is said at once."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as err:
        raise StartError(f"cannot listen on {host}: {err.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise StartError(f"port {port} on {host} is already in use (another localex?); "
                             "pick another with --port, or --port 0 for a free one") from None
        if err.errno == errno.EACCES:
            raise StartError(f"no permission to listen on {host}:{port}; use a port above 1023") from None
        raise StartError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    return sock


SQLITE_HEADER = b"SQLite format 3\x00"


def check_db(db: str) -> None:
    """Say in one line why a database cannot be opened, before anything is created."""
    if db in ("", ":memory:"):
        return
    if "://" in db:
        scheme = db.split("://", 1)[0].lower()
        if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            return  # the server says what is wrong when the store opens (one line, see serve)
        if not scheme.startswith("sqlite"):
            raise StartError(f"unsupported database URL '{scheme}://...': use a SQLite file, "
                             ":memory: or postgresql://user@host:port/database")
        path = db.split("://", 1)[1].lstrip("/") if db.startswith("sqlite:///") else ""
        if not path or path == ":memory:":
            return
        db = "/" + path if db.startswith("sqlite:////") else path
    target = os.path.abspath(db)
    parent = os.path.dirname(target)
    if os.path.isdir(target):
        raise StartError(f"cannot open database {db}: it is a directory")
    if os.path.exists(target):
        if not os.access(target, os.R_OK | os.W_OK):
            raise StartError(f"cannot open database {db}: no permission to read and write it")
        with open(target, "rb") as fh:
            head = fh.read(16)
        if head and head != SQLITE_HEADER:
            raise StartError(f"cannot open database {db}: it is not a SQLite database")
        if not os.access(parent, os.W_OK):
            raise StartError(f"cannot open database {db}: its directory {parent} is not writable")
        return
    if not os.path.isdir(parent):
        raise StartError(f"cannot create database {db}: directory {os.path.dirname(db) or parent} "
                         "does not exist")
    if not os.access(parent, os.W_OK):
        raise StartError(f"cannot create database {db}: directory {parent} is not writable")


def check_writable(path: str, what: str) -> None:
    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise StartError(f"cannot write the {what} to {path}: it is a directory")
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        raise StartError(f"cannot write the {what} to {path}: directory {parent} does not exist")
    if not os.access(target if os.path.exists(target) else parent, os.W_OK):
        raise StartError(f"cannot write the {what} to {path}: permission denied")


DEFAULT_CREDENTIALS = "localex-credentials.json"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, type=int,
              help="Port to listen on (0: a free one, printed).")
@click.option("--db", default="localex.db", show_default=True,
              help='SQLite file, ":memory:", postgresql://user@host:port/database, or an '
                   'SQLAlchemy database URL.')
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Worker processes sharing the port (more than one needs PostgreSQL; "
                   "docs/scale-out.md).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random source.")
@click.option("--write-credentials", "credentials_file", type=click.Path(dir_okay=False),
              default=DEFAULT_CREDENTIALS, show_default=True,
              help="Write the demo accounts' credentials to this JSON file.")
@click.option("--no-credentials-file", is_flag=True, help="Write no credentials file.")
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
@click.option("--redis", "redis_url", envvar="LOCALEX_REDIS", metavar="URL",
              help="redis://... shared by several workers of one world: rate limits, cache "
                   "invalidation, the event stream, the market leader (docs/scale-out.md).")
@click.option("--quiet", "-q", is_flag=True, help="No line per request or market event.")
@click.option("--log-json", is_flag=True, help="The request log as one JSON object a line.")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(host, port, db, workers, seed, credentials_file, no_credentials_file, no_demo, no_rate_limits,
          admin_token, clock_mode, speed, price_path, sign_with_market_clock, restore_file,
          forwarded_allow_ips, quiet, log_json, log_level, start_time, redis_url):
    """Run the emulator: every venue, the control plane and the dashboard on one port."""
    from localex.demo import credentials
    from localex.server.requestlog import RequestLog
    from localex.server.serving import Server, uvicorn_config

    out = sys.stdout
    # everything that can refuse to start does so first, in one line, before any file exists
    check_port(port)
    if speed is not None and clock_mode == "manual":
        raise StartError("--speed runs the clock by itself; it does not go with --clock manual")
    check_db(db)
    check_workers(workers, db, clock_mode)
    if redis_url:
        from localex.scale import redis_available

        why = redis_available(redis_url)
        if why is not None:
            raise StartError(f"cannot reach Redis at {redis_url}: {why}")
    try:
        from localex.engine.clock import parse_time

        start = parse_time(start_time) if start_time is not None else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--start") from None
    if no_credentials_file:
        credentials_file = None
    if credentials_file and not no_demo:
        check_writable(credentials_file, "credentials")
    sock = listen(host, port)
    port = sock.getsockname()[1]
    try:
        beyond_loopback = not _is_loopback(host)
        if not admin_token and beyond_loopback:  # an empty token guards nothing
            admin_token = secrets.token_urlsafe(24)
        log = None if quiet else RequestLog(out, json_lines=log_json)
        fresh = db in ("", ":memory:") or not os.path.exists(_db_file(db) or "")
        try:
            # beyond loopback the demo keys' secrets are new for every world: seeded ones are public
            app, accounts = build_app(db, seed, rate_limits=not no_rate_limits,
                                      admin_token=admin_token or None, demo=not no_demo,
                                      clock=clock_mode, speed=speed, price_path=price_path,
                                      sign_with_market_clock=sign_with_market_clock,
                                      restore=restore_file, start=start,
                                      fresh_secrets=beyond_loopback, request_log=log,
                                      redis=redis_url)
        except (click.ClickException, KeyboardInterrupt):
            raise
        except Exception as err:  # the store refused: one line, not a traceback
            raise StartError(f"cannot open database {_shown(db)}: {_reason(err)}") from None
        engine = app.engine
        made_with = engine.made_with_seed()
        warning = None
        if made_with is None:
            if fresh or restore_file:
                engine.record_seed()
        elif made_with != seed and not restore_file:
            warning = (f"warning: {db} was made with --seed {made_with}, not {seed}: its accounts and "
                       f"ids stay as they were; new ones follow seed {seed}")
        host_shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        base = f"http://{'[' + host_shown + ']' if ':' in host_shown else host_shown}:{port}"
        if accounts and credentials_file:
            with open(credentials_file, "w") as fh:
                json.dump(credentials(accounts), fh, indent=2)
                fh.write("\n")
        out.write(f"localex {localex.__version__} on {base}  (db: {_shown(db)}, seed: {seed})\n")
        if workers > 1:
            leader = ("a leader elected on Redis runs" if app.cluster is not None else
                      "the holder of a PostgreSQL advisory lock runs")
            out.write(f"  workers:        {workers} processes ({leader} the market's clock work)\n")
        if app.cluster is not None:
            out.write(f"  redis:          {redis_url}  (prefix {app.cluster.prefix}, "
                      f"worker {app.cluster.worker if workers == 1 else worker_name(0)[:-2] + '.1-' + str(workers)})\n")
        if warning:
            out.write(f"  {warning}\n")
        out.write(f"  dashboard:      {base}/localex/ui/\n")
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
        if accounts and credentials_file:
            out.write(f"\n  credentials written to {credentials_file}\n")
        if log is not None:
            out.write("\n")
        out.flush()
        # long work runs in slices between requests (server/app.py); on SIGINT / SIGTERM it stops
        # at its next clean cut (app.stop), and whatever still runs half a second later is
        # cancelled, so the server stops within a second and exits with status 0
        def serve_app(served) -> None:
            Server(uvicorn_config(served, host=host, port=port, log_level=log_level,
                                  forwarded_allow_ips=forwarded_allow_ips,
                                  timeout_graceful_shutdown=0.5), on_stop=served.stop).run(sockets=[sock])

        if workers == 1:
            serve_app(app)
            return
        from localex.server.workers import run_workers

        engine.store.close()  # every worker opens its own connections
        if app.cluster is not None:
            app.cluster.sync.close()

        def serve_worker(index: int) -> None:
            served = worker_app(app, db, index, price_path=price_path, admin_token=admin_token or None,
                                rate_limits=not no_rate_limits,
                                sign_with_market_clock=sign_with_market_clock, request_log=log)
            try:
                serve_app(served)
            finally:
                served.engine.store.close()

        status = run_workers(workers, serve_worker)
        # every worker is gone and the parent holds nothing to finish: leave at once rather than
        # spend half a second tearing down the interpreter (stop within a second, workers.py)
        sock.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    finally:
        sock.close()


def check_workers(workers: int, db: str, clock_mode: str) -> None:
    """Several workers share one world only through a database they all reach (PostgreSQL)
    and one market clock that moves by itself."""
    if workers == 1:
        return
    if not db.split("://", 1)[0].lower().startswith("postgres") or "://" not in db:
        raise StartError(f"--workers {workers} needs a PostgreSQL database (--db postgresql://user@host/db): "
                         "a SQLite store serves one process")
    if clock_mode == "manual":
        raise StartError(f"--workers {workers} needs a clock that moves by itself (the system clock or "
                         "--speed): a manual clock lives in one process")


def worker_app(built, db: str, index: int, *, price_path: str, admin_token: str | None,
               rate_limits: bool, sign_with_market_clock: bool, request_log):
    """Worker `index`'s app on its own connection to the world `built` made: the same clock
    (inherited from the parent), its own random stream; the market's work in whichever worker
    holds the leader's lease (Redis) or lock (PostgreSQL without Redis)."""
    from localex.demo import set_price_paths
    from localex.engine import Engine
    from localex.server.app import LocalexApp
    from localex.store import open_store

    clock = built.engine.clock
    engine = Engine(open_store(db), clock=clock, seed=built.engine.seed, stream=index + 1)
    cluster = None
    if built.cluster is not None:  # its own Redis connections; any worker may become the leader
        from localex.scale import Cluster

        # named by number, so a worker the supervisor starts again resumes the event stream
        cluster = Cluster(built.cluster.url, prefix=built.cluster.prefix,
                          worker=worker_name(index), server_time=not sign_with_market_clock)
    market = index == 0
    leader = pg_leader(engine, cluster, worker=worker_name(index))  # any worker may lead
    if (market or cluster is not None or leader is not None) and price_path != "static":
        set_price_paths(engine, price_path)
    return LocalexApp(engine, rate_limits=rate_limits, admin_token=admin_token,
                      wall_clock=clock if sign_with_market_clock else None,
                      request_log=request_log, market=market, cluster=cluster, leader=leader)


def worker_name(index: int) -> str:
    """Worker `index` of `--workers N` in Redis: $LOCALEX_WORKER (or the host's name) and its
    number."""
    import socket as _socket

    return f"{os.environ.get('LOCALEX_WORKER') or _socket.gethostname()}.{index + 1}"


def _shown(db: str) -> str:
    """The database as printed: a URL's password hidden."""
    if "://" not in db:
        return db
    try:
        from sqlalchemy.engine import make_url

        return make_url(db).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001  not a URL SQLAlchemy reads: print only its scheme
        return db.split("://", 1)[0] + "://..."


def _db_file(db: str) -> str | None:
    if db.startswith("sqlite:///"):
        rest = db[len("sqlite:///"):]
        return rest if rest and rest != ":memory:" else None
    return None if "://" in db else db


def _reason(err: Exception) -> str:
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    return text[0] if text else type(err).__name__


# the operator's commands against a running server (status, price, advance, fault, journal,
# snapshot, users, fund)
from localex.operator import register as _register_operator  # noqa: E402

_register_operator(main)
