"""Bitget V2 (classic account) wire layer."""

from localex.venues.bitget.service import BitgetVenue

__all__ = ["BitgetVenue"]
