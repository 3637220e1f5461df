"""Snapshots across workers: the world's shared price paths and faults go with the store.

A snapshot taken through a worker of a cluster (`GET /localex/snapshot`) carries, in its
`extra`, the price paths set through the control plane as stored in Redis (`paths`: their specs
by instrument key, and whether a reset cleared every worker's start-up paths) and the injected
faults (`faults`: as `GET /localex/faults` lists them, with what is left of each and its hits).
A restore through any worker (`POST /localex/snapshot`) checks them with the rest of the
snapshot, replaces the store, then stores them in Redis in place of what was there: every
worker builds the same paths and lists the same faults from its next request on, as after a
reset. A snapshot that carries neither (one taken by a single process) leaves them as they are,
as a single process's restore does.

The leader's fencing token and walk position (the store's sequences FENCE and APPLIED) belong
to the cluster that runs the world, not to the world: a restore keeps the store's own in place
of the snapshot's, so a snapshot taken under a larger token (by another cluster, or before Redis
lost its counter) does not fence out every leader until the tokens pass it.
"""

from __future__ import annotations

from localex.control import paths as specs
from localex.scale.leader import APPLIED, FENCE
from localex.scale.paths import CLEARED
from localex.server.faults import Fault, Faults
from localex.store.snapshot import SnapshotError

_FAULT_FIELDS = ("id", "kind", "venue", "path", "method", "remaining", "probability", "code", "message",
                 "status", "latencyMs", "hits")


def shared_state(cluster) -> dict:
    """What a snapshot's `extra` carries of the world's shared configuration."""
    import orjson

    stored = {k.decode(): v for k, v in cluster.sync.hgetall(cluster.paths.key).items()}
    cleared = stored.pop(CLEARED, None) is not None
    return {"paths": {"cleared": cleared, "specs": {key: orjson.loads(raw) for key, raw in sorted(stored.items())}},
            "faults": [f.as_json() for f in cluster.faults.list()]}


def checked(snapshot: dict) -> tuple[dict | None, list[Fault] | None]:
    """The paths and faults a snapshot carries, checked before anything changes (SnapshotError
    for one that cannot be put back); None for what it does not carry."""
    extra = snapshot.get("extra") if isinstance(snapshot, dict) else None
    if not isinstance(extra, dict):
        return None, None
    paths = extra.get("paths")
    if paths is not None:
        if (not isinstance(paths, dict) or not isinstance(paths.get("cleared"), bool)
                or not isinstance(paths.get("specs"), dict)):
            raise SnapshotError("extra.paths must be {\"cleared\": bool, \"specs\": {instrument: spec}}")
        for key, spec in paths["specs"].items():
            if not isinstance(spec, dict) or len(key.split(":", 2)) != 3:
                raise SnapshotError(f"extra.paths: {key!r} is not an instrument's path spec")
            try:
                specs.build(spec)
            except (TypeError, ValueError, ArithmeticError, KeyError) as err:
                raise SnapshotError(f"extra.paths: {key}: {err}") from None
    faults = extra.get("faults")
    if faults is None:
        return paths, None
    if not isinstance(faults, list):
        raise SnapshotError("extra.faults must be a list of faults")
    out = []
    for i, row in enumerate(faults):
        try:
            if not isinstance(row, dict) or set(row) != set(_FAULT_FIELDS):
                raise ValueError(f"a fault has the fields {', '.join(_FAULT_FIELDS)}")
            fault_id, remaining, hits = row["id"], row["remaining"], row["hits"]
            for name, value in (("id", fault_id), ("hits", hits), ("remaining", remaining)):
                if value is None and name == "remaining":
                    continue
                if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name != "hits" else 0):
                    raise ValueError(f"'{name}' must be a positive whole number")
            fault = Faults().add(row["kind"], venue=row["venue"], path=row["path"], method=row["method"],
                                 count=remaining, probability=row["probability"], code=row["code"],
                                 message=row["message"], status=row["status"], latency_ms=row["latencyMs"])
        except (TypeError, ValueError) as err:
            raise SnapshotError(f"extra.faults, fault {i}: {err}") from None
        fault.fault_id, fault.hits = fault_id, hits
        out.append(fault)
    if len({f.fault_id for f in out}) != len(out):
        raise SnapshotError("extra.faults: two faults with one id")
    return paths, out


def keep_leader(cluster, snapshot: dict) -> None:
    """Put the store's own fence token and walk position into the snapshot about to be
    restored, in place of the snapshot's (see the module's docstring)."""
    tables = snapshot.get("tables") if isinstance(snapshot, dict) else None
    rows = tables.get("sequences") if isinstance(tables, dict) else None
    if not isinstance(rows, list):
        return  # not a snapshot: the restore refuses it
    with cluster.engine.tx(read_only=True) as uow:
        live = {name: uow.get_sequence(name) for name in (FENCE, APPLIED)}
    kept = [row for row in rows if not (isinstance(row, dict) and row.get("name") in live)]
    tables["sequences"] = kept + [{"name": name, "value": value} for name, value in live.items()
                                  if value is not None]


def restore(cluster, paths: dict | None, faults: list[Fault] | None) -> None:
    """Put a restored snapshot's paths and faults in Redis for every worker (after the store)."""
    if paths is not None:
        cluster.paths.replace(paths["specs"], paths["cleared"])
        cluster.paths.load(cluster.engine)
    if faults is not None:
        cluster.faults.replace(faults)
