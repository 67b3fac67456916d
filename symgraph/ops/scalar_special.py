"""Transcendental scalar ops: exp/log families, trigonometry, sigmoid, erf.

All take the ``"float"`` dtype rule: float inputs keep their dtype, integer
and bool inputs give float32 (up to 16 bits) or float64 (see
:func:`~symgraph.ops.scalar.upgrade_to_float`; NumPy would give float16,
which symgraph does not support). Integer inputs are cast to that dtype
before the NumPy function runs.

``log1p``, ``expm1``, ``sigmoid`` and ``softplus`` exist for numerical
stability: ``log1p(1e-20) == 1e-20``, ``sigmoid(-800) == 0`` (not NaN) and
``softplus(800) == 800`` (not inf). ``erf``/``erfc`` use ``scipy.special``
when it can be imported and ``math.erf`` elementwise otherwise; symgraph does
not need scipy.
"""

from __future__ import annotations

import math

import numpy as np

from symgraph.ops.scalar import ScalarOp

__all__ = [
    "Exp", "Exp2", "Expm1", "Log", "Log2", "Log10", "Log1p",
    "Sin", "Cos", "Tan", "ArcSin", "ArcCos", "ArcTan", "ArcTan2",
    "Sinh", "Cosh", "Tanh", "ArcSinh", "ArcCosh", "ArcTanh",
    "Sigmoid", "Softplus", "Erf", "Erfc",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "sigmoid", "softplus", "erf", "erfc",
]  # fmt: skip

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class _Float(ScalarOp):
    output_rule = "float"


# ----------------------------------------------------------- exp and log


class Exp(_Float):
    ufunc = np.exp

    def grad(self, inputs, outputs, output_grads):
        # d exp(x) = exp(x)
        return [M.mul(output_grads[0], outputs[0])]


class Exp2(_Float):
    ufunc = np.exp2

    def grad(self, inputs, outputs, output_grads):
        # d 2^x = 2^x ln 2
        return [M.mul(output_grads[0], outputs[0], _LN2)]


class Expm1(_Float):
    """``exp(x) - 1``, accurate for small ``x``."""

    ufunc = np.expm1

    def grad(self, inputs, outputs, output_grads):
        # d (exp(x) - 1) = exp(x) = expm1(x) + 1
        return [M.mul(output_grads[0], M.add(outputs[0], 1))]


class Log(_Float):
    ufunc = np.log

    def grad(self, inputs, outputs, output_grads):
        # d log(x) = 1/x
        return [M.true_div(output_grads[0], inputs[0])]


class Log2(_Float):
    ufunc = np.log2

    def grad(self, inputs, outputs, output_grads):
        # d log2(x) = 1 / (x ln 2)
        return [M.true_div(output_grads[0], M.mul(inputs[0], _LN2))]


class Log10(_Float):
    ufunc = np.log10

    def grad(self, inputs, outputs, output_grads):
        # d log10(x) = 1 / (x ln 10)
        return [M.true_div(output_grads[0], M.mul(inputs[0], _LN10))]


class Log1p(_Float):
    """``log(1 + x)``, accurate for small ``x``."""

    ufunc = np.log1p

    def grad(self, inputs, outputs, output_grads):
        # d log(1+x) = 1 / (1+x)
        return [M.true_div(output_grads[0], M.add(inputs[0], 1))]


# ------------------------------------------------------------ trigonometry


class Sin(_Float):
    ufunc = np.sin

    def grad(self, inputs, outputs, output_grads):
        # d sin(x) = cos(x)
        return [M.mul(output_grads[0], M.cos(inputs[0]))]


class Cos(_Float):
    ufunc = np.cos

    def grad(self, inputs, outputs, output_grads):
        # d cos(x) = -sin(x)
        return [M.neg(M.mul(output_grads[0], M.sin(inputs[0])))]


class Tan(_Float):
    ufunc = np.tan

    def grad(self, inputs, outputs, output_grads):
        # d tan(x) = 1 + tan(x)^2
        return [M.mul(output_grads[0], M.add(1, M.sqr(outputs[0])))]


class ArcSin(_Float):
    ufunc = np.arcsin

    def grad(self, inputs, outputs, output_grads):
        # d arcsin(x) = 1 / sqrt(1 - x^2)
        return [M.true_div(output_grads[0], M.sqrt(M.sub(1, M.sqr(inputs[0]))))]


class ArcCos(_Float):
    ufunc = np.arccos

    def grad(self, inputs, outputs, output_grads):
        # d arccos(x) = -1 / sqrt(1 - x^2)
        return [M.neg(M.true_div(output_grads[0], M.sqrt(M.sub(1, M.sqr(inputs[0])))))]


class ArcTan(_Float):
    ufunc = np.arctan

    def grad(self, inputs, outputs, output_grads):
        # d arctan(x) = 1 / (1 + x^2)
        return [M.true_div(output_grads[0], M.add(1, M.sqr(inputs[0])))]


class ArcTan2(_Float):
    """``arctan2(y, x)``: the angle of the point (x, y), in [-pi, pi]."""

    nin = 2
    ufunc = np.arctan2
    # NumPy's loop choice, float16 widened: (int8, uint16) -> float32, where
    # upgrading the promoted int32 would give float64.
    output_rule = "ufunc"

    def grad(self, inputs, outputs, output_grads):
        # d arctan2(y, x) = (x, -y) / (x^2 + y^2)
        y, x = inputs
        scaled = M.true_div(output_grads[0], M.add(M.sqr(x), M.sqr(y)))
        return [M.mul(scaled, x), M.neg(M.mul(scaled, y))]


# -------------------------------------------------------------- hyperbolic


class Sinh(_Float):
    ufunc = np.sinh

    def grad(self, inputs, outputs, output_grads):
        # d sinh(x) = cosh(x)
        return [M.mul(output_grads[0], M.cosh(inputs[0]))]


class Cosh(_Float):
    ufunc = np.cosh

    def grad(self, inputs, outputs, output_grads):
        # d cosh(x) = sinh(x)
        return [M.mul(output_grads[0], M.sinh(inputs[0]))]


class Tanh(_Float):
    ufunc = np.tanh

    def grad(self, inputs, outputs, output_grads):
        # d tanh(x) = 1 - tanh(x)^2
        return [M.mul(output_grads[0], M.sub(1, M.sqr(outputs[0])))]


class ArcSinh(_Float):
    ufunc = np.arcsinh

    def grad(self, inputs, outputs, output_grads):
        # d arcsinh(x) = 1 / sqrt(x^2 + 1)
        return [M.true_div(output_grads[0], M.sqrt(M.add(M.sqr(inputs[0]), 1)))]


class ArcCosh(_Float):
    ufunc = np.arccosh

    def grad(self, inputs, outputs, output_grads):
        # d arccosh(x) = 1 / sqrt((x - 1)(x + 1))
        x = inputs[0]
        return [M.true_div(output_grads[0], M.sqrt(M.mul(M.sub(x, 1), M.add(x, 1))))]


class ArcTanh(_Float):
    ufunc = np.arctanh

    def grad(self, inputs, outputs, output_grads):
        # d arctanh(x) = 1 / (1 - x^2)
        return [M.true_div(output_grads[0], M.sub(1, M.sqr(inputs[0])))]


# ------------------------------------------------- sigmoid, softplus, erf


class Sigmoid(_Float):
    """``1 / (1 + exp(-x))``, without overflow: ``sigmoid(-800) == 0``."""

    def impl(self, x):
        e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def grad(self, inputs, outputs, output_grads):
        # d sigmoid(x) = sigmoid(x) (1 - sigmoid(x))
        s = outputs[0]
        return [M.mul(output_grads[0], s, M.sub(1, s))]


class Softplus(_Float):
    """``log(1 + exp(x))`` as ``log1p(exp(-|x|)) + max(x, 0)``: finite for any x."""

    def impl(self, x):
        return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)

    def grad(self, inputs, outputs, output_grads):
        # d softplus(x) = sigmoid(x)
        return [M.mul(output_grads[0], M.sigmoid(inputs[0]))]


def _special(name: str):
    """``scipy.special.<name>``, or ``math.<name>`` elementwise without scipy."""
    try:
        from scipy import special
    except ImportError:
        fallback = getattr(math, name)

        def elementwise(x):
            return np.vectorize(fallback, otypes=[x.dtype])(x)

        return elementwise
    return getattr(special, name)


class _ErrorFunction(_Float):
    _fn = None

    def impl(self, x):
        if type(self)._fn is None:  # scipy is imported on first use only
            type(self)._fn = staticmethod(_special(self.name))
        return self._fn(x)


class Erf(_ErrorFunction):
    """The error function, ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``."""

    def grad(self, inputs, outputs, output_grads):
        # d erf(x) = 2/sqrt(pi) exp(-x^2)
        x = inputs[0]
        return [M.mul(output_grads[0], _TWO_OVER_SQRT_PI, M.exp(M.neg(M.sqr(x))))]


class Erfc(_ErrorFunction):
    """``1 - erf(x)``, accurate where erf(x) is near 1."""

    def grad(self, inputs, outputs, output_grads):
        # d erfc(x) = -2/sqrt(pi) exp(-x^2)
        x = inputs[0]
        return [M.mul(output_grads[0], -_TWO_OVER_SQRT_PI, M.exp(M.neg(M.sqr(x))))]


exp, exp2, expm1 = Exp(), Exp2(), Expm1()
log, log2, log10, log1p = Log(), Log2(), Log10(), Log1p()
sin, cos, tan = Sin(), Cos(), Tan()
arcsin, arccos, arctan, arctan2 = ArcSin(), ArcCos(), ArcTan(), ArcTan2()
sinh, cosh, tanh = Sinh(), Cosh(), Tanh()
arcsinh, arccosh, arctanh = ArcSinh(), ArcCosh(), ArcTanh()
sigmoid, softplus, erf, erfc = Sigmoid(), Softplus(), Erf(), Erfc()

# Gradients build tensor graphs with the Elemwise functions (imported last:
# symgraph.ops.math lifts these scalar ops).
from symgraph.ops import math as M  # noqa: E402
