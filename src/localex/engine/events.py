"""Domain events: what each committed unit of work changed, in commit order.

Every write a unit of work makes to an order, a fill, a position, a balance, a tracking order or
a mark price is noted as it happens (`Recorder`, which stands in front of the store's unit of
work). When the work is about to commit, the notes become events: they are numbered with the
world's event sequence and written to the store's outbox in the same transaction, so they commit
or roll back with the work itself. Only after the commit are they handed to the feed's
subscribers (`EventFeed.publish`), in sequence order, each exactly once. Work that rolls back
(an exception, a savepoint undone) publishes nothing.

The outbox is what a process other than the writer reads (`Engine.events_since`): a relay that
carries the feed to other workers needs nothing but the sequence number it last saw.

Within one unit of work the notes are folded so a reader sees states it could have read through
the API, not the steps the engine took on the way: a balance, a position, a mark price, a
tracking order or a follower's copy appears once, in its final state, where it was last written;
an order appears once per distinct state it passed through (placed live, then filled, say); every
fill appears.
"""

from __future__ import annotations

import copy
import enum
import logging
import operator
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

log = logging.getLogger("localex.events")


class EventKind(str, enum.Enum):
    SPOT_ORDER = "spot_order"  # obj: SpotOrder
    SPOT_FILL = "spot_fill"  # obj: Fill
    FUTURES_ORDER = "futures_order"  # obj: FuturesOrder (regular, plan and trailing orders)
    FUTURES_FILL = "futures_fill"  # obj: FuturesFill
    POSITION = "position"  # obj: Position (opened, changed, closed: see obj.open)
    BALANCE = "balance"  # obj: Balance
    TRACKING = "tracking"  # obj: Tracking (an elite trader's tracking order)
    FOLLOWER_COPY = "follower_copy"  # obj: FollowerCopy
    SPOT_PLAN = "spot_plan"  # obj: SpotPlanOrder (spot trigger, TP and SL orders)
    MARK = "mark"  # obj: MarkPrice; uid None


@dataclass(frozen=True)
class Event:
    seq: int  # the world's event sequence: 1, 2, 3, ... in commit order, never reused
    kind: EventKind
    uid: str | None  # whose change it is (None: the market's)
    at_ms: int  # market time of the unit of work
    obj: Any  # the changed entity, as it stood when the work committed
    created: bool = False  # the entity came into being in this unit of work


# write method of the unit of work -> (kind, created, key of the entity within a unit of work)
_WRITES: dict[str, tuple[EventKind, bool]] = {
    "insert_spot_order": (EventKind.SPOT_ORDER, True),
    "update_spot_order": (EventKind.SPOT_ORDER, False),
    "insert_fill": (EventKind.SPOT_FILL, True),
    "insert_futures_order": (EventKind.FUTURES_ORDER, True),
    "update_futures_order": (EventKind.FUTURES_ORDER, False),
    "insert_futures_fill": (EventKind.FUTURES_FILL, True),
    "insert_position": (EventKind.POSITION, True),
    "update_position": (EventKind.POSITION, False),
    "put_balance": (EventKind.BALANCE, False),
    "insert_tracking": (EventKind.TRACKING, True),
    "update_tracking": (EventKind.TRACKING, False),
    "insert_follower_copy": (EventKind.FOLLOWER_COPY, True),
    "update_follower_copy": (EventKind.FOLLOWER_COPY, False),
    "insert_spot_plan": (EventKind.SPOT_PLAN, True),
    "update_spot_plan": (EventKind.SPOT_PLAN, False),
    "set_mark": (EventKind.MARK, False),
}

# kinds shown once per unit of work, in their last state; the key names one entity
_LAST_STATE: dict[EventKind, Callable[[Any], tuple]] = {
    EventKind.BALANCE: lambda b: (b.uid, b.account, b.asset),
    EventKind.POSITION: lambda p: (p.position_id,),
    EventKind.MARK: lambda m: (m.instrument,),
    EventKind.TRACKING: lambda t: (t.tracking_no,),
    EventKind.FOLLOWER_COPY: lambda c: (c.tracking_no,),
}
_ORDER_KEY: dict[EventKind, Callable[[Any], tuple]] = {
    EventKind.SPOT_ORDER: lambda o: (o.order_id,),
    EventKind.FUTURES_ORDER: lambda o: (o.order_id,),
    EventKind.SPOT_PLAN: lambda o: (o.order_id,),
}


def new_event(seq: int, kind: EventKind, uid: str | None, at_ms: int, obj: Any, created: bool,
              _new=object.__new__) -> Event:
    """Event(seq, kind, uid, at_ms, obj, created), without the frozen dataclass's field-by-field
    __init__ (the same object)."""
    event = _new(Event)
    event.__dict__.update(seq=seq, kind=kind, uid=uid, at_ms=at_ms, obj=obj, created=created)
    return event


# the same keys and owners, as C getters (what changes() folds by)
_LAST_KEY: dict[EventKind, Callable[[Any], Any]] = {
    EventKind.BALANCE: operator.attrgetter("uid", "account", "asset"),
    EventKind.POSITION: operator.attrgetter("position_id"),
    EventKind.MARK: operator.attrgetter("instrument"),
    EventKind.TRACKING: operator.attrgetter("tracking_no"),
    EventKind.FOLLOWER_COPY: operator.attrgetter("tracking_no"),
}
_ORDER_ID: dict[EventKind, Callable[[Any], Any]] = {kind: operator.attrgetter("order_id") for kind in _ORDER_KEY}
_uid = operator.attrgetter("uid")
_OWNER: dict[EventKind, Callable[[Any], Any] | None] = {
    EventKind.MARK: None,
    EventKind.TRACKING: operator.attrgetter("trader_uid"),
    EventKind.FOLLOWER_COPY: operator.attrgetter("follower_uid"),
}


def _owner(kind: EventKind, obj: Any) -> str | None:
    if kind is EventKind.MARK:
        return None
    if kind in (EventKind.TRACKING,):
        return obj.trader_uid
    if kind is EventKind.FOLLOWER_COPY:
        return obj.follower_uid
    return obj.uid


class Recorder:
    """A unit of work that notes every change it writes (see the module's docstring). Reads and
    everything else go straight to the store's unit of work."""

    def __init__(self, uow) -> None:
        self._uow = uow
        self._notes: list[tuple[EventKind, bool, Any]] = []
        self._methods: dict[str, Callable] = {}  # the unit's write methods, found once

    def __getattr__(self, name: str):
        attr = getattr(self._uow, name)
        setattr(self, name, attr)  # found once per unit of work
        return attr

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        mark = len(self._notes)
        try:
            with self._uow.savepoint():
                yield
        except BaseException:
            del self._notes[mark:]  # undone with the work
            raise

    def mark(self) -> int:
        """Where the notes stand now (for written_since)."""
        return len(self._notes)

    def written_since(self, mark: int) -> list[tuple[EventKind, Any]]:
        """What was written since `mark`, unfolded, in order: (kind, entity)."""
        return [(kind, obj) for kind, _made, obj in self._notes[mark:]]

    def changes(self, at_ms: int, _new=object.__new__) -> list[Event]:
        """The folded notes as events without their sequence numbers (seq 0)."""
        notes = self._notes
        if not notes:
            return []
        last: dict[tuple, int] = {}
        created: set[tuple] = set()
        keys: list = [None] * len(notes)
        last_state = _LAST_KEY
        i = 0
        for kind, made, obj in notes:
            keyer = last_state.get(kind)
            if keyer is not None:
                key = keys[i] = (kind, keyer(obj))
                last[key] = i
                if made:
                    created.add(key)
            i += 1
        events: list[Event] = []
        append = events.append
        seen_state: dict[tuple, Any] = {}
        order_key = _ORDER_ID
        owners = _OWNER
        i = -1
        for kind, made, obj in notes:
            i += 1
            key = keys[i]
            if key is not None:
                if last[key] != i:
                    continue
                made = key in created
            else:
                order_keyer = order_key.get(kind)
                if order_keyer is not None:
                    key = (kind, order_keyer(obj))
                    seen = seen_state.get(key)
                    # written again unchanged (an order's fields are all it holds: the same
                    # test as ==, without building two tuples of every field)
                    if seen is not None and (seen is obj or seen.__dict__ == obj.__dict__):
                        continue
                    seen_state[key] = obj
            owner = owners.get(kind, _uid)
            # new_event, inlined
            event = _new(Event)
            event.__dict__.update(seq=0, kind=kind, uid=None if owner is None else owner(obj), at_ms=at_ms,
                                  obj=obj, created=made)
            append(event)
        return events


def _snapshot(obj: Any, _new=object.__new__) -> Any:
    """A shallow copy of an entity (what copy.copy makes of a dataclass, without its detour
    through __reduce_ex__)."""
    try:
        state = obj.__dict__
    except AttributeError:
        return copy.copy(obj)
    twin = _new(obj.__class__)
    twin.__dict__.update(state)
    return twin


def _make_write(name: str, kind: EventKind, made: bool):
    note = (kind, made)

    def write(self, obj, given: bool = False):
        uow = self._uow
        uow.last_put = None
        try:
            method = self._methods[name]
        except KeyError:
            method = self._methods[name] = getattr(uow, name)
        if given:  # the caller hands obj over (see the store's _put)
            method(obj, given=True)
        else:
            method(obj)
        # the engine may change obj later: the note keeps a copy (the one the store buffered,
        # when it says it holds one: it changes it no more than the note does)
        held = uow.last_put
        if held is None or held.__class__ is not obj.__class__:
            held = _snapshot(obj)
        self._notes.append(note + (held,))
    write.__name__ = name
    return write


for _name, (_kind, _made) in _WRITES.items():
    setattr(Recorder, _name, _make_write(_name, _kind, _made))


class EventFeed:
    """Subscribers hear every committed event once, in sequence order, right after the commit
    (on the thread that committed, while the writer still holds the store's lock, so two
    writers' events never interleave). A subscriber that raises is logged and skipped; it
    cannot undo committed work or keep the others from hearing."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[list[Event]], None]] = []
        self._lock = threading.Lock()
        self.last_seq = 0
        # True for a feed whose events arrive after other processes committed them (carried
        # across workers: localex/scale), so a snapshot may show what the feed has not yet said
        self.delayed = False

    def subscribe(self, callback: Callable[[list[Event]], None]) -> Callable[[], None]:
        """Hear every batch of events from now on; returns a function that stops it."""
        with self._lock:
            self._subscribers = self._subscribers + [callback]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]
        return unsubscribe

    def publish(self, events: list[Event]) -> None:
        if not events:
            return
        self.last_seq = events[-1].seq
        for callback in self._subscribers:
            try:
                callback(events)
            except Exception:
                log.exception("an event subscriber failed")
