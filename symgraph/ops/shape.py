"""Shape ops: symbolic shapes, reshaping, axis juggling.

Shapes given to these functions may be Python ints, int64 scalar variables
(``x.shape[0]``, ``shape_i(x, 0)``), a tuple mixing both, or an integer
vector (``x.shape``, a constant): see :func:`as_dims`. Ops take one int64
scalar input per dimension, so static sizes are read off constants when the
graph is built.

Array creation (alloc, zeros, arange, eye...) lives in
:mod:`symgraph.ops.creation`; joining and splitting (concatenate, stack,
split, repeat, tile) in :mod:`symgraph.ops.join`.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import (
    Apply,
    Constant,
    TensorType,
    Variable,
    as_tensor_variable,
)
from symgraph.op import Op
from symgraph.ops.elemwise import DimShuffle

__all__ = [
    "shape",
    "shape_i",
    "as_index_scalar",
    "static_value",
    "reshape",
    "flatten",
    "transpose",
    "dimshuffle",
    "swapaxes",
    "squeeze",
    "expand_dims",
    "shape_padleft",
    "shape_padright",
    "shape_padaxis",
]


def index_constant(value: int) -> Constant:
    """An int64 scalar constant."""
    return Constant(TensorType("int64", ()), int(value))


def as_index_scalar(value, what: str = "size") -> Variable:
    """A Python int or integer 0-d tensor as an int64 scalar variable."""
    from symgraph.ops.math import cast

    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return index_constant(value)
    var = as_tensor_variable(value)
    if var.ndim != 0 or not var.dtype.startswith(("int", "uint")):
        raise TypeError(
            f"{what} must be an integer scalar, got {var.describe()} "
            f"({var.type.describe()})"
        )
    if isinstance(var, Constant):
        return index_constant(var.data)
    return cast(var, "int64")


def static_value(var: Variable):
    """The Python int of a constant scalar, else None."""
    if isinstance(var, Constant) and var.ndim == 0:
        return int(var.data)
    return None


def mul_sizes(sizes) -> Variable:
    """The product of int64 scalars (a constant when they all are)."""
    from symgraph.ops.math import mul

    sizes = list(sizes)
    values = [static_value(s) for s in sizes]
    if None not in values:
        return index_constant(np.prod(values, dtype="int64"))
    return sizes[0] if len(sizes) == 1 else mul(*sizes)


def floor_div_sizes(a: Variable, b: Variable) -> Variable:
    """``a // b`` for int64 scalars (a constant when both are)."""
    from symgraph.ops.math import floor_div

    if static_value(a) is not None and static_value(b) is not None:
        return index_constant(static_value(a) // static_value(b))
    return floor_div(a, b)


def vector_entries(vec: Variable, what: str = "shape") -> list[Variable] | None:
    """The entries of an integer vector as int64 scalars; None if its length is unknown.

    Read off the graph where it shows them (constants, ``x.shape``, stacks
    and concatenations of those), so constants stay constants; other
    vectors of known length are indexed (``vec[i]``).
    """
    from symgraph.ops.join import Join

    if isinstance(vec, Constant):
        return [index_constant(v) for v in vec.data.reshape(-1)]
    node = vec.owner
    if node is not None and isinstance(node.op, Shape):
        return list(shape_tuple(node.inputs[0]))
    if (
        node is not None
        and isinstance(node.op, DimShuffle)
        and node.op.new_order == ("x",)
    ):
        return [as_index_scalar(node.inputs[0])]
    if node is not None and isinstance(node.op, Join) and node.op.axis == 0:
        parts = [vector_entries(v, what) for v in node.inputs]
        if all(p is not None for p in parts):
            return [entry for part in parts for entry in part]
    if vec.type.shape[0] is None:
        return None
    return [_vector_item(vec, i, what) for i in range(vec.type.shape[0])]


def as_dims(shape, what: str, ndim: int | None = None) -> list[Variable]:
    """A shape argument as a list of int64 scalars, one per dimension.

    ``shape`` is an int, a sequence of ints and integer scalars, or an
    integer vector: a constant, ``x.shape``, a stack of scalars, or any
    vector whose length is known (statically, or from ``ndim``).
    """
    if isinstance(shape, (list, tuple)):
        dims = [
            as_index_scalar(s, f"{what}: shape entry {i}") for i, s in enumerate(shape)
        ]
    elif isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        dims = [index_constant(shape)]
    else:
        var = as_tensor_variable(shape)
        if not var.dtype.startswith(("int", "uint")) or var.ndim > 1:
            raise TypeError(
                f"{what}: the shape must be a tuple of ints or an integer vector, "
                f"got {var.describe()} ({var.type.describe()})"
            )
        if var.ndim == 0:
            return as_dims((var,), what, ndim)
        dims = vector_entries(var, what)
        if dims is None and ndim is None:
            raise ValueError(
                f"{what}: the length of the shape vector {var.describe()} is not "
                "known when the graph is built; pass ndim= (the number of entries)"
            )
        if dims is None:
            dims = [_vector_item(var, i, what) for i in range(ndim)]
    if ndim is not None and len(dims) != ndim:
        raise ValueError(f"{what}: the shape has {len(dims)} entries but ndim={ndim}")
    return dims


def _vector_item(var: Variable, i: int, what: str) -> Variable:
    try:
        return as_index_scalar(var[i])
    except AttributeError:  # no indexing family loaded
        raise NotImplementedError(
            f"{what}: reading entries of the shape vector {var.describe()} needs "
            "indexing (symgraph.ops.subtensor); pass a tuple of scalars instead"
        ) from None


def _fmt(shape) -> str:
    shape = tuple("?" if s is None else s for s in shape)
    return str(shape).replace("'", "")


# ------------------------------------------------------------ symbolic shapes


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
            raise ValueError(
                f"{self}: axis {self.i} out of range for {x.describe()} (ndim {x.ndim})"
            )
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
        return index_constant(size)
    return Shape_i(i)(x)


def shape_tuple(x) -> tuple:
    """``(x.shape[0], x.shape[1], ...)`` as scalars (constants where static)."""
    return tuple(shape_i(x, i) for i in range(x.ndim))


# ------------------------------------------------------------------ reshaping


class Reshape(Op):
    """``x`` with a new shape of ``ndim`` dimensions, one int64 scalar input each.

    One entry may be the *constant* -1 (the size left over). The output is a
    view of ``x`` where NumPy can make one.
    """

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim: int) -> None:
        self.ndim = int(ndim)

    def __str__(self) -> str:
        return f"Reshape{{{self.ndim}}}"

    __repr__ = __str__

    def make_node(self, x, *shape) -> Apply:
        x = as_tensor_variable(x)
        if len(shape) != self.ndim:
            raise TypeError(f"{self}: expected {self.ndim} sizes, got {len(shape)}")
        dims = [
            as_index_scalar(s, f"reshape: shape entry {i}") for i, s in enumerate(shape)
        ]
        out_shape = _static_reshape(x, [static_value(d) for d in dims])
        return Apply(self, [x, *dims], [TensorType(x.dtype, out_shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        x, *dims = inputs
        shp = tuple(int(d) for d in dims)
        for i, (size, var) in enumerate(zip(shp, node.inputs[1:], strict=True)):
            if size < 0 and not (size == -1 and isinstance(var, Constant)):
                raise ValueError(
                    f"reshape: shape entry {i} is {size} at run time; sizes must be "
                    ">= 0, and -1 ('the rest') is allowed only as a constant, e.g. "
                    "x.reshape((n, -1))"
                )
        try:
            output_storage[0][0] = x.reshape(shp)
        except ValueError:
            raise ValueError(_size_message(node.inputs[0], x.shape, shp)) from None

    def grad(self, inputs, output_grads):
        # reshape is a relabelling: the gradient is reshaped back
        from symgraph.gradient import disconnected_type

        x = inputs[0]
        g = Reshape(x.ndim)(output_grads[0], *shape_tuple(x))
        return [g] + [disconnected_type() for _ in inputs[1:]]

    def R_op(self, inputs, eval_points):
        return [self(eval_points[0], *inputs[1:])]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * self.ndim

    def infer_shape(self, fgraph, node, input_shapes):
        dims = list(node.inputs[1:])
        out = []
        for i, (d, static) in enumerate(
            zip(dims, node.outputs[0].type.shape, strict=True)
        ):
            if static is not None:
                out.append(index_constant(static))
            elif static_value(d) == -1:
                others = [e for j, e in enumerate(dims) if j != i]
                out.append(
                    floor_div_sizes(mul_sizes(input_shapes[0]), mul_sizes(others))
                )
            else:
                out.append(d)
        return [tuple(out)]


def _size_message(x: Variable, in_shape, out_shape) -> str:
    size = int(np.prod(in_shape, dtype="int64"))
    if -1 in out_shape:
        rest = int(np.prod([s for s in out_shape if s != -1], dtype="int64"))
        why = f"{size} elements do not divide into {rest}-element parts"
    else:
        why = f"that has {int(np.prod(out_shape, dtype='int64'))} elements"
    return (
        f"reshape: cannot reshape {x.describe()} of shape {_fmt(in_shape)} "
        f"({size} elements) into shape {_fmt(out_shape)}: {why}"
    )


def _static_reshape(x: Variable, static: list) -> tuple:
    """The output's static shape; impossible reshapes fail here."""
    unknown = [i for i, s in enumerate(static) if s is not None and s < 0]
    for i in unknown:
        if static[i] != -1:
            raise ValueError(
                f"reshape: shape entry {i} of {x.describe()}'s new shape is "
                f"{static[i]}; sizes must be >= 0, or -1 once for the rest"
            )
    if len(unknown) > 1:
        raise ValueError(
            f"reshape: -1 appears {len(unknown)} times in the new shape "
            f"{_fmt(static)} of {x.describe()}; at most one size can be inferred"
        )
    out = list(static)
    size = None if None in x.type.shape else int(np.prod(x.type.shape, dtype="int64"))
    others = [s for i, s in enumerate(static) if i not in unknown]
    rest = None if None in others else int(np.prod(others, dtype="int64"))
    if size is not None and rest is not None:
        if unknown and (rest == 0 or size % rest):
            raise ValueError(_size_message(x, x.type.shape, static))
        if not unknown and size != rest:
            raise ValueError(_size_message(x, x.type.shape, static))
        if unknown:
            out[unknown[0]] = size // rest
    elif unknown:
        out[unknown[0]] = None
    return tuple(out)


def reshape(x, newshape, ndim: int | None = None) -> Variable:
    """``x`` with shape ``newshape``, as ``np.reshape`` (a view where possible).

    ``newshape`` may hold symbolic sizes (``x.shape[0]``) and one constant
    -1. A symbolic vector of unknown length needs ``ndim``. Sizes that do
    not match fail when the graph is built if the shapes are static, else
    when the function runs (naming ``x`` and the line that built the reshape).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> t = T.tensor("t", shape=(2, 3, 4))
    >>> T.reshape(t, (3, -1)).type.shape
    (3, 8)
    """
    x = as_tensor_variable(x)
    dims = as_dims(newshape, "reshape", ndim)
    return Reshape(len(dims))(x, *dims)


def flatten(x, ndim: int = 1, outdim: int | None = None) -> Variable:
    """Keep the first ``ndim - 1`` dimensions and merge the rest (Theano's flatten).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.flatten(T.tensor("t", shape=(2, 3, 4)), 2).type.shape
    (2, 12)
    """
    x = as_tensor_variable(x)
    ndim = outdim if outdim is not None else ndim
    if (
        isinstance(ndim, bool)
        or not isinstance(ndim, (int, np.integer))
        or not 1 <= ndim <= max(x.ndim, 1)
    ):
        raise ValueError(
            f"flatten: ndim must be between 1 and {max(x.ndim, 1)} for {x.describe()} "
            f"(ndim {x.ndim}), got {ndim!r}"
        )
    sizes = shape_tuple(x)
    dims = list(sizes[: ndim - 1]) + [mul_sizes(sizes[ndim - 1 :])]
    return Reshape(ndim)(x, *dims)


# --------------------------------------------------------------- axis juggling


def _axis(axis, ndim: int, what: str, x: Variable) -> int:
    from symgraph.ops.reduce import normalize_axes

    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{what}: axis must be an int, got {axis!r}")
    return normalize_axes(axis, ndim, what, x)[0]


def dimshuffle(x, pattern) -> Variable:
    """Reorder axes and insert broadcastable ones (``'x'``) (Theano's dimshuffle).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.dimshuffle(T.matrix("m"), (1, "x", 0)).type.shape
    (None, 1, None)
    """
    x = as_tensor_variable(x)
    try:
        op = DimShuffle(x.ndim, tuple(pattern))
    except ValueError as exc:
        raise ValueError(f"{exc} (the input is {x.describe()})") from None
    return op(x)


def transpose(x, axes=None) -> Variable:
    """``x`` with its axes permuted (reversed by default), as ``np.transpose``.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.transpose(T.tensor("t", shape=(2, 3, 4)), (1, -1, 0)).type.shape
    (3, 4, 2)
    """
    x = as_tensor_variable(x)
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    else:
        axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
        if len(axes) != x.ndim:
            raise ValueError(
                f"transpose: axes {axes} do not match {x.describe()} with ndim {x.ndim}"
            )
        axes = tuple(_axis(a, x.ndim, "transpose", x) for a in axes)
        if len(set(axes)) != len(axes):
            raise ValueError(f"transpose: repeated axis in {axes} for {x.describe()}")
    return DimShuffle(x.ndim, axes)(x)


def swapaxes(x, axis1: int, axis2: int) -> Variable:
    """``x`` with two axes exchanged, as ``np.swapaxes``."""
    x = as_tensor_variable(x)
    order = list(range(x.ndim))
    a, b = _axis(axis1, x.ndim, "swapaxes", x), _axis(axis2, x.ndim, "swapaxes", x)
    order[a], order[b] = order[b], order[a]
    return DimShuffle(x.ndim, order)(x)


def squeeze(x, axis=None) -> Variable:
    """``x`` without its dimensions of static size 1 (or just those in ``axis``).

    Only dimensions known to have size 1 when the graph is built can be
    removed; declare them (``shape=(1, None)``, ``keepdims=True``) or use
    :func:`reshape`.
    """
    from symgraph.ops.reduce import normalize_axes

    x = as_tensor_variable(x)
    if axis is None:
        drop = [i for i, s in enumerate(x.type.shape) if s == 1]
    else:
        drop = normalize_axes(axis, x.ndim, "squeeze", x)
        for a in drop:
            size = x.type.shape[a]
            if size != 1:
                raise ValueError(
                    f"squeeze: axis {a} of {x.describe()} has static size "
                    f"{'unknown' if size is None else size}, not 1; only dimensions "
                    "known to be 1 can be squeezed (declare them, e.g. "
                    "shape=(1, None), or use reshape)"
                )
    return DimShuffle(x.ndim, [i for i in range(x.ndim) if i not in drop])(x)


def expand_dims(x, axis) -> Variable:
    """``x`` with new size-1 axes at positions ``axis`` of the result, as
    ``np.expand_dims``."""
    from symgraph.ops.reduce import normalize_axes

    x = as_tensor_variable(x)
    count = 1 if isinstance(axis, (int, np.integer)) else len(axis)
    new = normalize_axes(axis, x.ndim + count, "expand_dims", x)
    old = iter(range(x.ndim))
    return DimShuffle(
        x.ndim, ["x" if i in new else next(old) for i in range(x.ndim + count)]
    )(x)


def shape_padleft(x, n_ones: int = 1) -> Variable:
    """``x`` with ``n_ones`` broadcastable axes in front (Theano)."""
    x = as_tensor_variable(x)
    return DimShuffle(x.ndim, ["x"] * n_ones + list(range(x.ndim)))(x)


def shape_padright(x, n_ones: int = 1) -> Variable:
    """``x`` with ``n_ones`` broadcastable axes at the end (Theano)."""
    x = as_tensor_variable(x)
    return DimShuffle(x.ndim, list(range(x.ndim)) + ["x"] * n_ones)(x)


def shape_padaxis(x, axis: int) -> Variable:
    """``x`` with a broadcastable axis inserted at ``axis`` (Theano)."""
    return expand_dims(x, axis)
