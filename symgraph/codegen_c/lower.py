"""Lowering rules: ``c_lower(op, node, ctx)``, registered per op class.

A rule reads its inputs through ``ctx.var(v)`` (a :class:`CVar`: the C names
of the data pointer, shape and strides, or of a scalar value), declares its
outputs (``ctx.new_array``, ``ctx.new_view``, ``ctx.new_scalar``) and emits
C statements with ``ctx.emit`` / ``ctx.block``. Rules live next to each other
by op family (``lower_elemwise``, ``lower_reduce``, ``lower_shape``...) and
are named ``c_<OpName>``.

An op without a rule (``c_lower`` raises ``NotImplementedError``), or whose
``c_supported`` predicate refuses a node, runs through its Python
``perform`` between native segments.
"""

from __future__ import annotations

import functools

from .scalar_table import CTYPES


@functools.singledispatch
def c_lower(op, node, ctx) -> None:
    """Emit the C code of ``node`` into ``ctx``; one rule per op class."""
    raise NotImplementedError(f"no C lowering for {op}")


_DEFAULT = c_lower.dispatch(object)
_SUPPORTED: dict[type, object] = {}
#: ``{op class: accepts(node, position, var)}``: rules that read an input
#: element by element (``ctx.element``), so an elementwise producer of that
#: input can be computed inside their loop.
INLINE_CONSUMERS: dict[type, object] = {}
#: Op classes whose (single) output is a view of input 0, never a copy.
VIEW_OPS: set[type] = set()


def c_supported(op_class):
    """Register ``predicate(node) -> bool``: may this node be lowered?"""

    def register(predicate):
        _SUPPORTED[op_class] = predicate
        return predicate

    return register


def has_c_rule(op_class: type) -> bool:
    """True when a lowering rule is registered for ``op_class`` (or a base)."""
    return c_lower.dispatch(op_class) is not _DEFAULT


def can_lower(node) -> bool:
    """True when ``node`` runs in generated C (else through ``perform``)."""
    cls = type(node.op)
    if not has_c_rule(cls):
        return False
    for klass in cls.__mro__:
        if klass in _SUPPORTED:
            return bool(_SUPPORTED[klass](node))
    return True


class CVar:
    """How generated code refers to one variable.

    kind: ``"array"`` (``name`` is a typed data pointer, with locals
    ``name_shape{d}`` and element strides ``name_stride{d}``), ``"scalar"``
    (a 0-d value: ``name`` is a C local or a literal) or ``"inline"`` (an
    elementwise value computed inside the consumer's loop).
    """

    __slots__ = (
        "var",
        "name",
        "kind",
        "contiguous",
        "literal",
        "root",
        "dims",
        "strides",
        "value",
    )

    def __init__(
        self, var, name, kind, contiguous=False, literal=False, root=None, dims=None
    ):
        self.var = var
        self.name = name
        self.kind = kind
        #: statically known to be C-contiguous (buffers this code allocated)
        self.contiguous = contiguous
        #: ``name`` is a C literal (constants), not a local
        self.literal = literal
        #: the variable whose storage this one uses (views); itself otherwise
        self.root = root if root is not None else var
        #: C expressions of the sizes (literals where static)
        self.dims = dims if dims is not None else []
        #: literal element strides, where known when generating (constants)
        self.strides = None
        #: for an array of one element (all sizes statically 1): its value as
        #: a C expression, which element reads use instead of a load
        self.value = None

    @property
    def dtype(self) -> str:
        return self.var.dtype

    @property
    def ndim(self) -> int:
        return self.var.ndim

    @property
    def ctype(self) -> str:
        return CTYPES[self.var.dtype]

    @property
    def static_shape(self):
        return self.var.type.shape

    def shape(self, d: int) -> str:
        return self.dims[d]

    def stride(self, d: int) -> str:
        """Element stride of axis ``d`` (``"1"`` where statically known)."""
        if self.kind == "scalar":
            return "0"
        if self.strides is not None:
            return self.strides[d]
        if self.contiguous and d == self.ndim - 1:
            return "1"
        return f"{self.name}_stride{d}"

    def size(self) -> str:
        """The element count as a C expression."""
        return product(self.dims)

    def __repr__(self) -> str:
        return f"CVar({self.name}, {self.kind})"


def product(terms) -> str:
    terms = [t for t in terms if t != "1"]
    return " * ".join(terms) if terms else "1"


# Rule modules register themselves on import.
from . import (  # noqa: E402, F401
    lower_advanced,
    lower_batched,
    lower_elemwise,
    lower_index,
    lower_join,
    lower_linalg,
    lower_nnet,
    lower_reduce,
    lower_shape,
)
