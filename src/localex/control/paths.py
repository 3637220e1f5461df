"""A price path as the control plane sets it: a JSON spec (everything the path depends on, the
current price and time included) and the path built from it.

`POST /localex/paths` resolves the request into a spec (`spec`) and builds the path from it
(`build`). The spec is plain JSON so that it can be stored and built again, to the same prices,
by another process (localex/scale: every worker walks the paths set through any worker).
"""

from __future__ import annotations

from decimal import Decimal


def spec(engine, inst, body: dict) -> dict:
    """The spec of the path `body` asks for on `inst`, at the engine's present. ValueError on a
    bad field; LookupError when a random walk has no price to start from."""
    kind = body.get("kind")
    if kind == "static":
        return {"kind": "static"}
    now = engine.now_ms()
    if kind == "random_walk":
        mark = engine.mark(inst)
        if mark is None:
            raise LookupError("a random walk starts from the current price")
        return {"kind": kind, "start": format(mark, "f"), "originMs": now,
                "seed": body.get("seed", f"{engine.seed}:{inst.key}"),
                "drift": float(body.get("drift", 0.0)), "volatility": float(body.get("volatility", 0.01)),
                "stepMs": int(body.get("stepMs", 1000)), "priceScale": inst.price_scale}
    if kind == "candles":
        return {"kind": kind, "csv": body.get("csv") or None, "originMs": now}
    raise ValueError("'kind' is one of static, random_walk, candles")


def build(spec: dict):
    """The path a spec describes (None for static). ValueError, TypeError or ArithmeticError
    on a spec no path can be built from."""
    from localex.engine.pricepaths import CandleReplay, RandomWalk, read_candles, sample_candles

    kind = spec["kind"]
    if kind == "static":
        return None
    if kind == "random_walk":
        return RandomWalk(Decimal(spec["start"]), origin_ms=spec["originMs"], seed=spec["seed"],
                          drift=spec["drift"], volatility=spec["volatility"], step_ms=spec["stepMs"],
                          price_scale=spec["priceScale"])
    if kind == "candles":
        text = spec["csv"]
        candles = read_candles(text.splitlines()) if text else sample_candles()
        return CandleReplay(candles, origin_ms=spec["originMs"])
    raise ValueError(f"unknown path kind {kind!r}")
