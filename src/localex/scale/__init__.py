"""Several workers, one world: what they share through Redis (`localex serve --redis URL`).

- `wire.ratelimit.RedisRateLimiter`: the venues' rate-limit windows, counted once for every
  worker (the same windows and answers as the in-memory limiter).
- `invalidation.Invalidation`: a version number every worker checks once per request; a change
  made through one worker's control plane (a key revoked, a reset, a restore, a price path)
  bumps it, and every other worker drops what it caches before answering its next request.
- `relay.Relay` / `relay.StreamReader`: the engine's events, written to the outbox in the
  transaction that made them, relayed in sequence order to one Redis Stream by exactly one
  worker (the leader), and read by every worker's WebSocket sessions from that stream.
- `paths.SharedPaths` / `faults.SharedFaults`: the price paths and injected faults set through
  any worker's control plane, stored in Redis and read again by every worker when the version
  moves (a count-limited fault counted once across workers).
- `journal.SharedJournal`: the request journal, one Redis Stream every worker appends to, so
  any worker lists every worker's requests in one order.
- `leader.Lease` / `cluster.Cluster`: one market leader at a time (a Redis lease with a fencing
  token kept in the store): the running clock's price paths, triggers, funding, latency
  arrivals and the relay run only there; another worker takes over when the lease lapses.

- `pglease.PgLeader`: without Redis, on a PostgreSQL store, one market leader among every
  process sharing it (a PostgreSQL session advisory lock, the same fence in the store).

Nothing else here is used without --redis; one process on SQLite behaves exactly as before.
"""

from localex.scale.cluster import Cluster, redis_available

__all__ = ["Cluster", "redis_available"]
