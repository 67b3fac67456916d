"""Tensor-level elementwise functions: scalar ops lifted by Elemwise.

These are the ``T.*`` elementwise functions (``T.exp``, ``T.switch``...), and
the building blocks that gradient rules use.
"""

from __future__ import annotations

from symgraph.graph import as_tensor_variable, normalize_dtype
from symgraph.ops import scalar_math as S
from symgraph.ops.elemwise import Elemwise

__all__ = [
    "add",
    "sub",
    "mul",
    "true_div",
    "neg",
    "exp",
    "log",
    "tanh",
    "sqr",
    "sqrt",
    "lt",
    "gt",
    "le",
    "ge",
    "eq",
    "neq",
    "switch",
    "where",
    "cast",
    "tensor_copy",
    "zeros_like",
    "ones_like",
]

_add = Elemwise(S.add)
_mul = Elemwise(S.mul)
sub = Elemwise(S.sub)
true_div = Elemwise(S.true_div)
neg = Elemwise(S.neg)
exp = Elemwise(S.exp)
log = Elemwise(S.log)
tanh = Elemwise(S.tanh)
sqr = Elemwise(S.sqr)
sqrt = Elemwise(S.sqrt)
lt = Elemwise(S.lt)
gt = Elemwise(S.gt)
le = Elemwise(S.le)
ge = Elemwise(S.ge)
eq = Elemwise(S.eq)
neq = Elemwise(S.neq)
switch = Elemwise(S.switch)
where = switch
_identity = Elemwise(S.identity)


def add(*terms):
    """Elementwise sum of two or more tensors (NumPy broadcasting)."""
    if len(terms) < 2:
        raise TypeError(f"add takes at least 2 inputs, got {len(terms)}")
    return _add(*terms)


def mul(*factors):
    """Elementwise product of two or more tensors (NumPy broadcasting)."""
    if len(factors) < 2:
        raise TypeError(f"mul takes at least 2 inputs, got {len(factors)}")
    return _mul(*factors)


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
    from symgraph.ops.shape import alloc_like

    return alloc_like(0, x, dtype=dtype)


def ones_like(x, dtype=None):
    """Ones with the shape of ``x`` (and its dtype unless given)."""
    x = as_tensor_variable(x)
    from symgraph.ops.shape import alloc_like

    return alloc_like(1, x, dtype=dtype)
