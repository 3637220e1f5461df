"""Running a call again when the database asks (PostgreSQL: a serialization failure, SQLSTATE
40001, or a deadlock, 40P01).

Every public method of Engine and of engine.copy is wrapped once, at import. The outermost call
runs again when its unit of work was refused (the store raises RetryTransaction after rolling it
back), as long as none of the call's units of work has committed yet, so nothing is ever done
twice; the seeded random source is put back as it was before the attempt, so the ids and secrets
drawn are the same. A call inside another call, or on a store that never asks (SQLite), runs as
written.
"""

from __future__ import annotations

import functools
import inspect
import random
import time

from localex.engine.errors import RetryTransaction

MAX_ATTEMPTS = 8
_jitter = random.Random()  # not the engine's seeded source: waiting must not change the world


def _retrying(fn, engine_of):
    @functools.wraps(fn)
    def call(self, *args, **kwargs):
        engine = self if engine_of is None else engine_of(self)
        store = engine.store
        if not getattr(store, "shared", False) or getattr(store, "active", True):
            return fn(self, *args, **kwargs)
        attempt = 1
        while True:
            commits = store.commits
            state = engine.rng.getstate()
            try:
                return fn(self, *args, **kwargs)
            except RetryTransaction:
                if store.commits != commits or attempt >= MAX_ATTEMPTS:
                    raise
                engine.rng.setstate(state)
                time.sleep(min(0.05, 0.001 * 2 ** attempt) * (0.5 + _jitter.random()))
                attempt += 1

    return call


def retried(engine_of):
    """A class decorator: every public method (not generators, not `tx`) retried as above;
    engine_of(instance) is the Engine it works through (None: the instance is the Engine)."""

    def wrap(cls):
        for name, value in list(vars(cls).items()):
            if (name.startswith("_") or name in ("tx", "now_ms") or not inspect.isfunction(value)
                    or inspect.isgeneratorfunction(value)):
                continue
            setattr(cls, name, _retrying(value, engine_of))
        return cls

    return wrap
