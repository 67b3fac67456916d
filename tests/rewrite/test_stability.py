"""Stabilisation at the inputs that break the naive forms, forward and gradient.

Each case: the optimized graph is finite and matches a stable reference;
where the unoptimized graph is finite too, both agree.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from tests.rewrite.helpers import compile_both

x = T.vector("x")
m = T.matrix("m")
labels = T.lvector("labels")
EXTREME = np.array([1e-20, -1e-20, -800.0, 800.0, 0.5, -3.0])
LOGITS = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0]])
LAB = np.array([2, 0])


def _sigmoid(v):
    return np.where(
        v >= 0,
        1 / (1 + np.exp(-np.abs(v))),
        np.exp(-np.abs(v)) / (1 + np.exp(-np.abs(v))),
    )


def _softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _lse(v):
    mx = v.max(axis=-1, keepdims=True)
    return (mx + np.log(np.exp(v - mx).sum(axis=-1, keepdims=True)))[..., 0]


with np.errstate(all="ignore"):
    CASES = {
        # name: (inputs, expression, values, stable reference of value,
        #        of gradient wrt input 0)
        "log1p": (
            [x], lambda: T.log(1 + x), [np.abs(EXTREME[:2])], lambda v: np.log1p(v),
            lambda v: 1 / (1 + v),
        ),
        "expm1": ([x], lambda: T.exp(x) - 1, [EXTREME[:2]], np.expm1, np.exp),
        "log_sigmoid": (
            [x], lambda: T.log(T.nnet.sigmoid(x)), [EXTREME],
            lambda v: -np.logaddexp(0, -v), lambda v: 1 - _sigmoid(v),
        ),
        "log_1m_sigmoid": (
            [x], lambda: T.log(1 - T.nnet.sigmoid(x)), [EXTREME],
            lambda v: -np.logaddexp(0, v), lambda v: -_sigmoid(v),
        ),
        "log_softmax": (
            [m], lambda: T.log(T.nnet.softmax(m)), [LOGITS],
            lambda v: v - _lse(v)[:, None], None,
        ),
        "logsumexp": (
            [m], lambda: T.log(T.exp(m).sum(axis=1)), [LOGITS], _lse, _softmax,
        ),
        "softmax_written_out": (
            [m], lambda: T.exp(m) / T.exp(m).sum(axis=1, keepdims=True), [LOGITS],
            _softmax, np.zeros_like,  # each row sums to 1 whatever the logits
        ),
        "xent_labels": (
            [m, labels],
            lambda: T.nnet.categorical_crossentropy(T.nnet.softmax(m), labels),
            [LOGITS, LAB], lambda v, y: _lse(v) - v[np.arange(len(y)), y],
            lambda v, y: _softmax(v) - np.eye(v.shape[1])[y],
        ),
        "xent_dense": (
            [m],
            lambda: T.nnet.categorical_crossentropy(
                T.nnet.softmax(m), T.constant(np.eye(3)[LAB])
            ),
            [LOGITS], lambda v: _lse(v) - v[np.arange(2), LAB],
            lambda v: _softmax(v) - np.eye(3)[LAB],
        ),
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_is_stable(name):
    inputs, build, values, ref, _ = CASES[name]
    out = build()
    f, g = compile_both(inputs, out)
    got = f(*values)
    assert np.all(np.isfinite(got)), (name, got)
    np.testing.assert_allclose(got, ref(*values), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_is_stable(name):
    inputs, build, values, _, dref = CASES[name]
    cost = build().sum()
    grad = sg.grad(cost, inputs[0])
    f, _ = compile_both(inputs, grad)
    got = f(*values)
    assert np.all(np.isfinite(got)), (name, got)
    if dref is not None:
        np.testing.assert_allclose(got, dref(*values), rtol=1e-9, atol=1e-12)
    # moderate inputs: the gradient matches finite differences
    sg.verify_grad(
        lambda *a: build_with(inputs, build, a).sum(),
        [
            v.astype("float64") if v.dtype.kind == "f" else v
            for v in _moderate(values)
        ][:1],
    ) if len(inputs) == 1 else None


def build_with(inputs, build, args):
    return sg.graph.clone_replace(build(), dict(zip(inputs, args, strict=True)))


def _moderate(values):
    return [np.clip(v, -3, 3) + 0.1 if v.dtype.kind == "f" else v for v in values]


def test_gradient_stability_needs_the_optimizer():
    # the naive gradient of log(sigmoid(x)) is NaN at -800; optimized, it is 1
    g = sg.grad(T.log(T.nnet.sigmoid(x)).sum(), x)
    f, naive = compile_both([x], g)
    with np.errstate(all="ignore"):
        assert np.isnan(naive(np.array([-800.0]))[0])
    assert f(np.array([-800.0]))[0] == 1.0
