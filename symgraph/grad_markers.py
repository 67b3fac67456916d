"""The markers gradient rules return instead of a bare ``None``.

Re-exported by :mod:`symgraph.gradient`, where rules import them from:

- :func:`disconnected_type` -- the output does not depend on this input;
- :func:`grad_undefined` -- the gradient does not exist (mathematically);
- :func:`grad_not_implemented` -- it exists but no rule computes it.
"""

from __future__ import annotations

from symgraph.graph import Variable

__all__ = [
    "DisconnectedType",
    "NullType",
    "GradientError",
    "DisconnectedInputError",
    "disconnected_type",
    "grad_undefined",
    "grad_not_implemented",
    "is_disconnected",
    "is_null",
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


class DisconnectedInputError(ValueError):
    """The cost does not depend on a variable the gradient was asked for."""


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
    return g is None or (
        isinstance(g, Variable) and isinstance(g.type, DisconnectedType)
    )


def is_null(g) -> bool:
    return isinstance(g, Variable) and isinstance(g.type, NullType)
