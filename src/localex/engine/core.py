"""The Engine: one clock, one seeded random source, one store, and the trading books over them.

Every public method is one transaction: it happens entirely or not at all.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import random
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterable

from localex.engine import accounts
from localex.engine.clock import Clock, SystemClock
from localex.engine.errors import (Conflict, DomainError, NoPosition, NotFound, OrderNotFound,
                                   UnknownInstrument, UnknownUser)
from localex.engine.orders import cancellable
from localex.engine.copy import CopyTrading
from localex.engine.events import Event, EventFeed, EventKind, Recorder
from localex.engine.fills import FillModels, normalize, split_scope
from localex.engine.futures import UNCHANGED, FuturesBook, house_uid
from localex.engine.ids import Ids
from localex.engine.pricepaths import HOUR_MS
from localex.engine.retry import retried
from localex.engine.simulation import Simulation
from localex.engine.tape import DEFAULT_HISTORY_DAYS, Interval, Tape
from localex.engine.model import (
    DEFAULT_PERMISSIONS,
    Bill,
    FuturesAccount,
    FuturesFill,
    FuturesOrder,
    MarginMode,
    Position,
    PositionMode,
    PositionSide,
    SymbolSettings,
    ApiKey,
    Balance,
    CancelReason,
    Fill,
    FillModel,
    Instrument,
    KeyKind,
    Liquidity,
    MarkPrice,
    OrderKind,
    OrderType,
    Permission,
    Side,
    SpotOrder,
    TimeInForce,
    User,
)
from localex.engine.errors import DomainError
from localex.engine.model import PlanKind, SpotPlanOrder, Transfer
from localex.engine.spot import SPOT_ACCOUNT, FeeToken, OrderRef, Presets, SpotBook, SpotOrderRequest

FEE_TOKENS = {"bitget": FeeToken(asset="BGB", discount=Decimal("0.2"), quote="USDT")}
# venues whose futures accounts list every trade, liquidation and margin change as a bill
TRADE_BILL_VENUES = ("bitget",)
# a contract's margin mode before its owner chooses one (crossed for venues not named)
DEFAULT_MARGIN_MODES = {"coinw": MarginMode.ISOLATED}


FUNDING_SETTLED = "localex.funding.settled_ms"  # the last funding time settled (funding_once)


@retried(None)
class Engine:
    def __init__(self, store, clock: Clock | None = None, seed: int = 0,
                 history_days: int = DEFAULT_HISTORY_DAYS, stream: int = 0) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.seed = seed
        # several workers on one store each draw from their own stream of the seed (stream 0 is
        # the seed itself, as one process draws), so their uids, keys and secrets never collide
        self.stream = stream
        # something tells this engine, before each request, when another process changed what
        # it caches of the store (localex/scale's Cluster calls forget_cached): API keys and fill
        # models may then be kept between units of work even on a store several processes write
        self.invalidated = False
        self.rng = random.Random(self._rng_seed())
        self.ids = Ids(self.rng)
        self.fill_models = FillModels()  # the fill models in force (engine/fills.py)
        self.spot = SpotBook(self.ids, self.clock, FEE_TOKENS, self.fill_models)
        self.futures = FuturesBook(self.ids, self.clock, DEFAULT_MARGIN_MODES)
        self.futures.models = self.fill_models
        self.futures.trade_bills = set(TRADE_BILL_VENUES)
        self.copy = CopyTrading(self)  # copy trading, a listener on the futures book
        self.tape = Tape(self, history_days)  # bars, public trades and the book (engine/tape.py)
        self.spot.tape = self.tape
        self.futures.tape = self.tape
        self.simulation = Simulation(self)
        self.events = EventFeed()  # committed domain events, in order (engine/events.py)
        self._recorder: Recorder | None = None  # the open writing unit of work
        # API keys never change once created, and every signed request looks one up
        self._keys: dict[str, ApiKey] = {}
        # venue -> the key kinds its verifier checks (set by whoever serves the venue; a venue
        # not named accepts every kind)
        self.key_kinds: dict[str, frozenset[KeyKind]] = {}
        # each funding settlement time settles once, whoever walks there (several workers take
        # turns at walking: localex/scale); one process walks each time once anyway
        self.funding_once = False

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def _rng_seed(self) -> int | str:
        return self.seed if self.stream == 0 else f"localex/{self.seed}/{self.stream}"

    # market time ---------------------------------------------------------------------------
    def advance_clock(self, ms: int) -> int:
        """Move a manual clock forward, walking every price path on the way (and firing what
        the prices cross). Returns how many prices were set."""
        return self.simulation.advance(ms)

    def set_clock(self, ms: int) -> None:
        """Jump a manual clock to `ms`, without walking price paths in between."""
        self.clock.set(ms)
        self.simulation.applied_ms = ms

    def _read(self, fn, *args):
        """fn(uow, *args) in a read-only unit of work: `with self.tx(read_only=True) as uow:
        return fn(uow, *args)`, without the generator frames (a single read per request)."""
        if self._recorder is not None:  # inside a writing unit: it joins that one
            with self.tx(read_only=True) as uow:
                return fn(uow, *args)
        if self.store.shared and not self.invalidated and not self.store.active:
            self.fill_models.models_changed()
        return self.store.read(fn, *args)

    @contextmanager
    def tx(self, read_only: bool = False):
        """One unit of work. A writing one notes what it changes; its events go to the outbox
        in the same transaction and to the feed's subscribers once it has committed (under the
        store's lock, so events are heard in sequence order). A unit of work opened inside
        another joins it, and its changes are the outer one's."""
        if read_only and self._recorder is None:
            if self.store.shared and not self.invalidated and not self.store.active:
                self.fill_models.models_changed()
            with self.store.transaction(True) as uow:
                yield uow
            return
        with self.store.lock:
            if self._recorder is not None:
                yield self._recorder
                return
            events: list[Event] = []
            if self.store.shared and not self.invalidated:
                self.fill_models.models_changed()  # another process may have changed them
            # no cyclic garbage collection while a unit of work runs: the rows, notes and
            # copies it makes are freed by reference counting, and a big unit (a mass close)
            # would otherwise pay for collections that walk every object it keeps alive
            collecting = gc.isenabled()
            gc.disable()
            try:
                try:
                    with self.store.transaction() as uow:
                        recorder = self._recorder = Recorder(uow)
                        yield recorder
                        events = recorder.changes(self.clock.now_ms())
                        if events:
                            events = uow.append_events(events)
                finally:
                    self._recorder = None
                if events:
                    self.events.publish(events)
            finally:
                if collecting:
                    gc.enable()

    def events_since(self, seq: int, limit: int = 1000) -> list[Event]:
        """Committed events numbered above `seq`, oldest first, read from the outbox (what a
        relay in another process follows)."""
        with self.store.transaction(True) as uow:
            return uow.events_after(seq, limit)

    def events_relayed(self, seq: int, before: int) -> None:
        """A relay has relayed every event up to `seq` (up to `before` when it last said so):
        the outbox keeps its newest events behind that point (store/outbox.py)."""
        from localex.store import outbox

        with self.tx() as uow:
            outbox.trim_behind(uow, seq, before)

    def snapshot(self) -> dict:
        """The whole state (store, random source, a manual clock's time) as a JSON-able dict."""
        from localex.store.snapshot import dump

        self.flush_tape()
        version, internal, gauss = self.rng.getstate()
        clock = self.clock.now_ms() if hasattr(self.clock, "set") else None
        return dump(self.store, extra={"seed": self.seed, "rng": [version, list(internal), gauss],
                                       "clock_ms": clock})

    def restore(self, snapshot: dict) -> None:
        """Put back a state taken by snapshot(), whole or not at all: everything is checked
        (every table's rows, the random source's state, the clock) before anything changes; a
        refusal is a SnapshotError and leaves the engine as it was."""
        from localex.store.snapshot import SnapshotError, load, validate

        validate(self.store, snapshot, self.key_kinds)
        extra = snapshot.get("extra", {})
        seed = extra.get("seed", self.seed)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise SnapshotError("extra.seed must be an integer")
        state = None
        if extra.get("rng") is not None:
            try:
                version, internal, gauss = extra["rng"]
                state = (version, tuple(internal), gauss)
                random.Random().setstate(state)  # tried on a spare source first
            except (TypeError, ValueError, OverflowError) as err:
                raise SnapshotError(f"extra.rng is not a random source's state: {err}") from None
        clock_ms = extra.get("clock_ms")
        if clock_ms is not None and (isinstance(clock_ms, bool) or not isinstance(clock_ms, int)
                                     or not 0 <= clock_ms < 2**63):
            raise SnapshotError("extra.clock_ms must be integer milliseconds")
        rows = snapshot["tables"].get("fill_models", [])
        for i, row in enumerate(rows):
            try:
                normalize(row["kind"], json.loads(row["params"]))
                split_scope(row["scope"])
            except ValueError as err:
                raise SnapshotError(f"table fill_models, row {i}: {err}") from None
        load(self.store, snapshot, self.key_kinds, checked=True)
        # the store is replaced; what follows cannot fail
        self._keys.clear()
        self.tape.invalidate()
        self.fill_models.invalidate()
        self.seed = seed
        if state is not None:
            self.rng.setstate(state)
        if clock_ms is not None and hasattr(self.clock, "set"):
            self.clock.set(clock_ms)
            self.simulation.applied_ms = clock_ms  # walk on from the restored time

    SEED_RECORD = "localex.seed"  # the seed a store's state was made with (a sequences row)

    def made_with_seed(self) -> int | None:
        """The seed this store's state was made with, if it says (see record_seed)."""
        with self.tx(read_only=True) as uow:
            return uow.get_sequence(self.SEED_RECORD)

    def record_seed(self) -> None:
        """Note in the store the seed its state is made with (reset() notes it again)."""
        with self.tx() as uow:
            uow.put_sequence(self.SEED_RECORD, self.seed)

    def reset(self, seed: int | None = None) -> None:
        """Forget everything; the random source starts again from the seed (noted in the store
        again if it was noted before)."""
        noted = self.made_with_seed() is not None
        self.store.reset()
        self.events.last_seq = 0  # a new world numbers its events afresh
        self._keys.clear()
        self.tape.invalidate()
        self.fill_models.invalidate()
        self.simulation.reset()
        if seed is not None:
            self.seed = seed
        self.rng.seed(self._rng_seed())
        if noted:
            self.record_seed()

    # users and keys ------------------------------------------------------------------------
    def create_user(self, venue: str, name: str | None = None, uid: str | None = None,
                    fee_deduction: bool = False) -> User:
        with self.tx() as uow:
            if uid is None:
                uid = self.ids.uid(venue)
                while uow.get_user(uid) is not None:
                    uid = self.ids.uid(venue)
            elif uow.get_user(uid) is not None:
                raise Conflict(f"user {uid} exists", uid=uid)
            name = name or f"user-{uid}"
            if uow.find_user(venue, name) is not None:
                raise Conflict(f"user name {name} exists", name=name)
            user = User(uid=uid, venue=venue, name=name, created_ms=self.now_ms(),
                        fee_deduction=fee_deduction)
            uow.insert_user(user)
            return user

    def get_user(self, uid: str) -> User:
        with self.tx(read_only=True) as uow:
            user = uow.get_user(uid)
        if user is None:
            raise UnknownUser(uid, uid=uid)
        return user

    def find_user(self, venue: str, name: str) -> User | None:
        with self.tx(read_only=True) as uow:
            return uow.find_user(venue, name)

    def list_users(self, venue: str | None = None) -> list[User]:
        with self.tx(read_only=True) as uow:
            return uow.list_users(venue)

    def set_elite_trader(self, uid: str, enabled: bool) -> User:
        """Make a user a copy-trading elite trader (or not)."""
        with self.tx() as uow:
            user = self._user(uow, uid)
            user.elite_trader = enabled
            uow.update_user(user)
            return user

    def is_elite_trader(self, uid: str) -> bool:
        with self.tx(read_only=True) as uow:
            user = uow.get_user(uid)
        return bool(user and user.elite_trader)

    def set_fee_deduction(self, uid: str, enabled: bool) -> User:
        with self.tx() as uow:
            user = uow.get_user(uid)
            if user is None:
                raise UnknownUser(uid, uid=uid)
            user.fee_deduction = enabled
            uow.update_user(user)
            return user

    def create_api_key(self, uid: str, *, permissions: Iterable[Permission] | None = None,
                       ip_whitelist: Iterable[str] = (), kind: KeyKind = KeyKind.HMAC,
                       passphrase: str | None = None, public_key: str | None = None,
                       key: str | None = None, secret: str | None = None, label: str = "") -> ApiKey:
        """An HMAC key gets a fresh secret (or the one given); an RSA key stores the PEM public key."""
        with self.tx() as uow:
            user = uow.get_user(uid)
            if user is None:
                raise UnknownUser(uid, uid=uid)
            kind = KeyKind(kind)
            allowed = self.key_kinds.get(user.venue)
            if allowed is not None and kind not in allowed:
                raise ValueError(f"{user.venue} has no {kind.value.upper()} keys; its keys are "
                                 + ", ".join(sorted(k.value.upper() for k in allowed)))
            if kind == KeyKind.RSA:
                if not public_key:
                    raise ValueError("an RSA key needs its public key")
                secret = public_key
            api_key = ApiKey(
                key=key or self.ids.api_key(user.venue), uid=uid, venue=user.venue,
                secret=secret or self.ids.hex(64), passphrase=passphrase or self.ids.token(12),
                kind=kind,
                permissions=frozenset(permissions) if permissions is not None else DEFAULT_PERMISSIONS,
                ip_whitelist=tuple(ip_whitelist), created_ms=self.now_ms(), label=label,
            )
            if uow.get_key(api_key.key) is not None:
                raise Conflict(f"api key {api_key.key} exists", key=api_key.key)
            uow.insert_key(api_key)
            return api_key

    def get_api_key(self, key: str) -> ApiKey | None:
        cached = self._keys.get(key)
        if cached is not None:
            return cached
        with self.tx(read_only=True) as uow:
            found = uow.get_key(key)
        # on a shared store another process may revoke it, unless forget_cached hears of it
        if found is not None and (not self.store.shared or self.invalidated):
            self._keys[key] = found
        return found

    def revoke_api_key(self, key: str) -> ApiKey:
        """Delete an API key: every request signed with it is refused from now on."""
        with self.tx() as uow:
            found = uow.get_key(key)
            if found is None:
                raise NotFound(f"api key {key} not found", key=key)
            uow.delete_key(key)
        self._keys.pop(key, None)
        return found

    def forget_cached(self, world_changed: bool = False) -> None:
        """Drop what this engine caches of the store: another process changed it (a key
        revoked, a fill model, an instrument; world_changed: a reset or a restore, so the market
        tape's newest minutes are another world's too)."""
        self._keys.clear()
        self.fill_models.invalidate()
        if world_changed:
            self.tape.invalidate()
        else:
            self.tape.forget_folded()
        clear = getattr(self.store, "clear_caches", None)
        if clear is not None:
            with self.store.lock:
                clear()
                if getattr(self.store, "changes", None) is not None:  # None: read every time
                    self.store.changes += 1  # bands read again

    def list_api_keys(self, uid: str) -> list[ApiKey]:
        with self.tx(read_only=True) as uow:
            return uow.list_keys(uid)

    # balances ----------------------------------------------------------------------------
    def fund(self, uid: str, asset: str, amount: Decimal, account: str = SPOT_ACCOUNT) -> Balance:
        """Credit (or, negative, debit) a user's available balance."""
        with self.tx() as uow:
            if uow.get_user(uid) is None:
                raise UnknownUser(uid, uid=uid)
            return accounts.move(uow, uid, account, asset, available=Decimal(amount), now_ms=self.now_ms())

    def transferable(self, venue: str, account: str) -> set[str]:
        """The coins an account holds: spot, every coin of the spot instruments; a futures
        market, the margin coins of its contracts."""
        with self.tx(read_only=True) as uow:
            return self._account_coins(uow, venue, account)

    @staticmethod
    def _account_coins(uow, venue: str, account: str) -> set[str]:
        if account == SPOT_ACCOUNT:
            return {c for i in uow.list_instruments(venue, SPOT_ACCOUNT) for c in (i.base, i.quote)}
        return {i.settle for i in uow.list_instruments(venue, account) if i.is_contract}

    def transfer(self, uid: str, asset: str, amount: Decimal, from_account: str, to_account: str,
                 client_oid: str | None = None) -> Transfer:
        """Move a coin between two of a user's accounts ("spot", "usdt-futures", ...), with a
        bill in each; a client id already used answers that transfer again."""
        with self.tx() as uow:
            user = self._user(uow, uid)
            allowed = (self._account_coins(uow, user.venue, from_account)
                       & self._account_coins(uow, user.venue, to_account))
            return accounts.transfer(uow, self.ids, user, asset, Decimal(amount), from_account,
                                     to_account, client_oid, self.now_ms(), allowed)

    def transfers(self, uid: str, **filters) -> list[Transfer]:
        """Newest first; filters as SqlUnitOfWork.list_transfers."""
        with self.tx(read_only=True) as uow:
            return uow.list_transfers(uid, **filters)

    def balances(self, uid: str, account: str | None = None) -> list[Balance]:
        with self.tx(read_only=True) as uow:
            return uow.list_balances(uid, account)

    def balance(self, uid: str, asset: str, account: str = SPOT_ACCOUNT) -> Balance:
        with self.tx(read_only=True) as uow:
            return uow.get_balance(uid, account, asset)

    # instruments and market --------------------------------------------------------------
    def add_instrument(self, inst: Instrument) -> Instrument:
        with self.tx() as uow:
            uow.put_instrument(inst)
        return inst

    def instrument(self, venue: str, market: str, symbol: str) -> Instrument | None:
        with self.tx(read_only=True) as uow:
            return uow.get_instrument(venue, market, symbol)

    def instruments(self, venue: str | None = None, market: str | None = None) -> list[Instrument]:
        with self.tx(read_only=True) as uow:
            return uow.list_instruments(venue, market)

    def mark(self, inst: Instrument) -> Decimal | None:
        with self.tx(read_only=True) as uow:
            row = uow.get_mark(inst.key)
        return row.price if row else None

    def marks(self) -> dict[str, Decimal]:
        with self.tx(read_only=True) as uow:
            return {m.instrument: m.price for m in uow.list_marks()}

    def set_mark(self, venue: str, market: str, symbol: str, price: Decimal,
                 at_ms: int | None = None, volume: Decimal | None = None) -> list:
        """Move the mark price, and fill everything it reaches, in the same transaction. Orders
        due to reach the book by the time of the move (at_ms, market time; default now) arrive
        first, at the price before it. The price is recorded on the market tape (with the
        volume a replayed candle file gives it, if any). Returns the fills it made: spot Fills,
        or on a contract FuturesFills (liquidations among them, and the copies a tracking order
        drove)."""
        return self.move_mark(venue, market, symbol, price, at_ms, volume)[0]

    def move_mark(self, venue: str, market: str, symbol: str, price: Decimal,
                  at_ms: int | None = None, volume: Decimal | None = None) -> tuple[list, list]:
        """set_mark, answering (fills, liquidation fills): every fill the move made, in order,
        and those of them that closed a position by liquidation."""
        price = Decimal(price)
        if price <= 0:
            raise ValueError("a price must be positive")
        self.settle_arrivals(at_ms)
        with self.tx() as uow:
            mark = uow.mark()  # a unit of work this one joins may have written already
            inst = uow.get_instrument(venue, market, symbol)
            if inst is None:
                raise UnknownInstrument(symbol, symbol=symbol)
            old = uow.get_mark(inst.key)
            now = self.now_ms()
            uow.set_mark(MarkPrice(instrument=inst.key, price=price, updated_ms=now))
            self.tape.record(uow, inst, ((now, price),), None if volume is None else (volume,))
            self._fire(uow, inst, old.price if old else None, price)
            written = uow.written_since(mark)
        fills = [obj for kind, obj in written if kind in (EventKind.SPOT_FILL, EventKind.FUTURES_FILL)]
        liquidations = {obj.order_id for kind, obj in written
                        if kind is EventKind.FUTURES_ORDER and obj.source == "liquidation"}
        return fills, [f for f in fills if f.order_id in liquidations]

    def _fire(self, uow, inst: Instrument, old: Decimal | None, price: Decimal) -> None:
        """Everything a move of the mark from `old` to `price` reaches (the new mark written)."""
        if inst.is_contract:
            self.futures.on_mark(uow, inst, old, price)
        else:
            self.spot.match(uow, inst, price, old)

    # the market tape ---------------------------------------------------------------------
    def flush_tape(self) -> None:
        """Write the bars the tape keeps in memory (each instrument's newest minute) to the
        store: before a snapshot, at shutdown, before the store is closed."""
        with self.tx() as uow:
            self.tape.flush(uow)

    def _market_instrument(self, uow, inst: Instrument | str) -> Instrument:
        key = inst if isinstance(inst, str) else inst.key
        venue, market, symbol = key.split(":", 2)
        found = uow.get_instrument(venue, market, symbol)
        if found is None:
            raise UnknownInstrument(symbol, symbol=symbol)
        return found

    def candles(self, inst: Instrument | str, interval: Interval, start: int | None = None,
                end: int | None = None, limit: int = 100, kind: str = "market") -> list:
        """Candles of an instrument (or its key "venue:market:symbol"), oldest first: the newest
        `limit` whose opening time is within [start, end]; kind market, mark or index. See
        engine/tape.py."""
        with self.tx(read_only=True) as uow:
            return self.tape.candles(uow, self._market_instrument(uow, inst), interval, self.now_ms(),
                                     start, end, limit, kind)

    def order_book(self, inst: Instrument | str, depth: int = 150):
        """The book around the mark, `depth` levels a side (engine/tape.py)."""
        with self.tx(read_only=True) as uow:
            return self.tape.book(uow, self._market_instrument(uow, inst), depth, self.now_ms())

    def public_trades(self, inst: Instrument | str, start: int | None = None, end: int | None = None,
                      limit: int = 100, before_id: int | None = None) -> list:
        """The public trade tape, newest first (engine/tape.py)."""
        with self.tx(read_only=True) as uow:
            return self.tape.trades(uow, self._market_instrument(uow, inst), self.now_ms(), start, end,
                                    limit, before_id)

    def open_interest(self, inst: Instrument | str) -> Decimal:
        """The size of every user's open positions in a contract."""
        with self.tx(read_only=True) as uow:
            found = self._market_instrument(uow, inst)
            return sum((p.size for p in uow.list_positions(venue=found.venue, market=found.market,
                                                           symbol=found.symbol, open_only=True)), Decimal(0))

    def stats_24h(self, inst: Instrument | str):
        """The last 24 hours of an instrument (None before it has a price)."""
        with self.tx(read_only=True) as uow:
            return self.tape.stats_24h(uow, self._market_instrument(uow, inst), self.now_ms())

    def quiet_band(self, inst: Instrument):
        """The prices at which a move of this instrument fires nothing (engine/triggers.py)."""
        from localex.engine.triggers import Band

        band = Band()
        with self.tx(read_only=True) as uow:
            (self.futures if inst.is_contract else self.spot).quiet_band(uow, inst, band)
        return band

    def set_quiet_marks(self, marks: list[tuple[Instrument, Decimal, int]], tape: list,
                        changes: int | None = None) -> None:
        """Set mark prices known to fire nothing (each inside its instrument's quiet band):
        (instrument, price, time of the price), all in one transaction, and record on the tape
        the points they stand for ((instrument, points, volumes or None), in time order per
        instrument). What set_mark would do for each point, since none fires anything.
        `changes` is the store's count of changes (SqlStore.changes) when the bands were read:
        if the store has changed since, or cannot say, each band is read again under the write
        lock, and a mark outside it is applied in full (another process may have placed an
        order the move reaches between the walk's read and this write)."""
        from localex.engine.triggers import Band

        with self.tx() as uow:
            for inst, points, volumes in tape:
                self.tape.record(uow, inst, points, volumes)
            recheck = changes is None or getattr(self.store, "changes", None) != changes
            for inst, price, at_ms in marks:
                old = uow.get_mark(inst.key) if recheck else None
                uow.set_mark(MarkPrice(instrument=inst.key, price=price, updated_ms=at_ms))
                if recheck:
                    band = Band()
                    (self.futures if inst.is_contract else self.spot).quiet_band(uow, inst, band)
                    if not band.quiet(price):
                        self._fire(uow, inst, old.price if old else None, price)

    def next_arrival_ms(self) -> int | None:
        """When the next order a latency model holds back is due (None: none is)."""
        if self.fill_models.may_be_due(-1):  # not known yet
            with self.tx(read_only=True) as uow:
                self.fill_models.next_arrival = uow.next_due_ms()
        return self.fill_models.next_arrival  # type: ignore[return-value]

    # funding -----------------------------------------------------------------------------
    def set_funding_rate(self, venue: str, market: str, symbol: str, rate: Decimal,
                         interval_h: int | None = None) -> Instrument:
        """The rate a perpetual settles at from now on (per interval; longs pay when positive),
        and optionally its interval in hours."""
        if interval_h is not None and interval_h <= 0:
            raise ValueError("a funding interval is a positive number of hours")
        with self.tx() as uow:
            inst = self.futures.instrument(uow, venue, market, symbol)
            inst = dataclasses.replace(inst, funding_rate=Decimal(rate),
                                       funding_interval_h=interval_h or inst.funding_interval_h)
            uow.put_instrument(inst)
            return inst

    def funding_times(self, start_ms: int, end_ms: int) -> list[int]:
        """Every funding settlement time in (start_ms, end_ms] of any perpetual, in order:
        the multiples of its interval since the epoch (00:00, 08:00, 16:00 UTC for 8 hours)."""
        if end_ms // HOUR_MS <= start_ms // HOUR_MS:  # intervals are whole hours
            return []
        times: set[int] = set()
        for hours in {inst.funding_interval_h for inst in self.instruments()
                      if inst.is_contract and inst.funding_interval_h > 0}:
            period = hours * HOUR_MS
            times.update(range((start_ms // period + 1) * period, end_ms + 1, period))
        return sorted(times)

    def settle_funding(self, at_ms: int) -> list[Bill]:
        """Settle funding for every perpetual whose settlement time `at_ms` is, all in one
        transaction (FuturesBook.settle_funding). Returns the users' funding bills."""
        with self.tx() as uow:
            bills: list[Bill] = []
            if self.funding_once:
                settled = uow.get_sequence(FUNDING_SETTLED)
                if settled is not None and settled >= at_ms:
                    return bills  # settled already (by an earlier walker)
                uow.put_sequence(FUNDING_SETTLED, at_ms)
            for inst in uow.list_instruments():
                period = inst.funding_interval_h * HOUR_MS
                if inst.is_contract and period > 0 and at_ms % period == 0:
                    bills.extend(self.futures.settle_funding(uow, inst, at_ms))
            return bills

    def funding_history(self, venue: str, market: str, symbol: str) -> list[tuple[int, Decimal]]:
        """The rates a perpetual has settled at, newest first: (settlement time, rate)."""
        with self.tx(read_only=True) as uow:
            return self.futures.funding_history(uow, self.futures.instrument(uow, venue, market, symbol))

    def bills(self, uid: str, **filters) -> list[Bill]:
        """A user's bills, newest first; filters as SqlUnitOfWork.list_bills."""
        with self.tx(read_only=True) as uow:
            return uow.list_bills(uid, **filters)

    # fill models -------------------------------------------------------------------------
    def set_fill_model(self, scope: str, kind: str, params: dict | None = None) -> FillModel:
        """Choose how orders fill for a venue ("bitget") or an instrument
        ("bitget:spot:BTCUSDT"; it wins over its venue's): kind immediate, latency {"ms"},
        liquidity {"size", "step", "levels"} or manual. See engine/fills.py."""
        params = normalize(kind, params)
        venue, market, symbol = split_scope(scope)
        try:
            with self.tx() as uow:
                if market is None:
                    if not uow.list_instruments(venue):
                        raise ValueError(f"unknown venue '{venue}'")
                    key = venue
                else:
                    inst = uow.get_instrument(venue, market, symbol)
                    if inst is None:
                        raise UnknownInstrument(f"{venue}:{market}:{symbol}", symbol=symbol)
                    key = inst.key
                model = FillModel(key, kind, params)
                uow.put_fill_model(model)
                return model
        finally:
            self.fill_models.models_changed()

    def delete_fill_model(self, scope: str | None = None) -> int:
        """Remove one scope's model (None: every model); returns how many were removed."""
        try:
            with self.tx() as uow:
                if scope is None:
                    models = uow.list_fill_models()
                else:
                    venue, market, symbol = split_scope(scope)
                    key = venue if market is None else f"{venue}:{market}:{symbol}"
                    models = [m for m in [uow.get_fill_model(key)] if m is not None]
                for model in models:
                    uow.delete_fill_model(model.scope)
                return len(models)
        finally:
            self.fill_models.models_changed()

    def list_fill_models(self) -> list[FillModel]:
        with self.tx(read_only=True) as uow:
            return uow.list_fill_models()

    def fill_model_for(self, venue: str, market: str, symbol: str) -> FillModel:
        """The model an instrument's orders meet: its own, else its venue's, else immediate."""
        with self.tx(read_only=True) as uow:
            inst = uow.get_instrument(venue, market, symbol)
            if inst is None:
                raise UnknownInstrument(symbol, symbol=symbol)
            return self.fill_models.for_instrument(uow, inst)

    def settle_arrivals(self, until_ms: int | None = None) -> int:
        """Orders a latency model holds back whose due time is at or before until_ms (default
        now) reach the book, in due order, each at the mark of that moment; a manual clock behind
        an order's due time is moved to it first, so what fills carries that time. Returns how
        many arrived."""
        until = self.now_ms() if until_ms is None else until_ms
        if not self.fill_models.may_be_due(until):
            return 0
        with self.tx(read_only=True) as uow:
            due = uow.due_orders(until)
        for due_ms, market, order_id, uid in due:
            if hasattr(self.clock, "set") and due_ms > self.clock.now_ms():
                self.clock.set(due_ms)
            with self.tx() as uow:
                if market == SPOT_ACCOUNT:
                    order = uow.get_spot_order(uid, order_id)
                    if order is not None and order.status.is_open and order.due_ms is not None:
                        self.spot.arrive(uow, order)
                else:
                    order = uow.get_futures_order(uid, order_id)
                    if order is not None and order.status.is_open and order.due_ms is not None:
                        self.futures.arrive(uow, order)
        with self.tx(read_only=True) as uow:
            self.fill_models.next_arrival = uow.next_due_ms()
        return len(due)

    def reject_order(self, uid: str, order_id: int,
                     reason: CancelReason = CancelReason.REJECTED) -> SpotOrder | FuturesOrder:
        """Cancel a user's open spot or futures order as refused by the venue."""
        with self.tx() as uow:
            self._user(uow, uid)
            if uow.get_spot_order(uid, order_id) is not None:
                return self.spot.reject(uow, uid, order_id, reason)
            return self.futures.reject(uow, uid, order_id, reason)

    # spot --------------------------------------------------------------------------------
    def place_spot_order(self, uid: str, symbol: str, side: Side, order_type: OrderType,
                         size: Decimal, price: Decimal | None = None,
                         force: TimeInForce = TimeInForce.GTC, client_oid: str | None = None,
                         enter_point: str = "API", presets: Presets | None = None,
                         stp_mode: str = "none") -> SpotOrder:
        with self.tx() as uow:
            user = uow.get_user(uid)
            if user is None:
                raise UnknownUser(uid, uid=uid)
            return self.spot.place(uow, user, symbol, side, order_type, force, price, size,
                                   client_oid, enter_point, presets=presets, stp_mode=stp_mode)

    def cancel_spot_order(self, uid: str, symbol: str | None = None, order_id: int | None = None,
                          client_oid: str | None = None) -> SpotOrder:
        with self.tx() as uow:
            user = uow.get_user(uid)
            if user is None:
                raise UnknownUser(uid, uid=uid)
            return self.spot.cancel(uow, user, symbol, order_id, client_oid)

    def place_spot_orders(self, uid: str, requests: list[SpotOrderRequest]) -> list[SpotOrder | DomainError]:
        """A batch in one transaction: each order placed or refused on its own (the refusal in
        its place in the answer)."""
        with self.tx() as uow:
            return self.spot.place_many(uow, self._user(uow, uid), requests)

    def cancel_spot_orders(self, uid: str, refs: list[OrderRef]) -> list[SpotOrder | DomainError]:
        """Cancel a batch in one transaction; an order that cannot be cancelled is reported."""
        with self.tx() as uow:
            return self.spot.cancel_many(uow, self._user(uow, uid), refs)

    def replace_spot_order(self, uid: str, ref: OrderRef, price: Decimal, size: Decimal,
                           new_client_oid: str | None = None,
                           presets: Presets | None = None) -> SpotOrder | DomainError:
        """Cancel an order and place its replacement, in one transaction (SpotBook.replace)."""
        with self.tx() as uow:
            return self.spot.replace(uow, self._user(uow, uid), ref, price, size, new_client_oid, presets)

    def replace_spot_orders(self, uid: str, items: list[tuple]) -> list[SpotOrder | DomainError]:
        with self.tx() as uow:
            return self.spot.replace_many(uow, self._user(uow, uid), items)

    def cancel_spot_symbol(self, uid: str, symbol: str) -> list[SpotOrder]:
        """Cancel every open order of a symbol, in one transaction."""
        with self.tx() as uow:
            return self.spot.cancel_symbol(uow, self._user(uow, uid), symbol)

    # spot trigger (plan) orders: see SpotBook.place_plan
    def place_spot_plan(self, uid: str, symbol: str, side: Side, order_type: OrderType,
                        trigger_price: Decimal, execute_price: Decimal | None, size: Decimal,
                        **options) -> SpotPlanOrder:
        with self.tx() as uow:
            return self.spot.place_plan(uow, self._user(uow, uid), symbol, side, order_type,
                                        trigger_price, execute_price, size, **options)

    def modify_spot_plan(self, uid: str, order_id: int | None, client_oid: str | None,
                         trigger_price: Decimal, order_type: OrderType, execute_price: Decimal | None,
                         size: Decimal) -> SpotPlanOrder:
        with self.tx() as uow:
            self._user(uow, uid)
            return self.spot.modify_plan(uow, uid, order_id, client_oid, trigger_price, order_type,
                                         execute_price, size)

    def cancel_spot_plan(self, uid: str, order_id: int | None = None, client_oid: str | None = None,
                         tpsl: bool = False) -> SpotPlanOrder:
        """Cancel a live trigger order (tpsl: a take-profit / stop-loss order instead)."""
        with self.tx() as uow:
            self._user(uow, uid)
            kinds = (PlanKind.TP, PlanKind.SL, PlanKind.TPSL) if tpsl else (PlanKind.PLAN,)
            return self.spot.cancel_plan(uow, uid, order_id, client_oid, kinds)

    def cancel_spot_plans(self, uid: str, symbols: list[str] | None = None) -> list[SpotPlanOrder]:
        """Cancel every live trigger order of the symbols (None: all), in one transaction."""
        with self.tx() as uow:
            self._user(uow, uid)
            return self.spot.cancel_plans(uow, uid, symbols)

    def spot_plan(self, uid: str, order_id: int | None = None,
                  client_oid: str | None = None) -> SpotPlanOrder | None:
        with self.tx(read_only=True) as uow:
            return self.spot.find_plan(uow, uid, order_id, client_oid)

    def spot_plans(self, uid: str, **filters) -> list[SpotPlanOrder]:
        """Newest first; filters as SqlUnitOfWork.list_spot_plans."""
        with self.tx(read_only=True) as uow:
            return uow.list_spot_plans(uid, **filters)

    def fill_spot_order(self, uid: str, order_id: int, size: Decimal | None = None,
                        price: Decimal | None = None, liquidity: Liquidity | None = None) -> Fill:
        """Fill part or all of an open order (a manual fill): a limit order at its price as
        maker, a market order at the mark as taker, unless price / liquidity say otherwise."""
        with self.tx() as uow:
            return self.spot.fill_manually(uow, uid, order_id, size, price, liquidity)

    def spot_order(self, uid: str, order_id: int | None = None,
                   client_oid: str | None = None) -> SpotOrder | None:
        """A user's order by id or client id (None if it is not theirs or does not exist)."""
        return self._read(self.spot.find, uid, order_id, client_oid)

    def spot_orders(self, uid: str, **filters) -> list[SpotOrder]:
        """Newest first; filters as SqlUnitOfWork.list_spot_orders."""
        with self.tx(read_only=True) as uow:
            return uow.list_spot_orders(uid, **filters)

    def spot_fills(self, uid: str, **filters) -> list[Fill]:
        with self.tx(read_only=True) as uow:
            return uow.list_fills(uid, **filters)

    def fees_collected(self, asset: str) -> Decimal:
        with self.tx(read_only=True) as uow:
            return uow.fees_collected(asset)

    def total_balance(self, asset: str) -> Decimal:
        with self.tx(read_only=True) as uow:
            return uow.sum_balances(asset)

    # futures -------------------------------------------------------------------------------
    def _user(self, uow, uid: str) -> User:
        user = uow.get_user(uid)
        if user is None:
            raise UnknownUser(uid, uid=uid)
        return user

    def contract(self, venue: str, market: str, symbol: str) -> Instrument:
        with self.tx(read_only=True) as uow:
            return self.futures.instrument(uow, venue, market, symbol)

    def futures_account(self, uid: str, market: str) -> FuturesAccount:
        with self.tx(read_only=True) as uow:
            return uow.get_futures_account(uid, market)

    def set_position_mode(self, uid: str, market: str, mode: PositionMode) -> FuturesAccount:
        from localex.engine.copy import TraderHedgeOnly

        with self.tx() as uow:
            user = self._user(uow, uid)
            if (mode is PositionMode.ONE_WAY and user.elite_trader
                    and any(cs.enabled for cs in uow.list_copy_symbols(uid, market))):
                raise TraderHedgeOnly("copy trading is hedge mode only", market=market)
            return self.futures.set_position_mode(uow, uid, market, mode)

    def set_merge_positions(self, uid: str, market: str, merge: bool) -> FuturesAccount:
        with self.tx() as uow:
            self._user(uow, uid)
            return self.futures.set_merge_positions(uow, uid, market, merge)

    def symbol_settings(self, uid: str, venue: str, market: str, symbol: str) -> SymbolSettings:
        with self.tx(read_only=True) as uow:
            return self.futures.settings(uow, uid, self.futures.instrument(uow, venue, market, symbol))

    def set_leverage(self, uid: str, venue: str, market: str, symbol: str, leverage: int,
                     side: PositionSide | None = None) -> SymbolSettings:
        with self.tx() as uow:
            self._user(uow, uid)
            inst = self.futures.instrument(uow, venue, market, symbol)
            return self.futures.set_leverage(uow, uid, inst, leverage, side)

    def set_margin_mode(self, uid: str, venue: str, market: str, symbol: str,
                        mode: MarginMode) -> SymbolSettings:
        with self.tx() as uow:
            self._user(uow, uid)
            inst = self.futures.instrument(uow, venue, market, symbol)
            return self.futures.set_margin_mode(uow, uid, inst, mode)

    def place_futures_order(self, uid: str, market: str, symbol: str, **order) -> FuturesOrder:
        """See FuturesBook.place for the order's fields."""
        with self.tx() as uow:
            user = self._user(uow, uid)
            inst = self.futures.instrument(uow, user.venue, market, symbol)
            return self.futures.place(uow, user, inst, **order)

    def cancel_futures_order(self, uid: str, order_id: int | None = None, client_oid: str | None = None,
                             symbol: str | None = None) -> FuturesOrder:
        with self.tx() as uow:
            self._user(uow, uid)
            return self.futures.cancel(uow, uid, order_id, client_oid, symbol)

    def fill_futures_order(self, uid: str, order_id: int, size: Decimal | None = None,
                           price: Decimal | None = None, liquidity: Liquidity | None = None
                           ) -> tuple[FuturesOrder, list[FuturesFill]]:
        """Fill part or all of an open futures order in the book (a manual fill): the order and
        the fills made."""
        with self.tx() as uow:
            self._user(uow, uid)
            return self.futures.fill_manually(uow, uid, order_id, size, price, liquidity)

    def futures_order(self, uid: str, order_id: int | None = None,
                      client_oid: str | None = None) -> FuturesOrder | None:
        with self.tx(read_only=True) as uow:
            return self.futures.find(uow, uid, order_id, client_oid)

    def futures_orders(self, uid: str, **filters) -> list[FuturesOrder]:
        """Newest first; filters as SqlUnitOfWork.list_futures_orders."""
        with self.tx(read_only=True) as uow:
            return uow.list_futures_orders(uid, **filters)

    def futures_fills(self, uid: str, **filters) -> list[FuturesFill]:
        with self.tx(read_only=True) as uow:
            return uow.list_futures_fills(uid, **filters)

    def positions(self, uid: str, **filters) -> list[Position]:
        """Open positions by default; filters as SqlUnitOfWork.list_positions."""
        with self.tx(read_only=True) as uow:
            return uow.list_positions(uid, **filters)

    def position(self, uid: str, position_id: int) -> Position:
        with self.tx(read_only=True) as uow:
            pos = uow.get_position(position_id)
        if pos is None or pos.uid != uid:
            raise NoPosition("no such position")
        return pos

    def _own_position(self, uow, uid: str, position_id: int, open_only: bool = True) -> Position:
        pos = uow.get_position(position_id)
        if pos is None or pos.uid != uid or (open_only and not pos.open):
            raise NoPosition("no such position")
        return pos

    def close_position(self, uid: str, position_id: int, size: Decimal | None = None,
                       price: Decimal | None = None, source: str = "api") -> FuturesOrder:
        with self.tx() as uow:
            user = self._user(uow, uid)
            pos = self._own_position(uow, uid, position_id)
            return self.futures.close_position(uow, user, pos, size, price, source)

    def close_positions(self, uid: str, market: str, symbol: str | None = None,
                        side: PositionSide | None = None, source: str = "api") -> list[FuturesOrder]:
        """Close every open position (of a symbol, of a side) at market, all or nothing."""
        with self.tx() as uow:
            self._user(uow, uid)
            orders = []
            for pos in uow.list_positions(uid, market=market, symbol=symbol, side=side, open_only=True):
                orders.append(self.futures.market_close(uow, pos, pos.size, source))
            return orders

    def set_position_tpsl(self, uid: str, position_id: int, tp=UNCHANGED, sl=UNCHANGED,
                          tp_execute=UNCHANGED, sl_execute=UNCHANGED) -> Position:
        with self.tx() as uow:
            return self.futures.set_position_tpsl(uow, self._own_position(uow, uid, position_id), tp, sl,
                                                  tp_execute, sl_execute)

    def adjust_margin(self, uid: str, position_id: int, delta: Decimal) -> Position:
        with self.tx() as uow:
            return self.futures.adjust_margin(uow, self._own_position(uow, uid, position_id), delta)

    def place_trailing_stop(self, uid: str, position_id: int, callback_rate: Decimal,
                            activation: Decimal | None = None, size: Decimal | None = None,
                            tag: str = "") -> FuturesOrder:
        with self.tx() as uow:
            user = self._user(uow, uid)
            pos = self._own_position(uow, uid, position_id)
            return self.futures.place_trailing(uow, user, pos, callback_rate, activation, size, tag)

    def set_futures_order_tpsl(self, uid: str, order_id: int, tp=UNCHANGED, sl=UNCHANGED,
                               tp_execute=UNCHANGED, sl_execute=UNCHANGED) -> FuturesOrder:
        """TP / SL on an open opening order: a price, None to cancel, UNCHANGED to keep (and
        their limit prices, None: at market)."""
        with self.tx() as uow:
            self._user(uow, uid)
            return self.futures.set_order_tpsl(uow, uid, order_id, tp, sl, tp_execute, sl_execute)

    def reverse_position(self, uid: str, position_id: int, source: str = "api",
                         tag: str = "", size: Decimal | None = None,
                         client_oid: str | None = None) -> FuturesOrder:
        """Close (part of) a position and open the same size on the other side, all or nothing."""
        with self.tx() as uow:
            user = self._user(uow, uid)
            pos = self._own_position(uow, uid, position_id)
            return self.futures.reverse_position(uow, user, pos, source, tag, size, client_oid)

    def futures_equity(self, uid: str, market: str, settle: str) -> tuple[Decimal, Decimal, Decimal]:
        with self.tx(read_only=True) as uow:
            return self.futures.equity(uow, uid, market, settle)

    def house_balance(self, venue: str, asset: str) -> Decimal:
        with self.tx(read_only=True) as uow:
            return uow.get_balance(house_uid(venue), "house", asset).available

    def position_margin(self) -> dict[str, Decimal]:
        with self.tx(read_only=True) as uow:
            return uow.sum_position_margin()

    # batches and kill switches: each one transaction, each item undone alone if refused -------
    def place_futures_orders(self, uid: str, market: str, symbol: str,
                             orders: list[dict]) -> list[FuturesOrder | DomainError]:
        """Place several orders on one contract in one transaction. Each order is placed in a
        savepoint of its own: a refused order is undone alone and its domain error stands in its
        place in the answer; the others stand. See FuturesBook.place for an order's fields."""
        with self.tx() as uow:
            user = self._user(uow, uid)
            inst = self.futures.instrument(uow, user.venue, market, symbol)
            results: list[FuturesOrder | DomainError] = []
            for terms in orders:
                try:
                    with uow.savepoint():
                        results.append(self.futures.place(uow, user, inst, **terms))
                except DomainError as err:
                    results.append(err)
            return results

    def cancel_futures_orders(self, uid: str, market: str, wanted: list[tuple[int | None, str | None]] | None,
                              symbol: str | None = None, kinds: list[OrderKind] | None = None,
                              settle: str | None = None
                              ) -> list[tuple[int | None, str | None, FuturesOrder | DomainError]]:
        """Cancel several open orders in one transaction: those named by (order id, client id)
        pairs (an order id prevails), or, wanted None, every open order of the market (of a
        symbol, of a settle coin) of the given kinds (default: regular orders). Returns, in
        order, (order id asked, client id asked, the cancelled order or the refusal)."""
        kinds = kinds or [OrderKind.REGULAR]
        with self.tx() as uow:
            self._user(uow, uid)
            out: list[tuple[int | None, str | None, FuturesOrder | DomainError]] = []
            if wanted is None:
                for order in uow.list_futures_orders(uid, market=market, symbol=symbol, open_only=True,
                                                     kinds=kinds, newest_first=False):
                    if settle is not None and self.futures.instrument(
                            uow, order.venue, order.market, order.symbol).settle != settle:
                        continue
                    out.append((order.order_id, order.client_oid,
                                self.futures._cancel(uow, order, CancelReason.USER)))
                return out
            for order_id, client_oid in wanted:
                order = self.futures.find(uow, uid, order_id, None if order_id is not None else client_oid)
                try:
                    if order is None or order.market != market or order.kind not in kinds:
                        raise OrderNotFound("order not found")
                    out.append((order_id, client_oid,
                                self.futures._cancel(uow, cancellable(order, symbol), CancelReason.USER)))
                except DomainError as err:
                    out.append((order_id, client_oid, err))
            return out

    def flash_close(self, uid: str, market: str, symbol: str | None = None,
                    side: PositionSide | None = None, tag: str = ""
                    ) -> list[tuple[Position, FuturesOrder | DomainError]]:
        """Close every open position of a market (of a symbol, of a side) at market, in one
        transaction, each position alone: a refused close (an elite trader's tracked position,
        say) is undone alone and its error stands in its place. The position's resting close
        orders are cancelled first, so that the whole position closes."""
        with self.tx() as uow:
            user = self._user(uow, uid)
            out: list[tuple[Position, FuturesOrder | DomainError]] = []
            for pos in uow.list_positions(uid, market=market, symbol=symbol, side=side, open_only=True):
                try:
                    with uow.savepoint():
                        out.append((pos, self.futures.flash_close(uow, user, pos, tag)))
                except DomainError as err:
                    out.append((pos, err))
            return out

    # take-profit / stop-loss orders, modifying orders --------------------------------------------
    def protect_position(self, uid: str, position_id: int, stops: list[dict],
                         tag: str = "") -> list[FuturesOrder | Position]:
        """Set several stops on one position in one transaction. Each stop: kind "tp" / "sl",
        trigger, size (None: the whole position, as the position's own TP / SL), execute (a
        limit price; None: at market), client_oid. Returns, per stop, the order made (a partial
        stop) or the position (its own TP / SL, known by tp_id / sl_id)."""
        with self.tx() as uow:
            user = self._user(uow, uid)
            pos = self._own_position(uow, uid, position_id)
            out: list[FuturesOrder | Position] = []
            for stop in stops:
                if stop.get("size") is None:
                    level, execute = stop["trigger"], stop.get("execute")
                    if stop["kind"] == "tp":
                        pos = self.futures.set_position_tpsl(uow, pos, tp=level, tp_execute=execute)
                    else:
                        pos = self.futures.set_position_tpsl(uow, pos, sl=level, sl_execute=execute)
                    out.append(pos)
                else:
                    out.append(self.futures.place_stop(uow, user, pos, stop["kind"], stop["trigger"],
                                                       stop["size"], stop.get("execute"),
                                                       stop.get("client_oid"), tag))
            return out

    def modify_stop_order(self, uid: str, order_id: int, trigger: Decimal, size: Decimal | None = None,
                          execute=UNCHANGED) -> FuturesOrder:
        with self.tx() as uow:
            self._user(uow, uid)
            return self.futures.modify_stop(uow, uid, order_id, trigger, size, execute)

    def modify_plan_order(self, uid: str, order_id: int, **changes) -> FuturesOrder:
        """See FuturesBook.modify_plan."""
        with self.tx() as uow:
            self._user(uow, uid)
            return self.futures.modify_plan(uow, uid, order_id, **changes)

    def modify_futures_order(self, uid: str, order_id: int, **changes) -> FuturesOrder:
        """See FuturesBook.replace_order: a new size or price replaces the order under a new id."""
        with self.tx() as uow:
            user = self._user(uow, uid)
            return self.futures.replace_order(uow, user, order_id, **changes)

    def crossed_health(self, uid: str, market: str, symbol: str,
                       price: Decimal | None = None) -> tuple[Decimal, Decimal]:
        """(equity, maintenance margin) of the user's crossed positions in the settle coin of a
        contract, the contract valued at `price` when given (FuturesBook.crossed_health)."""
        with self.tx(read_only=True) as uow:
            inst = self.futures.instrument(uow, self._user(uow, uid).venue, market, symbol)
            return self.futures.crossed_health(uow, uid, inst, price)

    def crossed_liquidation_price(self, uid: str, market: str, symbol: str) -> tuple[Decimal, bool] | None:
        """Where the contract's mark liquidates the user's crossed positions, the other marks as
        they are: (price, reached rising), or None."""
        with self.tx(read_only=True) as uow:
            inst = self.futures.instrument(uow, self._user(uow, uid).venue, market, symbol)
            return self.futures.crossed_liquidation_price(uow, uid, inst)
