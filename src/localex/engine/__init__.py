"""The venue-agnostic exchange engine: plain Python, Decimal money, no HTTP, no JSON."""

from localex.engine.core import Engine

__all__ = ["Engine"]
