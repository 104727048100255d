"""Plain-data forms of parameter values: exact (safe format) and canonical."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digitnet._plain import canonical, decode, encode, fingerprint

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.builds(np.float32, st.floats(width=32, allow_nan=False)),
    st.builds(np.int64, st.integers(-(2**62), 2**62)),
    st.builds(Path, st.text(alphabet="abc/", min_size=1, max_size=8)),
)
keys = st.one_of(st.integers(-5, 5), st.text(max_size=4), st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=12,
)


def _same(a, b):
    """Equal values of the same types, all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float | np.floating) and math.isnan(a):
        return math.isnan(b)
    return a == b


@given(values)
def test_encode_decode_round_trips_values_and_types(value):
    text = json.dumps(encode(value))  # the JSON is really plain
    assert _same(decode(json.loads(text)), value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_round_trip(value):
    assert _same(decode(json.loads(json.dumps(encode(value)))), value)


def test_objects_without_a_plain_form_are_refused():
    with pytest.raises(TypeError, match="RandomState values have no plain-data"):
        encode(np.random.RandomState(0))


@pytest.mark.parametrize(
    "bad",
    [{"__digitnet__": "tuple"}, {"a": 1}, {"__digitnet__": "dict", "items": [[1]]}],
)
def test_malformed_encodings_are_value_errors(bad):
    with pytest.raises(ValueError, match="malformed"):
        decode(bad)


def test_canonical_identity_rules():
    assert canonical([1, 2]) == canonical((1, 2))
    assert canonical({"a": 1, "b": 2}) == canonical({"b": 2, "a": 1})
    assert canonical({1: 0.5, 0: 2.0}) == canonical({0: 2.0, 1: 0.5})
    assert canonical(Path("/tmp/x")) == canonical("/tmp/x")
    assert canonical(np.int64(3)) == canonical(3)
    assert canonical([1, 2]) != canonical([2, 1])
    # A RandomState counts by its state, not by its identity.
    assert canonical(np.random.RandomState(0)) == canonical(np.random.RandomState(0))
    assert canonical(np.random.RandomState(0)) != canonical(np.random.RandomState(1))


def test_fingerprint_tells_data_apart():
    X = np.arange(12.0).reshape(3, 4)
    assert fingerprint(X, None) == fingerprint(X.copy(), None)
    assert fingerprint(X, None) != fingerprint(X[::-1], None)
    assert fingerprint(X) != fingerprint(X.astype(np.float32))
    assert fingerprint(np.array(["a", 1], dtype=object)) == fingerprint(
        np.array(["a", 1], dtype=object)
    )
