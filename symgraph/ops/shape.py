"""Shape ops: symbolic shapes, allocation, reshaping, axis juggling, ranges.

Shapes given to these functions may be Python ints, int64 scalar variables
(``x.shape[0]``, ``shape_i(x, 0)``), a tuple mixing both, or an integer
vector (``x.shape``, a constant): see :func:`as_dims`. Ops take one int64
scalar input per dimension, so static sizes are read off constants when the
graph is built.

Joining and splitting (concatenate, stack, split, repeat, tile) live in
:mod:`symgraph.ops.join`.
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
from symgraph.ops.elemwise import DimShuffle

__all__ = [
    "shape",
    "shape_i",
    "alloc",
    "alloc_like",
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
    "zeros",
    "ones",
    "full",
    "full_like",
    "fill",
    "arange",
    "eye",
    "identity_like",
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
            f"{what} must be an integer scalar, got {var.describe()} ({var.type.describe()})"
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
        for i, (size, var) in enumerate(zip(shp, node.inputs[1:])):
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
        for i, (d, static) in enumerate(zip(dims, node.outputs[0].type.shape)):
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
    """``x`` with new size-1 axes at positions ``axis`` of the result, as ``np.expand_dims``."""
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


# ---------------------------------------------------------------- arange, eye


def _scalar_input(value, what: str) -> Variable:
    var = as_tensor_variable(value)
    if var.ndim != 0 or var.dtype == "bool":
        raise TypeError(
            f"{what} must be a numeric scalar, got {var.describe()} ({var.type.describe()})"
        )
    return var


class ARange(Op):
    """``arange(start, stop, step)`` of ``dtype``: ``start + i * step`` while below ``stop``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = normalize_dtype(dtype, "arange dtype")

    def make_node(self, start, stop, step) -> Apply:
        names = ("start", "stop", "step")
        inputs = [
            _scalar_input(v, f"arange: {n}") for v, n in zip((start, stop, step), names)
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
    """Evenly spaced values in ``[start, stop)``, as ``np.arange``; bounds may be symbolic.

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
        for v, n in zip((start, stop, step), ("start", "stop", "step"))
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
        n, m, k = (as_index_scalar(v, f"eye: {w}") for v, w in zip((n, m, k), "nmk"))
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
