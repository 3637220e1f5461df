"""Bitget's envelope, built in one place: {"code","msg","requestTime","data"}."""

from __future__ import annotations

import orjson

from localex.wire.http import Response
from localex.venues.bitget.errors import BitgetError


def success(data: object, request_time: int) -> Response:
    return Response(200, orjson.dumps({"code": "00000", "msg": "success", "requestTime": request_time,
                                       "data": data}))


def failure(err: BitgetError, request_time: int) -> Response:
    return Response(err.status, orjson.dumps({"code": err.code, "msg": err.msg, "requestTime": request_time,
                                              "data": err.data}))
