"""Price paths shared by every worker: the world's path configuration in Redis.

`POST /localex/paths` on any worker stores the path's spec (control/paths.py: the kind, its
parameters, the price and time it starts from) in the hash `<prefix>:paths`, one field per
instrument key ("static" for a path cleared), and bumps `<prefix>:paths:v`, before the cache
version is bumped. Every worker reads `:paths:v` whenever it sees the cache version change (and
the leader on every tick, and on taking over); when it moved, it builds the stored paths again
and walks them: the same specs give the same paths, point for point, on every worker.

What a worker was started with (`--price-path`) stays its own until the control plane sets or
clears a path of that instrument (the stored entry wins), or a reset anywhere clears every path
(the field "*" says so; the stored entries are then the only paths).
"""

from __future__ import annotations

import orjson

from localex.control import paths as specs

CLEARED = "*"  # the field saying a reset cleared every path, start-up ones included


class SharedPaths:
    def __init__(self, client, prefix: str) -> None:
        self.client = client  # a synchronous redis-py client
        self.key = f"{prefix}:paths"
        self.version_key = f"{prefix}:paths:v"
        self.seen: bytes | None = None  # the :paths:v this worker's paths agree with
        self.startup: dict = {}  # the worker's own start-up paths, by instrument key
        self.built: dict[str, tuple[bytes, object]] = {}  # a stored spec and the path built from it

    def attach(self, engine) -> None:
        self.startup = dict(engine.simulation.paths)
        self.seen = None
        self.load(engine)

    def share(self, inst, spec: dict, path) -> None:
        """A path set through this worker (`path`, built from `spec`): stored for every worker
        (before the version bump)."""
        raw = orjson.dumps(spec)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.key, inst.key, raw)
        pipe.incr(self.version_key)
        _, version = pipe.execute()
        self.built[inst.key] = (raw, path)
        if self.seen is not None and int(self.seen) == version - 1:
            self.seen = str(version).encode()  # nothing else changed: this worker is up to date

    def clear(self) -> None:
        """A reset through this worker: every worker's paths are gone."""
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.key)
        pipe.hset(self.key, CLEARED, b"1")
        pipe.incr(self.version_key)
        pipe.execute()

    def replace(self, stored: dict[str, dict], cleared: bool) -> None:
        """A snapshot restored through this worker: its paths (specs by instrument key, and
        whether a reset had cleared the start-up paths) in place of every stored one."""
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.key)
        fields = {key: orjson.dumps(spec) for key, spec in stored.items()}
        if cleared:
            fields[CLEARED] = b"1"
        if fields:
            pipe.hset(self.key, mapping=fields)
        pipe.incr(self.version_key)
        pipe.execute()

    def load(self, engine) -> bool:
        """Build the stored paths when they changed since this worker last looked. True when
        they did."""
        version = self.client.get(self.version_key)
        if version == self.seen:
            return False
        stored = self.client.hgetall(self.key)
        self.seen = version
        if version is None:
            return False  # nothing stored yet: every worker walks its start-up paths
        stored = {k.decode(): v for k, v in stored.items()}
        paths = {} if CLEARED in stored else dict(self.startup)
        stored.pop(CLEARED, None)
        for key, raw in sorted(stored.items()):
            inst = engine.instrument(*key.split(":", 2))
            if inst is None:
                continue
            built = self.built.get(key)
            if built is None or built[0] != raw:
                try:
                    path = specs.build(orjson.loads(raw))
                except (TypeError, ValueError, ArithmeticError, KeyError):
                    continue  # not a spec this version builds
                built = self.built[key] = (raw, path)
            if built[1] is None:
                paths.pop(key, None)
            else:
                paths[key] = (inst, built[1])
        sim = engine.simulation
        for key, (inst, _path) in list(sim.paths.items()):
            if key not in paths:
                sim.set_path(inst, None)
        for key, (inst, path) in paths.items():
            if sim.paths.get(key, (None, None))[1] is not path:
                sim.set_path(inst, path)
        return True
