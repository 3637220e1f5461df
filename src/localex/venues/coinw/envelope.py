"""CoinW's futures envelope, built in one place.

Success: {"code": 0, "data": ..., "msg": ""}; an action without a result has no "data" key at all.
Failure: {"code": N, "msg": "..."} ("data": null where the venue sends it), or the gateway's own
shape for authentication failures. Keys are written in sorted order, as every published sample
shows them; numbers pass through as exact JSON (see fmt.py).
"""

from __future__ import annotations

import orjson

from localex.wire.http import Response
from localex.venues.coinw.errors import GATEWAY_CODES, NULL_DATA_CODES, CoinWError

NO_DATA = object()  # a handler's answer when the venue sends no "data"
OPTIONS = orjson.OPT_SORT_KEYS


def success(data: object = NO_DATA) -> Response:
    if data is NO_DATA:
        return Response(200, orjson.dumps({"code": 0, "msg": ""}, option=OPTIONS))
    return Response(200, orjson.dumps({"code": 0, "data": data, "msg": ""}, option=OPTIONS))


def failure(err: CoinWError) -> Response:
    if err.code in GATEWAY_CODES:
        body = {"code": err.code, "message": err.msg, "retry": False, "success": False}
    elif err.code in NULL_DATA_CODES:
        body = {"code": err.code, "data": None, "msg": err.msg}
    else:
        body = {"code": err.code, "msg": err.msg}
    return Response(err.status, orjson.dumps(body, option=OPTIONS))
