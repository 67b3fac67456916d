"""Hypothesis: random graphs, optimized == unoptimized.

Two generators: plain elementwise/reduction/dimshuffle trees, and trees of
the forms the canonicaliser and stabiliser rewrite (softmax written out,
log(1 + x), log(sigmoid(x)), quotients of sums...), checked on their values
and on their gradients.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

import symgraph as sg
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


def _softmax_rows(v):
    return T.exp(v) / T.exp(v).sum(axis=1, keepdims=True)


def _row_sum_exp(v):
    return T.exp(v).sum(axis=1, keepdims=True)


STABILISED_UNARY = [
    T.exp, T.neg, T.sqr, T.nnet.sigmoid,
    lambda v: T.log(1 + T.sqr(v)),
    lambda v: T.log(T.nnet.sigmoid(v)),
    lambda v: T.log(1 - T.nnet.sigmoid(v)),
    lambda v: T.exp(v) - 1,
    lambda v: T.exp(-T.log(1 + T.sqr(v))),
    lambda v: T.sqrt(T.sqr(v)),
    _softmax_rows,
    lambda v: T.exp(v) / T.exp(v).sum(axis=0, keepdims=True),
    T.nnet.softmax,
    lambda v: T.log(T.nnet.softmax(v)),
    lambda v: T.exp(v) * T.exp(v) / _row_sum_exp(v),
    lambda v: T.exp(v) / (_row_sum_exp(v) * (2 + T.sqr(v))),
    lambda v: T.log(_row_sum_exp(v)) + 0 * v,
    lambda v: v / (1 + T.sqr(v.sum(axis=0, keepdims=True))),
    lambda v: (v / _row_sum_exp(v)).sum(axis=1, keepdims=True) + v,
]
STABILISED_BINARY = [
    T.add, T.sub, T.mul,
    lambda a, b: a / (1 + T.sqr(b)),
    lambda a, b: a * b / (1 + T.sqr(b)) * (1 + T.sqr(b)),
    lambda a, b: T.exp(a) * b / _row_sum_exp(a),
]
# Random values, not a linspace: the rows of a linspace differ by a constant,
# so a row softmax ties across rows and max's gradient there is rounding.
RANDOM_VALUES = [
    np.random.default_rng(7).uniform(lo, hi, shape)
    for lo, hi, shape in [(0.2, 1.9, (3, 4)), (-1.5, 1.5, (3, 4)), (0.3, 1.2, (1, 4))]
]


@st.composite
def stabilised_graphs(draw, depth=3):
    if depth == 0 or draw(st.booleans()) and depth < 3:
        return draw(st.sampled_from([A, B, C]))
    kind = draw(st.sampled_from(["unary", "unary", "binary", "reduce"]))
    if kind == "unary":
        out = draw(st.sampled_from(STABILISED_UNARY))(
            draw(stabilised_graphs(depth=depth - 1))
        )
    elif kind == "binary":
        out = draw(st.sampled_from(STABILISED_BINARY))(
            draw(stabilised_graphs(depth=depth - 1)),
            draw(stabilised_graphs(depth=depth - 1)),
        )
    else:
        sub = draw(stabilised_graphs(depth=depth - 1))
        reduce = getattr(sub, draw(st.sampled_from(["sum", "mean", "max"])))
        out = reduce(axis=draw(st.sampled_from([0, 1])), keepdims=True) + 0.5
    # Squashed into (-2, 2): the naive forms then lose only a few digits, so
    # a disagreement is a wrong rewrite rather than the naive graph rounding.
    return 2 * T.tanh(out)


@given(stabilised_graphs(), st.booleans())
def test_stabilised_forms_keep_their_values_and_gradients(expr, gradient):
    note(sg.printing.pp(expr))
    if gradient:
        cost = (expr * np.linspace(0.5, 1.5, 4)).sum()
        expr = sg.grad(cost, [A, B], disconnected_inputs="ignore")
    with np.errstate(all="ignore"):
        f, g = compile_both([A, B, C], expr)
        got, want = f(*RANDOM_VALUES), g(*RANDOM_VALUES)
    if not gradient:
        got, want = [got], [want]
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
