"""Linear algebra: ``dot``, ``matmul``, ``outer``, ``tensordot``, ``batched_dot``.

Two ops carry all of it:

- :class:`Dot` -- the product of two 1-d or 2-d tensors (vector.vector ->
  scalar, matrix.vector, vector.matrix, matrix.matrix). This is the op the
  backends send to BLAS, and the one the GEMM rewrite looks for.
- :class:`Matmul` -- NumPy's ``matmul`` on stacks of matrices, with the batch
  axes broadcast. As everywhere in symgraph, a batch axis broadcasts only
  where its static size is 1 (``matmul`` pads the shorter input with such
  axes on the left), so gradients know which axes to sum over.

``dot`` on tensors of more than two dimensions, ``tensordot``, ``outer`` and
``batched_dot`` are built from these with transposes and reshapes.
Output dtypes follow NumPy 2 (``np.result_type`` of the two inputs).
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, TensorType, as_tensor_variable
from symgraph.op import Op
from symgraph.ops.elemwise import DimShuffle, _fmt_shape
from symgraph.ops.scalar import promote

__all__ = ["dot", "matmul", "outer", "tensordot", "batched_dot"]


def _inner_mismatch(op, a, b, a_axis, b_axis, got_a, got_b, runtime=False):
    """The message for contracted axes of different sizes (static or run time)."""
    shapes = (
        f"input 0 {a.describe()} has shape {got_a}, input 1 {b.describe()} has "
        f"shape {got_b}"
        if runtime
        else f"input 0 {a.describe()} is a {a.type.describe()}, input 1 "
        f"{b.describe()} is a {b.type.describe()}"
    )
    size_a, size_b = got_a[a_axis], got_b[b_axis]
    return (
        f"{op}: the inner dimensions do not match: {shapes}; axis "
        f"{a_axis % len(got_a)} of input 0 (size {size_a}) must equal axis "
        f"{b_axis % len(got_b)} of input 1 (size {size_b}). Check the layer sizes, "
        "or transpose one operand (b.T)"
    )


def _check_ranks(op, inputs, low: int, high: int | None, expected: str) -> None:
    """Refuse inputs whose ndim is outside ``low..high`` (no upper bound: None)."""
    for pos, x in enumerate(inputs):
        if x.ndim < low or (high is not None and x.ndim > high):
            raise TypeError(
                f"{op}: input {pos} {x.describe()} is a {x.type.describe()}; {expected}"
            )


def _check_static_inner(op, a, b, a_axis, b_axis):
    sa, sb = a.type.shape[a_axis], b.type.shape[b_axis]
    if sa is not None and sb is not None and sa != sb:
        raise ValueError(
            _inner_mismatch(op, a, b, a_axis, b_axis, a.type.shape, b.type.shape)
        )


def _swap_last(x):
    """``x`` with its last two axes exchanged (a matrix transpose per batch)."""
    order = list(range(x.ndim - 2)) + [x.ndim - 1, x.ndim - 2]
    return DimShuffle(x.ndim, order)(x)


def _expand(x, order):
    return DimShuffle(x.ndim, order)(x)


def _pad_left(x, ndim):
    """``x`` with size-1 axes added on the left up to ``ndim`` (batch broadcasting)."""
    return (
        x
        if x.ndim == ndim
        else _expand(x, ["x"] * (ndim - x.ndim) + list(range(x.ndim)))
    )


def _typed_like(g, x):
    """``g``, the gradient of operand ``x``, with ``x``'s static shape.

    A product's gradient has ``x``'s shape at run time, but its static type
    comes from the other operand and the output gradient: a static 1 that
    only ``x`` knows (``dot(v, M)``, ``v`` of shape (1,), ``M`` (?, ?)) is
    lost, one that only the other operand knows is gained. ``x``'s static
    shape is re-asserted here (a reshape to ``x``'s shape, a view; no sum:
    the sizes agree at run time), so the gradient's type is ``x``'s.
    """
    if g.type.shape == x.type.shape:
        return g
    from symgraph.ops.shape import Reshape, shape_tuple

    return Reshape(x.ndim)(g, *shape_tuple(x))


def _user_input(var):
    """The variable the user passed, behind the padding :func:`_pad_left` adds."""
    owner = var.owner
    if (
        owner is not None
        and isinstance(owner.op, DimShuffle)
        and owner.op.new_order[0] == "x"
    ):
        return owner.inputs[0]
    return var


class Dot(Op):
    """The product of two 1-d or 2-d tensors, as ``np.dot``.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.dot(T.matrix("a"), T.vector("v")).type
    Tensor{float64, (?,)}
    """

    def make_node(self, a, b) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        _check_ranks(
            self,
            (a, b),
            1,
            2,
            "Dot takes 1-d or 2-d inputs (use T.dot, T.matmul or "
            "T.tensordot for others)",
        )
        _check_static_inner(self, a, b, -1, 0)
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(promote(a.dtype, b.dtype), shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            raise ValueError(
                _inner_mismatch(self, *node.inputs, -1, 0, a.shape, b.shape, True)
            )
        dtype = node.outputs[0].dtype
        output_storage[0][0] = np.asarray(np.dot(a, b), dtype=dtype)

    def grad(self, inputs, output_grads):
        # z = a.b:  da = gz.b^T,  db = a^T.gz  (outer products where vectors meet)
        a, b = inputs
        (gz,) = output_grads
        if a.ndim == 1 and b.ndim == 1:
            ga, gb = gz * b, gz * a
        elif a.ndim == 2 and b.ndim == 1:
            ga, gb = outer(gz, b), dot(_swap_last(a), gz)
        elif a.ndim == 1:
            ga, gb = dot(b, gz), outer(a, gz)
        else:
            ga, gb = dot(gz, _swap_last(b)), dot(_swap_last(a), gz)
        return [_typed_like(ga, a), _typed_like(gb, b)]

    def R_op(self, inputs, eval_points):
        # d(a.b) = da.b + a.db
        (a, b), (ea, eb) = inputs, eval_points
        if ea is None:
            return [dot(a, eb)]
        if eb is None:
            return [dot(ea, b)]
        return [dot(ea, b) + dot(a, eb)]

    def infer_shape(self, fgraph, node, input_shapes):
        sa, sb = input_shapes
        return [tuple(sa[:-1]) + tuple(sb[1:])]


_dot = Dot()


class Matmul(Op):
    """``np.matmul`` of two stacks of matrices (ndim >= 2), batch axes broadcast.

    ``make_node`` pads the input of lower rank with size-1 axes on the left;
    only batch axes of static size 1 broadcast. :func:`matmul` is the
    user-facing function (it also takes vectors).
    """

    def make_node(self, a, b) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        _check_ranks(
            self,
            (a, b),
            2,
            None,
            "Matmul takes stacks of matrices (T.matmul accepts vectors)",
        )
        ndim = max(a.ndim, b.ndim)
        a, b = (_pad_left(x, ndim) for x in (a, b))
        _check_static_inner(self, a, b, -1, -2)
        batch = []
        for axis in range(ndim - 2):
            sizes = {a.type.shape[axis], b.type.shape[axis]} - {1}
            known = sizes - {None}
            if len(known) > 1:
                raise ValueError(
                    f"{self}: the batch axes cannot be broadcast together: input 0 "
                    f"{a.describe()} has shape {_fmt_shape(a.type.shape)}, input 1 "
                    f"{b.describe()} has shape {_fmt_shape(b.type.shape)} (axis {axis})"
                )
            batch.append(known.pop() if known else (None if sizes else 1))
        shape = (*batch, a.type.shape[-2], b.type.shape[-1])
        return Apply(self, [a, b], [TensorType(promote(a.dtype, b.dtype), shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        a, b = inputs
        va, vb = (_user_input(v) for v in node.inputs)
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(
                _inner_mismatch(self, va, vb, -1, -2, a.shape, b.shape, True)
            )
        for axis in range(a.ndim - 2):
            static = (node.inputs[0].type.shape[axis], node.inputs[1].type.shape[axis])
            if 1 not in static and a.shape[axis] != b.shape[axis]:
                raise ValueError(
                    f"{self}: the batch axes do not match: input 0 {va.describe()} has "
                    f"shape {a.shape}, input 1 {vb.describe()} has shape {b.shape} "
                    f"(axis {axis}); symgraph broadcasts only axes of static size 1: "
                    "declare them, e.g. shape=(1, None, None)"
                )
        dtype = node.outputs[0].dtype
        output_storage[0][0] = np.asarray(np.matmul(a, b), dtype=dtype)

    def L_op(self, inputs, outputs, output_grads):
        # z = a@b per batch:  da = gz@b^T,  db = a^T@gz, summed over broadcast batches
        from symgraph.gradient import unbroadcast

        a, b = inputs
        (gz,) = output_grads
        ga = unbroadcast(self(gz, _swap_last(b)), a)
        gb = unbroadcast(self(_swap_last(a), gz), b)
        return [_typed_like(ga, a), _typed_like(gb, b)]

    def infer_shape(self, fgraph, node, input_shapes):
        a, (sa, sb) = node.inputs[0], input_shapes
        batch = [
            sb[axis] if a.type.shape[axis] == 1 else sa[axis]
            for axis in range(a.ndim - 2)
        ]
        return [(*batch, sa[-2], sb[-1])]


_matmul = Matmul()


def dot(a, b):
    """Dot product with Theano's (and ``np.dot``'s) semantics.

    vector.vector is a scalar, matrix.vector and vector.matrix are vectors,
    matrix.matrix is a matrix; a 0-d operand multiplies elementwise; above two
    dimensions it sums over the last axis of ``a`` and the second-to-last of
    ``b`` (``np.dot``).

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x, w = T.matrix("x"), T.matrix("w")
    >>> T.dot(x, w).eval({x: np.ones((2, 3)), w: np.ones((3, 4))}).shape
    (2, 4)
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim > 2 or b.ndim > 2:
        return tensordot(a, b, [[a.ndim - 1], [max(0, b.ndim - 2)]])
    return _dot(a, b)


def matmul(a, b):
    """Matrix product with NumPy's ``matmul`` semantics (also ``a @ b``).

    Inputs above two dimensions are stacks of matrices whose batch axes
    broadcast (where their static size is 1, or missing on the left). A 1-d
    ``a`` is a row, a 1-d ``b`` a column; the added axis is dropped again.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> (T.tensor3("a") @ T.matrix("b")).ndim
    3
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    _check_ranks(
        "matmul",
        (a, b),
        1,
        None,
        "matmul needs at least one dimension (multiply scalars with *)",
    )
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    a2 = _expand(a, ["x", 0]) if a.ndim == 1 else a
    b2 = _expand(b, [0, "x"]) if b.ndim == 1 else b
    out = _matmul(a2, b2)
    if a.ndim == 1:  # drop the row axis added to a
        out = _expand(out, [i for i in range(out.ndim) if i != out.ndim - 2])
    if b.ndim == 1:  # drop the column axis added to b
        out = _expand(out, list(range(out.ndim - 1)))
    return out


def outer(x, y):
    """Outer product of two vectors (inputs of other ranks are flattened, as NumPy).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.outer(T.vector("x"), T.vector("y")).ndim
    2
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    x = x if x.ndim == 1 else x.flatten()
    y = y if y.ndim == 1 else y.flatten()
    return _expand(x, [0, "x"]) * _expand(y, ["x", 0])


def _normalize_tensordot_axes(a, b, axes):
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if n < 0 or n > a.ndim or n > b.ndim:
            raise ValueError(
                f"tensordot: axes={n} must be between 0 and the smaller ndim "
                f"({a.ndim} for input 0, {b.ndim} for input 1)"
            )
        return list(range(a.ndim - n, a.ndim)), list(range(n))
    try:
        a_axes, b_axes = axes
    except (TypeError, ValueError):
        raise TypeError(
            f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}"
        ) from None
    result = []
    for pos, (x, ax) in enumerate(((a, a_axes), (b, b_axes))):
        ax = [ax] if isinstance(ax, (int, np.integer)) else list(ax)
        for i in ax:
            if not -x.ndim <= i < x.ndim:
                raise ValueError(
                    f"tensordot: axis {i} is out of range for input {pos} "
                    f"{x.describe()} (ndim {x.ndim})"
                )
        ax = [int(i) % x.ndim for i in ax]
        if len(set(ax)) != len(ax):
            raise ValueError(f"tensordot: repeated axis in {ax} for input {pos}")
        result.append(ax)
    if len(result[0]) != len(result[1]):
        raise ValueError(
            f"tensordot: axes {axes!r} pair {len(result[0])} axes of input 0 with "
            f"{len(result[1])} of input 1; they must be equal in number"
        )
    return result


def _size(x, axes):
    """The product of the sizes of ``x`` on ``axes`` (int64; constant if static)."""
    from symgraph.ops.shape import mul_sizes, shape_i

    return mul_sizes([shape_i(x, i) for i in axes])


def _to_2d(x, lead, trail):
    """``x`` transposed to ``lead + trail`` and reshaped to (prod lead, prod trail).

    Sides with no axes are left out (a vector, or a scalar), so the product
    maps onto :class:`Dot`'s vector cases without reshaping where it can.
    """
    order = lead + trail
    if order != list(range(x.ndim)):
        x = DimShuffle(x.ndim, order)(x)
    groups = [g for g in (lead, trail) if g]
    if len(groups) == len(order):  # each group is one axis: already the right rank
        return x
    return x.reshape(
        [_size(x, [order.index(i) for i in g]) for g in groups], ndim=len(groups)
    )


def tensordot(a, b, axes=2):
    """Sum products over the given axes, as ``np.tensordot``.

    ``axes`` is an int ``n`` (the last ``n`` axes of ``a`` with the first
    ``n`` of ``b``) or a pair of axis lists. Built from transposes, reshapes
    and one :class:`Dot`, so it runs on BLAS.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.tensordot(T.tensor3("a"), T.matrix("b"), axes=[[1, 2], [0, 1]]).ndim
    1
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    a_axes, b_axes = _normalize_tensordot_axes(a, b, axes)
    for i, j in zip(a_axes, b_axes, strict=True):
        _check_static_inner("tensordot", a, b, i, j)
    free_a = [i for i in range(a.ndim) if i not in a_axes]
    free_b = [i for i in range(b.ndim) if i not in b_axes]
    if not a_axes:  # no contraction: an outer product of the two tensors
        a2 = _to_2d(a, free_a, [])
        b2 = _to_2d(b, [], free_b)
        if a2.ndim == 0 or b2.ndim == 0:
            return a * b
        out = outer(a2, b2)
    else:
        out = _dot(_to_2d(a, free_a, a_axes), _to_2d(b, b_axes, free_b))
    out_shape = [a.type.shape[i] for i in free_a] + [b.type.shape[i] for i in free_b]
    if out.ndim == len(out_shape):
        return out
    dims = [_size(a, [i]) for i in free_a] + [_size(b, [i]) for i in free_b]
    return out.reshape(dims, ndim=len(dims))


def batched_dot(a, b):
    """Per-example products along the first axis (Theano's ``batched_dot``).

    (B, m, k) x (B, k, n) -> (B, m, n); a (B, k) operand is a batch of
    vectors: (B, k) x (B, k) -> (B,), (B, m, k) x (B, k) -> (B, m).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.batched_dot(T.tensor3("a"), T.tensor3("b")).ndim
    3
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    _check_ranks(
        "batched_dot",
        (a, b),
        2,
        3,
        "expected a batch of vectors (2-d) or "
        "matrices (3-d); use T.matmul for stacks of more dimensions",
    )
    a3 = _expand(a, [0, "x", 1]) if a.ndim == 2 else a
    b3 = _expand(b, [0, 1, "x"]) if b.ndim == 2 else b
    out = _matmul(a3, b3)
    keep = [0] + ([1] if a.ndim == 3 else []) + ([2] if b.ndim == 3 else [])
    return out if len(keep) == 3 else _expand(out, keep)
