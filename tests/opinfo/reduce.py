"""op_db records: reductions, each over several axes (negative, tuples) and
both keepdims, on non-square shapes, empty arrays and integer dtypes."""

import warnings

import numpy as np

import symgraph.tensor as T
from symgraph.ops import reduce as R
from tests.op_db import OpInfo

SHAPES = [(), (3,), (2, 3), (1, 4), (3, 1), (2, 3, 4), (0, 3)]
AXIS_CASES = [
    (None, False),
    (None, True),
    (0, False),
    (-1, True),
    ((0, -1), False),
    ((-1, 0), True),
    ((0, 2, 1), False),
]
# Every dtype and shape on these axis cases; the others run the first float
# and the first integer dtype on fewer shapes (each case compiles once per
# backend, and the C backend's compiles dominate the op_db's time).
FULL_CASES = {(None, False), (-1, True)}
FEWER_SHAPES = [(3,), (1, 4), (2, 3, 4), (0, 3)]


def _quiet(ref):
    """NumPy warns on empty means ('Mean of empty slice'); symgraph gives NaN
    silently."""

    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return ref(*args, **kwargs)

    return call


def _np_arg(fn):
    """argmax/argmin over several axes: a flat index into the reduced axes."""

    def ref(a, axis=None, keepdims=False):
        axes = tuple(range(a.ndim)) if axis is None else axis
        axes = tuple(
            sorted(x % a.ndim for x in ((axes,) if isinstance(axes, int) else axes))
        )
        kept = [i for i in range(a.ndim) if i not in axes]
        merged = np.moveaxis(a, axes, range(a.ndim - len(axes), a.ndim))
        merged = merged.reshape([a.shape[i] for i in kept] + [-1])
        out = fn(merged, axis=-1)
        return (
            out.reshape([1 if i in axes else a.shape[i] for i in range(a.ndim)])
            if keepdims
            else out
        )

    return ref


def _valid(shape, axis, ref) -> bool:
    """The axis fits the shape, and NumPy can reduce an array of that shape."""
    try:
        R.normalize_axes(axis, len(shape), "test")
        ref(np.ones(shape), axis=axis, keepdims=False)
    except (ValueError, TypeError):
        return False
    return True


def _groups_of_two(shape, axis) -> bool:
    axes = R.normalize_axes(axis, len(shape), "test")
    return np.prod([shape[a] for a in axes]) >= 2


def _name(axis, keepdims) -> str:
    text = (
        "all"
        if axis is None
        else str(axis).replace(" ", "").replace(",", "_").strip("()_")
    )
    return f"axis{text}" + ("_keep" if keepdims else "")


def _records(name, fn, ref, domain="real", dtypes=("float64", "float32"), grad=True,
             min_group=1, ops=(), **extra):  # fmt: skip
    ref = _quiet(ref)
    records = []
    few = tuple(
        dict.fromkeys(
            [dtypes[0]] + [d for d in dtypes if d not in ("float64", "float32")][:1]
        )
    )
    for axis, keepdims in AXIS_CASES:
        full = (axis, keepdims) in FULL_CASES
        shapes = [
            (s,) for s in (SHAPES if full else FEWER_SHAPES) if _valid(s, axis, ref)
        ]
        grad_shapes = [s for s in shapes if np.prod(s[0]) > 0][:4]
        if min_group > 1:
            grad_shapes = [s for s in grad_shapes if _groups_of_two(s[0], axis)]
        records.append(
            OpInfo(
                f"{name}_{_name(axis, keepdims)}",
                lambda a, _ax=axis, _k=keepdims: fn(a, axis=_ax, keepdims=_k),
                lambda a, _ax=axis, _k=keepdims: ref(a, axis=_ax, keepdims=_k),
                (domain,),
                dtypes=dtypes if full else few,
                shapes=shapes,
                grad=grad and bool(grad_shapes),
                grad_shapes=grad_shapes,
                ops=ops,
                **extra,
            )
        )
    return records


def _mostly(p):
    return lambda shape, dtype, rng: (rng.random(shape) < p).astype(dtype)


def _with_ties(shape, dtype, rng):
    # few distinct values: ties are common (forward values only; no grad check)
    return rng.integers(-2, 3, size=shape).astype(dtype)


INT_AND_BOOL = ("int64", "int32", "int8", "uint8", "bool")
RECORDS = [
    *_records("sum", T.sum, np.sum, dtypes=("float64", "float32", *INT_AND_BOOL),
              ops=(R.Sum,)),
    *_records("prod", T.prod, np.prod,
              dtypes=("float64", "float32", "int64", "int8", "uint8", "bool"),
              ops=(R.Prod,)),
    *_records("max", T.max, np.max,
              dtypes=("float64", "float32", "int8", "uint8", "bool"), ops=(R.Max,)),
    *_records("min", T.min, np.min, dtypes=("float64", "float32", "int32", "uint8"),
              ops=(R.Min,)),
    *_records("mean", T.mean, np.mean, dtypes=("float64", "float32", "int32", "bool")),
    *_records("var", T.var, np.var, dtypes=("float64", "float32", "int16")),
    *_records("std", T.std, np.std, dtypes=("float64", "float32", "uint8"),
              min_group=2),
    *_records("argmax", T.argmax, _np_arg(np.argmax), domain=_with_ties,
              dtypes=("float64", "int8", "bool"), grad=False, ops=(R.Argmax,)),
    *_records("argmin", T.argmin, _np_arg(np.argmin), domain=_with_ties,
              dtypes=("float32", "uint8"), grad=False, ops=(R.Argmin,)),
    *_records("all", T.all, np.all, domain=_mostly(0.8),
              dtypes=("bool", "float64", "int8"), grad=False, ops=(R.All,)),
    *_records("any", T.any, np.any, domain=_mostly(0.2),
              dtypes=("bool", "float32", "uint8"), grad=False, ops=(R.Any,)),
    OpInfo("var_ddof1", lambda a: T.var(a, axis=-1, ddof=1),
           lambda a: np.var(a, axis=-1, ddof=1), ("real",),
           shapes=[((2, 3),), ((3,),), ((2, 3, 4),)]),
    OpInfo("std_ddof2_keep", lambda a: T.std(a, axis=(0, 1), ddof=2, keepdims=True),
           lambda a: np.std(a, axis=(0, 1), ddof=2, keepdims=True), ("real",),
           dtypes=("float64", "float32", "int32"), shapes=[((2, 3),), ((2, 3, 4),)]),
    OpInfo("var_ddof_too_big", lambda a: T.var(a, axis=0, ddof=3),
           _quiet(lambda a: np.var(a, axis=0, ddof=3)), ("real",), shapes=[((2, 3),)],
           grad=False),
    OpInfo("mean_acc_float64", lambda a: T.mean(a, axis=1, acc_dtype="float64"),
           lambda a: np.mean(a, axis=1), ("real",), dtypes=("float32",),
           shapes=[((2, 3),)], rtol={"float32": 1e-6}),
    OpInfo("sum_dtype_float32", lambda a: T.sum(a, axis=0, dtype="float32"),
           lambda a: np.sum(a, axis=0, dtype="float32"), ("real",),
           dtypes=("int32", "float64"), shapes=[((2, 3),)], grad=False),
    OpInfo("prod_with_zeros", lambda a: T.prod(a, axis=-1),
           lambda a: np.prod(a, axis=-1),
           (lambda shape, dtype, rng:
               rng.choice([0.0, 0.0, 1.5, -2.0, 0.5], size=shape).astype(dtype),),
           shapes=[((4, 3),), ((2, 3, 4),)], grad=True, ops=(R.Prod,)),
]  # fmt: skip
