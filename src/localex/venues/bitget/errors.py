"""Bitget's error codes: the one table of this venue, and the one mapping from domain errors.

Messages are Bitget's own (the global "Rest API Error Code" list, or bodies observed from the
venue); the choices made where the sources are silent are recorded in docs/fidelity.md.
"""

from __future__ import annotations

from localex.engine import errors as dom
from localex.engine.model import Permission

MESSAGES: dict[str, str] = {
    # authentication
    "40001": "ACCESS_KEY cannot be empty",
    "40002": "ACCESS_SIGN cannot be empty",
    "40003": "Signature cannot be empty",
    "40005": "Invalid ACCESS_TIMESTAMP",
    "40006": "Invalid ACCESS_KEY",
    "40008": "Request timestamp expired",
    "40009": "sign signature error",
    "40011": "ACCESS_PASSPHRASE cannot be empty",
    "40012": "apikey/password is incorrect",
    "40014": "Incorrect permissions, need {0} permissions",
    "40018": "Invalid IP",
    "40037": "Apikey does not exist",
    "40078": "Timestamp for this request is outside of the ME receiveWindow",
    "40079": "receiveWindow timestamp must be less than 60s",
    # parameters
    "40017": "Parameter verification failed {0}",
    "40019": "Parameter {0} cannot be empty",
    "40020": "Parameter {0} error",
    "40034": "Parameter {0} does not exist",
    "40053": "Value range verification failed: {0} should be between {1}",
    "40402": "orderId or clientOId format error",
    "40404": "Request URL NOT FOUND",
    "40705": "The start and end time cannot exceed 90 days",
    "40707": "Start time is greater than end time",
    "40808": "Parameter verification exception {0}",
    "40924": "orderId and clientOid must have one",
    # orders and balances
    "43001": "The order does not exist",
    "43006": "The order quantity is less than the minimum transaction quantity",
    "43011": "The parameter does not meet the specification {0}",
    "43012": "Insufficient balance",
    "43115": "The current symbol is not open for trading, please try again later",
    "43118": "clientOrderId duplicate",
    "45110": "less than the minimum amount {0} {1}",
    # copy trading (futures, elite traders and followers)
    "22002": "No position to close",
    "31031": "You’re log in as trader,can not follow trade",
    "31052": "Cannot set trading symbol that have not been opened by traders.",
    "40732": "Not currently a trader",
    "40734": "Failed to place an order, the minimum number of traders to open a position {0}",
    "40830": "The take profit price of the long position should be greater than the current price",
    "40832": "The take profit price of short positions should be less than the current price",
    "40834": "The stop loss price of the long position should be less than the current price",
    "40836": "The stop loss price of the short position should be greater than the current price",
    "40854": "This product does not support copy trading",
    "40860": "The trader does not exist and cannot be set to follow",
    "40866": "You are currently a trader, please close the position under the current order",
    "40914": "Trader the maximum leverage can use is {0}",
    "43036": "Trader modify tpsl can only be operated once within 300ms",
    "43045": "The trader is ful",
    "43062": "not to follow",
    "43063": "Can not follow trade with yourself",
    "43064": "Tracking order status error",
    "43065": "Tracking No does not exist",
    "43066": "The trader failed to remove the follower",
    "43055": "The take loss ratio must be between {0}-{1}",
    "43056": "The take profit ratio must be between {0}-{1}",
    "40058": "Parameter {0} Only a maximum of {1} is allowed",
    # futures (mix): orders, positions, accounts
    "40109": "The data of the order cannot be found, please confirm the order number",
    "40754": "balance not enough",
    "40757": "Not enough position is available.",
    "40762": "The order amount exceeds the balance",
    "40774": "The order type for unilateral position must also be the unilateral position type.",
    "40778": "Coin pair {0} does not support {1} currency as margin",
    "40797": "Exceeded the maximum settable leverage",
    "40800": "Insufficient amount of margin",
    "40802": "Position is zero and direct margin call is not allowed",
    "40875": "Whole position mode does not support margin adjustment",
    "40915": "Long position take profit price please > mark price",
    "40917": "Stop price for long positions please < mark price {0}",
    "40920": "Position or order exists, the position mode cannot be switched",
    "40921": "The order size cannot exceed the maximum size of the positionLevel",
    "43023": "Insufficient position, can not set profit or stop loss",
    "43025": "Plan order does not exist",
    "45112": "more than the maximum order quantity",
    "45117": "Currently holding positions or orders, the margin mode cannot be adjusted",
    "45122": "Short position stop loss price please > mark price {0}",
    "45135": "The take-profit price for short positions must be less than the mark price: {0}.",
    "400172": "Parameter verification failed",
    "400171": "Parameter verification failed",  # an unknown granularity (observed)
    "30032": "The V1 API has been decommissioned. Please migrate to a newer version.",
    # platform
    "429": "Too Many Requests",
    "40725": "service return an error",
}

# How a missing permission is named in 40014's message.
PERMISSION_NAMES = {
    Permission.SPOT_TRADE: "spot trade",
    Permission.FUTURES_TRADE: "contract trade",
    Permission.COPY_TRADE: "copy trading",
    Permission.TRANSFER: "transfer",
    Permission.WITHDRAW: "withdraw",
}


class BitgetError(Exception):
    """An answer in Bitget's error envelope."""

    def __init__(self, code: str, *args: object, status: int = 400, data: object = None,
                 msg: str | None = None) -> None:
        self.code = code
        self.msg = msg if msg is not None else MESSAGES[code].format(*args)
        self.status = status
        self.data = data
        super().__init__(f"{code} {self.msg}")


def _plain(value: object) -> str:
    return format(value, "f") if hasattr(value, "as_tuple") else str(value)


def from_domain(exc: dom.DomainError, path: str = "") -> BitgetError:
    """The single place where engine refusals become Bitget codes. `path` is the endpoint's:
    the futures (mix) endpoints answer some refusals with codes of their own."""
    d = exc.details
    mix = path.startswith(MIX_PREFIX)
    if isinstance(exc, dom.UnknownInstrument):
        return BitgetError("40034", d.get("symbol", ""))
    if isinstance(exc, dom.InstrumentNotTrading):
        return BitgetError("43115")
    if isinstance(exc, dom.PricePrecision):
        return BitgetError("40808", f"price checkBDScale error value={_plain(d['value'])} checkScale={d['scale']}")
    if isinstance(exc, dom.SizePrecision):
        return BitgetError("40808", f"size checkBDScale error value={_plain(d['value'])} checkScale={d['scale']}")
    if isinstance(exc, dom.BelowMinimumNotional):
        return BitgetError("45110", _plain(d["minimum"]), d["quote"])
    if isinstance(exc, dom.BelowMinimumSize):
        return BitgetError("43006")
    if isinstance(exc, dom.NonPositive):
        return BitgetError("40020", d.get("field", ""))
    if isinstance(exc, dom.DuplicateClientOid):
        return BitgetError("43118")
    if isinstance(exc, dom.InsufficientBalance):
        return BitgetError("40762" if mix else "43012")
    if isinstance(exc, dom.NoMarkPrice):
        return BitgetError("40808", "no market price")
    if isinstance(exc, dom.PlanNotFound):
        return BitgetError("43025")
    if isinstance(exc, dom.NotTransferable):
        return BitgetError("40020", "coin")
    if isinstance(exc, dom.PresetWrongSide):
        return BitgetError("40020", d.get("field", ""))
    if isinstance(exc, (dom.OrderNotFound, dom.OrderNotCancellable)):
        return BitgetError("43001")
    if isinstance(exc, dom.UnknownUser):
        return BitgetError("40037")
    copy_error = _copy_trading(exc)
    if copy_error is not None:
        return copy_error
    futures_error = _futures(exc, path)
    if futures_error is not None:
        return futures_error
    return BitgetError("40725", status=500)


MIX_PREFIX = "/api/v2/mix/"
# an order's take-profit / stop-loss on the wrong side of the mark: (kind, position side) -> code
_PRESET_WRONG_SIDE = {("tp", "long"): "40915", ("sl", "long"): "40917", ("sl", "short"): "45122",
                      ("tp", "short"): "45135"}


def _futures(exc: dom.DomainError, path: str) -> BitgetError | None:
    """Futures refusals (engine/futures.py); the choices are in docs/fidelity.md."""
    d = exc.details
    if isinstance(exc, dom.NoPosition):
        return BitgetError("22002")
    if isinstance(exc, dom.PositionTooSmall):
        return BitgetError("40757")
    if isinstance(exc, dom.TierLeverageExceeded):
        return BitgetError("40921")
    if isinstance(exc, dom.LeverageOutOfRange):
        return BitgetError("40797")
    if isinstance(exc, dom.HasOpenPositions):
        return BitgetError("45117" if path.endswith("/set-margin-mode") else "40920")
    if isinstance(exc, dom.NotIsolated):
        return BitgetError("40875")
    if isinstance(exc, dom.InvalidTrigger):
        code = _PRESET_WRONG_SIDE[(d["kind"], d["side"])]
        return BitgetError(code, format(d["mark"].normalize(), "f"))
    if isinstance(exc, dom.NotAContract):
        return BitgetError("40034", d.get("symbol", ""))
    return None


_TPSL_WRONG_SIDE = {("tp", "long"): "40830", ("tp", "short"): "40832", ("sl", "long"): "40834",
                    ("sl", "short"): "40836"}


def _copy_trading(exc: dom.DomainError) -> BitgetError | None:
    """Copy-trading refusals (engine/copy.py); the choices are in docs/fidelity.md."""
    from localex.engine import copy as cp

    d = exc.details
    simple = {cp.NotATrader: "40732", cp.TrackingNotFound: "43065", cp.TrackingNotOpen: "43064",
              cp.NotCopySymbol: "40854", cp.CopySymbolNotSet: "31052",
              cp.TraderMustCloseTracking: "40866", cp.TpslTooFrequent: "43036",
              cp.TraderNotFound: "40860", cp.FollowSelf: "43063", cp.TraderCannotFollow: "31031",
              cp.TraderFull: "43045", cp.NotFollowing: "43062", cp.FollowerNotFound: "43066",
              cp.NothingToClose: "22002"}
    for kind, code in simple.items():
        if isinstance(exc, kind):
            return BitgetError(code)
    if isinstance(exc, cp.TraderHedgeOnly):
        return BitgetError("43011", "posMode: elite traders trade copy symbols in hedge mode only")
    if isinstance(exc, cp.TraderLeverageTooHigh):
        return BitgetError("40914", d["maximum"])
    if isinstance(exc, cp.TraderBelowMinimum):
        return BitgetError("40734", _plain(d["minimum"]))
    if isinstance(exc, cp.TpslWrongSide):
        return BitgetError(_TPSL_WRONG_SIDE[(d["kind"], d["side"])])
    return None


# WebSocket (/v2/ws/public, /v2/ws/private): numeric codes, as the live server sends them
# (Bitget's WebSocket error-code page; messages as seen live where known, docs/fidelity.md)
WS_MESSAGES: dict[int, str] = {
    30001: "instType:{0},channel:{1},{2}:{3} doesn't exist",
    30002: "illegal request",
    30003: "invalid op",
    30004: "User not logged in/User must be logged in",
    30005: "login failed",
    30006: "request too many",
    30007: "request over limit,connection close",
    30011: "Invalid ACCESS_KEY",
    30012: "Invalid ACCESS_PASSPHRASE",
    30013: "Invalid ACCESS_TIMESTAMP",
    30014: "Request timestamp expired",
    30015: "Invalid sign",
    30016: "Param error",
}

# the REST verifier's refusal -> the WebSocket login's
WS_LOGIN_CODES: dict[str, int] = {
    "40001": 30011, "40037": 30011, "40006": 30011,
    "40011": 30012, "40012": 30012,
    "40003": 30013, "40005": 30013,
    "40008": 30014,
    "40002": 30015, "40009": 30015,
    "40018": 30005,
}


def ws_message(code: int, *args: object) -> str:
    text = WS_MESSAGES[code]
    for i, arg in enumerate(args):
        text = text.replace("{%d}" % i, str(arg))
    return text
