"""op_db records: linear algebra (dot, matmul, outer, tensordot, batched_dot)."""

import numpy as np

import symgraph.tensor as T
from symgraph.ops.linalg import Dot, Matmul
from tests.op_db import OpInfo

# Products sum a few terms in another order on BLAS backends.
TOL = dict(
    rtol={"float64": 1e-10, "float32": 1e-4},
    atol={"float64": 1e-12, "float32": 1e-5},
)
DTYPES = ("float64", "float32", "int64", ("int32", "float32"), ("int8", "int8"))

DOT_SHAPES = [
    ((2, 3), (3, 4)),  # matrix . matrix
    ((2, 3), (3,)),  # matrix . vector
    ((3,), (3, 4)),  # vector . matrix
    ((3,), (3,)),  # vector . vector -> scalar
    ((1, 3), (3, 4)),  # static size-1 rows
    ((2, 1), (1, 4)),  # a rank-1 product
    ((0, 3), (3, 2)),  # empty
    ((2, 0), (0, 3)),  # empty contraction: zeros
    ((), (2, 3)),  # a scalar multiplies
]
MATMUL_SHAPES = [
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),
    ((2, 2, 3), (2, 3, 4)),  # batched
    ((1, 2, 3), (4, 3, 5)),  # batch axis of a broadcasts
    ((4, 2, 3), (3, 5)),  # b is shared by the batch
    ((2, 3), (4, 3, 5)),  # a is shared by the batch
    ((3,), (2, 3, 4)),  # a vector is a row
    ((2, 2, 3), (3,)),  # a vector is a column
    ((2, 1, 2, 3), (3, 3, 4)),  # batches broadcast both ways: (2, 3)
    ((0, 2, 3), (1, 3, 2)),
]


def _batched_dot(a, b):
    a3 = a[:, None, :] if a.ndim == 2 else a
    b3 = b[:, :, None] if b.ndim == 2 else b
    out = np.matmul(a3, b3)
    if a.ndim == 2:
        out = out[:, 0]
    if b.ndim == 2:
        out = out[..., 0]
    return out


def _tensordot(name, axes, shapes):
    return OpInfo(
        name,
        lambda a, b: T.tensordot(a, b, axes),
        lambda a, b: np.tensordot(a, b, axes),
        ("real", "real"),
        dtypes=("float64", "float32", "int64"),
        shapes=shapes,
        ops=(Dot,),
        **TOL,
    )


TENSORDOT = [
    (
        "tensordot_2",
        2,
        [((2, 3, 4), (3, 4, 5)), ((3, 4), (3, 4)), ((1, 3, 4), (3, 4, 2))],
    ),
    (
        "tensordot_1",
        1,
        [((2, 3), (3, 4)), ((2, 3, 4), (4, 5)), ((4,), (4, 2, 3)), ((2, 1, 3), (3, 1))],
    ),
    ("tensordot_0", 0, [((2, 3), (4,)), ((3,), (2,)), ((), (2, 3))]),
    (
        "tensordot_pairs",
        [[0, 2], [2, 0]],
        [((3, 2, 4), (4, 5, 3)), ((3, 1, 4), (4, 2, 3))],
    ),
    ("tensordot_middle", [[1], [0]], [((2, 3), (3,)), ((2, 3, 4), (3, 5))]),
]

RECORDS = [
    OpInfo(
        "dot",
        T.dot,
        np.dot,
        ("real", "real"),
        dtypes=DTYPES,
        shapes=DOT_SHAPES,
        grad_shapes=DOT_SHAPES[:6] + [DOT_SHAPES[8]],
        ops=(Dot,),
        **TOL,
    ),
    OpInfo(
        "dot_nd",
        T.dot,
        np.dot,
        ("real", "real"),
        dtypes=("float64", "float32", "int64"),
        shapes=[
            ((2, 3, 4), (4, 5)),
            ((2, 3), (4, 3, 5)),
            ((2, 3, 4), (4,)),
            ((4,), (2, 4, 3)),
            ((1, 2, 3), (2, 3, 1)),
        ],
        ops=(Dot,),
        **TOL,
    ),
    OpInfo(
        "matmul",
        lambda a, b: a @ b,
        np.matmul,
        ("real", "real"),
        dtypes=DTYPES,
        shapes=MATMUL_SHAPES,
        grad_shapes=MATMUL_SHAPES[2:9],
        ops=(Matmul, Dot),
        **TOL,
    ),
    OpInfo(
        "outer",
        T.outer,
        np.outer,
        ("real", "real"),
        dtypes=("float64", "float32", ("int32", "float32")),
        shapes=[((3,), (4,)), ((1,), (4,)), ((0,), (2,)), ((2, 2), (3,))],
        ops=(),
        **TOL,
    ),
    OpInfo(
        "batched_dot",
        T.batched_dot,
        _batched_dot,
        ("real", "real"),
        dtypes=("float64", "float32", "int32"),
        shapes=[
            ((3, 2, 4), (3, 4, 5)),
            ((3, 4), (3, 4)),
            ((3, 2, 4), (3, 4)),
            ((3, 4), (3, 4, 2)),
            ((1, 2, 4), (1, 4, 2)),
        ],
        ops=(Matmul,),
        **TOL,
    ),
    *(_tensordot(*case) for case in TENSORDOT),
]
