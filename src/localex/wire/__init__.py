"""Low-level wire values shared by the venues, the control plane and the server.

Nothing here knows a venue or the engine: the venues and the control plane import these
values, and ``server/`` assembles them into the app. Imports run one way only:
``server`` → ``venues`` / ``control`` → ``wire``.
"""
