"""op_db records: shape ops (reshape, axis juggling, allocation, ranges) and
joining (concatenate, stack, split, repeat, tile)."""

import importlib.util

import numpy as np

import symgraph.tensor as T
from symgraph.ops import creation as C
from symgraph.ops import join as J
from symgraph.ops import shape as S
from symgraph.ops.elemwise import DimShuffle
from tests.op_db import OpInfo

ALL = ("float64", "float32", "int32", "uint8", "bool")


def _const(*values):
    """A domain that always gives ``values`` (shape arguments)."""
    return lambda shape, dtype, rng: np.array(values, dtype=dtype).reshape(shape)


def _np_flatten(a, ndim):
    return a.reshape(a.shape[: ndim - 1] + (int(np.prod(a.shape[ndim - 1 :])),))


RESHAPE = [
    OpInfo("reshape_const", lambda a: T.reshape(a, (3, -1)), lambda a: a.reshape(3, -1),
           ("real",), dtypes=ALL, shapes=[((2, 3, 4),), ((6,),), ((3, 1),), ((0, 3),)],
           ops=(S.Reshape,)),
    OpInfo("reshape_to_scalar", lambda a: T.reshape(a, ()), lambda a: a.reshape(()),
           ("real",), shapes=[((1, 1),), ((1,),)]),
    OpInfo("reshape_symbolic_entry", lambda a: T.reshape(a, (S.shape_i(a, 0), -1)),
           lambda a: a.reshape(a.shape[0], -1), ("real",),
           shapes=[((2, 3, 4),), ((3, 1, 2),), ((2, 0, 2),)]),
    OpInfo("reshape_like_other", lambda a, b: T.reshape(a, b.shape),
           lambda a, b: a.reshape(b.shape), ("real", "real"),
           shapes=[((2, 3), (3, 2)), ((2, 3, 4), (4, 6)), ((), (1, 1))],
           grad_args=(0,)),
    OpInfo("flatten", T.flatten, lambda a: a.reshape(-1), ("real",), dtypes=ALL,
           shapes=[((),), ((3,),), ((2, 3),), ((2, 3, 4),), ((0, 3),)]),
    OpInfo("flatten2", lambda a: T.flatten(a, 2), lambda a: _np_flatten(a, 2),
           ("real",),
           shapes=[((2, 3),), ((2, 3, 4),), ((1, 3, 4),), ((0, 3, 2),), ((2, 0, 3),)]),
    OpInfo("flatten3", lambda a: T.flatten(a, 3), lambda a: _np_flatten(a, 3),
           ("real",), shapes=[((2, 3, 4, 5),), ((2, 3, 4),)]),
]

AXES = [
    OpInfo("transpose", T.transpose, np.transpose, ("real",), dtypes=ALL,
           shapes=[((),), ((3,),), ((2, 3),), ((1, 4),), ((2, 3, 4),), ((0, 3),)],
           ops=(DimShuffle,)),
    OpInfo("transpose_axes", lambda a: T.transpose(a, (1, -1, 0)),
           lambda a: np.transpose(a, (1, 2, 0)), ("real",),
           shapes=[((2, 3, 4),), ((2, 1, 3),)]),
    OpInfo("swapaxes", lambda a: T.swapaxes(a, 0, -1), lambda a: np.swapaxes(a, 0, -1),
           ("real",), shapes=[((2, 3),), ((2, 3, 4),), ((3,),)]),
    OpInfo("dimshuffle", lambda a: T.dimshuffle(a, (1, "x", 0)),
           lambda a: a.T[:, None, :], ("real",),
           shapes=[((2, 3),), ((1, 4),), ((0, 3),)]),
    OpInfo("squeeze", T.squeeze, np.squeeze, ("real",),
           shapes=[((1, 4),), ((3, 1),), ((1, 3, 1),), ((2, 3),)]),
    OpInfo("squeeze_axis", lambda a: T.squeeze(a, axis=-1),
           lambda a: np.squeeze(a, axis=-1), ("real",),
           shapes=[((3, 1),), ((1, 3, 1),)]),
    OpInfo("expand_dims", lambda a: T.expand_dims(a, (0, -1)),
           lambda a: np.expand_dims(a, (0, -1)), ("real",), dtypes=ALL,
           shapes=[((),), ((3,),), ((2, 3),)]),
    OpInfo("shape_padleft", lambda a: T.shape_padleft(a, 2), lambda a: a[None, None],
           ("real",), shapes=[((3,),), ((2, 3),)]),
    OpInfo("shape_padright", T.shape_padright, lambda a: a[..., None], ("real",),
           shapes=[((3,),), ((2, 3),)]),
]

JOINS = [
    OpInfo("concatenate", lambda a, b: T.concatenate([a, b]),
           lambda a, b: np.concatenate([a, b]), ("real", "real"),
           dtypes=("float64", "float32", "int8", ("int32", "float32"),
                   ("bool", "uint8")),
           shapes=[((2, 3), (4, 3)), ((3,), (2,)), ((0, 3), (2, 3)), ((1, 3), (1, 3)),
                   ((2, 3, 4), (1, 3, 4))],
           ops=(J.Join,)),
    OpInfo("concatenate_axis-1", lambda a, b, c: T.concatenate([a, b, c], axis=-1),
           lambda a, b, c: np.concatenate([a, b, c], axis=-1), ("real", "real", "real"),
           shapes=[((2, 3), (2, 1), (2, 4)), ((2, 3, 4), (2, 3, 0), (2, 3, 2))]),
    OpInfo("concatenate_python_numbers", lambda a: T.concatenate([a, [7, 8]]),
           lambda a: np.concatenate([a, [7, 8]]), ("real",), dtypes=("float32", "int8"),
           shapes=[((3,),)]),
    OpInfo("join", lambda a, b: T.join(1, a, b), lambda a, b: np.concatenate([a, b], 1),
           ("real", "real"), shapes=[((2, 3), (2, 4))]),
    OpInfo("stack", lambda a, b: T.stack([a, b]), lambda a, b: np.stack([a, b]),
           ("real", "real"),
           dtypes=("float64", "float32", "int32", ("int8", "float64")),
           shapes=[((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((0, 3), (0, 3))]),
    OpInfo("stack_axis-1", lambda a, b, c: T.stack([a, b, c], axis=-1),
           lambda a, b, c: np.stack([a, b, c], -1), ("real",) * 3,
           shapes=[((2, 3), (2, 3), (2, 3)), ((4,), (4,), (4,))]),
    OpInfo("stack_theano_varargs", lambda a, b: T.stack(a, b),
           lambda a, b: np.stack([a, b]), ("real", "real"), shapes=[((), ())]),
    OpInfo("split_theano", lambda a: T.split(a, [1, 2], 2, axis=0)[1], lambda a: a[1:3],
           ("real",), dtypes=("float64", "float32", "int64"),
           shapes=[((3, 4),), ((3,),), ((3, 0),)], ops=(J.Split,)),
    OpInfo("split_theano_axis-1_first", lambda a: T.split(a, [3, 1], 2, axis=-1)[0],
           lambda a: a[..., :3], ("real",), shapes=[((2, 4),), ((2, 3, 4),)]),
    OpInfo("split_symbolic_sizes",
           lambda a, n: T.split(a, [n, S.shape_i(a, 0) - n], 2)[1],
           lambda a, n: a[int(n):], ("real", (0, 3)), dtypes=(("float64", "int64"),),
           shapes=[((3, 2), ())]),
    OpInfo("split_numpy_sections", lambda a: T.split(a, 2, axis=1)[1],
           lambda a: np.split(a, 2, axis=1)[1], ("real",),
           shapes=[((3, 4),), ((2, 6, 1),)]),
    OpInfo("split_numpy_indices", lambda a: T.split(a, [1, 3])[2],
           lambda a: np.split(a, [1, 3])[2], ("real",),
           shapes=[((5,),), ((4, 2),), ((3,),)]),
    OpInfo("repeat", lambda a: T.repeat(a, 2, axis=0),
           lambda a: np.repeat(a, 2, axis=0), ("real",), dtypes=ALL,
           shapes=[((3,),), ((2, 3),), ((1, 4),), ((0, 3),)], ops=(J.Repeat,)),
    OpInfo("repeat_flat", lambda a: T.repeat(a, 3), lambda a: np.repeat(a, 3),
           ("real",), shapes=[((),), ((2, 3),)]),
    OpInfo("repeat_counts", lambda a: T.repeat(a, [2, 0, 1], axis=-1),
           lambda a: np.repeat(a, [2, 0, 1], axis=-1), ("real",),
           shapes=[((3,),), ((2, 3),)]),
    OpInfo("repeat_symbolic", lambda a, r: T.repeat(a, r, axis=1),
           lambda a, r: np.repeat(a, r, axis=1), ("real", (0, 3)),
           dtypes=(("float64", "int32"),), shapes=[((2, 3), ())]),
    OpInfo("repeat_symbolic_counts", lambda a, r: T.repeat(a, r, axis=0),
           lambda a, r: np.repeat(a, r, axis=0), ("real", (0, 3)),
           dtypes=(("float64", "int64"),), shapes=[((3, 2), (3,))], grad=False,
           notes="gradient needs the counts' length when the graph is built"),
    OpInfo("tile", lambda a: T.tile(a, (2, 3)), lambda a: np.tile(a, (2, 3)), ("real",),
           shapes=[((3,),), ((2, 3),), ((1, 2),), ((),)]),
    OpInfo("tile_short_reps", lambda a: T.tile(a, (2,)), lambda a: np.tile(a, (2,)),
           ("real",), shapes=[((2, 3),), ((2, 1, 3),)]),
]

CONSTRUCTORS = [
    OpInfo("alloc", lambda a: T.alloc(a, 2, 3),
           lambda a: np.broadcast_to(a, (2, 3)).copy(), ("real",), dtypes=ALL,
           shapes=[((),), ((3,),), ((1, 3),), ((2, 1),)], ops=(C.Alloc,)),
    OpInfo("alloc_symbolic", lambda a, n: T.alloc(a, n, 3),
           lambda a, n: np.broadcast_to(a, (int(n), 3)).copy(), ("real", (0, 3)),
           dtypes=(("float64", "int64"), ("float32", "int8")),
           shapes=[((3,), ()), ((), ())]),
    OpInfo("fill", lambda a, b: T.fill(a, b),
           lambda a, b: np.broadcast_to(b, a.shape).copy(), ("real", "real"),
           shapes=[((2, 3), ()), ((2, 3), (3,)), ((2, 3), (2, 1))], grad_args=(1,)),
    OpInfo("full_like", lambda a: T.full_like(a, 2.5), lambda a: np.full_like(a, 2.5),
           ("real",), dtypes=("float64", "float32", "int8"),
           shapes=[((2, 3),), ((0,),)], grad=False),
    OpInfo("zeros_of_shape", lambda a: T.zeros(a.shape), lambda a: np.zeros(a.shape),
           ("real",), dtypes=("float32", "int32"), shapes=[((2, 3),), ((),), ((0, 4),)],
           grad=False),
    OpInfo("ones_int", lambda a: T.ones((S.shape_i(a, 0), 2), dtype="int16"),
           lambda a: np.ones((a.shape[0], 2), "int16"), ("real",), shapes=[((3,),)],
           grad=False),
    OpInfo("full", lambda a: T.full((2, 3), a), lambda a: np.full((2, 3), a), ("real",),
           dtypes=("float64", "float32", "uint8"), shapes=[((),), ((3,),)]),
    OpInfo("arange", lambda n: T.arange(n), lambda n: np.arange(n), ((0, 6),),
           dtypes=("int64", "int32", "uint8"), shapes=[((),)], grad=False,
           ops=(C.ARange,)),
    OpInfo("arange_negative_step", lambda a, b: T.arange(a, b, -2),
           lambda a, b: np.arange(a, b, -2), ((3, 9), (-4, 4)),
           dtypes=("int64", "int8"), shapes=[((), ())], grad=False),
    OpInfo("arange_float", lambda a, b: T.arange(a, b, 0.3),
           lambda a, b: np.arange(a, b, 0.3), ((0.01, 0.29), (2.01, 2.29)),
           dtypes=("float64",), shapes=[((), ())], grad_args=(0,)),
    OpInfo("arange_float_step", lambda a, s: T.arange(a, 3.0, s),
           lambda a, s: np.arange(a, 3.0, s), ((0.01, 0.09), (0.72, 0.74)),
           dtypes=("float64",), shapes=[((), ())]),
    OpInfo("eye", lambda n: T.eye(n, 4, 1), lambda n: np.eye(int(n), 4, 1), ((0, 5),),
           dtypes=("int64",), shapes=[((),)], grad=False, ops=(C.Eye,)),
    OpInfo("eye_int_k", lambda k: T.eye(3, k=k, dtype="int8"),
           lambda k: np.eye(3, k=int(k), dtype="int8"), ((-3, 3),), dtypes=("int32",),
           shapes=[((),)], grad=False),
    OpInfo("identity_like", T.identity_like, lambda a: np.eye(*a.shape, dtype=a.dtype),
           ("real",), dtypes=("float32", "int8"), shapes=[((2, 3),), ((3, 3),)],
           grad=False),
    OpInfo("shape", T.shape, lambda a: np.array(a.shape, "int64"), ("real",),
           dtypes=ALL, shapes=[((),), ((2, 3),), ((0, 1, 2),)], grad=False,
           ops=(S.Shape,)),
    OpInfo("shape_i", lambda a: S.shape_i(a, 1), lambda a: np.array(a.shape[1]),
           ("real",), shapes=[((2, 3),), ((2, 0, 4),)], grad=False, ops=(S.Shape_i,)),
]

if importlib.util.find_spec("symgraph.ops.subtensor"):  # vec[i] reads a shape vector
    RESHAPE.append(
        OpInfo("reshape_vector_input", lambda a, s: T.reshape(a, s, ndim=3),
               lambda a, s: a.reshape(s), ("real", _const(4, 3, 2)),
               dtypes=(("float64", "int32"),), shapes=[((2, 3, 4), (3,))],
               grad_args=(0,))
    )  # fmt: skip

RECORDS = RESHAPE + AXES + JOINS + CONSTRUCTORS
