"""op_db records: indexing (Subtensor, the advanced ops and their increments).

Indices are baked into each record's function (constants, including negative
steps and repeated entries), or passed as extra integer / boolean arguments
drawn by a callable domain so they stay in range for every shape case.
"""

import numpy as np

import symgraph.tensor as T
from symgraph.ops.advanced_subtensor import (
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
)
from symgraph.ops.index_layout import SliceLength
from symgraph.ops.subtensor import IncSubtensor, Subtensor
from tests.op_db import OpInfo

FLOAT_INT = ("float64", "float32", "int32")


def _with(dtypes, extra):
    """Dtype cases with an index argument of dtype ``extra`` after the data."""
    return tuple((d, extra) for d in dtypes)


def _same(dtypes):
    return tuple((d, d) for d in dtypes)


def _const(value):
    return lambda shape, dtype, rng: np.full(shape, value)


def _np_inc(index, set_=False):
    def ref(x, y):
        out = x.copy()
        if set_:
            out[index] = y
        else:
            np.add.at(out, index, y)
        return out

    return ref


MASK_2x3 = np.array([[True, False, True], [False, False, True]])

RECORDS = [
    # -- basic indexing
    OpInfo(
        "subtensor_int_slice",
        lambda x: x[1, ::-2],
        lambda x: x[1, ::-2],
        ("real",),
        dtypes=FLOAT_INT,
        shapes=[((3, 5),), ((2, 4, 3),), ((2, 1),)],
        ops=(Subtensor,),
    ),
    OpInfo(
        "subtensor_negative_bounds",
        lambda x: x[-1:0:-1, -3:],
        lambda x: x[-1:0:-1, -3:],
        ("real",),
        shapes=[((4, 5),), ((5, 2),), ((3, 4, 2),), ((1, 4),)],
        ops=(Subtensor,),
    ),
    OpInfo(
        "subtensor_newaxis_ellipsis",
        lambda x: x[None, ..., 1:, None],
        lambda x: x[None, ..., 1:, None],
        ("real",),
        dtypes=FLOAT_INT,
        shapes=[((3,),), ((2, 3),), ((2, 3, 4),), ((1, 1),)],
        ops=(Subtensor,),
    ),
    OpInfo(
        "subtensor_symbolic",
        lambda x, i: x[i, i:, ::-1],
        lambda x, i: x[i, i:, ::-1],
        ("real", _const(1)),
        dtypes=_with(FLOAT_INT, "int64"),
        shapes=[((3, 4, 2), ()), ((2, 5, 3), ())],
        ops=(Subtensor, SliceLength),
    ),
    OpInfo(
        "subtensor_symbolic_step",
        lambda x, s: x[-1::s],
        lambda x, s: x[-1::s],
        ("real", _const(-2)),
        dtypes=_with(("float64", "float32"), "int32"),
        shapes=[((5,), ()), ((4, 3), ()), ((1, 2), ())],
        ops=(Subtensor, SliceLength),
    ),
    OpInfo(
        "set_subtensor_basic",
        lambda x, y: T.set_subtensor(x[1:, ::-1], y),
        _np_inc((slice(1, None), slice(None, None, -1)), set_=True),
        ("real", "real"),
        dtypes=_same(FLOAT_INT),
        shapes=[
            ((3, 4), (2, 4)),
            ((3, 4), (4,)),
            ((3, 4), (1, 4)),
            ((3, 4), ()),
            ((2, 3, 2), (3, 1)),
        ],
        ops=(IncSubtensor,),
    ),
    OpInfo(
        "inc_subtensor_basic",
        lambda x, y: T.inc_subtensor(x[0, ::-2], y),
        _np_inc((0, slice(None, None, -2))),
        ("real", "real"),
        dtypes=_same(FLOAT_INT),
        shapes=[((3, 4), (2,)), ((2, 5), ()), ((2, 5, 3), (3, 3)), ((2, 3, 2), (1, 2))],
        ops=(IncSubtensor,),
    ),
    OpInfo(
        "inc_subtensor_symbolic",
        lambda x, y, i: T.inc_subtensor(x[i:, i], y),
        lambda x, y, i: _np_inc((slice(int(i), None), int(i)))(x, y),
        ("real", "real", _const(1)),
        dtypes=(("float64", "float64", "int64"), ("float32", "float32", "int32")),
        shapes=[((3, 4), (2,), ()), ((4, 2), (), ())],
        ops=(IncSubtensor, SliceLength),
    ),
    # -- advanced indexing
    OpInfo(
        "advanced_subtensor1",
        lambda x: x[[2, 0, -1, 2]],
        lambda x: x[[2, 0, -1, 2]],
        ("real",),
        dtypes=FLOAT_INT,
        shapes=[((3, 4),), ((3,),), ((3, 2, 2),)],
        ops=(AdvancedSubtensor1,),
    ),
    OpInfo(
        "advanced_subtensor1_symbolic",
        lambda x, i: x[i],
        lambda x, i: x[i],
        ("real", lambda shape, dtype, rng: rng.integers(-3, 3, size=shape)),
        dtypes=_with(FLOAT_INT, "int64"),
        shapes=[((3, 4), (5,)), ((3,), (2,)), ((4, 2, 3), (0,))],
        ops=(AdvancedSubtensor1,),
    ),
    OpInfo(
        "advanced_subtensor_slice_array",
        lambda x: x[1:, [2, 0, 2]],
        lambda x: x[1:, [2, 0, 2]],
        ("real",),
        dtypes=FLOAT_INT,
        shapes=[((3, 4),), ((2, 3, 4),)],
        ops=(AdvancedSubtensor,),
    ),
    OpInfo(
        "advanced_subtensor_broadcast",
        lambda x, i: x[[[0], [1]], i],
        lambda x, i: x[[[0], [1]], i],
        ("real", lambda shape, dtype, rng: rng.integers(0, 3, size=shape)),
        dtypes=_with(FLOAT_INT, "int64"),
        shapes=[((3, 4), (3,)), ((2, 3, 5), (4,))],
        ops=(AdvancedSubtensor,),
    ),
    OpInfo(
        "advanced_subtensor_nonadjacent",
        lambda x: x[[1, 0], ::-1, [0, 2]],
        lambda x: x[[1, 0], ::-1, [0, 2]],
        ("real",),
        shapes=[((2, 3, 4),), ((3, 2, 3, 2),)],
        ops=(AdvancedSubtensor,),
    ),
    OpInfo(
        "advanced_subtensor_int_and_array",
        lambda x: x[:, 0, None, [1, 1]],
        lambda x: x[:, 0, None, [1, 1]],
        ("real",),
        shapes=[((2, 3, 4),), ((3, 2, 2, 2),)],
        ops=(AdvancedSubtensor,),
    ),
    OpInfo(
        "advanced_subtensor_bool_mask",
        lambda x, m: x[m],
        lambda x, m: x[m],
        ("real", "bool"),
        dtypes=_with(FLOAT_INT, "bool"),
        shapes=[((3, 4), (3, 4)), ((5,), (5,)), ((2, 3, 2), (2, 3)), ((3, 2), (3,))],
        ops=(AdvancedSubtensor,),
    ),
    OpInfo(
        "advanced_subtensor_constant_mask",
        lambda x: x[..., MASK_2x3, 1:],
        lambda x: x[..., MASK_2x3, 1:],
        ("real",),
        shapes=[((2, 3, 4),), ((2, 2, 3, 2),)],
        ops=(AdvancedSubtensor,),
    ),
    OpInfo(
        "advanced_inc_subtensor1_repeated",
        lambda x, y: T.inc_subtensor(x[[0, 2, 0, -1]], y),
        _np_inc([0, 2, 0, -1]),
        ("real", "real"),
        dtypes=_same(FLOAT_INT),
        shapes=[((3, 4), (4, 4)), ((3, 4), (4,)), ((3,), (4,)), ((3, 2, 2), (1, 2, 1))],
        ops=(AdvancedIncSubtensor1,),
    ),
    OpInfo(
        "advanced_set_subtensor1",
        lambda x, y, i: T.set_subtensor(x[i], y),
        lambda x, y, i: _np_inc(i, set_=True)(x, y),
        ("real", "real", lambda shape, dtype, rng: np.arange(shape[0]) * 2 - shape[0]),
        dtypes=(("float64", "float64", "int64"), ("float32", "float32", "int32")),
        shapes=[((5, 3), (2, 3), (2,)), ((4,), (), (2,))],
        ops=(AdvancedIncSubtensor1,),
    ),
    OpInfo(
        "advanced_inc_subtensor_repeated",
        lambda x, y: T.inc_subtensor(x[[0, 0, 1], ..., [1, 1, 2]], y),
        _np_inc(([0, 0, 1], Ellipsis, [1, 1, 2])),
        ("real", "real"),
        dtypes=_same(FLOAT_INT),
        shapes=[((2, 3), (3,)), ((2, 3), ()), ((2, 4, 3), (3, 4)), ((2, 4, 3), (3, 1))],
        ops=(AdvancedIncSubtensor,),
    ),
    OpInfo(
        "advanced_set_subtensor_slice_array",
        lambda x, y: T.set_subtensor(x[::-1, [2, 0]], y),
        _np_inc((slice(None, None, -1), [2, 0]), set_=True),
        ("real", "real"),
        dtypes=_same(FLOAT_INT),
        shapes=[((2, 3), (2, 2)), ((4, 3), (2,)), ((3, 3, 2), (3, 2, 1))],
        ops=(AdvancedIncSubtensor,),
    ),
    OpInfo(
        "advanced_inc_subtensor_bool_mask",
        lambda x, y, m: T.inc_subtensor(x[m], y),
        lambda x, y, m: _np_inc(m)(x, y),
        ("real", "real", "bool"),
        dtypes=(
            ("float64", "float64", "bool"),
            ("float32", "float32", "bool"),
            ("int32", "int32", "bool"),
        ),
        shapes=[((3, 4), (), (3, 4)), ((3, 2), (2,), (3,)), ((2, 3, 2), (1,), (2, 3))],
        ops=(AdvancedIncSubtensor,),
    ),
    OpInfo(
        "advanced_set_subtensor_where_positive",
        lambda x: T.set_subtensor(x[x > 0], 0.0),
        lambda x: np.where(x > 0, 0, x).astype(x.dtype),
        ("real",),
        shapes=[((3, 4),), ((5,),), ((2, 3, 2),)],
        ops=(AdvancedIncSubtensor,),
    ),
]
