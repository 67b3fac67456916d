# ruff: noqa: E501  (a table: one record per line)
"""op_db records: the elementwise ops (one or more records per scalar op).

Transcendental references upcast integer inputs first (``_f``), since
symgraph gives float32/float64 where NumPy would give float16. Records whose
values sit on kinks or ties (``_grid`` samples) check the forward pass only;
gradients at kinks have focused tests in tests/ops/test_elemwise.py.
"""

import numpy as np
import scipy.special

import symgraph.tensor as T
from symgraph.ops import scalar_math as S
from symgraph.ops.scalar import upgrade_to_float
from tests.op_db import BINARY_SHAPES, FLOATS, INTS, OpInfo

SOME_INTS = ("int64", "int8")
TERNARY_SHAPES = [
    ((2, 3), (), ()),
    ((2, 3), (1, 3), (2, 1)),
    ((3,), (3,), (3,)),
    ((), (2, 3), ()),
    ((0, 3), (), (1, 3)),
]


def _grid(shape, dtype, rng):
    """Small integers (as ``dtype``): many ties, zeros and exact halves / 2."""
    return rng.integers(-4, 5, size=shape)


def _halves(shape, dtype, rng):
    """Multiples of 0.5 mixed with other reals: round's half-to-even cases."""
    values = rng.integers(-8, 9, size=shape) / 2
    return np.where(rng.random(shape) < 0.5, values, rng.uniform(-3, 3, size=shape))


def _specials(shape, dtype, rng):
    if np.dtype(dtype).kind != "f":
        return rng.integers(-3, 4, size=shape)
    return rng.choice([np.nan, np.inf, -np.inf, 0.0, 1.5, -2.0], size=shape)


def _f(fn):
    """``fn`` on inputs upcast per symgraph's rule for transcendental ops."""

    def ref(*args):
        return fn(*(a if a.dtype.kind == "f" else a.astype(upgrade_to_float(a.dtype.name)) for a in args))

    return ref


def unary(name, fn, ref, domain="real", dtypes=FLOATS, **kw):
    return OpInfo(name, fn, ref, (domain,), dtypes=dtypes, **kw)


def binary(name, fn, ref, domains=("real", "real"), dtypes=FLOATS, **kw):
    return OpInfo(name, fn, ref, domains, dtypes=dtypes, shapes=BINARY_SHAPES, **kw)


def ternary(name, fn, ref, domains, dtypes=FLOATS, **kw):
    return OpInfo(name, fn, ref, domains, dtypes=dtypes, shapes=TERNARY_SHAPES, **kw)


ARITHMETIC = [
    binary("add", lambda a, b: a + b, np.add, dtypes=("float64", "float32", "int64", ("int8", "float32"), "bool"), ops=(S.Add,)),
    ternary("add_variadic", T.add, lambda a, b, c: a + b + c, ("real",) * 3, dtypes=(*FLOATS, "int32"), ops=(S.Add,)),
    binary("mul", lambda a, b: a * b, np.multiply, dtypes=("float64", "float32", "int32", ("uint8", "int8")), ops=(S.Mul,)),
    ternary("mul_variadic", T.mul, lambda a, b, c: a * b * c, ("real",) * 3, dtypes=(*FLOATS, "int8"), ops=(S.Mul,)),
    binary("sub", lambda a, b: a - b, np.subtract, dtypes=(*FLOATS, *INTS), ops=(S.Sub,)),
    binary("true_div", lambda a, b: a / b, np.true_divide, ("real", "nonzero"), dtypes=(*FLOATS, "int32", "int8", ("int8", "float32")), ops=(S.TrueDiv,)),
    binary("floor_div", lambda a, b: a // b, np.floor_divide, ("real", "nonzero"), dtypes=(*FLOATS, *INTS), grad=False, ops=(S.FloorDiv,)),
    binary("mod", lambda a, b: a % b, np.remainder, ("real", "nonzero"), dtypes=(*FLOATS, *INTS), ops=(S.Mod,)),
    unary("neg", lambda x: -x, np.negative, dtypes=(*FLOATS, *INTS), ops=(S.Neg,)),
    binary("pow", lambda a, b: a**b, np.power, ("positive", "real"), ops=(S.Pow,)),
    binary("pow_int_exponent", T.pow, np.power, ("nonzero", (-3, 3)), dtypes=(("float64", "int64"), ("float32", "int8")), ops=(S.Pow,), notes="negative bases"),
    binary("pow_int", T.pow, np.power, ("int", (0, 3)), dtypes=INTS, grad=False, ops=(S.Pow,)),
    unary("abs", abs, np.abs, "nonzero", dtypes=(*FLOATS, *SOME_INTS), ops=(S.Abs,)),
    unary("abs_at_zero", T.abs, np.abs, _grid, dtypes=(*FLOATS, "uint8", "bool"), grad=False, ops=(S.Abs,)),
    unary("sign", T.sign, np.sign, _grid, dtypes=(*FLOATS, *INTS), grad=False, ops=(S.Sign,)),
    unary("sqr", T.sqr, np.square, dtypes=(*FLOATS, *SOME_INTS), ops=(S.Sqr,)),
    unary("sqrt", T.sqrt, _f(np.sqrt), "positive", dtypes=(*FLOATS, "int32", "uint8"), ops=(S.Sqrt,)),
    unary("reciprocal", T.reciprocal, _f(lambda x: 1 / x), "nonzero", dtypes=(*FLOATS, "int32", "int8"), ops=(S.Reciprocal,)),
    binary("maximum", T.maximum, np.maximum, dtypes=(*FLOATS, *INTS, ("int8", "float32")), ops=(S.Maximum,)),
    binary("minimum", T.minimum, np.minimum, dtypes=(*FLOATS, *INTS, ("int8", "float32")), ops=(S.Minimum,)),
    binary("maximum_ties", T.maximum, np.maximum, (_grid, _grid), dtypes=(*FLOATS, "bool"), grad=False, ops=(S.Maximum,)),
    binary("minimum_ties", T.minimum, np.minimum, (_grid, _grid), dtypes=(*FLOATS, "bool"), grad=False, ops=(S.Minimum,)),
    ternary("clip", T.clip, np.clip, ("real", (-1.5, -0.5), (0.5, 1.5)), dtypes=(*FLOATS, *SOME_INTS), ops=(S.Clip,)),
    ternary("clip_method", lambda x, lo, hi: x.clip(lo, hi), np.clip, (_grid, (-1, 0), (1, 2)), dtypes=(*FLOATS, "int32"), grad=False, ops=(S.Clip,)),
]

# (name, reference, domain, integer dtypes to check too)
_TRANSCENDENTAL = [
    ("exp", np.exp, "real", ("int32", "int8")),
    ("exp2", np.exp2, "real", ("int16",)),
    ("expm1", np.expm1, "real", ()),
    ("log", np.log, "positive", ("int32", "uint8")),
    ("log2", np.log2, "positive", ("int64",)),
    ("log10", np.log10, "positive", ("int16",)),
    ("log1p", np.log1p, (-0.9, 3.0), ()),
    ("sin", np.sin, "real", ("int32",)),
    ("cos", np.cos, "real", ("int8",)),
    ("tan", np.tan, (-1.2, 1.2), ()),
    ("arcsin", np.arcsin, "unit", ()),
    ("arccos", np.arccos, "unit", ()),
    ("arctan", np.arctan, "real", ("int32",)),
    ("sinh", np.sinh, "real", ()),
    ("cosh", np.cosh, "real", ()),
    ("tanh", np.tanh, "real", ("int32", "bool")),
    ("arcsinh", np.arcsinh, "real", ()),
    ("arccosh", np.arccosh, "above1", ()),
    ("arctanh", np.arctanh, "unit", ()),
    ("sigmoid", scipy.special.expit, "real", ("int8",)),
    ("softplus", lambda x: np.logaddexp(x.dtype.type(0), x), "real", ("int32",)),
    ("erf", scipy.special.erf, "real", ("int16",)),
    ("erfc", scipy.special.erfc, "real", ()),
]

TRANSCENDENTAL = [
    unary(name, getattr(T, name), _f(ref), domain, dtypes=(*FLOATS, *ints), ops=(type(getattr(S, name)),))
    for name, ref, domain, ints in _TRANSCENDENTAL
] + [
    unary("sigmoid_wide", T.sigmoid, scipy.special.expit, (-40.0, 40.0), ops=(S.Sigmoid,)),
    unary("softplus_wide", T.softplus, lambda x: np.logaddexp(x.dtype.type(0), x), (-40.0, 40.0), ops=(S.Softplus,)),
    binary("arctan2", T.arctan2, _f(np.arctan2), ("real", "nonzero"), dtypes=(*FLOATS, "int32", ("int8", "float32"), ("int32", "float32")), ops=(S.ArcTan2,)),
]

ROUNDING = [
    unary(name, getattr(T, name), ref, _halves, dtypes=(*FLOATS, *INTS), grad=False, ops=(type(getattr(S, name)),))
    for name, ref in [("floor", np.floor), ("ceil", np.ceil), ("trunc", np.trunc), ("round", np.round)]
] + [
    unary("round_method", lambda x: x.round(), np.round, _halves, grad=False, ops=(S.Round,)),
]

_MIXED = (*FLOATS, *INTS, ("int8", "float32"), ("uint8", "int64"), "bool")
COMPARISONS = [
    binary(name, getattr(T, name), ref, (_grid, _grid), dtypes=_MIXED, grad=False, ops=(type(getattr(S, name)),))
    for name, ref in [("lt", np.less), ("gt", np.greater), ("le", np.less_equal), ("ge", np.greater_equal), ("eq", np.equal), ("neq", np.not_equal)]
] + [
    binary("lt_operator", lambda a, b: a < b, np.less, dtypes=FLOATS, grad=False, ops=(S.LT,)),
    binary("ge_operator", lambda a, b: a >= b, np.greater_equal, dtypes=FLOATS, grad=False, ops=(S.GE,)),
] + [
    unary(name, getattr(T, name), ref, _specials, dtypes=(*FLOATS, "int32"), grad=False, ops=(type(getattr(S, name)),))
    for name, ref in [("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite)]
]

_LOGIC = ("bool", *INTS, ("int8", "int32"), ("bool", "uint8"))
LOGIC = [
    binary("and_", lambda a, b: a & b, np.bitwise_and, ("int", "int"), dtypes=_LOGIC, grad=False, ops=(S.And,)),
    binary("or_", lambda a, b: a | b, np.bitwise_or, ("int", "int"), dtypes=_LOGIC, grad=False, ops=(S.Or,)),
    binary("xor", lambda a, b: a ^ b, np.bitwise_xor, ("int", "int"), dtypes=_LOGIC, grad=False, ops=(S.Xor,)),
    unary("invert", lambda x: ~x, np.invert, "int", dtypes=("bool", *INTS), grad=False, ops=(S.Invert,)),
    binary("left_shift", T.left_shift, np.left_shift, ("int", (0, 3)), dtypes=INTS, grad=False, ops=(S.LeftShift,)),
    binary("right_shift", T.right_shift, np.right_shift, ("int", (0, 3)), dtypes=INTS, grad=False, ops=(S.RightShift,)),
]

SELECTION = [
    ternary("switch", T.switch, np.where, ("bool", "real", "real"), dtypes=(("bool", "float64", "float64"), ("bool", "float32", "float32"), ("bool", "int32", "float32"), ("int8", "int64", "int8")), grad_args=(1, 2), ops=(S.Switch,)),
    unary("cast_float32", lambda x: T.cast(x, "float32"), lambda x: x.astype("float32"), dtypes=("float64", "int32", "bool"), grad_tol={"float64": {"eps": 1e-2}}, ops=(S.Cast,)),
    unary("cast_int16", lambda x: x.astype("int16"), lambda x: x.astype("int16"), dtypes=(*FLOATS, "uint8"), grad=False, ops=(S.Cast,)),
    unary("cast_bool", lambda x: T.cast(x, "bool"), lambda x: x.astype("bool"), _grid, dtypes=("float64", "int32"), grad=False, ops=(S.Cast,)),
    unary("tensor_copy", T.tensor_copy, np.copy, dtypes=(*FLOATS, *INTS, "bool"), ops=(S.Identity,)),
]

RECORDS = ARITHMETIC + TRANSCENDENTAL + ROUNDING + COMPARISONS + LOGIC + SELECTION
