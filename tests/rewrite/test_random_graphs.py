"""Hypothesis: random elementwise/reduction/dimshuffle graphs, optimized ==
unoptimized."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import symgraph.tensor as T
from tests.rewrite.helpers import compile_both

A, B, C = T.matrix("a"), T.matrix("b"), T.row("c")
VALUES = [
    np.linspace(0.2, 1.9, 12).reshape(3, 4),
    np.linspace(-1.5, 1.5, 12).reshape(3, 4),
    np.linspace(0.3, 1.2, 4).reshape(1, 4),
]
UNARY = [
    T.exp, T.tanh, T.neg, T.sqr, lambda v: T.log(1 + T.sqr(v)), T.nnet.sigmoid,
    lambda v: v * 1, lambda v: v + 0, lambda v: v.T.T,
]
BINARY = [T.add, T.sub, T.mul, lambda a, b: a / (1 + T.sqr(b)), lambda a, b: a - a + b]


@st.composite
def graphs(draw, depth=4):
    if depth == 0 or draw(st.booleans()) and depth < 4:
        return draw(st.sampled_from([A, B, C]))
    kind = draw(st.sampled_from(["unary", "binary", "reduce"]))
    if kind == "unary":
        return draw(st.sampled_from(UNARY))(draw(graphs(depth=depth - 1)))
    if kind == "binary":
        return draw(st.sampled_from(BINARY))(
            draw(graphs(depth=depth - 1)), draw(graphs(depth=depth - 1))
        )
    sub = draw(graphs(depth=depth - 1))
    return sub.sum(axis=draw(st.sampled_from([0, 1])), keepdims=True) + 0.5


@given(graphs())
def test_optimized_equals_unoptimized(expr):
    f, g = compile_both([A, B, C], expr)
    got, want = f(*VALUES), g(*VALUES)
    assert got.dtype == want.dtype and got.shape == want.shape
    # x - x -> 0 and x * 0 -> 0 assume finite x (as Theano's rewrites did):
    # where the unoptimized graph overflows (exp(exp(exp(x)))), the optimized
    # one may be finite. Everywhere else they must agree.
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-9, atol=1e-12)
