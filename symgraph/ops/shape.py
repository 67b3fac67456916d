"""Shape ops: symbolic shapes, allocation, reshaping and axis juggling."""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, Constant, TensorType, Variable, as_tensor_variable
from symgraph.op import Op

__all__ = ["shape", "shape_i", "alloc", "alloc_like", "as_index_scalar", "static_value"]


def as_index_scalar(value, what: str = "size") -> Variable:
    """A Python int or integer 0-d tensor as an int64 scalar variable."""
    from symgraph.ops.math import cast

    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return Constant(TensorType("int64", ()), int(value))
    var = as_tensor_variable(value)
    if var.ndim != 0 or var.dtype.startswith("float") or var.dtype == "bool":
        raise TypeError(f"{what} must be an integer scalar, got {var.describe()} ({var.type.describe()})")
    return cast(var, "int64")


def static_value(var: Variable):
    """The Python int of a constant scalar, else None."""
    if isinstance(var, Constant) and var.ndim == 0:
        return int(var.data)
    return None


class Shape(Op):
    """``x.shape`` as an int64 vector."""

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,))()])

    def perform(self, node, inputs, output_storage) -> None:
        output_storage[0][0] = np.asarray(inputs[0].shape, dtype="int64")

    def grad(self, inputs, output_grads):
        from symgraph.gradient import disconnected_type

        return [disconnected_type()]

    def connection_pattern(self, node):
        return [[False]]

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.inputs[0].ndim,)]


class Shape_i(Op):
    """``x.shape[i]`` as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = int(i)

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"{self}: axis {self.i} out of range for {x.describe()} (ndim {x.ndim})")
        return Apply(self, [x], [TensorType("int64", ())()])

    def perform(self, node, inputs, output_storage) -> None:
        output_storage[0][0] = np.asarray(inputs[0].shape[self.i], dtype="int64")

    def grad(self, inputs, output_grads):
        from symgraph.gradient import disconnected_type

        return [disconnected_type()]

    def connection_pattern(self, node):
        return [[False]]

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]


_shape = Shape()


def shape(x) -> Variable:
    """The symbolic shape of ``x``: an int64 vector."""
    return _shape(x)


def shape_i(x, i: int):
    """``x.shape[i]``: a constant where the static size is known."""
    x = as_tensor_variable(x)
    size = x.type.shape[i]
    if size is not None:
        return Constant(TensorType("int64", ()), size)
    return Shape_i(i)(x)


def shape_tuple(x) -> tuple:
    """``(x.shape[0], x.shape[1], ...)`` as scalars (constants where static)."""
    return tuple(shape_i(x, i) for i in range(x.ndim))


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
        offset = len(dims) - value.ndim
        for axis, size in enumerate(value.type.shape):
            want = static[offset + axis]
            if size not in (None, 1) and want is not None and size != want:
                raise ValueError(f"alloc: cannot broadcast {value.describe()} of shape {value.type.shape} to {static}")
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
        axes = tuple(i for i, s in enumerate(value.type.shape) if s == 1 and g.type.shape[i] != 1)
        if axes:
            g = sum_(g, axis=axes, keepdims=True)
        return [g] + [disconnected_type() for _ in dims]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1:])]


alloc_op = Alloc()


def alloc(value, *shape) -> Variable:
    """A new tensor of ``shape`` filled with ``value`` (broadcast)."""
    return alloc_op(value, *shape)


def alloc_like(value, like, dtype=None) -> Variable:
    """``value`` broadcast to the shape of ``like`` (dtype of ``like`` unless given)."""
    from symgraph.ops.math import cast

    like = as_tensor_variable(like)
    dtype = dtype or like.dtype
    value = cast(as_tensor_variable(value, dtype=dtype) if not isinstance(value, Variable) else value, dtype)
    return alloc_op(value, *shape_tuple(like))
