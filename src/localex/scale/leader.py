"""One market leader at a time: a Redis lease with a fencing token.

The lease is one key, `<prefix>:leader`, set with NX and a time to live (LEASE_MS) to
"<token>:<worker>"; the token comes from `<prefix>:leader:token` (INCR), so every new leader
holds a larger one than every leader before it. The leader renews the lease every third of its
life; it counts itself leader only until its last successful renewal plus two thirds of the
lease (its own monotonic clock), so it stops before the lease can lapse. Another worker tries
to take the lease every RETRY_S; when the leader dies, its lease lapses within LEASE_MS and
the next try takes it.

The fence: the leader writes its token into the store (sequence FENCE) in the same transaction
as its walk position (sequence APPLIED), and refuses to go on when the store holds a larger
token, so a leader that was paused past its lease (and so replaced) cannot keep writing its
position once the new leader has written one.
"""

from __future__ import annotations

LEASE_MS = 3000
RETRY_S = 0.5
FENCE = "localex.leader.fence"
APPLIED = "localex.leader.applied_ms"

_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return token
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Fenced(Exception):
    """The store holds a newer leader's token: this worker is no longer the leader."""


class Lease:
    """The lease itself, over an asyncio redis-py client."""

    def __init__(self, client, prefix: str, worker: str, lease_ms: int = LEASE_MS) -> None:
        self.client = client
        self.key = f"{prefix}:leader"
        self.token_key = f"{prefix}:leader:token"
        self.worker = worker
        self.lease_ms = lease_ms
        self.token: int | None = None
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def value(self) -> str:
        return f"{self.token}:{self.worker}"

    async def acquire(self) -> int | None:
        token = int(await self._acquire(keys=[self.key, self.token_key], args=[self.worker, self.lease_ms]))
        if token:
            self.token = token
            return token
        return None

    async def renew(self) -> bool:
        if self.token is None:
            return False
        ok = bool(await self._renew(keys=[self.key], args=[self.value, self.lease_ms]))
        if not ok:
            self.token = None
        return ok

    async def release(self) -> None:
        if self.token is not None:
            await self._release(keys=[self.key], args=[self.value])
            self.token = None

    async def holder(self) -> str | None:
        value = await self.client.get(self.key)
        return value.decode() if value is not None else None


def fence(uow, token: int, applied_ms: int | None) -> int | None:
    """In the leader's transaction: check and write its token, and write its walk position.
    Returns the position stored before (None: none). Raises Fenced for a stale leader."""
    stored = uow.get_sequence(FENCE)
    if stored is not None and stored > token:
        raise Fenced(f"leader token {token} is older than the store's {stored}")
    before = uow.get_sequence(APPLIED)
    if stored != token:
        uow.put_sequence(FENCE, token)
    if applied_ms is not None and applied_ms != before:
        uow.put_sequence(APPLIED, applied_ms)
    return before


def take_over(engine, token: int) -> None:
    """A new leader: its token into the store (a stale one refused: Fenced), and its walk goes on
    from the position the last leader stored."""
    from localex.engine.clock import ManualClock

    with engine.tx() as uow:
        stored = fence(uow, token, None)
    if stored is not None and not isinstance(engine.clock, ManualClock):
        engine.simulation.applied_ms = stored


def market_step(engine, token: int, save: bool, budget_s: float) -> None:
    """One tick of the leader's work: latency arrivals, and with a running clock the walk along
    the price paths (at most `budget_s` of it), its position stored with the token when `save`."""
    from localex.engine.clock import ManualClock

    engine.fill_models.invalidate()  # orders other workers placed under a latency model may be due
    if isinstance(engine.clock, ManualClock):
        engine.settle_arrivals()
        return
    engine.simulation.catch_up(budget_s=budget_s)
    if save:
        with engine.tx() as uow:
            fence(uow, token, engine.simulation.applied_ms)
