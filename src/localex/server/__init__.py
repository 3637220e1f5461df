"""The ASGI server: one app serving every venue and the control plane."""
