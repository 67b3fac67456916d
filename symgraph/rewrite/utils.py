"""Small helpers the rewrites share: constants, op tests, fitting replacements."""

from __future__ import annotations

import numpy as np

from symgraph.graph import Constant, TensorType, Variable
from symgraph.ops.elemwise import DimShuffle, Elemwise


def scalar_op(var_or_node):
    """The ScalarOp of an Elemwise node (or of a variable's owner), else None."""
    node = var_or_node.owner if isinstance(var_or_node, Variable) else var_or_node
    if node is not None and isinstance(node.op, Elemwise):
        return node.op.scalar_op
    return None


def is_op(var: Variable, *classes) -> bool:
    """``var`` is computed by an Elemwise of one of the ScalarOp ``classes``."""
    op = scalar_op(var)
    return op is not None and isinstance(op, classes)


def constant_value(var: Variable):
    """The ndarray of a constant, looking through DimShuffles; else None."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if isinstance(var, Constant):
        return var.data
    return None


def scalar_constant(var: Variable):
    """The single value of a constant whose elements are all equal, else None."""
    data = constant_value(var)
    if data is None or data.size == 0:
        return None
    first = data.flat[0]
    if data.size > 1 and not np.all(data == first):
        return None
    return first.item()


def const(value, dtype: str, ndim: int = 0) -> Constant:
    """A constant of ``dtype`` with ``ndim`` broadcastable (size-1) axes."""
    data = np.asarray(value, dtype=dtype).reshape((1,) * ndim)
    return Constant(TensorType(dtype, data.shape), data)


def covers(var: Variable, out: Variable) -> bool:
    """``var`` alone has ``out``'s shape: it broadcasts wherever ``out`` does not.

    (Broadcasting is static: an axis of ``var`` that is not statically 1 has
    the output's size at run time.)
    """
    return var.ndim == out.ndim and all(
        s != 1 or o == 1 for s, o in zip(var.type.shape, out.type.shape, strict=False)
    )


def fit(fgraph, new, old: Variable):
    """``new`` made to stand for ``old``: its dtype, ndim and broadcast shape.

    Casts, pads the rank with broadcastable axes and, where ``new`` broadcasts
    but ``old`` does not, allocates to ``old``'s (inferred) shape.
    """
    from symgraph.graph import as_tensor_variable
    from symgraph.ops.creation import alloc
    from symgraph.ops.math import cast

    new = as_tensor_variable(
        new, dtype=old.dtype if not isinstance(new, Variable) else None
    )
    if new.ndim > old.ndim:
        return None
    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    if new.ndim < old.ndim:
        pad = old.ndim - new.ndim
        new = DimShuffle(new.ndim, ("x",) * pad + tuple(range(new.ndim)))(new)
    if not covers(new, old):
        new = alloc(new, *fgraph.shape_of(old))
    return new


def filled(fgraph, value, like: Variable) -> Variable:
    """A tensor of ``like``'s shape and dtype holding ``value`` everywhere."""
    return fit(fgraph, const(value, like.dtype, like.ndim), like)


def elemwise(scalar, *inputs) -> Variable:
    """``Elemwise(scalar)(*inputs)``."""
    return Elemwise(scalar)(*inputs)


def same_dtype(vars_, dtype: str) -> bool:
    return all(v.dtype == dtype for v in vars_)
