"""Reverse-mode differentiation: ``grad`` and the markers gradient rules return.

``grad`` is one reverse-topological walk over the nodes between the cost and
the variables asked for. Each node's op gives the gradients of its inputs
from the summed gradients of its outputs (``op.L_op``). Rules return
explicit markers instead of bare ``None``:

- :func:`disconnected_type` -- the output does not depend on this input;
- :func:`grad_undefined` -- the gradient does not exist (mathematically);
- :func:`grad_not_implemented` -- it exists but no rule computes it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from symgraph.config import config
from symgraph.graph import TensorType, Variable, as_tensor_variable, io_toposort

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
]


class DisconnectedType:
    """Type of the marker: this output does not depend on this input."""

    def __eq__(self, other) -> bool:
        return type(other) is DisconnectedType

    def __hash__(self) -> int:
        return hash(DisconnectedType)

    def __str__(self) -> str:
        return "Disconnected"


class NullType:
    """Type of the marker: no gradient here; ``why`` says what and why."""

    def __init__(self, why: str) -> None:
        self.why = why

    def __eq__(self, other) -> bool:
        return type(other) is NullType and other.why == self.why

    def __hash__(self) -> int:
        return hash((NullType, self.why))

    def __str__(self) -> str:
        return f"NullType({self.why})"


class GradientError(Exception):
    """A requested gradient is undefined, unimplemented, or failed a check."""


def disconnected_type() -> Variable:
    """Marker: the op's output does not depend on this input."""
    return Variable(DisconnectedType())


def grad_undefined(op, x_pos: int, x: Variable, comment: str = "") -> Variable:
    """Marker: the gradient of ``op`` w.r.t. input ``x_pos`` does not exist."""
    why = f"the gradient of {op} with respect to input {x_pos} is undefined"
    return Variable(NullType(why + (f": {comment}" if comment else "")))


def grad_not_implemented(op, x_pos: int, x: Variable, comment: str = "") -> Variable:
    """Marker: ``op`` has no rule for the gradient w.r.t. input ``x_pos``."""
    why = f"{op} has no gradient rule for input {x_pos}"
    return Variable(NullType(why + (f": {comment}" if comment else "")))


def is_disconnected(g) -> bool:
    return g is None or (isinstance(g, Variable) and isinstance(g.type, DisconnectedType))


def is_null(g) -> bool:
    return isinstance(g, Variable) and isinstance(g.type, NullType)


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
    axes = tuple(
        i for i, (want, got) in enumerate(zip(like.type.shape, g.type.shape)) if want == 1 and got != 1
    )
    if axes:
        g = sum_(g, axis=axes, keepdims=True)
    if like.type.is_float and g.dtype != like.dtype:
        g = cast(g, like.dtype)
    return g


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

    Example
    -------
    >>> import symgraph as sg, symgraph.tensor as T
    >>> x = T.scalar("x")
    >>> g = sg.grad(x ** 3, x)
    >>> float(g.eval({x: 2.0}))
    12.0
    """
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    for i, v in enumerate(wrt_list):
        if not isinstance(v, Variable):
            raise TypeError(f"grad: wrt[{i}] must be a symbolic Variable, got {v!r}")
        if not isinstance(v.type, TensorType) or not v.type.is_float:
            raise TypeError(
                f"grad: cannot differentiate with respect to {v.describe()}: it is "
                f"a {v.type.describe()}; only float variables have gradients "
                "(cast it, e.g. x.astype('float64'), before it enters the graph)"
            )
    seeds: dict[Variable, list[Variable]] = {}
    if cost is not None:
        _check_cost(cost)
        from symgraph.ops.math import ones_like

        seeds[cost] = [ones_like(cost)]
    elif not known_grads:
        raise TypeError("grad: give a cost, or known_grads to start from")
    for var, g in (known_grads or {}).items():
        g = as_tensor_variable(g)
        if g.ndim != var.ndim:
            raise ValueError(
                f"grad: known_grads for {var.describe()} has ndim {g.ndim}, expected {var.ndim}"
            )
        seeds.setdefault(var, []).append(g)

    constants = set(consider_constant or ())
    nodes = io_toposort((), list(seeds))
    depends = _depends_on_wrt(nodes, wrt_list, constants)
    grads: dict[Variable, list[Variable]] = {v: list(gs) for v, gs in seeds.items()}

    for node in reversed(nodes):
        if not any(o in grads for o in node.outputs):
            continue
        if not any(i in depends for i in node.inputs):
            continue
        if any(o in constants for o in node.outputs):
            continue
        output_grads = [_total(o, grads.get(o)) for o in node.outputs]
        if any(is_null(g) for g in output_grads):
            null = next(g for g in output_grads if is_null(g))
            input_grads = [null] * len(node.inputs)
        else:
            input_grads = node.op.L_op(list(node.inputs), list(node.outputs), output_grads)
        if len(input_grads) != len(node.inputs):
            raise GradientError(
                f"{node.op}: its gradient rule returned {len(input_grads)} gradients for "
                f"{len(node.inputs)} inputs"
            )
        for pos, (x, g) in enumerate(zip(node.inputs, input_grads)):
            if x not in depends or is_disconnected(g):
                continue
            if not is_null(g):
                g = _checked(node, pos, x, g)
                if g is None:
                    continue
            grads.setdefault(x, []).append(g)

    results = []
    for v in wrt_list:
        if v not in grads or v not in depends:
            results.append(_disconnected_result(cost, v, disconnected_inputs, return_disconnected))
            continue
        g = _total(v, grads[v])
        if is_null(g) and null_gradients == "raise":
            raise GradientError(
                f"grad: the gradient with respect to {v.describe()} cannot be computed: "
                f"{g.type.why}"
            )
        results.append(g)
    return results[0] if single else results


def _check_cost(cost) -> None:
    if not isinstance(cost, Variable):
        raise TypeError(f"grad: the cost must be a symbolic Variable, got {cost!r}")
    if not isinstance(cost.type, TensorType) or cost.ndim != 0:
        raise TypeError(
            f"grad: the cost must be a scalar, but {cost.describe()} is a "
            f"{cost.type.describe()}; reduce it (cost.sum(), cost.mean()) or use "
            "sg.jacobian for a vector function"
        )
    if not cost.type.is_float:
        raise TypeError(
            f"grad: the cost {cost.describe()} has integer dtype {cost.dtype}; its "
            "gradient is zero everywhere. Cast to float before differentiating"
        )


def _depends_on_wrt(nodes, wrt_list, constants) -> set[Variable]:
    """Variables on a differentiable path from some ``wrt`` (forward pass)."""
    depends = set(wrt_list)
    for node in nodes:
        if not any(i in depends for i in node.inputs):
            continue
        pattern = node.op.connection_pattern(node)
        for j, out in enumerate(node.outputs):
            if out in constants and out not in wrt_list:
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


def _checked(node, pos: int, x: Variable, g) -> Variable | None:
    """Validate a rule's result; integer inputs receive no gradient."""
    if not x.type.is_float:
        return None
    if not isinstance(g, Variable):
        g = as_tensor_variable(g)
    if not isinstance(g.type, TensorType) or g.ndim != x.ndim:
        raise GradientError(
            f"{node.op}: its gradient for input {pos} {x.describe()} has type "
            f"{g.type}, expected ndim {x.ndim}"
        )
    if g.dtype != x.dtype:
        from symgraph.ops.math import cast

        g = cast(g, x.dtype)
    return g


def _disconnected_result(cost, v, disconnected_inputs, return_disconnected):
    message = (
        f"grad: the cost {cost.describe() if cost is not None else '(known_grads)'} "
        f"does not depend on {v.describe()}. If that is expected, pass "
        "disconnected_inputs='ignore' (or 'warn')"
    )
    if disconnected_inputs == "raise":
        raise DisconnectedInputError(message)
    if disconnected_inputs == "warn":
        warnings.warn(message, stacklevel=3)
    elif disconnected_inputs != "ignore":
        raise ValueError(f"grad: disconnected_inputs must be raise, warn or ignore, not {disconnected_inputs!r}")
    if return_disconnected == "none":
        return None
    if return_disconnected == "disconnected":
        return disconnected_type()
    return zeros_like_grad(v)


class DisconnectedInputError(ValueError):
    """The cost does not depend on a variable the gradient was asked for."""
