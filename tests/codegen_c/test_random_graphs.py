"""Hypothesis: random graphs give the same results on C as on python.

Each example builds a few random expression trees (elementwise ops,
reductions, dimshuffles) over three inputs of random shapes (broadcasting
rows and columns, empty axes, sizes up to 130 x 257), compiles them as
*one* function (one C build per example) and compares with the python
backend on contiguous, transposed, strided and negative-stride views of the
same values.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgraph.tensor as T
from tests.codegen_c.conftest import assert_same, both, needs_cc

pytestmark = needs_cc

UNARY = [T.exp, T.tanh, T.neg, T.sqr, abs, lambda v: T.log1p(abs(v)), T.sigmoid, T.sin]
BINARY = [T.add, T.sub, T.mul, T.maximum, lambda a, b: a / (abs(b) + 1)]


@st.composite
def expression(draw, leaves, depth):
    """A random tree over ``leaves`` (all of ndim 2, maybe broadcasting)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(leaves))
    kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "transpose"]))
    if kind == "unary":
        return draw(st.sampled_from(UNARY))(draw(expression(leaves, depth - 1)))
    if kind == "binary":
        a = draw(expression(leaves, depth - 1))
        b = draw(expression(leaves, depth - 1))
        return draw(st.sampled_from(BINARY))(a, b)
    if kind == "transpose":
        return draw(expression(leaves, depth - 1)).T
    inner = draw(expression(leaves, depth - 1))
    axis = draw(st.sampled_from([0, 1]))
    reduce = draw(st.sampled_from(["sum", "max", "mean"]))
    return getattr(inner, reduce)(axis=axis, keepdims=True)


@st.composite
def case(draw):
    # mostly tiny; sometimes long enough for the SIMD loops and their tails,
    # and (130 x 257) for the loops that run on all cores
    m = draw(st.integers(0, 4) | st.sampled_from([17, 130]))
    n = draw(st.integers(1, 5) | st.sampled_from([16, 33, 257]))
    dtype = draw(st.sampled_from(["float64", "float32"]))
    x = T.tensor("x", dtype=dtype, shape=(None, None))
    r = T.tensor("r", dtype=dtype, shape=(1, None))
    c = T.tensor("c", dtype=dtype, shape=(None, 1))
    leaves = [x, r, c]
    outs = [draw(expression(leaves, 3)) for _ in range(draw(st.integers(1, 3)))]
    view = draw(st.sampled_from(["plain", "transposed", "strided", "reversed"]))
    return (x, r, c), outs, (m, n), dtype, view


def _make(shape, dtype, view, rng):
    m, n = shape
    if view == "transposed":
        return np.ascontiguousarray(rng.normal(size=(n, m))).astype(dtype).T
    if view == "strided":
        return rng.normal(size=(m, 2 * n)).astype(dtype)[:, ::2]
    if view == "reversed":
        return rng.normal(size=(m, n)).astype(dtype)[::-1, ::-1]
    return rng.normal(size=(m, n)).astype(dtype)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(case())
def test_random_graphs_agree(example):
    (x, r, c), outs, (m, n), dtype, view = example
    outs = [o for o in outs if o.ndim == 2]
    fp, fc = both([x, r, c], outs)
    rng = np.random.default_rng(m * 10 + n)
    values = [
        _make((m, n), dtype, view, rng),
        _make((1, n), dtype, view, rng),
        _make((m, 1), dtype, view, rng),
    ]
    tol = (
        {"rtol": 2e-5, "atol": 1e-5}
        if dtype == "float32"
        else {"rtol": 1e-9, "atol": 1e-12}
    )
    try:
        want = fp(*values)
    except ValueError:  # e.g. max over an empty axis: C must refuse too
        try:
            fc(*values)
        except ValueError:
            return
        raise AssertionError("python refused the values but C did not") from None
    assert_same(want, fc(*values), **tol)
