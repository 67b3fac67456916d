"""The concrete scalar ops. Each: a NumPy reference, a dtype rule, a gradient.

Gradients are written on tensors with the functions of
:mod:`symgraph.ops.math` (``M``); Elemwise reduces them to the input shapes.
Each grad carries its maths as a one-line comment.
"""

from __future__ import annotations

import numpy as np

from symgraph.ops.scalar import ScalarOp

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


class Add(_Variadic):
    ufunc = np.add

    def impl(self, *inputs):
        result = inputs[0]
        for x in inputs[1:]:
            result = np.add(result, x)
        return result

    def grad(self, inputs, outputs, output_grads):
        # d(a+b+...)/da = 1
        return [output_grads[0]] * len(inputs)


class Mul(_Variadic):
    ufunc = np.multiply

    def impl(self, *inputs):
        result = inputs[0]
        for x in inputs[1:]:
            result = np.multiply(result, x)
        return result

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
    nin = 2
    ufunc = np.true_divide

    def grad(self, inputs, outputs, output_grads):
        # d(a/b) = (1/b, -a/b^2)
        a, b = inputs
        (gz,) = output_grads
        return [M.true_div(gz, b), M.neg(M.true_div(M.mul(gz, outputs[0]), b))]


class Neg(ScalarOp):
    ufunc = np.negative

    def grad(self, inputs, outputs, output_grads):
        # d(-x) = -1
        return [M.neg(output_grads[0])]


# ---------------------------------------------------------- transcendental


class Exp(ScalarOp):
    ufunc = np.exp
    output_rule = "float"

    def grad(self, inputs, outputs, output_grads):
        # d exp(x) = exp(x)
        return [M.mul(output_grads[0], outputs[0])]


class Log(ScalarOp):
    ufunc = np.log
    output_rule = "float"

    def grad(self, inputs, outputs, output_grads):
        # d log(x) = 1/x
        return [M.true_div(output_grads[0], inputs[0])]


class Tanh(ScalarOp):
    ufunc = np.tanh
    output_rule = "float"

    def grad(self, inputs, outputs, output_grads):
        # d tanh(x) = 1 - tanh(x)^2
        return [M.mul(output_grads[0], M.sub(1, M.sqr(outputs[0])))]


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


# ------------------------------------------------------------ comparisons


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


# ------------------------------------------------------------- selection


class Switch(ScalarOp):
    """``switch(cond, a, b)``: a where cond is true, else b (np.where)."""

    nin = 3
    float_inputs = False

    def output_dtype(self, cond, a, b):
        from symgraph.ops.scalar import promote

        return promote(a, b)

    def impl(self, cond, a, b):
        return np.where(cond, a, b)

    def grad(self, inputs, outputs, output_grads):
        # d switch(c, a, b) = (none, [c], [not c])
        cond, a, b = inputs
        (gz,) = output_grads
        zero = M.zeros_like(gz)
        from symgraph.gradient import zeros_like_grad

        return [zeros_like_grad(cond), M.switch(cond, gz, zero), M.switch(cond, zero, gz)]


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
        (x,) = inputs
        from symgraph.gradient import zeros_like_grad

        if x.dtype not in ("float32", "float64"):
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


add, mul, sub, true_div, neg = Add(), Mul(), Sub(), TrueDiv(), Neg()
exp, log, tanh, sqr, sqrt = Exp(), Log(), Tanh(), Sqr(), Sqrt()
lt, gt, le, ge, eq, neq = LT(), GT(), LE(), GE(), EQ(), NEQ()
switch, identity = Switch(), Identity()

# Gradients build tensor graphs with the Elemwise functions; imported last
# because symgraph.ops.math lifts the scalar ops defined above.
from symgraph.ops import math as M  # noqa: E402
