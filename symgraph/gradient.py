"""Reverse-mode differentiation: ``grad`` and the markers gradient rules return.

``grad`` is one reverse-topological walk over the nodes between the cost and
the variables asked for: each node's op maps the summed gradients of its
outputs to gradients of its inputs (``op.L_op``). Rules return explicit
markers, never a bare ``None``: :func:`disconnected_type` (the output does
not depend on this input), :func:`grad_undefined` (no gradient exists),
:func:`grad_not_implemented` (no rule computes it).

Marker convention, checked over every Op and ScalarOp class of the package
by ``tests/test_gradient.py``: an Op class defines ``grad`` or ``L_op``
itself (a non-differentiable op returns zeros -- piecewise-constant maths
such as argmax -- or the markers above, per input); a ScalarOp defines
``grad`` or sets ``discrete = True`` (integer-valued: zero gradient).

Semantics, as Theano's: integer-valued variables carry no gradient (a path
through them gives zero but counts as connected); ``consider_constant``
variables stop the walk; a ``wrt`` is *disconnected* when no path of
connected edges (``op.connection_pattern``) leads from it to the cost; a
null marker that reaches a ``wrt`` raises; gradients have the dtype of the
variable they belong to.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from symgraph.config import config
from symgraph.grad_markers import (
    DisconnectedInputError,
    DisconnectedType,
    GradientError,
    NullType,
    disconnected_type,
    grad_not_implemented,
    grad_undefined,
    is_disconnected,
    is_null,
)
from symgraph.graph import (
    TensorType,
    Variable,
    as_tensor_variable,
    io_toposort,
    user_location,
)

__all__ = [
    "grad",
    "disconnected_type",
    "grad_undefined",
    "grad_not_implemented",
    "unbroadcast",
    "zeros_like_grad",
    "DisconnectedType",
    "NullType",
    "GradientError",
    "DisconnectedInputError",
]


def zeros_like_grad(x: Variable) -> Variable:
    """A zero gradient for ``x`` (float of ``x``'s dtype, floatX for integers)."""
    from symgraph.ops.math import zeros_like

    return zeros_like(x, dtype=x.dtype if x.type.is_float else config.floatX)


def unbroadcast(g: Variable, like: Variable) -> Variable:
    """Sum ``g`` over the axes that ``like`` broadcast along, to ``like``'s shape.

    Every broadcasting op's gradient goes through here (autograd's
    ``unbroadcast``), and the result takes ``like``'s float dtype.
    """
    from symgraph.ops.math import cast
    from symgraph.ops.reduce import sum as sum_

    lead = g.ndim - like.ndim
    if lead > 0:
        g = sum_(g, axis=tuple(range(lead)))
    # strict=False: a faulty rule may give g fewer dims than like; the caller's
    # shape check (_checked) reports that with a clearer message
    axes = tuple(
        i
        for i, (want, got) in enumerate(
            zip(like.type.shape, g.type.shape, strict=False)
        )
        if want == 1 and got != 1
    )
    if axes:
        g = sum_(g, axis=axes, keepdims=True)
    if like.type.is_float and g.dtype != like.dtype:
        g = cast(g, like.dtype)
    return g


_CHOICES = {
    "disconnected_inputs": ("raise", "warn", "ignore"),
    "return_disconnected": ("zero", "none", "disconnected"),
    "null_gradients": ("raise", "return"),
}


def grad(
    cost: Variable | None,
    wrt: Variable | Sequence[Variable],
    consider_constant: Sequence[Variable] | None = None,
    disconnected_inputs: str = "raise",
    known_grads: dict | None = None,
    return_disconnected: str = "zero",
    null_gradients: str = "raise",
):
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost : scalar float Variable, or None when ``known_grads`` seeds the walk
    wrt : a Variable or a list of them (shared variables included)
    consider_constant : variables treated as constants (no gradient through)
    disconnected_inputs : "raise", "warn" or "ignore" when ``cost`` does not
        depend on a ``wrt`` variable
    known_grads : ``{variable: gradient}`` to start from (added to ``cost``'s)
    return_disconnected : "zero", "none" or "disconnected": what to return
        for a ``wrt`` the cost does not depend on
    null_gradients : "raise" or "return": an undefined gradient raises, or is
        returned as its marker

    Returns
    -------
    One Variable per ``wrt`` (a list when ``wrt`` is a list), each with the
    type of its ``wrt``.

    Example
    -------
    >>> import symgraph as sg, symgraph.tensor as T
    >>> x = T.scalar("x")
    >>> g = sg.grad(x ** 3, x)
    >>> float(g.eval({x: 2.0}))
    12.0
    """
    call = _call_site()
    _check_choice("disconnected_inputs", disconnected_inputs)
    _check_choice("return_disconnected", return_disconnected)
    _check_choice("null_gradients", null_gradients)
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    seeds = _seeds(cost, known_grads, call)
    for i, v in enumerate(wrt_list):
        _check_wrt(i, v, call)
    constants = set(consider_constant or ())

    grads, reached = _backpropagate(seeds, wrt_list, constants)
    results = []
    for v in wrt_list:
        if v not in reached:
            results.append(
                _disconnected_result(
                    list(seeds), v, call, disconnected_inputs, return_disconnected
                )
            )
            continue
        g = _total(v, grads.get(v))
        if is_null(g) and null_gradients == "raise":
            raise GradientError(
                f"grad: the gradient with respect to {v.describe()} cannot be "
                f"computed: {g.type.why}{call}"
            )
        results.append(g)
    return results[0] if single else results


def _backpropagate(seeds, wrt_list, constants):
    """The reverse walk: ``({variable: [gradient terms]}, connected variables)``.

    Only nodes on a connected path between ``wrt_list`` and the seeds run
    their rule; a variable's terms are summed when its owner's turn comes.
    """
    nodes = io_toposort((), list(seeds))
    depends = _depends_on_wrt(nodes, wrt_list, constants)
    grads: dict[Variable, list[Variable]] = {v: list(gs) for v, gs in seeds.items()}
    reached = set(seeds)  # variables the cost depends on, along connected edges
    for node in reversed(nodes):
        live = [o in reached and o not in constants for o in node.outputs]
        if not any(live):
            continue
        pattern = node.op.connection_pattern(node)
        wanted = [
            k
            for k, x in enumerate(node.inputs)
            if x in depends and any(pattern[k][j] for j, ok in enumerate(live) if ok)
        ]
        reached.update(node.inputs[k] for k in wanted)
        if not any(_is_float(node.inputs[k]) for k in wanted):
            continue  # only integer inputs: they get no gradient
        if not any(o in grads for o, ok in zip(node.outputs, live, strict=True) if ok):
            continue  # reached only through integer values: zero gradient
        output_grads = [
            _total(o, grads.get(o) if ok else None)
            for o, ok in zip(node.outputs, live, strict=True)
        ]
        null = next((g for g in output_grads if is_null(g)), None)
        if null is not None:  # an undefined gradient stays undefined upstream
            input_grads = [null] * len(node.inputs)
        else:
            input_grads = node.op.L_op(
                list(node.inputs), list(node.outputs), output_grads
            )
            if len(input_grads) != len(node.inputs):
                raise GradientError(
                    f"{node.op}: its gradient rule returned {len(input_grads)} "
                    f"gradients for {len(node.inputs)} inputs"
                )
        for k in wanted:
            x, g = node.inputs[k], input_grads[k]
            if not _is_float(x) or is_disconnected(g):
                continue
            grads.setdefault(x, []).append(g if is_null(g) else _checked(node, k, x, g))
    return grads, reached


def _call_site() -> str:
    """The user's line that called ``grad``, for the end of error messages."""
    where = user_location()
    return f" [called from {where}]" if where else ""


def _check_choice(option: str, value) -> None:
    if value not in _CHOICES[option]:
        choices = ", ".join(_CHOICES[option])
        raise ValueError(f"grad: {option} must be one of {choices}, not {value!r}")


def _is_float(v: Variable) -> bool:
    return isinstance(v.type, TensorType) and v.type.is_float


def _check_wrt(i: int, v, call) -> None:
    if not isinstance(v, Variable):
        raise TypeError(
            f"grad: wrt[{i}] must be a symbolic Variable, got {v!r}; pass the "
            f"variables of the graph (e.g. x = T.matrix('x')), not values{call}"
        )
    if not _is_float(v):
        raise TypeError(
            f"grad: cannot differentiate with respect to {v.describe()}: its type "
            f"is {v.type.describe()}; only float variables have gradients "
            f"(cast it, e.g. x.astype('float64'), before it enters the graph){call}"
        )


def _seeds(cost, known_grads, call) -> dict[Variable, list[Variable]]:
    """The walk's starting gradients: ones for ``cost``, plus ``known_grads``."""
    from symgraph.ops.math import cast, ones_like

    seeds: dict[Variable, list[Variable]] = {}
    if cost is not None:
        _check_cost(cost, call)
        seeds[cost] = [ones_like(cost)]
    elif not known_grads:
        raise TypeError(f"grad: give a cost, or known_grads to start from{call}")
    for var, g in (known_grads or {}).items():
        if not isinstance(var, Variable):
            raise TypeError(
                f"grad: known_grads keys must be Variables, got {var!r}{call}"
            )
        g = as_tensor_variable(g)
        if not _fits(g, var):
            raise ValueError(
                f"grad: the known gradient {g.describe()} for {var.describe()} is a "
                f"{g.type.describe()}, but a gradient has its variable's shape, "
                f"{var.type.describe()} (dimensions of static size 1 included: "
                f"make it with var.type()){call}"
            )
        if var.type.is_float and g.dtype != var.dtype:
            g = cast(g, var.dtype)
        seeds.setdefault(var, []).append(g)
    return seeds


def _check_cost(cost, call) -> None:
    if not isinstance(cost, Variable):
        raise TypeError(
            f"grad: the cost must be a symbolic Variable, got {cost!r}{call}"
        )
    if not isinstance(cost.type, TensorType) or cost.ndim != 0:
        raise TypeError(
            f"grad: the cost must be a scalar, but {cost.describe()} is a "
            f"{cost.type.describe()}; reduce it (cost.sum(), cost.mean()), or use "
            f"sg.jacobian or sg.Lop for a non-scalar function{call}"
        )
    if not cost.type.is_float:
        raise TypeError(
            f"grad: the cost {cost.describe()} has integer dtype {cost.dtype}; its "
            f"gradient is zero everywhere. Cast it to float before differentiating"
            f"{call}"
        )


def _depends_on_wrt(nodes, wrt_list, constants) -> set[Variable]:
    """Variables on a connected path from some ``wrt`` (a forward pass)."""
    depends = set(wrt_list)
    for node in nodes:
        if not any(i in depends for i in node.inputs):
            continue
        pattern = node.op.connection_pattern(node)
        for j, out in enumerate(node.outputs):
            if out in constants and out not in depends:
                continue
            if any(i in depends and pattern[k][j] for k, i in enumerate(node.inputs)):
                depends.add(out)
    return depends


def _total(var: Variable, contributions):
    """The gradient of ``var``: the sum of what reached it (zeros if nothing)."""
    if not contributions:
        return zeros_like_grad(var)
    nulls = [g for g in contributions if is_null(g)]
    if nulls:
        return nulls[0]
    if len(contributions) == 1:
        return contributions[0]
    from symgraph.ops.math import add

    return add(*contributions)


def _checked(node, pos: int, x: Variable, g) -> Variable:
    """A rule's result for float input ``x``, checked and cast to its dtype."""
    if not isinstance(g, Variable):
        g = as_tensor_variable(g)
    if not isinstance(g.type, TensorType) or not _fits(g, x):
        raise GradientError(
            f"{node.op}: its gradient rule gave {g.type} for input {pos} "
            f"{x.describe()} of type {x.type}; a gradient must have the input's "
            "shape (see symgraph.gradient.unbroadcast)"
        )
    if g.dtype != x.dtype:
        from symgraph.ops.math import cast

        g = cast(g, x.dtype)
    return g


def _fits(g: Variable, x: Variable) -> bool:
    """Can ``g`` be the gradient of ``x``: same ndim, static sizes that agree,
    and static size 1 wherever ``x`` has it (so broadcasting stays the same)?"""
    return g.ndim == x.ndim and all(
        (a == 1) if b == 1 else (a is None or b is None or a == b)
        for a, b in zip(g.type.shape, x.type.shape, strict=True)
    )


def _disconnected_result(seeds, v, call, disconnected_inputs, return_disconnected):
    sources = " nor ".join(s.describe() for s in seeds)
    message = (
        f"grad: {sources} does not depend on {v.describe()}. If that is "
        f"expected, pass disconnected_inputs='ignore' (or 'warn'){call}"
    )
    if disconnected_inputs == "raise":
        raise DisconnectedInputError(message)
    if disconnected_inputs == "warn":
        warnings.warn(message, stacklevel=3)
    if return_disconnected == "none":
        return None
    if return_disconnected == "disconnected":
        return disconnected_type()
    return zeros_like_grad(v)
