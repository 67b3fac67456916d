"""Array creation ops: ``alloc`` and its front ends (zeros, ones, full,
fill...), ``arange`` and ``eye``.

Shapes are given as in :mod:`symgraph.ops.shape` (see :func:`as_dims`): Python
ints, int64 scalar variables or an integer vector.
"""

from __future__ import annotations

import numpy as np

from symgraph.config import config
from symgraph.graph import (
    FLOAT_DTYPES,
    Apply,
    Constant,
    TensorType,
    Variable,
    as_tensor_variable,
    normalize_dtype,
)
from symgraph.op import Op
from symgraph.ops.shape import (
    _fmt,
    as_dims,
    as_index_scalar,
    index_constant,
    shape_i,
    shape_tuple,
    static_value,
)

__all__ = [
    "alloc",
    "alloc_like",
    "zeros",
    "ones",
    "full",
    "full_like",
    "fill",
    "arange",
    "eye",
    "identity_like",
]


# ----------------------------------------------------------------- allocation


class Alloc(Op):
    """``alloc(value, *shape)``: ``value`` broadcast to ``shape`` (a new array)."""

    def make_node(self, value, *shape) -> Apply:
        value = as_tensor_variable(value)
        dims = [as_index_scalar(s, "alloc shape") for s in shape]
        if value.ndim > len(dims):
            raise ValueError(
                f"alloc: the value {value.describe()} has ndim {value.ndim}, more than "
                f"the {len(dims)} dimensions asked for"
            )
        static = tuple(static_value(d) for d in dims)
        if any(s is not None and s < 0 for s in static):
            raise ValueError(f"alloc: negative dimension in shape {_fmt(static)}")
        offset = len(dims) - value.ndim
        for axis, size in enumerate(value.type.shape):
            want = static[offset + axis]
            if size not in (None, 1) and want is not None and size != want:
                raise ValueError(
                    f"alloc: cannot broadcast {value.describe()} of shape "
                    f"{_fmt(value.type.shape)} to {_fmt(static)}"
                )
        return Apply(self, [value, *dims], [TensorType(value.dtype, static)()])

    def perform(self, node, inputs, output_storage) -> None:
        value, *dims = inputs
        shp = tuple(int(d) for d in dims)
        if any(d < 0 for d in shp):
            raise ValueError(f"alloc: negative dimension in shape {shp}")
        out = np.empty(shp, dtype=node.outputs[0].dtype)
        out[...] = value
        output_storage[0][0] = out

    def grad(self, inputs, output_grads):
        # d alloc(v, shape) / dv = sum of the gradient over the broadcast axes
        from symgraph.gradient import disconnected_type
        from symgraph.ops.reduce import sum as sum_

        value, *dims = inputs
        (gz,) = output_grads
        lead = gz.ndim - value.ndim
        g = sum_(gz, axis=tuple(range(lead))) if lead else gz
        axes = tuple(
            i for i, s in enumerate(value.type.shape) if s == 1 and g.type.shape[i] != 1
        )
        if axes:
            g = sum_(g, axis=axes, keepdims=True)
        return [g] + [disconnected_type() for _ in dims]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1:])]


alloc_op = Alloc()


def alloc(value, *shape) -> Variable:
    """A new tensor of ``shape`` filled with ``value`` (broadcast).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.alloc(0.0, 2, 3).type.shape
    (2, 3)
    """
    return alloc_op(value, *shape)


def alloc_like(value, like, dtype=None) -> Variable:
    """``value`` broadcast to the shape of ``like`` (dtype of ``like`` unless given)."""
    from symgraph.ops.math import cast

    like = as_tensor_variable(like)
    dtype = dtype or like.dtype
    value = cast(
        as_tensor_variable(value, dtype=dtype)
        if not isinstance(value, Variable)
        else value,
        dtype,
    )
    return alloc_op(value, *shape_tuple(like))


def full(shape, fill_value, dtype=None) -> Variable:
    """A tensor of ``shape`` filled with ``fill_value``, as ``np.full``.

    The dtype is ``fill_value``'s (Python floats: floatX) unless given.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.full((2, 3), 7).eval()
    array([[7, 7, 7],
           [7, 7, 7]])
    """
    from symgraph.ops.math import cast

    value = as_tensor_variable(fill_value)
    dtype = normalize_dtype(dtype, "full dtype") if dtype is not None else value.dtype
    return alloc_op(cast(value, dtype), *as_dims(shape, "full"))


def zeros(shape, dtype=None) -> Variable:
    """A tensor of zeros (dtype floatX unless given); ``shape`` may be ``x.shape``.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> m = T.matrix("m")
    >>> T.zeros((m.shape[0], 3)).type.shape  # doctest: +SKIP
    (None, 3)
    """
    return full(shape, Constant(TensorType(dtype or config.floatX, ()), 0))


def ones(shape, dtype=None) -> Variable:
    """A tensor of ones (dtype floatX unless given)."""
    return full(shape, Constant(TensorType(dtype or config.floatX, ()), 1))


def full_like(x, fill_value, dtype=None) -> Variable:
    """``fill_value`` broadcast to the shape of ``x`` (``x``'s dtype unless given)."""
    return alloc_like(fill_value, x, dtype=dtype)


def fill(model, value) -> Variable:
    """``value`` broadcast to the shape of ``model`` (Theano's ``T.fill``).

    The dtype is ``value``'s; Python numbers take ``model``'s dtype.
    """
    value = as_tensor_variable(value)
    model = as_tensor_variable(model)
    dtype = model.dtype if isinstance(value, Constant) and value.weak else value.dtype
    return alloc_like(value, model, dtype=dtype)


# ---------------------------------------------------------------- arange, eye


def _scalar_input(value, what: str) -> Variable:
    var = as_tensor_variable(value)
    if var.ndim != 0 or var.dtype == "bool":
        raise TypeError(
            f"{what} must be a numeric scalar, got {var.describe()} "
            f"({var.type.describe()})"
        )
    return var


class ARange(Op):
    """``arange(start, stop, step)`` of ``dtype``: ``start + i * step`` while
    below ``stop``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = normalize_dtype(dtype, "arange dtype")

    def make_node(self, start, stop, step) -> Apply:
        names = ("start", "stop", "step")
        inputs = [
            _scalar_input(v, f"arange: {n}")
            for v, n in zip((start, stop, step), names, strict=True)
        ]
        values = [v.data.item() if isinstance(v, Constant) else None for v in inputs]
        if values[2] == 0:
            raise ValueError("arange: step must not be 0")
        length = None
        if None not in values:
            length = int(max(np.ceil((values[1] - values[0]) / values[2]), 0))
        return Apply(self, inputs, [TensorType(self.dtype, (length,))()])

    def perform(self, node, inputs, output_storage) -> None:
        start, stop, step = (v.item() for v in inputs)
        if step == 0:
            raise ValueError("arange: step is 0 at run time")
        output_storage[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def L_op(self, inputs, outputs, output_grads):
        # out_i = start + i * step: d/dstart = 1, d/dstep = i, d/dstop = 0
        from symgraph.gradient import zeros_like_grad
        from symgraph.ops.math import mul
        from symgraph.ops.reduce import sum as sum_

        (gz,) = output_grads
        if self.dtype not in FLOAT_DTYPES:
            return [zeros_like_grad(v) for v in inputs]
        index = ARange(self.dtype)(0, shape_i(outputs[0], 0), 1)
        return [sum_(gz), zeros_like_grad(inputs[1]), sum_(mul(gz, index))]

    def infer_shape(self, fgraph, node, input_shapes):
        # max(ceil((stop - start) / step), 0), in float64 as NumPy computes it
        from symgraph.ops.math import cast, ceil, maximum, sub, true_div

        static = node.outputs[0].type.shape[0]
        if static is not None:
            return [(index_constant(static),)]
        start, stop, step = (cast(v, "float64") for v in node.inputs)
        return [(maximum(cast(ceil(true_div(sub(stop, start), step)), "int64"), 0),)]


def arange(start, stop=None, step=1, dtype=None) -> Variable:
    """Evenly spaced values in ``[start, stop)``, as ``np.arange``; bounds may be
    symbolic.

    The dtype is int64 for integer bounds, else the bounds' float dtype
    (Python floats: floatX), unless given.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> n = T.lscalar("n")
    >>> T.arange(n).eval({n: 4})
    array([0, 1, 2, 3])
    """
    from symgraph.ops.elemwise import resolve_weak_constants
    from symgraph.ops.scalar import promote

    if stop is None:
        start, stop = 0, start
    inputs = [
        _scalar_input(v, f"arange: {n}")
        for v, n in zip((start, stop, step), ("start", "stop", "step"), strict=True)
    ]
    if dtype is None:
        dtype = promote(*(v.dtype for v in resolve_weak_constants(inputs)))
        dtype = "int64" if dtype.startswith(("int", "uint")) else dtype
    return ARange(dtype)(*inputs)


class Eye(Op):
    """``eye(n, m, k)``: ones on the ``k``-th diagonal of an ``n x m`` matrix."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = normalize_dtype(dtype, "eye dtype")

    def make_node(self, n, m, k) -> Apply:
        n, m, k = (
            as_index_scalar(v, f"eye: {w}")
            for v, w in zip((n, m, k), "nmk", strict=True)
        )
        shp = (static_value(n), static_value(m))
        if any(s is not None and s < 0 for s in shp):
            raise ValueError(f"eye: negative size {_fmt(shp)}")
        return Apply(self, [n, m, k], [TensorType(self.dtype, shp)()])

    def perform(self, node, inputs, output_storage) -> None:
        n, m, k = (int(v) for v in inputs)
        if n < 0 or m < 0:
            raise ValueError(f"eye: negative size ({n}, {m})")
        output_storage[0][0] = np.eye(n, m, k, dtype=self.dtype)

    def grad(self, inputs, output_grads):
        from symgraph.gradient import disconnected_type

        return [disconnected_type() for _ in inputs]

    def connection_pattern(self, node):
        return [[False]] * 3

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[:2])]


def eye(n, m=None, k=0, dtype=None) -> Variable:
    """An ``n x m`` matrix with ones on diagonal ``k`` (dtype floatX unless given).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.eye(2, 3, k=1).eval()
    array([[0., 1., 0.],
           [0., 0., 1.]])
    """
    return Eye(dtype or config.floatX)(n, n if m is None else m, k)


def identity_like(x) -> Variable:
    """An identity matrix of the shape and dtype of the matrix ``x`` (Theano)."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(
            f"identity_like: expected a matrix, got {x.describe()} (ndim {x.ndim})"
        )
    return Eye(x.dtype)(shape_i(x, 0), shape_i(x, 1), 0)
