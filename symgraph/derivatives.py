"""Products with Jacobians, and full Jacobians and Hessians.

- :func:`Lop` -- ``v^T J``, reverse mode: :func:`~symgraph.gradient.grad`
  seeded with ``known_grads``;
- :func:`Rop` -- ``J v``, forward mode: one walk from the inputs to the
  outputs that uses each op's ``R_op`` where it has one, and otherwise
  derives it from the op's ``L_op`` (the pullback is linear in its
  cotangent ``u``, so differentiating ``<L_op(u), v>`` with respect to ``u``
  gives ``J v``: PyTensor's "pushforward through pullback", node by node);
- :func:`jacobian` -- every row ``e_i^T J`` at once: the vector-Jacobian
  product is built once with a symbolic cotangent ``u``, then vectorised
  over the rows of an identity matrix
  (:func:`~symgraph.ops.batched.vectorize_graph`), so the graph does not
  grow with the number of outputs and there is no loop in Python;
- :func:`hessian` -- the Jacobian of the gradient.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from symgraph.gradient import (
    GradientError,
    _fits,
    _is_float,
    grad,
    is_disconnected,
    is_null,
    zeros_like_grad,
)
from symgraph.graph import (
    Variable,
    ancestors,
    as_tensor_variable,
    clone_replace,
    io_toposort,
    user_location,
)

__all__ = ["Lop", "Rop", "jacobian", "hessian"]


def _as_list(x, what: str) -> tuple[list, bool]:
    single = isinstance(x, Variable)
    items = [x] if single else list(x)
    for i, v in enumerate(items):
        if not isinstance(v, Variable):
            raise TypeError(f"{what}[{i}] must be a symbolic Variable, got {v!r}")
    return items, single


def _points(points, like: list[Variable], func: str, what: str) -> list[Variable]:
    """Evaluation points, one per variable of ``like``, with its ndim and dtype."""
    from symgraph.ops.math import cast

    single = isinstance(points, Variable) or not isinstance(points, (list, tuple))
    points = [points] if single else list(points)
    if len(points) != len(like):
        raise ValueError(
            f"{func}: got {len(points)} eval_points for {len(like)} {what} variables"
        )
    result = []
    for i, (p, v) in enumerate(zip(points, like, strict=True)):
        p = as_tensor_variable(p)
        if not _fits(p, v):
            raise ValueError(
                f"{func}: eval_points[{i}] {p.describe()} is a {p.type.describe()}, "
                f"but {what} {v.describe()} is a {v.type.describe()}; they must have "
                "the same shape, static size-1 dimensions included (v = x.type())"
            )
        result.append(cast(p, v.dtype) if _is_float(v) and p.dtype != v.dtype else p)
    return result


def Lop(
    f,
    wrt,
    eval_points,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
):
    """The vector-Jacobian product ``eval_points^T . d f / d wrt``.

    ``f`` and ``eval_points`` are a variable or matching lists (one point per
    output, of its shape); the result matches ``wrt`` (a variable or a list).

    Example
    -------
    >>> import numpy as np, symgraph as sg, symgraph.tensor as T
    >>> x, v = T.vector("x"), T.vector("v")
    >>> vj = sg.Lop(x ** 2, x, v)            # v * 2x
    >>> vj.eval({x: [1.0, 2.0], v: [1.0, 10.0]})
    array([ 2., 40.])
    """
    outputs, _ = _as_list(f, "Lop: f")
    points = _points(eval_points, outputs, "Lop", "f")
    return grad(
        None,
        wrt,
        consider_constant=consider_constant,
        disconnected_inputs=disconnected_inputs,
        known_grads=dict(zip(outputs, points, strict=True)),
    )


def Rop(
    f,
    wrt,
    eval_points,
    disconnected_outputs: str = "raise",
    return_disconnected: str = "zero",
):
    """The Jacobian-vector product ``d f / d wrt . eval_points``.

    ``wrt`` and ``eval_points`` are a variable or matching lists (one point
    per input, of its shape); the result matches ``f``. An output that does
    not depend on ``wrt`` raises, or with ``disconnected_outputs="ignore"``
    gets zeros (``return_disconnected="zero"``) or ``None`` (``"none"``).

    Example
    -------
    >>> import numpy as np, symgraph as sg, symgraph.tensor as T
    >>> x, v = T.vector("x"), T.vector("v")
    >>> jv = sg.Rop(x ** 2, x, v)            # 2x * v
    >>> jv.eval({x: [1.0, 2.0], v: [1.0, 10.0]})
    array([ 2., 40.])
    """
    outputs, single = _as_list(f, "Rop: f")
    inputs, _ = _as_list(wrt, "Rop: wrt")
    if disconnected_outputs not in ("raise", "warn", "ignore"):
        raise ValueError(
            "Rop: disconnected_outputs must be one of raise, warn, ignore, not "
            f"{disconnected_outputs!r}"
        )
    for i, x in enumerate(inputs):
        if not _is_float(x):
            raise TypeError(
                f"Rop: wrt[{i}] {x.describe()} is a {x.type.describe()}; only float "
                "variables have tangents"
            )
    tangents: dict[Variable, Variable] = dict(
        zip(inputs, _points(eval_points, inputs, "Rop", "wrt"), strict=True)
    )
    for node in io_toposort(inputs, outputs):
        points = [tangents.get(x) for x in node.inputs]
        if all(p is None for p in points):
            continue
        results = node.op.R_op(list(node.inputs), points)
        if results is None:
            results = _rop_from_lop(node, points)
        for pos, (out, t) in enumerate(zip(node.outputs, results, strict=True)):
            if t is None or is_disconnected(t) or not _is_float(out):
                continue
            if is_null(t):
                raise GradientError(f"Rop: {t.type.why}")
            t = as_tensor_variable(t)
            if not _fits(t, out):
                raise GradientError(
                    f"{node.op}: its R_op gave {t.type} for output {pos}, which is "
                    f"of type {out.type}"
                )
            tangents[out] = t if t.dtype == out.dtype else _cast(t, out.dtype)
    results = []
    for out in outputs:
        if out in tangents:
            results.append(tangents[out])
            continue
        message = (
            f"Rop: {out.describe()} does not depend on "
            f"{', '.join(v.describe() for v in inputs)}; pass "
            f"disconnected_outputs='ignore' to get zeros "
            f"[sg.Rop called at {user_location()}]"
        )
        if disconnected_outputs == "raise":
            raise ValueError(message)
        if disconnected_outputs == "warn":
            warnings.warn(message, stacklevel=2)
        results.append(zeros_like_grad(out) if return_disconnected == "zero" else None)
    return results[0] if single else results


def _cast(x, dtype):
    from symgraph.ops.math import cast

    return cast(x, dtype)


def _rop_from_lop(node, points) -> list:
    """``J v`` for one node from its L_op: d<L_op(u), v>/du, with u a dummy.

    The pullback is linear in ``u``, so the result does not depend on its
    value; where it still refers to ``u`` (through shapes) ``u`` is replaced
    by the node's output, which has the same type.
    """
    from symgraph.ops.math import add, mul
    from symgraph.ops.reduce import sum as sum_

    dummies = {out: out.type() for out in node.outputs if _is_float(out)}
    cotangents = [
        dummies[out] if out in dummies else zeros_like_grad(out) for out in node.outputs
    ]
    pullback = node.op.L_op(list(node.inputs), list(node.outputs), cotangents)
    terms = []
    for x, g, v in zip(node.inputs, pullback, points, strict=True):
        if v is None or not _is_float(x) or is_disconnected(g):
            continue
        if is_null(g):
            raise GradientError(f"Rop: {g.type.why}")
        terms.append(sum_(mul(g, v)))
    if not terms:
        return [None] * len(node.outputs)
    inner = terms[0] if len(terms) == 1 else add(*terms)
    outs, us = list(dummies), list(dummies.values())
    tangents = grad(inner, us, disconnected_inputs="ignore", return_disconnected="none")
    found = [(out, t) for out, t in zip(outs, tangents, strict=True) if t is not None]
    values = [t for _, t in found]
    if set(ancestors(values)) & set(us):
        values = clone_replace(values, {u: out for out, u in dummies.items()})
    by_output = {out: t for (out, _), t in zip(found, values, strict=True)}
    return [by_output.get(out) for out in node.outputs]


def jacobian(
    expression: Variable,
    wrt,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
):
    """The Jacobian of ``expression`` with respect to ``wrt``.

    The result for an input ``x`` has shape ``expression.shape + x.shape``
    (a gradient when ``expression`` is a scalar); a list of them when
    ``wrt`` is a list. All rows come from one vectorised vector-Jacobian
    product (see the module docstring), not from a loop over the outputs.

    Example
    -------
    >>> import numpy as np, symgraph as sg, symgraph.tensor as T
    >>> x = T.vector("x")
    >>> J = sg.jacobian(x ** 2, x)
    >>> J.eval({x: [1.0, 2.0]})
    array([[2., 0.],
           [0., 4.]])
    """
    from symgraph.ops.batched import vectorize_graph

    if not isinstance(expression, Variable):
        raise TypeError(
            f"jacobian: expression must be a symbolic Variable, got {expression!r}"
        )
    inputs, single = _as_list(wrt, "jacobian: wrt")
    options = {
        "consider_constant": consider_constant,
        "disconnected_inputs": disconnected_inputs,
    }
    if expression.ndim == 0:
        return grad(expression, wrt, **options)
    flat = expression if expression.ndim == 1 else _reshape(expression, [-1])
    u = flat.type()  # one cotangent; rows of the identity once vectorised
    vjps = grad(None, inputs, known_grads={flat: u}, **options)
    rows = vectorize_graph(vjps, {u: _eye_like(flat)})
    results = [
        J if expression.ndim == 1 else _reshape(J, [*_shape(expression), *_shape(x)])
        for J, x in zip(rows, inputs, strict=True)
    ]
    return results[0] if single else results


def hessian(
    cost: Variable,
    wrt,
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
):
    """The Hessian of the scalar ``cost``: ``jacobian(grad(cost, x), x)``.

    The result for ``x`` has shape ``x.shape + x.shape``; a list of them when
    ``wrt`` is a list (blocks of the diagonal, as Theano).

    Example
    -------
    >>> import numpy as np, symgraph as sg, symgraph.tensor as T
    >>> x = T.vector("x")
    >>> H = sg.hessian((x ** 3).sum(), x)
    >>> H.eval({x: [1.0, 2.0]})
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    inputs, single = _as_list(wrt, "hessian: wrt")
    results = []
    for x in inputs:
        g = grad(
            cost,
            x,
            consider_constant=consider_constant,
            disconnected_inputs=disconnected_inputs,
        )
        # a gradient that no longer depends on x (a linear cost) has a zero Hessian
        results.append(jacobian(g, x, consider_constant, disconnected_inputs="ignore"))
    return results[0] if single else results


def _shape(x):
    from symgraph.ops.shape import shape_tuple

    return list(shape_tuple(x))


def _reshape(x, shape):
    from symgraph.ops.shape import reshape

    return reshape(x, shape)


def _eye_like(v: Variable) -> Variable:
    """The identity matrix of ``v``'s length and dtype (the one-hot cotangents)."""
    from symgraph.ops.creation import eye
    from symgraph.ops.shape import shape_i

    n = shape_i(v, 0)
    return eye(n, n, dtype=v.dtype)
