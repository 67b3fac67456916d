"""op_db records: neural-network ops (softmax family, relu, cross-entropies)."""

import numpy as np

import symgraph.tensor as T
from symgraph.ops.nnet import (
    LogSoftmax,
    PickLabel,
    ScatterLabel,
    Softmax,
    SoftmaxCrossentropyWithLogits,
    pick_label,
    scatter_label,
)
from tests.op_db import UNARY_SHAPES, OpInfo

K = 5  # classes in the label cases
SOFTMAX_SHAPES = [((3,),), ((2, 3),), ((1, 4),), ((3, 1),), ((2, 3, 4),), ((0, 3),)]
LABEL_SHAPES = [
    ((4, K), (4,)),
    ((1, K), (1,)),
    ((2, 3, K), (2, 3)),
    ((K,), ()),
    ((0, K), (0,)),
]
LABEL_DTYPES = (("float64", "int64"), ("float32", "int32"), ("float64", "uint8"))
DENSE_SHAPES = [
    ((4, K), (4, K)),
    ((1, K), (1, K)),
    ((2, 3, K), (2, 3, K)),
    ((K,), (K,)),
]
XENT_TOL = dict(
    rtol={"float64": 1e-10, "float32": 1e-5}, atol={"float64": 1e-12, "float32": 1e-5}
)


def labels(shape, dtype, rng):
    return rng.integers(0, K, size=shape)


def one_hot(shape, dtype, rng):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]


def _log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _softmax(x, axis=-1):
    return np.exp(_log_softmax(x, axis))


def _pick(p, y):
    return np.take_along_axis(p, y[..., None].astype("int64"), axis=-1)[..., 0]


def _scatter(g, y):
    out = np.zeros((*g.shape, K), dtype=g.dtype)
    np.put_along_axis(out, y[..., None].astype("int64"), g[..., None], axis=-1)
    return out


def _softmax_family(name, fn, ref, op):
    return [
        OpInfo(name, fn, ref, ("real",), shapes=SOFTMAX_SHAPES, ops=(op,)),
        OpInfo(
            f"{name}_axis0",
            lambda x: fn(x, axis=0),
            lambda x: ref(x, axis=0),
            ("real",),
            shapes=SOFTMAX_SHAPES[1:5],
            ops=(op,),
        ),
        OpInfo(
            f"{name}_axis_none",
            lambda x: fn(x, axis=None),
            lambda x: ref(x, axis=None),
            ("real",),
            shapes=SOFTMAX_SHAPES[:5],
            ops=(op,),
        ),
    ]


RECORDS = [
    *_softmax_family("softmax", T.nnet.softmax, _softmax, Softmax),
    *_softmax_family("log_softmax", T.nnet.log_softmax, _log_softmax, LogSoftmax),
    # "nonzero" keeps finite differences away from the kink at 0
    OpInfo(
        "relu",
        T.nnet.relu,
        lambda x: np.where(x > 0, x, 0),
        ("nonzero",),
        dtypes=("float64", "float32", "int32"),
        shapes=UNARY_SHAPES,
    ),
    OpInfo(
        "relu_leaky",
        lambda x: T.nnet.relu(x, alpha=0.1),
        lambda x: np.where(x > 0, x, 0.1 * x),
        ("nonzero",),
        shapes=UNARY_SHAPES,
    ),
    OpInfo(
        "categorical_crossentropy_labels",
        T.nnet.categorical_crossentropy,
        lambda p, y: -np.log(_pick(p, y)),
        ("prob", labels),
        dtypes=LABEL_DTYPES,
        shapes=LABEL_SHAPES,
        ops=(PickLabel, ScatterLabel),
        **XENT_TOL,
    ),
    OpInfo(
        "categorical_crossentropy_onehot",
        T.nnet.categorical_crossentropy,
        lambda p, t: -np.sum(t * np.log(p), axis=-1),
        ("prob", one_hot),
        shapes=DENSE_SHAPES,
        **XENT_TOL,
    ),
    OpInfo(
        "categorical_crossentropy_dist",
        T.nnet.categorical_crossentropy,
        lambda p, t: -np.sum(t * np.log(p), axis=-1),
        ("prob", "prob"),
        shapes=DENSE_SHAPES,
        **XENT_TOL,
    ),
    OpInfo(
        "binary_crossentropy",
        T.nnet.binary_crossentropy,
        lambda o, t: -(t * np.log(o) + (1 - t) * np.log(1 - o)),
        ("prob", "prob"),
        shapes=[((2, 3), (2, 3)), ((3,), (3,)), ((2, 3), (1, 3)), ((), (4,))],
        **XENT_TOL,
    ),
    OpInfo(
        "softmax_crossentropy_with_logits_labels",
        T.nnet.softmax_crossentropy_with_logits,
        lambda x, y: -_pick(_log_softmax(x), y),
        ("real", labels),
        dtypes=LABEL_DTYPES,
        shapes=LABEL_SHAPES,
        ops=(SoftmaxCrossentropyWithLogits,),
        **XENT_TOL,
    ),
    OpInfo(
        "softmax_crossentropy_with_logits_dist",
        T.nnet.softmax_crossentropy_with_logits,
        lambda x, t: -np.sum(t * _log_softmax(x), axis=-1),
        ("real", "prob"),
        shapes=DENSE_SHAPES,
        ops=(SoftmaxCrossentropyWithLogits,),
        **XENT_TOL,
    ),
    OpInfo(
        "pick_label",
        pick_label,
        _pick,
        ("real", labels),
        dtypes=LABEL_DTYPES + ("int64",),
        shapes=LABEL_SHAPES,
        ops=(PickLabel,),
    ),
    OpInfo(
        "scatter_label",
        lambda g, y: scatter_label(g, y, K),
        _scatter,
        ("real", labels),
        dtypes=LABEL_DTYPES,
        shapes=[((4,), (4,)), ((2, 3), (2, 3)), ((), ()), ((0,), (0,))],
        ops=(ScatterLabel,),
    ),
]
