"""CoinW USDT-margined perpetual futures (/v1/perpum/..., /v1/perpumPublic/...) wire layer."""

from localex.venues.coinw.service import CoinWVenue

__all__ = ["CoinWVenue"]
