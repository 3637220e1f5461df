"""localex: a local, stateful, wire-faithful emulator of crypto-exchange trading APIs."""

__version__ = "0.1.0"
