"""Bitget's number formats: 16 decimals exactly, whatever the value and the caller's context."""

import decimal
from decimal import Context, Decimal

from hypothesis import given, settings, strategies as st

from localex.venues.bitget import fmt

DECIMALS = st.builds(lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
                     st.integers(0, 1), st.lists(st.integers(0, 9), min_size=1, max_size=40),
                     st.integers(-40, 30))


def _quantized(value: Decimal) -> str:
    """16 decimals as Decimal.quantize gives them (half even), printed plain."""
    return format(value.quantize(Decimal("1e-16"), context=Context(prec=2000)), "f")


@settings(max_examples=1500, deadline=None)
@given(DECIMALS)
def test_16_decimals_are_the_value_quantized_and_printed_plain(value):
    assert fmt.dp16(value) == _quantized(value)


@settings(max_examples=300, deadline=None)
@given(DECIMALS)
def test_16_decimals_do_not_follow_the_callers_decimal_context(value):
    # an in-process test may set its own context: the wire's figures stay the venue's
    with decimal.localcontext(Context(prec=3, rounding=decimal.ROUND_DOWN, capitals=0)):
        assert fmt.dp16(value) == _quantized(value)


def test_16_decimals_of_small_values_and_zeros_are_never_exponential():
    assert fmt.dp16(Decimal("0")) == "0.0000000000000000"
    assert fmt.dp16(Decimal("-0E-20")) == "-0.0000000000000000"
    assert fmt.dp16(Decimal("0.0000001")) == "0.0000001000000000"
    assert fmt.dp16(Decimal("1E+5")) == "100000.0000000000000000"
    assert fmt.dp16(Decimal("0.00000000000000005")) == "0.0000000000000000"  # half even
    assert fmt.dp16(Decimal("0.00000000000000015")) == "0.0000000000000002"
