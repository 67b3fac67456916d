"""Reductions over axes: sum (and the rest of the family)."""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, TensorType, Variable, as_tensor_variable, normalize_dtype
from symgraph.op import Op

__all__ = ["sum", "normalize_axes"]


def normalize_axes(axis, ndim: int, what: str) -> tuple[int, ...]:
    """``axis`` (None, int or sequence, negatives allowed) as sorted positives."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{what}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{what}: axis {a} is out of range for a {ndim}-d input")
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{what}: repeated axis in {axis!r}")
    return tuple(sorted(result))


class Reduce(Op):
    """Base of reductions: ``axis`` (sorted tuple) and ``keepdims`` props."""

    __props__ = ("axis", "keepdims")
    name = "reduce"

    def __init__(self, axis: tuple[int, ...], keepdims: bool = False) -> None:
        self.axis = tuple(axis)
        self.keepdims = bool(keepdims)

    def output_dtype(self, dtype: str) -> str:
        return dtype

    def output_shape(self, shape) -> tuple:
        if self.keepdims:
            return tuple(1 if i in self.axis else s for i, s in enumerate(shape))
        return tuple(s for i, s in enumerate(shape) if i not in self.axis)

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        if any(a >= x.ndim for a in self.axis):
            raise ValueError(f"{self}: axis out of range for {x.describe()} (ndim {x.ndim})")
        out = TensorType(self.output_dtype(x.dtype), self.output_shape(x.type.shape))
        return Apply(self, [x], [out()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [self.output_shape(input_shapes[0])]


class Sum(Reduce):
    """Sum over ``axis``; integers and bools accumulate in int64 (uint64), as NumPy."""

    __props__ = ("axis", "keepdims", "acc_dtype")
    name = "sum"

    def __init__(self, axis, keepdims=False, acc_dtype=None) -> None:
        super().__init__(axis, keepdims)
        self.acc_dtype = acc_dtype

    def output_dtype(self, dtype: str) -> str:
        if self.acc_dtype is not None:
            return self.acc_dtype
        if dtype == "bool" or dtype.startswith("int"):
            return "int64" if dtype in ("bool", "int8", "int16", "int32", "int64") else dtype
        if dtype.startswith("uint"):
            return "uint64"
        return dtype

    def perform(self, node, inputs, output_storage) -> None:
        dtype = node.outputs[0].dtype
        output_storage[0][0] = np.asarray(
            np.sum(inputs[0], axis=self.axis, keepdims=self.keepdims, dtype=dtype), dtype=dtype
        )

    def grad(self, inputs, output_grads):
        # d sum(x) / dx = 1, broadcast back over the summed axes
        from symgraph.gradient import zeros_like_grad
        from symgraph.ops.elemwise import DimShuffle
        from symgraph.ops.math import cast
        from symgraph.ops.shape import alloc, shape_tuple

        (x,) = inputs
        (gz,) = output_grads
        if x.dtype not in ("float32", "float64"):
            return [zeros_like_grad(x)]
        gz = cast(gz, x.dtype)
        if not self.keepdims:
            order, j = [], 0
            for i in range(x.ndim):
                if i in self.axis:
                    order.append("x")
                else:
                    order.append(j)
                    j += 1
            gz = DimShuffle(gz.ndim, order)(gz)
        return [alloc(gz, *shape_tuple(x))]

    def R_op(self, inputs, eval_points):
        return [self(eval_points[0])]


def sum(x, axis=None, keepdims=False, dtype=None) -> Variable:  # noqa: A001
    """Sum of ``x`` over ``axis`` (all axes by default), as ``np.sum``.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.sum(T.matrix("m"), axis=1).ndim
    1
    """
    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, "sum")
    acc = normalize_dtype(dtype, "sum dtype") if dtype is not None else None
    return Sum(axes, keepdims, acc)(x)
