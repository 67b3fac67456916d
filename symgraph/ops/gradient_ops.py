"""Ops that change only the gradient: identity forward, a different backward.

- :func:`zero_grad` / :func:`consider_constant`: the gradient through is zero
  (the input still counts as connected to the cost);
- :func:`disconnected_grad`: no gradient flows and the input is disconnected
  (``sg.grad`` raises unless told to ignore it, as Theano);
- :func:`grad_clip`: the gradient through is clipped to ``[lo, hi]``;
- :func:`grad_scale`: the gradient through is multiplied by ``s``.

Each op's ``perform`` returns its input (a view), so a compiled function
pays nothing for them; the optimizer may remove them once gradients are
taken. Their forward-mode rule (``R_op``) follows the backward one: zero for
zero_grad and disconnected_grad, identity for grad_clip (clipping is
defined on cotangents only), scaled for grad_scale.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, Variable, as_tensor_variable
from symgraph.op import Op

__all__ = [
    "zero_grad",
    "disconnected_grad",
    "consider_constant",
    "grad_clip",
    "grad_scale",
]


class _GradientIdentity(Op):
    """Base: forward is the identity on input 0 (other inputs are parameters)."""

    view_map = {0: [0]}

    def make_node(self, x, *params) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x, *params], [x.type()])

    def perform(self, node, inputs, output_storage) -> None:
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class ZeroGrad(_GradientIdentity):
    """Identity whose gradient is zero."""

    def grad(self, inputs, output_grads):
        # d zero_grad(x) / dx := 0
        from symgraph.gradient import zeros_like_grad

        return [zeros_like_grad(inputs[0])]

    def R_op(self, inputs, eval_points):
        from symgraph.gradient import zeros_like_grad

        return [zeros_like_grad(inputs[0])]


class DisconnectedGrad(_GradientIdentity):
    """Identity that disconnects its input from everything computed from it."""

    def grad(self, inputs, output_grads):
        # no gradient: the output is declared independent of the input
        from symgraph.gradient import disconnected_type

        return [disconnected_type()]

    def connection_pattern(self, node):
        return [[False]]

    def R_op(self, inputs, eval_points):
        from symgraph.gradient import zeros_like_grad

        return [zeros_like_grad(inputs[0])]


class GradClip(_GradientIdentity):
    """Identity whose gradient is clipped elementwise to ``[lower, upper]``."""

    __props__ = ("lower", "upper")

    def __init__(self, lower: float, upper: float) -> None:
        self.lower = float(lower)
        self.upper = float(upper)
        if not self.lower <= self.upper:
            raise ValueError(
                f"grad_clip: the lower bound {lower!r} must not exceed the upper "
                f"bound {upper!r}"
            )

    def grad(self, inputs, output_grads):
        # d grad_clip(x) / dx := 1, with the incoming gradient clipped
        from symgraph.ops.math import gt, lt, switch

        (gz,) = output_grads
        lo, hi = np.asarray(self.lower, gz.dtype), np.asarray(self.upper, gz.dtype)
        return [switch(lt(gz, lo), lo, switch(gt(gz, hi), hi, gz))]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]


class GradScale(_GradientIdentity):
    """Identity whose gradient is multiplied by the scalar input 1."""

    def make_node(self, x, multiplier) -> Apply:
        x = as_tensor_variable(x)
        multiplier = as_tensor_variable(multiplier)
        if multiplier.ndim != 0:
            raise TypeError(
                f"grad_scale: the multiplier must be a scalar, got "
                f"{multiplier.describe()} ({multiplier.type.describe()})"
            )
        return super().make_node(x, multiplier)

    def grad(self, inputs, output_grads):
        # d grad_scale(x, s) / dx := s; s is a parameter, not differentiated
        from symgraph.gradient import disconnected_type
        from symgraph.ops.math import mul

        x, multiplier = inputs
        return [mul(output_grads[0], multiplier), disconnected_type()]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        from symgraph.ops.math import mul

        return [mul(eval_points[0], inputs[1])]


_zero_grad = ZeroGrad()
_disconnected_grad = DisconnectedGrad()
_grad_scale = GradScale()


def zero_grad(x) -> Variable:
    """``x``, with a zero gradient: ``sg.grad`` sees no dependence through it.

    Example
    -------
    >>> import symgraph as sg, symgraph.tensor as T
    >>> x = T.scalar("x")
    >>> float(sg.grad(x * sg.zero_grad(x), x).eval({x: 3.0}))
    3.0
    """
    return _zero_grad(x)


def consider_constant(x) -> Variable:
    """``x``, treated as a constant by ``sg.grad`` (Theano's name for zero_grad)."""
    return _zero_grad(x)


def disconnected_grad(x) -> Variable:
    """``x``, disconnected from the gradient (``sg.grad`` raises if only this path).

    Example
    -------
    >>> import symgraph as sg, symgraph.tensor as T
    >>> x = T.scalar("x")
    >>> float(sg.grad(x * sg.disconnected_grad(x), x).eval({x: 3.0}))
    3.0
    """
    return _disconnected_grad(x)


def grad_clip(x, lower: float, upper: float) -> Variable:
    """``x``, with its gradient clipped elementwise to ``[lower, upper]``.

    Example
    -------
    >>> import symgraph as sg, symgraph.tensor as T
    >>> x = T.scalar("x")
    >>> float(sg.grad(sg.grad_clip(x, -1, 1) * 5, x).eval({x: 0.0}))
    1.0
    """
    return GradClip(lower, upper)(x)


def grad_scale(x, multiplier) -> Variable:
    """``x``, with its gradient multiplied by ``multiplier`` (a number or scalar).

    Example
    -------
    >>> import symgraph as sg, symgraph.tensor as T
    >>> x = T.scalar("x")
    >>> float(sg.grad(sg.grad_scale(x, 0.5) * 4, x).eval({x: 1.0}))
    2.0
    """
    return _grad_scale(x, multiplier)
