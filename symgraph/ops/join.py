"""Tensors built from others: concatenate/join, stack, split, repeat, tile.

``Join`` and ``Split`` are each other's gradient. ``stack`` is a join of
inputs given a new axis, and ``tile`` an ``alloc`` plus a ``reshape``, so
their gradients come for free.

Example
-------
>>> import symgraph.tensor as T
>>> a, b = T.matrix("a"), T.tensor("b", shape=(None, 3))
>>> T.concatenate([a, b], axis=0).type.shape
(None, 3)
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, Constant, TensorType, Variable, as_tensor_variable
from symgraph.op import Op
from symgraph.ops.elemwise import resolve_weak_constants
from symgraph.ops.reduce import normalize_axes
from symgraph.ops.shape import (
    _fmt,
    as_dims,
    as_index_scalar,
    expand_dims,
    flatten,
    floor_div_sizes,
    index_constant,
    shape_tuple,
    static_value,
    vector_entries,
)

__all__ = [
    "concatenate",
    "join",
    "stack",
    "split",
    "repeat",
    "tile",
]


def _common_dtype(tensors: list[Variable], what: str) -> list[Variable]:
    """The tensors cast to their NumPy result dtype (Python numbers adapt)."""
    from symgraph.ops.math import cast
    from symgraph.ops.scalar import promote

    tensors = resolve_weak_constants([as_tensor_variable(t) for t in tensors])
    dtype = promote(*(t.dtype for t in tensors))
    return [cast(t, dtype) for t in tensors]


class Join(Op):
    """Concatenate same-dtype tensors along ``axis``, as ``np.concatenate``."""

    __props__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = int(axis)

    def make_node(self, *tensors) -> Apply:
        if not tensors:
            raise ValueError("join: nothing to join")
        tensors = [as_tensor_variable(t) for t in tensors]
        first = tensors[0]
        for i, t in enumerate(tensors):
            if t.ndim != first.ndim or t.dtype != first.dtype:
                raise TypeError(
                    f"join: input {i} {t.describe()} is a {t.type.describe()}, but "
                    f"input 0 {first.describe()} is a {first.type.describe()}; "
                    "all inputs need the same ndim (and dtype: the functions cast "
                    "for you)"
                )
        if not 0 <= self.axis < first.ndim:
            raise ValueError(
                f"join: axis {self.axis} is out of range for {first.ndim}-d inputs"
                + (
                    "; 0-d tensors cannot be joined (use stack)"
                    if first.ndim == 0
                    else ""
                )
            )
        shape = []
        for d in range(first.ndim):
            sizes = [t.type.shape[d] for t in tensors]
            if d == self.axis:
                shape.append(None if None in sizes else sum(sizes))
                continue
            known = [(i, s) for i, s in enumerate(sizes) if s is not None]
            for i, s in known[1:]:
                if s != known[0][1]:
                    j = known[0][0]
                    raise ValueError(
                        _mismatch(self.axis, d, tensors, (j, known[0][1]), (i, s))
                    )
            shape.append(known[0][1] if known else None)
        return Apply(self, tensors, [TensorType(first.dtype, shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        first = inputs[0].shape
        for i, value in enumerate(inputs[1:], start=1):
            for d, (a, b) in enumerate(zip(first, value.shape, strict=True)):
                if d != self.axis and a != b:
                    raise ValueError(
                        _mismatch(self.axis, d, node.inputs, (0, a), (i, b))
                    )
        output_storage[0][0] = np.concatenate(inputs, axis=self.axis)

    def grad(self, inputs, output_grads):
        # the gradient of a concatenation is the split of the gradient
        sizes = [shape_tuple(x)[self.axis] for x in inputs]
        grads = Split(len(inputs), self.axis)(output_grads[0], *sizes)
        return grads if len(inputs) > 1 else [grads]

    def R_op(self, inputs, eval_points):
        if any(p is None for p in eval_points):
            return None
        return [self(*eval_points)]

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.ops.math import add

        out = []
        for d, static in enumerate(node.outputs[0].type.shape):
            if static is not None:
                out.append(index_constant(static))
            elif d == self.axis:
                sizes = [s[d] for s in input_shapes]
                out.append(add(*sizes) if len(sizes) > 1 else sizes[0])
            else:
                out.append(input_shapes[0][d])
        return [tuple(out)]


def _mismatch(axis, d, tensors, first, other) -> str:
    (i, a), (j, b) = first, other
    return (
        f"join along axis {axis}: input {j} {tensors[j].describe()} has size {b} on "
        f"axis {d}, but input {i} {tensors[i].describe()} has size {a}; all sizes "
        f"except those on axis {axis} must match"
    )


def concatenate(tensor_list, axis: int = 0) -> Variable:
    """Join tensors along an existing ``axis``, as ``np.concatenate``.

    Dtypes are promoted as NumPy does (Python numbers adapt). Mismatched
    sizes fail when the graph is built if static, else when the function runs.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> v = T.vector("v")
    >>> T.concatenate([v, [10.0]]).eval({v: np.array([1.0, 2.0])})
    array([ 1.,  2., 10.])
    """
    if isinstance(tensor_list, Variable) or not isinstance(tensor_list, (list, tuple)):
        raise TypeError(
            f"concatenate: expected a list of tensors, got {tensor_list!r}; "
            "write concatenate([a, b], axis)"
        )
    if not tensor_list:
        raise ValueError("concatenate: need at least one tensor")
    tensors = _common_dtype(tensor_list, "concatenate")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError(
            "concatenate: 0-d tensors cannot be concatenated "
            f"({tensors[0].describe()}); use stack"
        )
    for i, t in enumerate(tensors):
        if t.ndim != ndim:
            raise ValueError(
                f"concatenate: input {i} {t.describe()} has ndim {t.ndim}, but "
                f"input 0 {tensors[0].describe()} has ndim {ndim}; all inputs need "
                "the same ndim"
            )
    if isinstance(axis, Variable):
        axis = static_value(axis)
    return Join(normalize_axes(axis, ndim, "concatenate", tensors[0])[0])(*tensors)


def join(axis, *tensors) -> Variable:
    """Theano's ``join(axis, *tensors)``: :func:`concatenate` along ``axis``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return concatenate(list(tensors), axis)


def stack(tensors, *more, axis: int = 0) -> Variable:
    """Join same-shape tensors along a new ``axis``, as ``np.stack``.

    ``stack([a, b], axis)``; Theano's older ``stack(a, b, c)`` works too.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> a, b = T.scalars("a", "b")
    >>> T.stack([a, b, 1.0]).type.shape
    (3,)
    """
    if isinstance(tensors, (list, tuple)):
        if len(more) > 1:
            raise TypeError("stack: write stack([a, b, ...], axis)")
        if more:
            axis = more[0]
    else:
        tensors = (tensors, *more)
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    tensors = _common_dtype(tensors, "stack")
    ndim = tensors[0].ndim
    for i, t in enumerate(tensors):
        if t.ndim != ndim:
            raise ValueError(
                f"stack: input {i} {t.describe()} has ndim {t.ndim}, but input 0 "
                f"{tensors[0].describe()} has ndim {ndim}; stacked tensors need the "
                "same shape"
            )
    axis = normalize_axes(axis, ndim + 1, "stack", tensors[0])[0]
    return Join(axis)(*(expand_dims(t, axis) for t in tensors))


class Split(Op):
    """Cut ``x`` along ``axis`` into ``n_splits`` parts of the given sizes (views)."""

    __props__ = ("n_splits", "axis")

    def __init__(self, n_splits: int, axis: int) -> None:
        self.n_splits = int(n_splits)
        self.axis = int(axis)
        self.view_map = {i: [0] for i in range(self.n_splits)}

    def make_node(self, x, *sizes) -> Apply:
        x = as_tensor_variable(x)
        if len(sizes) != self.n_splits:
            raise TypeError(f"{self}: expected {self.n_splits} sizes, got {len(sizes)}")
        if not 0 <= self.axis < x.ndim:
            raise ValueError(
                f"{self}: axis {self.axis} is out of range for {x.describe()}"
            )
        sizes = [as_index_scalar(s, f"split: size {i}") for i, s in enumerate(sizes)]
        static = [static_value(s) for s in sizes]
        if any(s is not None and s < 0 for s in static):
            raise ValueError(
                f"split: negative size in {_fmt(static)} for {x.describe()}"
            )
        total = x.type.shape[self.axis]
        if total is not None and None not in static and sum(static) != total:
            raise ValueError(_split_message(x, self.axis, total, static))
        outs = []
        for s in static:
            shape = list(x.type.shape)
            shape[self.axis] = s
            outs.append(TensorType(x.dtype, shape)())
        return Apply(self, [x, *sizes], outs)

    def perform(self, node, inputs, output_storage) -> None:
        x, *sizes = inputs
        sizes = [int(s) for s in sizes]
        if any(s < 0 for s in sizes) or sum(sizes) != x.shape[self.axis]:
            raise ValueError(
                _split_message(node.inputs[0], self.axis, x.shape[self.axis], sizes)
            )
        parts = np.split(x, np.cumsum(sizes)[:-1], axis=self.axis)
        # strict=False: with n_splits == 0 (an empty x) np.split still returns
        # one part, which has no output to go to
        for storage, part in zip(output_storage, parts, strict=False):
            storage[0] = part

    def L_op(self, inputs, outputs, output_grads):
        # the gradient of a split is the concatenation of the gradients
        from symgraph.gradient import disconnected_type

        g = Join(self.axis)(*output_grads)
        return [g] + [disconnected_type() for _ in inputs[1:]]

    def connection_pattern(self, node):
        return [[True] * self.n_splits] + [[False] * self.n_splits] * self.n_splits

    def infer_shape(self, fgraph, node, input_shapes):
        result = []
        for size in node.inputs[1:]:
            shape = list(input_shapes[0])
            shape[self.axis] = size
            result.append(tuple(shape))
        return result


def _split_message(x, axis, total, sizes) -> str:
    return (
        f"split: the sizes {list(sizes)} must be >= 0 and add up to {total}, the size "
        f"of axis {axis} of {x.describe()}"
    )


def split(x, splits_size, n_splits: int | None = None, axis: int = 0) -> list[Variable]:
    """Cut ``x`` into parts along ``axis``; returns a list of tensors (views).

    Theano's form: ``split(x, splits_size, n_splits, axis)``, with
    ``splits_size`` the ``n_splits`` part sizes. Without ``n_splits`` it is
    NumPy's ``np.split``: an int cuts ``x`` into that many equal parts (an
    error at run time when they cannot be equal), a list gives the indices
    to cut at.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> v = T.vector("v")
    >>> a, b = T.split(v, [1, 2], 2)
    >>> b.eval({v: np.array([1.0, 2.0, 3.0])})
    array([2., 3.])
    """
    x = as_tensor_variable(x)
    axis = normalize_axes(axis, x.ndim, "split", x)[0]
    if n_splits is not None:
        sizes = as_dims(splits_size, "split", ndim=n_splits)
    else:
        sizes = _numpy_split_sizes(x, splits_size, axis)
    parts = Split(len(sizes), axis)(x, *sizes)
    return parts if isinstance(parts, list) else [parts]


def _numpy_split_sizes(x, sections, axis) -> list[Variable]:
    from symgraph.ops.math import sub

    total = shape_tuple(x)[axis]
    if isinstance(sections, (int, np.integer)) and not isinstance(sections, bool):
        if sections <= 0:
            raise ValueError(
                f"split: the number of sections must be > 0, got {sections}"
            )
        n = static_value(total)
        if n is not None and n % sections:
            raise ValueError(
                f"split: axis {axis} of {x.describe()} has size {n}, which does not "
                f"divide into {sections} equal parts"
            )
        return [floor_div_sizes(total, index_constant(sections))] * int(sections)
    cuts = as_dims(sections, "split")
    bounds = [index_constant(0), *cuts, total]
    sizes = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):  # consecutive pairs
        a, b = static_value(lo), static_value(hi)
        sizes.append(
            index_constant(b - a) if a is not None and b is not None else sub(hi, lo)
        )
    return sizes


class Repeat(Op):
    """``np.repeat(x, repeats, axis)``: each element of ``x`` along ``axis``
    repeated ``repeats`` times (an int64 scalar, or one count per element)."""

    __props__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = int(axis)

    def make_node(self, x, repeats) -> Apply:
        from symgraph.ops.math import cast

        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if repeats.ndim > 1 or not repeats.dtype.startswith(("int", "uint")):
            raise TypeError(
                f"repeat: repeats must be an integer scalar or vector, got "
                f"{repeats.describe()} ({repeats.type.describe()})"
            )
        repeats = cast(repeats, "int64")
        if not 0 <= self.axis < x.ndim:
            raise ValueError(
                f"{self}: axis {self.axis} is out of range for {x.describe()}"
            )
        n = x.type.shape[self.axis]
        counts = repeats.data if isinstance(repeats, Constant) else None
        if counts is not None and np.any(counts < 0):
            raise ValueError(f"repeat: negative repeat count in {counts.tolist()}")
        if (
            repeats.ndim == 1
            and n is not None
            and repeats.type.shape[0] not in (None, n)
        ):
            raise ValueError(
                f"repeat: {repeats.type.shape[0]} repeat counts for axis {self.axis} "
                f"of {x.describe()}, which has size {n}"
            )
        size = None
        if counts is not None and repeats.ndim == 1:
            size = int(counts.sum())
        elif counts is not None and n is not None:
            size = int(counts) * n
        shape = list(x.type.shape)
        shape[self.axis] = size
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        x, repeats = inputs
        try:
            output_storage[0][0] = np.repeat(x, repeats, axis=self.axis)
        except ValueError as exc:
            raise ValueError(
                f"repeat: cannot repeat {node.inputs[0].describe()} of shape {x.shape} "
                f"along axis {self.axis} with repeats {repeats.tolist()}: {exc}"
            ) from None

    def grad(self, inputs, output_grads):
        # each input element gets the sum of the gradients of its copies
        from symgraph.gradient import disconnected_type, grad_not_implemented
        from symgraph.ops.reduce import sum as sum_
        from symgraph.ops.shape import reshape

        x, repeats = inputs
        (gz,) = output_grads
        if repeats.ndim == 0:
            sizes = list(shape_tuple(x))
            sizes.insert(self.axis + 1, repeats)
            g = sum_(reshape(gz, sizes), axis=self.axis + 1)
        else:
            counts = vector_entries(repeats, "repeat")
            if counts is None:
                return [
                    grad_not_implemented(self, 0, x, "repeat counts of unknown length"),
                    disconnected_type(),
                ]
            parts = Split(len(counts), self.axis)(gz, *counts)
            parts = parts if isinstance(parts, list) else [parts]
            g = Join(self.axis)(
                *(sum_(p, axis=self.axis, keepdims=True) for p in parts)
            )
        return [g, disconnected_type()]

    def connection_pattern(self, node):
        return [[True], [False]]

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.ops.math import mul
        from symgraph.ops.reduce import sum as sum_

        x_shape, _ = input_shapes
        repeats = node.inputs[1]
        shape = list(x_shape)
        static = node.outputs[0].type.shape[self.axis]
        if static is not None:
            shape[self.axis] = index_constant(static)
        elif repeats.ndim == 0:
            shape[self.axis] = mul(x_shape[self.axis], repeats)
        else:
            shape[self.axis] = sum_(repeats)
        return [tuple(shape)]


def repeat(x, repeats, axis: int | None = None) -> Variable:
    """Repeat each element of ``x`` along ``axis``, as ``np.repeat``.

    ``repeats`` is an int (or integer scalar) or one count per element;
    ``axis=None`` repeats the flattened ``x``.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> v = T.vector("v")
    >>> T.repeat(v, [1, 2]).eval({v: np.array([5.0, 6.0])})
    array([5., 6., 6.])
    """
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x), 0
    axis = normalize_axes(axis, x.ndim, "repeat", x)[0]
    repeats = as_tensor_variable(repeats)
    if isinstance(repeats, Constant) and repeats.ndim == 1 and repeats.data.size == 1:
        repeats = Constant(
            TensorType(repeats.dtype, ()), repeats.data[0]
        )  # NumPy broadcasts it
    return Repeat(axis)(x, repeats)


def tile(x, reps, ndim: int | None = None) -> Variable:
    """``x`` repeated ``reps[i]`` times along each axis ``i``, as ``np.tile``.

    Built as an ``alloc`` of ``x`` with interleaved new axes, then a reshape.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.tile(T.tensor("v", shape=(2,)), (3, 2)).type.shape
    (3, 4)
    """
    from symgraph.ops.creation import alloc
    from symgraph.ops.shape import mul_sizes, reshape, shape_padleft

    x = as_tensor_variable(x)
    reps = as_dims(reps, "tile")
    out_ndim = max(len(reps), x.ndim, ndim or 0)
    reps = [index_constant(1)] * (out_ndim - len(reps)) + reps
    x = shape_padleft(x, out_ndim - x.ndim) if out_ndim > x.ndim else x
    sizes = shape_tuple(x)
    pattern = [p for axis in range(out_ndim) for p in ("x", axis)]
    interleaved = [s for pair in zip(reps, sizes, strict=True) for s in pair]
    tiled = alloc(x.dimshuffle(pattern), *interleaved)
    return reshape(tiled, [mul_sizes(pair) for pair in zip(reps, sizes, strict=True)])
