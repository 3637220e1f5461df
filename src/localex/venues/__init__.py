"""Venue wire layers. Each knows its exchange's paths, parameters, types, signatures and error
codes, and calls the engine for every trading rule."""
