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
