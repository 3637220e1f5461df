"""Injected faults shared by every worker: the fault list in Redis.

`POST /localex/faults` on any worker stores the fault under `<prefix>:faults` (a hash, one field
per fault id, ids from `INCR <prefix>:faults:id`) and bumps `<prefix>:faults:v`; the cache version
bump that follows every control-plane write makes every other worker read the list again before
its next request, so a fault added through one worker applies to requests on every worker.

Counting is done once for every worker: a fault's `remaining` (`<prefix>:faults:left`) and
`hits` (`<prefix>:faults:hits`) are counted by one Lua script per faulted request, so a fault for
the next N requests fails exactly N, however they are spread over the workers; the worker that
takes the last one deletes the fault, and another worker that still lists it finds it gone and
lets the request through. A fault with a `probability` draws from each worker's own seeded source
(`Faults`'s), so which requests it hits is per worker.
"""

from __future__ import annotations

import threading

import orjson

from localex.server.faults import Fault, Faults

_TAKE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -2 end
local left = redis.call('HGET', KEYS[2], ARGV[1])
if not left then
  redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
  return -1
end
left = tonumber(left) - 1
if left <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('INCR', KEYS[4])
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], left)
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
return left
"""

_FIELDS = ("kind", "venue", "path", "method", "probability", "code", "message", "status", "latency_ms")


class SharedFaults(Faults):
    """`Faults` (server/faults.py) kept in Redis: the same matching, the same answers."""

    def __init__(self, client, prefix: str, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.client = client  # a synchronous redis-py client
        self.key = f"{prefix}:faults"
        self.left_key = f"{prefix}:faults:left"
        self.hits_key = f"{prefix}:faults:hits"
        self.id_key = f"{prefix}:faults:id"
        self.version_key = f"{prefix}:faults:v"
        self.seen: bytes | None = None
        self._take = client.register_script(_TAKE)
        self._loading = threading.Lock()
        self.load()

    # what this worker lists -------------------------------------------------------------------
    def load(self, force: bool = False) -> bool:
        """Read the stored faults again when they changed since this worker last looked."""
        with self._loading:
            version = self.client.get(self.version_key)
            if version == self.seen and not force:
                return False
            pipe = self.client.pipeline(transaction=True)
            pipe.get(self.version_key)
            pipe.hgetall(self.key)
            pipe.hgetall(self.left_key)
            pipe.hgetall(self.hits_key)
            version, stored, left, hits = pipe.execute()
            faults = []
            for raw_id, raw in stored.items():
                fault_id = int(raw_id)
                spec = orjson.loads(raw)
                remaining = left.get(raw_id)
                faults.append(Fault(fault_id, spec["kind"], spec["venue"], spec["path"], spec["method"],
                                    int(remaining) if remaining is not None else None,
                                    spec["probability"], spec["code"], spec["message"], spec["status"],
                                    spec["latency_ms"], int(hits.get(raw_id, 0))))
            faults.sort(key=lambda f: f.fault_id)
            with self._lock:
                self._faults = faults
            self.seen = version
            return True

    # the control plane ---------------------------------------------------------------------
    def add(self, kind: str, **options) -> Fault:
        fault = Faults().add(kind, **options)  # checked as one process checks it
        fault.fault_id = int(self.client.incr(self.id_key))
        spec = {name: getattr(fault, name) for name in _FIELDS}
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.key, str(fault.fault_id), orjson.dumps(spec))
        if fault.remaining is not None:
            pipe.hset(self.left_key, str(fault.fault_id), fault.remaining)
        pipe.incr(self.version_key)
        pipe.execute()
        self.load()
        return fault

    def list(self) -> list[Fault]:
        self.load(force=True)  # remaining and hits as every worker counted them
        return super().list()

    def remove(self, fault_id: int) -> bool:
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(self.key, str(fault_id))
        pipe.hdel(self.left_key, str(fault_id))
        pipe.hdel(self.hits_key, str(fault_id))
        pipe.incr(self.version_key)
        removed = pipe.execute()[0]
        self.load()
        return bool(removed)

    def clear(self) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.key, self.left_key, self.hits_key)
        pipe.incr(self.version_key)
        pipe.execute()
        super().clear()
        self.load()

    def replace(self, faults: list[Fault]) -> None:
        """A snapshot restored through this worker: its faults (with their ids, what is left of
        each and its hits) in place of every stored one; new ids go on above them."""
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.key, self.left_key, self.hits_key)
        for fault in faults:
            field = str(fault.fault_id)
            pipe.hset(self.key, field, orjson.dumps({name: getattr(fault, name) for name in _FIELDS}))
            if fault.remaining is not None:
                pipe.hset(self.left_key, field, fault.remaining)
            if fault.hits:
                pipe.hset(self.hits_key, field, fault.hits)
        pipe.incr(self.version_key)
        pipe.execute()
        top = max((f.fault_id for f in faults), default=0)
        if top:  # the id counter never goes back: ids stay unique
            self.client.eval("if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then "
                             "redis.call('SET', KEYS[1], ARGV[1]) end", 1, self.id_key, top)
        self.load()

    # per request ---------------------------------------------------------------------------
    def pick(self, venue, request, kinds=None) -> Fault | None:
        if not self._faults:
            return None
        with self._lock:
            candidates = [f for f in self._faults
                          if f.matches(venue, request) and (kinds is None or f.kind in kinds)]
        for fault in candidates:
            if fault.probability is not None and self._rng.random() >= fault.probability:
                continue
            left = self._take(keys=[self.key, self.left_key, self.hits_key, self.version_key],
                              args=[str(fault.fault_id)])
            if left == -2 or left == 0:  # gone (another worker took its last), or this was its last
                with self._lock:
                    self._faults = [f for f in self._faults if f.fault_id != fault.fault_id]
                if left == -2:
                    continue
            fault.hits += 1
            if fault.remaining is not None:
                fault.remaining = max(left, 0)
            return fault
        return None
