"""Tensor-level elementwise functions: scalar ops lifted by Elemwise.

These are the ``T.*`` elementwise functions (``T.exp``, ``T.switch``...), and
the building blocks that gradient rules use. Each follows NumPy 2: its
broadcasting, its result dtypes (NEP 50: ``int8 + int8`` is int8,
``float32 * 2.0`` float32, ``int32 / 2`` float64) and its functions' values,
except that transcendental functions of integers give float32/float64, never
float16. The gradient conventions at kinks (abs, maximum, clip, pow) are
listed in :mod:`symgraph.ops.scalar_math`.

Example
-------
>>> import numpy as np, symgraph.tensor as T
>>> x = T.vector("x")
>>> T.clip(T.exp(x), 0, 2).eval({x: np.array([-1.0, 0.0, 1.0])})
array([0.36787944, 1.        , 2.        ])
"""

from __future__ import annotations

from symgraph.graph import as_tensor_variable, normalize_dtype
from symgraph.ops import scalar_math as S
from symgraph.ops.elemwise import Elemwise

__all__ = [
    # arithmetic
    "add", "sub", "mul", "true_div", "floor_div", "int_div", "mod", "neg",
    "pow", "abs", "abs_", "sign", "sgn", "sqr", "sqrt", "reciprocal", "inv",
    "maximum", "minimum", "clip",
    # exponentials and logarithms
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    # trigonometric and hyperbolic
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    # special functions
    "sigmoid", "softplus", "erf", "erfc",
    # rounding
    "floor", "ceil", "round", "round_half_to_even", "trunc",
    # comparisons and predicates
    "lt", "gt", "le", "ge", "eq", "neq", "isnan", "isinf", "isfinite",
    # logic and bits
    "and_", "or_", "xor", "invert", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "left_shift", "right_shift",
    # selection, conversion, constructors
    "switch", "where", "cast", "tensor_copy", "zeros_like", "ones_like",
]  # fmt: skip


def _lift(scalar_op, doc: str) -> Elemwise:
    op = Elemwise(scalar_op)
    op.__doc__ = doc
    return op


# -- arithmetic (add and mul are variadic: see the functions below)
_add = Elemwise(S.add)
_mul = Elemwise(S.mul)
sub = _lift(S.sub, "``a - b`` elementwise.")
true_div = _lift(S.true_div, "``a / b`` elementwise; integers divide in float64.")
floor_div = _lift(S.floor_div, "``a // b`` elementwise (floor of the quotient).")
mod = _lift(S.mod, "``a % b`` elementwise, with the sign of ``b`` (np.remainder).")
neg = _lift(S.neg, "``-x`` elementwise.")
pow = _lift(S.pow, "``x ** y`` elementwise (np.power).")  # noqa: A001
abs = _lift(S.abs, "``|x|`` elementwise; its gradient at 0 is 0.")  # noqa: A001
sign = _lift(S.sign, "-1, 0 or 1 by the sign of ``x`` elementwise.")
sqr = _lift(S.sqr, "``x * x`` elementwise.")
sqrt = _lift(S.sqrt, "Square root elementwise.")
reciprocal = _lift(S.reciprocal, "``1 / x`` elementwise, in float.")
maximum = _lift(S.maximum, "The larger of ``a`` and ``b`` elementwise (NaN wins).")
minimum = _lift(S.minimum, "The smaller of ``a`` and ``b`` elementwise (NaN wins).")
clip = _lift(S.clip, "``clip(x, lo, hi)``: ``x`` limited to ``[lo, hi]``, as np.clip.")

# -- exponentials and logarithms
exp = _lift(S.exp, "``e ** x`` elementwise.")
exp2 = _lift(S.exp2, "``2 ** x`` elementwise.")
expm1 = _lift(S.expm1, "``exp(x) - 1`` elementwise, accurate for small ``x``.")
log = _lift(S.log, "Natural logarithm elementwise.")
log2 = _lift(S.log2, "Base-2 logarithm elementwise.")
log10 = _lift(S.log10, "Base-10 logarithm elementwise.")
log1p = _lift(S.log1p, "``log(1 + x)`` elementwise, accurate for small ``x``.")

# -- trigonometric and hyperbolic
sin = _lift(S.sin, "Sine elementwise.")
cos = _lift(S.cos, "Cosine elementwise.")
tan = _lift(S.tan, "Tangent elementwise.")
arcsin = _lift(S.arcsin, "Inverse sine elementwise.")
arccos = _lift(S.arccos, "Inverse cosine elementwise.")
arctan = _lift(S.arctan, "Inverse tangent elementwise.")
arctan2 = _lift(S.arctan2, "``arctan2(y, x)``: the angle of the point (x, y).")
sinh = _lift(S.sinh, "Hyperbolic sine elementwise.")
cosh = _lift(S.cosh, "Hyperbolic cosine elementwise.")
tanh = _lift(S.tanh, "Hyperbolic tangent elementwise.")
arcsinh = _lift(S.arcsinh, "Inverse hyperbolic sine elementwise.")
arccosh = _lift(S.arccosh, "Inverse hyperbolic cosine elementwise.")
arctanh = _lift(S.arctanh, "Inverse hyperbolic tangent elementwise.")

# -- special functions
sigmoid = _lift(S.sigmoid, "``1 / (1 + exp(-x))`` elementwise, without overflow.")
softplus = _lift(S.softplus, "``log(1 + exp(x))`` elementwise, finite for any x.")
erf = _lift(S.erf, "The error function elementwise.")
erfc = _lift(S.erfc, "``1 - erf(x)`` elementwise, accurate for large ``x``.")

# -- rounding (integer inputs pass through unchanged, as in NumPy 2)
floor = _lift(S.floor, "Largest integer <= x, elementwise.")
ceil = _lift(S.ceil, "Smallest integer >= x, elementwise.")
trunc = _lift(S.trunc, "``x`` rounded toward zero, elementwise.")
_round = Elemwise(S.round)

# -- comparisons and predicates (bool results)
lt = _lift(S.lt, "``a < b`` elementwise.")
gt = _lift(S.gt, "``a > b`` elementwise.")
le = _lift(S.le, "``a <= b`` elementwise.")
ge = _lift(S.ge, "``a >= b`` elementwise.")
eq = _lift(S.eq, "``a == b`` elementwise (``==`` on variables is identity).")
neq = _lift(S.neq, "``a != b`` elementwise.")
isnan = _lift(S.isnan, "True where ``x`` is NaN.")
isinf = _lift(S.isinf, "True where ``x`` is +inf or -inf.")
isfinite = _lift(S.isfinite, "True where ``x`` is neither NaN nor infinite.")

# -- logic on bool, bits on integers; floats are refused
and_ = _lift(S.and_, "``a & b``: logical and on bool, bitwise and on integers.")
or_ = _lift(S.or_, "``a | b``: logical or on bool, bitwise or on integers.")
xor = _lift(S.xor, "``a ^ b``: logical xor on bool, bitwise xor on integers.")
invert = _lift(S.invert, "``~x``: logical not on bool, bitwise not on integers.")
left_shift = _lift(S.left_shift, "``a << b`` on integers.")
right_shift = _lift(S.right_shift, "``a >> b`` on integers.")

# -- selection
switch = _lift(S.switch, "``switch(cond, a, b)``: ``a`` where ``cond``, else ``b``.")
where = switch
_identity = Elemwise(S.identity)

# -- Theano's names
int_div, abs_, sgn, inv = floor_div, abs, sign, reciprocal
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert


def add(*terms):
    """Elementwise sum of two or more tensors (NumPy broadcasting).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.add(T.bvector("i"), T.bvector("j"), 1).dtype
    'int8'
    """
    if len(terms) < 2:
        raise TypeError(f"add takes at least 2 inputs, got {len(terms)}")
    return _add(*terms)


def mul(*factors):
    """Elementwise product of two or more tensors (NumPy broadcasting).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.mul(T.fvector("x"), 2.0).dtype
    'float32'
    """
    if len(factors) < 2:
        raise TypeError(f"mul takes at least 2 inputs, got {len(factors)}")
    return _mul(*factors)


def round(x, mode="half_to_even"):  # noqa: A001
    """``x`` rounded to the nearest integer, halves to even (as ``np.round``).

    Floats keep their dtype, integers pass through.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x = T.vector("x")
    >>> T.round(x).eval({x: np.array([0.5, 1.5, -2.5, 2.6])})
    array([ 0.,  2., -2.,  3.])
    """
    if mode not in (None, "half_to_even"):
        raise ValueError(
            f"round: mode {mode!r} is not supported; symgraph rounds half to even "
            "(mode='half_to_even'), as NumPy does"
        )
    return _round(x)


def round_half_to_even(x):
    """``round(x)``: halves go to the even neighbour."""
    return _round(x)


def cast(x, dtype):
    """``x`` converted to ``dtype`` (``x`` itself when it already has it).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.cast(T.ivector("i"), "float32").dtype
    'float32'
    """
    x = as_tensor_variable(x)
    dtype = normalize_dtype(dtype, "cast")
    if x.dtype == dtype:
        return x
    return Elemwise(S.Cast(dtype))(x)


def tensor_copy(x, name=None):
    """A copy of ``x`` (a new variable with the same value)."""
    out = _identity(x)
    out.name = name
    return out


def zeros_like(x, dtype=None):
    """Zeros with the shape of ``x`` (and its dtype unless given)."""
    x = as_tensor_variable(x)
    from symgraph.ops.creation import alloc_like

    return alloc_like(0, x, dtype=dtype)


def ones_like(x, dtype=None):
    """Ones with the shape of ``x`` (and its dtype unless given)."""
    x = as_tensor_variable(x)
    from symgraph.ops.creation import alloc_like

    return alloc_like(1, x, dtype=dtype)
