"""Typed Python clients for the emulated APIs. They speak the real venues' wire, so they work
against the real exchanges as well as against localex."""

from localex.client.bitget import BitgetAPIError, BitgetClient
from localex.client.coinw import CoinWAPIError, CoinWClient

__all__ = ["BitgetAPIError", "BitgetClient", "CoinWAPIError", "CoinWClient"]
