"""The C lowerings of the nnet ops (lower_nnet.py) against the python backend.

Softmax, log-softmax, the label pick/scatter and the fused cross-entropy,
their values and gradients, over vectors, ``(1, ?)``, ``(1, 1)``, ``(?, 1)``
and plain matrices in float32 and float64. Two kinds of C compile errors
found by fuzzing:

- two such nodes in one function: a node with no axis to loop over (a
  vector's softmax, ``axis=None``, a row of static size 1) declared its
  locals (``sg_m``, ``sg_buf``, ``sg_l``, ...) at function scope, where the
  next node declared them again;
- an operand whose axis has static size 1 while the other's is unknown
  (logits ``(1, ?)`` with labels ``(?,)``): the static-1 axis gets no loop
  and no ``i0``, yet the other operand's element was still read at ``i0``.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.ops.nnet import pick_label
from tests.codegen_c.conftest import assert_same, both, needs_cc

pytestmark = needs_cc

N = T.nnet
DTYPES = ["float32", "float64"]
SHAPES = {
    "vector": (None,),
    "1xN": (1, None),
    "1x1": (1, 1),
    "Nx1": (None, 1),
    "matrix": (None, None),
}
TOL = {
    "float32": {"rtol": 2e-5, "atol": 1e-6},
    "float64": {"rtol": 1e-9, "atol": 1e-12},
}


def _value(static, dtype, rows=3, classes=5, seed=0):
    """Data of static shape ``static``: ``rows`` on a leading unknown axis,
    ``classes`` on a last one (not square)."""
    sizes = [rows] * (len(static) - 1) + [classes]
    shape = [1 if s == 1 else n for s, n in zip(static, sizes, strict=True)]
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _labels(x, seed=1):
    """Valid class labels for the logits (or probabilities) ``x``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, x.shape[-1], size=x.shape[:-1]).astype("int64")


def _check(inputs, out, wrt, values, dtype) -> None:
    """``out`` and the gradients of a cost of it (one build for both: the
    gradient graph holds the forward nodes and the scatter or softmax nodes
    of their gradients), C against python."""
    cost = (out * out).sum() if out.ndim else out * out
    grads = sg.grad(cost, wrt, disconnected_inputs="ignore")  # pairs may skip y
    fp, fc = both(inputs, [out, *grads])
    assert_same(fp(*values), fc(*values), **TOL[dtype])


# -------------------------------------------------- two nodes, one function
PAIRS = {
    "softmax+softmax": lambda x, y, ax: N.softmax(x, ax) + N.softmax(y, ax),
    "softmax(softmax)": lambda x, y, ax: N.softmax(N.softmax(x, ax), ax),
    "log_softmax+softmax": lambda x, y, ax: N.log_softmax(x, ax) + N.softmax(x, ax),
    "log_softmax+log_softmax": (
        lambda x, y, ax: N.log_softmax(x, ax) + N.log_softmax(y, ax)
    ),
}


@pytest.mark.parametrize("axis", [-1, None])
@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_two_softmaxes_in_one_function(dtype, shape, pair, axis):
    # fails without a block per group unless each node loops over an axis
    # outside the group (matrix and (?, 1) with axis=-1: the controls)
    x = T.tensor("x", dtype=dtype, shape=SHAPES[shape])
    y = T.tensor("y", dtype=dtype, shape=SHAPES[shape])
    values = [_value(x.type.shape, dtype), _value(y.type.shape, dtype, seed=2)]
    _check([x, y], PAIRS[pair](x, y, axis), [x, y], values, dtype)


LABEL_PAIRS = {
    "fused+fused": lambda x, y, t: (
        N.categorical_crossentropy(N.softmax(x), t)
        + N.categorical_crossentropy(N.softmax(y), t)
    ),
    "pick+pick": lambda x, y, t: pick_label(x, t) + pick_label(y, t),
}


@pytest.mark.parametrize("pair", LABEL_PAIRS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_two_label_ops_in_one_function(dtype, shape, pair):
    x = T.tensor("x", dtype=dtype, shape=SHAPES[shape])
    y = T.tensor("y", dtype=dtype, shape=SHAPES[shape])
    t = T.tensor("t", dtype="int64", shape=(None,) * (x.ndim - 1))
    xv, yv = _value(x.type.shape, dtype), _value(y.type.shape, dtype, seed=2)
    _check([x, y, t], LABEL_PAIRS[pair](x, y, t), [x, y], [xv, yv, _labels(xv)], dtype)


# -------------------------------- static size 1 against an unknown size
# labels: of unknown static shape, or of static size 1 on every axis
LABEL_SHAPES = ["unknown", "ones"]


def _label_case(dtype, shape, labels):
    x = T.tensor("x", dtype=dtype, shape=SHAPES[shape])
    lead = x.type.shape[:-1]
    t = T.tensor(
        "t", dtype="int64", shape=(None if labels == "unknown" else 1,) * len(lead)
    )
    rows = 1 if labels == "ones" else 3
    xv = _value(x.type.shape, dtype, rows=rows)
    return x, t, xv, _labels(xv)


@pytest.mark.parametrize("labels", LABEL_SHAPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_of_softmax_with_labels(dtype, shape, labels):
    # categorical_crossentropy(softmax(x), t): the fused op; its gradient
    # scatters at the labels. Logits (1, ?) or (1, 1) with labels (?,) read
    # the label at i0, which had no loop.
    x, t, xv, tv = _label_case(dtype, shape, labels)
    out = N.categorical_crossentropy(N.softmax(x), t)
    _check([x, t], out, [x], [xv, tv], dtype)


@pytest.mark.parametrize("labels", LABEL_SHAPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_of_probabilities_with_labels(dtype, shape, labels):
    # categorical_crossentropy(p, t): -log(pick_label(p, t)); its gradient
    # scatters at the labels. Labels (1,) with p (?, ?) had no loop over
    # the rows, yet p and the output were read at i0.
    p, t, pv, tv = _label_case(dtype, shape, labels)
    pv = np.abs(pv) + np.asarray(0.5, dtype)
    _check([p, t], N.categorical_crossentropy(p, t), [p], [pv, tv], dtype)


@pytest.mark.parametrize("targets", ["unknown", "same"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_with_dense_targets(dtype, shape, targets):
    # logits (1, ?) or (?, 1) with targets (?, ?): the targets were read at
    # the index of the logits' static-1 axis, which had no loop
    x = T.tensor("x", dtype=dtype, shape=SHAPES[shape])
    static = (None,) * x.ndim if targets == "unknown" else x.type.shape
    t = T.tensor("t", dtype=dtype, shape=static)
    xv = _value(x.type.shape, dtype)
    tv = np.abs(_value(x.type.shape, dtype, seed=3))
    out = N.softmax_crossentropy_with_logits(x, t)
    _check([x, t], out, [x, t], [xv, tv], dtype)


# ------------------------------------------------------ run-time errors
@pytest.mark.parametrize("shape", ["1xN", "1x1", "matrix"])
@pytest.mark.parametrize(
    "make",
    [
        lambda x, t: N.categorical_crossentropy(N.softmax(x), t),
        lambda x, t: N.categorical_crossentropy(abs(x), t),
    ],
    ids=["fused", "pick"],
)
def test_labels_of_the_wrong_length_are_an_error(shape, make):
    x = T.tensor("x", dtype="float64", shape=SHAPES[shape])
    t = T.lvector("t")
    fp, fc = both([x, t], make(x, t))
    xv = _value(x.type.shape, "float64")
    wrong = np.zeros(xv.shape[0] + 1, dtype="int64")
    for f in (fp, fc):
        with pytest.raises(ValueError, match="labels"):
            f(xv, wrong)
    # and the function still works afterwards
    assert_same(fp(xv, _labels(xv)), fc(xv, _labels(xv)))


@pytest.mark.parametrize("shape", ["1xN", "Nx1"])
def test_dense_targets_of_the_wrong_shape_are_an_error(shape):
    x = T.tensor("x", dtype="float64", shape=SHAPES[shape])
    t = T.matrix("t")
    fp, fc = both([x, t], N.softmax_crossentropy_with_logits(x, t))
    xv = _value(x.type.shape, "float64")
    wrong = np.ones((xv.shape[0] + 1, xv.shape[1] + 1))
    for f in (fp, fc):
        with pytest.raises(ValueError, match="targets"):
            f(xv, wrong)


def test_a_label_outside_the_classes_is_an_error():
    x = T.tensor("x", dtype="float32", shape=(1, None))
    t = T.lvector("t")
    fp, fc = both([x, t], N.categorical_crossentropy(N.softmax(x), t))
    xv = _value(x.type.shape, "float32")
    for f in (fp, fc):
        with pytest.raises(ValueError, match="outside"):
            f(xv, np.array([xv.shape[1]]))


# ------------------------------------------------------------ the source
def test_each_group_without_loops_has_its_own_block():
    # one softmax of a vector: no loop outside the group; its locals sit in
    # a block, and the streaming fence comes after it
    x, y = T.vector("x"), T.vector("y")
    fc = sg.function([x, y], N.softmax(x) + N.softmax(y), backend="c")
    lines = [line.strip() for line in fc.source.splitlines()]
    assert lines.count("double sg_buf[SG_STREAM_ROW];") == 2
    for k in [i for i, line in enumerate(lines) if line.startswith("double sg_buf")]:
        assert lines[k - 1] == "{"
    assert lines.count("sg_stream_fence();") == 2
