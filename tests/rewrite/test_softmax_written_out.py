"""Softmax written out as ``exp(x) / sum(exp(x))``: its value and gradient.

The stabiliser shifts ``x`` by its maximum (``local_exp_over_sum_exp``) and
moves a divisor that is constant along a sum's axes out of the sum
(``local_sum_div_invariant``), so that each ``exp(x)`` of the gradient meets
one ``sum(exp(x))``.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from tests.rewrite.helpers import check, compile_both

m = T.matrix("m")
LOGITS = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0]])
MODERATE = np.array([[0.3, -1.2, 2.0, 0.7], [1.5, 0.1, -0.4, 0.9]])
WEIGHTS = np.array([1.0, 2.0, 3.0])


def _softmax(v):
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _written_out(v):
    return T.exp(v) / T.exp(v).sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    "build",
    [
        lambda e, s: e * e / s,
        lambda e, s: e * m * e / s,
        lambda e, s: e * e / (s * s),
        lambda e, s: e / (s * (1 + m * m)),
    ],
    ids=["e*e/s", "e*m*e/s", "e*e/(s*s)", "e/(s*(1+m*m))"],
)
def test_only_one_exp_is_shifted_per_sum(build):
    # exp(x)**2 / sum(exp(x)) is not exp(x - m)**2 / sum(exp(x - m))
    e = T.exp(m)
    check([m], build(e, e.sum(axis=1, keepdims=True)), [MODERATE], rtol=1e-12)


def test_gradient_at_large_logits_is_finite_and_exact():
    cost = (_written_out(m) * WEIGHTS).sum()
    f, _ = compile_both([m], sg.grad(cost, m))
    sm = _softmax(LOGITS)
    want = sm * (WEIGHTS - (sm * WEIGHTS).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(f(LOGITS), want, rtol=1e-12, atol=1e-15)
    assert f.rewrite_stats["local_sum_div_invariant"].applications >= 1


def test_gradient_at_moderate_logits_matches_the_naive_graph():
    cost = (_written_out(m) * WEIGHTS[:2, None]).sum()
    check([m], sg.grad(cost, m), [MODERATE], rtol=1e-12)


@pytest.mark.parametrize("keepdims", [True, False])
def test_a_divisor_constant_along_the_axis_moves_out_of_the_sum(keepdims):
    d = T.col("d")
    out = (m / (d * (1 + m * m))).sum(axis=1, keepdims=keepdims)
    d_value = np.array([[2.0], [-0.5]])
    f = check([m, d], out, [MODERATE, d_value], rtol=1e-12)
    assert f.rewrite_stats["local_sum_div_invariant"].applications == 1


def test_a_divisor_varying_along_the_axis_stays_in_the_sum():
    d = T.matrix("d")
    out = (m / d).sum(axis=1, keepdims=True)
    f = check([m, d], out, [MODERATE, MODERATE + 3.0], rtol=1e-12)
    assert f.rewrite_stats["local_sum_div_invariant"].applications == 0


def test_a_quotient_with_other_readers_is_not_recomputed():
    d = T.col("d")
    q = m / d
    f = check([m, d], [q.sum(axis=1, keepdims=True), q], [MODERATE, MODERATE[:, :1]])
    assert f.rewrite_stats["local_sum_div_invariant"].applications == 0


def test_a_sum_of_reciprocals_keeps_its_extent():
    d, r = T.col("d"), T.row("r")
    out = (1 / (d * r)).sum(axis=1, keepdims=True) + (1 / (d * m)).sum(axis=1)
    check([m, d, r], out, [MODERATE, np.array([[2.0], [4.0]]), MODERATE[:1]])
