"""The concrete scalar ops: arithmetic, rounding, comparisons, logic, selection.

Each op is a NumPy reference, a dtype rule and a gradient. Transcendental
functions (exp, log, trigonometry, sigmoid, erf...) live in
:mod:`symgraph.ops.scalar_special` and are re-exported here, so
``scalar_math`` names every scalar op.

Gradients are written on tensors with the functions of
:mod:`symgraph.ops.math` (``M``); Elemwise reduces them to the input shapes
and gives integer inputs no gradient. Each grad carries its maths as a
one-line comment. Ops with ``discrete = True`` are piecewise constant (or
integer valued): Elemwise gives all their inputs a zero gradient.

Conventions at kinks, as in PyTensor:

- ``abs'(0) = sign(0) = 0``;
- ``maximum(x, y)`` / ``minimum(x, y)`` at a tie ``x == y`` send the whole
  gradient to the first input ``x`` and none to ``y``;
- ``clip(x, lo, hi)`` passes the gradient to ``x`` on the closed interval
  ``lo <= x <= hi`` (so at ``x == lo`` the gradient goes to ``x``, not to
  ``lo``), to ``lo`` where ``x < lo`` and to ``hi`` where ``x > hi``
  (``lo <= hi`` is assumed);
- ``pow(x, y)``: ``d/dx = y x^(y-1)``, fine at negative ``x`` for integer
  ``y``; ``d/dy = log(x) x^y`` is defined where ``x > 0``, is 0 at ``x == 0``
  and NaN where ``x < 0``.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import FLOAT_DTYPES
from symgraph.ops.scalar import ScalarOp, promote

# ----------------------------------------------------------------- arithmetic


class _Variadic(ScalarOp):
    """Associative ops of any arity (canonicalisation flattens their chains)."""

    nin = -1
    commutative = associative = True

    def output_dtype(self, *dtypes):
        out = dtypes[0]
        for d in dtypes[1:]:
            out = ScalarOp.output_dtype(self, out, d)
        return out

    def impl(self, *inputs):
        result = inputs[0]
        for x in inputs[1:]:
            result = self.ufunc(result, x)
        return result


class Add(_Variadic):
    ufunc = np.add

    def grad(self, inputs, outputs, output_grads):
        # d(a+b+...)/da = 1
        return [output_grads[0]] * len(inputs)


class Mul(_Variadic):
    ufunc = np.multiply

    def grad(self, inputs, outputs, output_grads):
        # d(a*b*c)/da = b*c
        (gz,) = output_grads
        grads = []
        for i in range(len(inputs)):
            others = [x for j, x in enumerate(inputs) if j != i]
            grads.append(M.mul(gz, *others) if others else gz)
        return grads


class Sub(ScalarOp):
    nin = 2
    ufunc = np.subtract

    def grad(self, inputs, outputs, output_grads):
        # d(a-b) = (1, -1)
        (gz,) = output_grads
        return [gz, M.neg(gz)]


class TrueDiv(ScalarOp):
    """``a / b``; integers divide in float64, as NumPy."""

    nin = 2
    ufunc = np.true_divide

    def grad(self, inputs, outputs, output_grads):
        # d(a/b) = (1/b, -a/b^2)
        a, b = inputs
        (gz,) = output_grads
        return [M.true_div(gz, b), M.neg(M.true_div(M.mul(gz, outputs[0]), b))]


class FloorDiv(ScalarOp):
    """``a // b`` (floor of the quotient, np.floor_divide); piecewise constant."""

    nin = 2
    ufunc = np.floor_divide
    discrete = True


class Mod(ScalarOp):
    """``a % b`` with the sign of ``b`` (Python's and np.remainder's)."""

    nin = 2
    ufunc = np.remainder

    def grad(self, inputs, outputs, output_grads):
        # a % b = a - b floor(a/b): d/da = 1, d/db = -floor(a/b)
        a, b = inputs
        (gz,) = output_grads
        return [gz, M.neg(M.mul(gz, M.floor_div(a, b)))]


class Neg(ScalarOp):
    ufunc = np.negative

    def output_dtype(self, x):
        if x == "bool":
            raise TypeError(
                "neg is not defined for bool; use invert (~x) for logical not"
            )
        return ScalarOp.output_dtype(self, x)

    def grad(self, inputs, outputs, output_grads):
        # d(-x) = -1
        return [M.neg(output_grads[0])]


class Pow(ScalarOp):
    """``x ** y`` (np.power: integer powers of integers stay integers)."""

    nin = 2
    ufunc = np.power

    def grad(self, inputs, outputs, output_grads):
        # d x^y = (y x^(y-1), log(x) x^y); the second is 0 at x == 0
        x, y = inputs
        (gz,) = output_grads
        gx = M.mul(gz, y, M.pow(x, M.sub(y, 1)))
        gy = M.switch(M.eq(x, 0), 0, M.mul(gz, M.log(x), outputs[0]))
        return [gx, gy]


class Abs(ScalarOp):
    ufunc = np.absolute

    def grad(self, inputs, outputs, output_grads):
        # d|x| = sign(x), 0 at x == 0
        return [M.mul(output_grads[0], M.sign(inputs[0]))]


class Sign(ScalarOp):
    """-1, 0 or 1 (NaN stays NaN); piecewise constant."""

    ufunc = np.sign
    discrete = True


class Sqr(ScalarOp):
    ufunc = np.square

    def grad(self, inputs, outputs, output_grads):
        # d x^2 = 2x
        return [M.mul(output_grads[0], M.mul(2, inputs[0]))]


class Sqrt(ScalarOp):
    ufunc = np.sqrt
    output_rule = "float"

    def grad(self, inputs, outputs, output_grads):
        # d sqrt(x) = 1 / (2 sqrt(x))
        return [M.true_div(output_grads[0], M.mul(2, outputs[0]))]


class Reciprocal(ScalarOp):
    """``1 / x`` in float (integers upgrade as transcendental functions do,
    unlike np.reciprocal's integer division)."""

    output_rule = "float"
    ufunc = np.reciprocal

    def grad(self, inputs, outputs, output_grads):
        # d (1/x) = -1/x^2
        return [M.neg(M.mul(output_grads[0], M.sqr(outputs[0])))]


class _Extremum(ScalarOp):
    nin = 2
    commutative = True

    def grad(self, inputs, outputs, output_grads):
        # d max(x, y) = ([out == x], [out != x]): a tie goes to x (PyTensor)
        x, _ = inputs
        (gz,) = output_grads
        first = M.eq(outputs[0], x)
        return [M.switch(first, gz, 0), M.switch(first, 0, gz)]


class Maximum(_Extremum):
    """Elementwise larger value (NaN propagates, as np.maximum)."""

    ufunc = np.maximum


class Minimum(_Extremum):
    """Elementwise smaller value (NaN propagates, as np.minimum)."""

    ufunc = np.minimum


class Clip(ScalarOp):
    """``clip(x, lo, hi) = minimum(maximum(x, lo), hi)``, as np.clip."""

    nin = 3

    def output_dtype(self, *dtypes):
        return promote(*dtypes)

    def impl(self, x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi)

    def grad(self, inputs, outputs, output_grads):
        # d clip = ([lo <= x <= hi], [x < lo], [x > hi])
        x, lo, hi = inputs
        (gz,) = output_grads
        inside = M.and_(M.ge(x, lo), M.le(x, hi))
        return [
            M.switch(inside, gz, 0),
            M.switch(M.lt(x, lo), gz, 0),
            M.switch(M.gt(x, hi), gz, 0),
        ]


# ------------------------------------------------------------------ rounding


class _Rounding(ScalarOp):
    """Integer-valued functions of floats; integers pass through (NumPy 2)."""

    discrete = True


class Floor(_Rounding):
    ufunc = np.floor


class Ceil(_Rounding):
    ufunc = np.ceil


class Trunc(_Rounding):
    """Round toward zero."""

    ufunc = np.trunc


class Round(_Rounding):
    """Round half to even (np.round: 0.5 -> 0, 1.5 -> 2, -2.5 -> -2)."""

    def output_dtype(self, x):
        return "float32" if x == "bool" else x

    def impl(self, x):
        return np.round(x)


# --------------------------------------------------------------- comparisons


class _Comparison(ScalarOp):
    nin = 2
    output_rule = "bool"
    float_inputs = False
    discrete = True


class LT(_Comparison):
    ufunc = np.less


class GT(_Comparison):
    ufunc = np.greater


class LE(_Comparison):
    ufunc = np.less_equal


class GE(_Comparison):
    ufunc = np.greater_equal


class EQ(_Comparison):
    ufunc = np.equal
    commutative = True


class NEQ(_Comparison):
    ufunc = np.not_equal
    commutative = True


class _Predicate(ScalarOp):
    output_rule = "bool"
    float_inputs = False
    discrete = True


class IsNan(_Predicate):
    ufunc = np.isnan


class IsInf(_Predicate):
    ufunc = np.isinf


class IsFinite(_Predicate):
    ufunc = np.isfinite


# ----------------------------------------------------------- logic and bits


class _Bitwise(ScalarOp):
    """Logical on bool, bitwise on integers (NumPy's ``& | ^ ~``); no floats."""

    float_inputs = False
    discrete = True

    def output_dtype(self, *dtypes):
        for i, d in enumerate(dtypes):
            if d in FLOAT_DTYPES:
                raise TypeError(
                    f"{self.name} is logical on bool and bitwise on integer inputs, "
                    f"but input {i} is {d}; compare first (x > 0) to get a bool, "
                    "or cast to an integer dtype"
                )
        return ScalarOp.output_dtype(self, *dtypes)


class And(_Bitwise):
    nin = 2
    ufunc = np.bitwise_and
    commutative = associative = True


class Or(_Bitwise):
    nin = 2
    ufunc = np.bitwise_or
    commutative = associative = True


class Xor(_Bitwise):
    nin = 2
    ufunc = np.bitwise_xor
    commutative = associative = True


class Invert(_Bitwise):
    """Logical not on bool, bitwise not (``~``) on integers."""

    ufunc = np.invert


class LeftShift(_Bitwise):
    nin = 2
    ufunc = np.left_shift


class RightShift(_Bitwise):
    nin = 2
    ufunc = np.right_shift


# ---------------------------------------------------------------- selection


class Switch(ScalarOp):
    """``switch(cond, a, b)``: a where cond is true, else b (np.where)."""

    nin = 3
    float_inputs = False

    def output_dtype(self, cond, a, b):
        return promote(a, b)

    def impl(self, cond, a, b):
        return np.where(cond, a, b)

    def grad(self, inputs, outputs, output_grads):
        # d switch(c, a, b) = (none, [c], [not c])
        from symgraph.gradient import zeros_like_grad

        cond, a, b = inputs
        (gz,) = output_grads
        return [zeros_like_grad(cond), M.switch(cond, gz, 0), M.switch(cond, 0, gz)]


class Cast(ScalarOp):
    """Convert to ``dtype`` (NumPy ``astype``: floats truncate toward zero)."""

    __props__ = ("dtype",)
    float_inputs = False

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    @property
    def name(self) -> str:
        return f"cast_{self.dtype}"

    def output_dtype(self, *dtypes):
        return self.dtype

    def impl(self, x):
        return x.astype(self.dtype)

    def grad(self, inputs, outputs, output_grads):
        # d cast(x) = 1, back in x's dtype (no gradient to integers)
        from symgraph.gradient import zeros_like_grad

        (x,) = inputs
        if x.dtype not in FLOAT_DTYPES:
            return [zeros_like_grad(x)]
        return [M.cast(output_grads[0], x.dtype)]


class Identity(ScalarOp):
    float_inputs = False

    def output_dtype(self, x):
        return x

    def impl(self, x):
        return x.copy()

    def grad(self, inputs, outputs, output_grads):
        # d x = 1
        return [output_grads[0]]


add, mul, sub = Add(), Mul(), Sub()
true_div, floor_div, mod = TrueDiv(), FloorDiv(), Mod()
neg, pow, abs, sign, sqr, sqrt = Neg(), Pow(), Abs(), Sign(), Sqr(), Sqrt()
reciprocal, maximum, minimum, clip = Reciprocal(), Maximum(), Minimum(), Clip()
floor, ceil, trunc, round = Floor(), Ceil(), Trunc(), Round()
lt, gt, le, ge, eq, neq = LT(), GT(), LE(), GE(), EQ(), NEQ()
isnan, isinf, isfinite = IsNan(), IsInf(), IsFinite()
and_, or_, xor, invert = And(), Or(), Xor(), Invert()
left_shift, right_shift = LeftShift(), RightShift()
switch, identity = Switch(), Identity()

# The transcendental family, so that this module names every scalar op.
# Gradients build tensor graphs with the Elemwise functions; imported last
# because symgraph.ops.math lifts the scalar ops defined above.
from symgraph.ops import math as M  # noqa: E402
from symgraph.ops.scalar_special import *  # noqa: E402, F403
