"""The request values every venue reads: the query's decoded pairs."""

from urllib.parse import parse_qsl

from hypothesis import given, settings, strategies as st

from localex.wire.http import Request, query_pairs

QUERY_TEXT = st.text(alphabet="ab=&;%+2F0 é?#", max_size=24)


@settings(max_examples=600, deadline=None)
@given(QUERY_TEXT)
def test_the_query_reads_as_parse_qsl_reads_it(raw):
    # the direct split (nothing to decode) and the decoding path alike give parse_qsl's pairs
    assert query_pairs(raw) == parse_qsl(raw, keep_blank_values=True)


def test_blank_names_and_values_and_repeats_are_kept_in_order():
    assert query_pairs("a&&b=&=x&a=2=3") == [("a", ""), ("b", ""), ("", "x"), ("a", "2=3")]
    request = Request("GET", "/p", "a=1&a=2&c=x%26y", {})
    assert request.query_pairs == [("a", "1"), ("a", "2"), ("c", "x&y")]
    assert request.query == {"a": "1", "c": "x&y"}


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=150), st.binary(max_size=300))
def test_the_keyed_hmac_is_hmac_sha256(secret, message):
    # keys shorter and longer than SHA-256's 64-byte block, any UTF-8, any message
    import base64
    import hashlib
    import hmac

    from localex.wire.signing import hmac_sha256_b64

    expected = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest())
    assert hmac_sha256_b64(secret, message) == expected
    assert hmac_sha256_b64(secret, message) == expected  # the keyed states are copied, not used up


def test_a_request_reads_its_query_once_and_keeps_it():
    request = Request("GET", "/p", "a=1&b=2", {})
    pairs = request.query_pairs
    assert request.query_pairs is pairs and request.query is request.query
    assert request.query == {"a": "1", "b": "2"}
    assert Request.query_pairs.__doc__.startswith("Every decoded")
