"""Indexing with NumPy semantics: ``x[idx]``, ``set_subtensor``, ``inc_subtensor``.

``getitem`` (what ``Variable.__getitem__`` calls) parses an index once and
picks an op: basic indices (integers, slices, ``None``/newaxis, Ellipsis) go
to :class:`Subtensor`, which may return a view; integer and boolean arrays go
to the ops of :mod:`symgraph.ops.advanced_subtensor`.

An op's ``idx_list`` prop is the static structure of the index: Python ints
and slice bounds where they are constants, ``None`` for a new axis, and the
marker ``SCALAR`` (printed ``?``) or ``ARRAY`` (``[?]``) where a symbolic
value comes from the node's inputs, in order (a slice's start, stop, step).
So ``x[1:i, ::-1]`` is ``Subtensor{1:?, ::-1}(x, i)``, and ops with the same
structure merge whatever the symbolic values.

Example
-------
>>> import numpy as np, symgraph.tensor as T
>>> x = T.matrix("x")
>>> y = T.set_subtensor(x[0, ::-1], 0.0)
>>> y.eval({x: np.ones((2, 3))})
array([[0., 0., 0.],
       [1., 1., 1.]])
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, Constant, TensorType, Variable, as_tensor_variable
from symgraph.op import Op
from symgraph.ops.index_layout import (
    ARRAY,
    SCALAR,
    Layout,
    Slice,
    expand_ellipsis,
    format_idx_list,
    input_entries,
    input_kinds,
    is_int,
    layout,
    parse_index,
    static_result_shape,
    strip_index,
    symbolic_result_shape,
    wrap_index_error,
)

__all__ = ["getitem", "set_subtensor", "inc_subtensor", "take"]


# --------------------------------------------------------------- the ops


class _IndexOp(Op):
    """What the indexing ops share: the ``idx_list`` prop and its inputs."""

    __props__ = ("idx_list",)
    #: The markers this op accepts in ``idx_list``.
    markers: tuple = (SCALAR,)

    def __init__(self, idx_list) -> None:
        self.idx_list = tuple(
            Slice(e.start, e.stop, e.step) if isinstance(e, slice) else e
            for e in idx_list
        )

    def __str__(self) -> str:
        return f"{type(self).__name__}{{{format_idx_list(self.idx_list)}}}"

    __repr__ = __str__

    def check_index_inputs(self, index_inputs) -> list[Variable]:
        index_inputs = [as_tensor_variable(v) for v in index_inputs]
        markers = list(input_entries(self.idx_list))
        if len(markers) != len(index_inputs):
            raise TypeError(
                f"{self}: expected {len(markers)} index inputs, got {len(index_inputs)}"
            )
        for pos, (marker, var) in enumerate(zip(markers, index_inputs, strict=True)):
            if marker not in self.markers:
                raise TypeError(
                    f"{self}: an index {marker!r} needs an advanced indexing op"
                )
            if marker is SCALAR:
                ok = var.dtype[0] in "iu" and var.ndim == 0
            else:
                ok = var.dtype == "bool" or (var.dtype[0] in "iu" and var.ndim > 0)
            if not ok:
                want = (
                    "an integer scalar"
                    if marker is SCALAR
                    else "an integer or boolean array"
                )
                raise TypeError(
                    f"{self}: index input {pos} must be {want}, got {var.describe()} "
                    f"({var.type.describe()})"
                )
        return index_inputs

    def layout_of(self, node) -> Layout:
        index = (
            node.inputs[2:] if isinstance(self, IncSubtensorBase) else node.inputs[1:]
        )
        return layout(self.idx_list, input_kinds(index), node.inputs[0].ndim)

    def numpy_index(self, index_values) -> tuple:
        """The index tuple for NumPy with the inputs' values filled in."""
        it = iter(index_values)
        result = []
        for entry in self.idx_list:
            if isinstance(entry, Slice):
                result.append(
                    slice(*(int(next(it)) if p is SCALAR else p for p in entry))
                )
            elif entry is SCALAR:
                result.append(int(next(it)))
            elif entry is ARRAY:
                result.append(next(it))
            else:
                result.append(entry)
        return tuple(result)


class SubtensorBase(_IndexOp):
    """``x[idx]``: the rules shared by basic and advanced indexing."""

    #: The op that increments what this op selects (set after the classes).
    inc_op: type

    def make_node(self, x, *index_inputs) -> Apply:
        x = as_tensor_variable(x)
        index_inputs = self.check_index_inputs(index_inputs)
        lay = layout(self.idx_list, input_kinds(index_inputs), x.ndim)
        shape = static_result_shape(lay, x, index_inputs)
        return Apply(self, [x, *index_inputs], [TensorType(x.dtype, shape)()])

    def check_values(self, node, x, index_values) -> None:
        """Run-time checks before NumPy indexes (none for basic indexing)."""

    def perform(self, node, inputs, output_storage) -> None:
        x, *index_values = inputs
        try:
            self.check_values(node, x, index_values)
            output_storage[0][0] = np.asarray(x[self.numpy_index(index_values)])
        except (IndexError, ValueError) as exc:
            raise wrap_index_error(node, exc) from None

    def L_op(self, inputs, outputs, output_grads):
        # d x[idx] / dx: the output gradient scattered into zeros of x's shape
        from symgraph.gradient import disconnected_type, zeros_like_grad
        from symgraph.ops.math import zeros_like

        x, *index = inputs
        rest = [disconnected_type() for _ in index]
        if not outputs[0].type.is_float:
            return [zeros_like_grad(x)] + rest
        return [
            self.inc_op(self.idx_list)(zeros_like(x), output_grads[0], *index)
        ] + rest

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0], *inputs[1:])]

    def connection_pattern(self, node):
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def infer_shape(self, fgraph, node, input_shapes):
        index = node.inputs[1:]
        lay = self.layout_of(node)
        return [symbolic_result_shape(lay, input_shapes[0], index, input_shapes[1:])]


class Subtensor(SubtensorBase):
    """Basic indexing: ``x[idx]`` with integers, slices and new axes.

    The output is a view of ``x`` (``view_map``). Symbolic integers and slice
    bounds are inputs after ``x``; see the module docstring for ``idx_list``.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> x = T.tensor("x", shape=(4, 5))
    >>> x[1:, ::-1, None].type.shape
    (3, 5, 1)
    """

    view_map = {0: [0]}

    def make_node(self, x, *index_inputs) -> Apply:
        if Ellipsis in self.idx_list:
            raise ValueError(f"{self}: expand the Ellipsis first (expand_ellipsis)")
        return super().make_node(x, *index_inputs)


def check_increment(op, target_shape, x: Variable, y) -> Variable:
    """``y`` cast to ``x``'s dtype; static shapes must broadcast to the target."""
    from symgraph.ops.elemwise import resolve_weak_constants
    from symgraph.ops.math import cast

    y = as_tensor_variable(y)
    if isinstance(y, Constant) and y.weak:
        y = resolve_weak_constants([x, y])[1]
    if y.dtype != x.dtype:
        if not np.can_cast(y.dtype, x.dtype, "same_kind"):
            raise TypeError(
                f"{op}: cannot write {y.describe()} of dtype {y.dtype} into "
                f"{x.describe()} of dtype {x.dtype} without changing the kind of "
                f"number; cast it first, e.g. y.astype({x.dtype!r})"
            )
        y = cast(y, x.dtype)
    if y.ndim > len(target_shape) or any(
        s is not None and t is not None and s != 1 and s != t
        for s, t in zip(reversed(y.type.shape), reversed(target_shape), strict=False)
    ):
        dims = ", ".join("?" if d is None else str(d) for d in target_shape)
        raise ValueError(
            f"{op}: cannot broadcast the value {y.describe()}, a {y.type.describe()}, "
            f"to the indexed region x[idx] of shape ({dims}) of {x.describe()}"
        )
    return y


def check_increment_runtime(node, y_var: Variable, y, target_shape) -> None:
    """Only the value's dimensions of static size 1 broadcast (as in Elemwise)."""
    offset = len(target_shape) - y.ndim
    for axis, (static, size) in enumerate(zip(y_var.type.shape, y.shape, strict=True)):
        want = target_shape[offset + axis]
        if static != 1 and size != want:
            hint = (
                "; symgraph broadcasts only dimensions of static size 1: declare them, "
                "e.g. T.row(), shape=(1, None)"
                if size == 1
                else ""
            )
            raise ValueError(
                f"{node.op}: the value {y_var.describe()} has shape {y.shape}, which "
                f"does not match the indexed region of shape {tuple(target_shape)} on "
                f"its axis {axis}{hint}"
            )


class IncSubtensorBase(_IndexOp):
    """``x`` with ``x[idx]`` set to ``y`` (``set_instead_of_inc``) or incremented.

    Inputs: ``x``, ``y`` (broadcast to ``x[idx]``), then the index inputs of
    the matching indexing op (``get_op``). The output is a new array;
    ``inplace=True`` writes into ``x`` (for the memory planner, never on user
    data).
    """

    __props__ = ("idx_list", "set_instead_of_inc", "inplace")
    #: The indexing op whose selection this op writes (set after the classes).
    get_op: type

    def __init__(
        self, idx_list, set_instead_of_inc: bool = False, inplace: bool = False
    ) -> None:
        super().__init__(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if inplace else {}

    def __str__(self) -> str:
        name = type(self).__name__
        if self.set_instead_of_inc:
            name = name.replace("Inc", "Set", 1)
        inner = format_idx_list(self.idx_list) + (", inplace" if self.inplace else "")
        return f"{name}{{{inner}}}"

    __repr__ = __str__

    def make_node(self, x, y, *index_inputs) -> Apply:
        x = as_tensor_variable(x)
        target = self.get_op(self.idx_list).make_node(x, *index_inputs)
        y = check_increment(self, target.outputs[0].type.shape, x, y)
        return Apply(self, [x, y, *target.inputs[1:]], [x.type()])

    def target_shape(self, node, out, index, index_values) -> tuple:
        """The shape of ``out[index]`` (a view for basic indexing: free)."""
        return out[index].shape

    def increment(self, out, index, y) -> None:
        out[index] += y  # basic indices never select an element twice

    def perform(self, node, inputs, output_storage) -> None:
        x, y, *index_values = inputs
        out = x if self.inplace else x.copy()
        index = self.numpy_index(index_values)
        try:
            target = self.target_shape(node, out, index, index_values)
            check_increment_runtime(node, node.inputs[1], y, target)
            if self.set_instead_of_inc:
                out[index] = y
            else:
                self.increment(out, index, y)
        except IndexError as exc:
            raise wrap_index_error(node, exc) from None
        output_storage[0][0] = out

    def L_op(self, inputs, outputs, output_grads):
        # set: x's gradient is gz with the set region zeroed; inc: gz itself.
        # y's gradient is gz[idx], summed back over y's broadcast dimensions.
        from symgraph.gradient import disconnected_type, unbroadcast, zeros_like_grad

        x, y, *index = inputs
        (gz,) = output_grads
        rest = [disconnected_type() for _ in index]
        if not outputs[0].type.is_float:
            return [zeros_like_grad(x), zeros_like_grad(y)] + rest
        gx = gz
        if self.set_instead_of_inc:
            zero = Constant(TensorType(gz.dtype, ()), 0)
            gx = type(self)(self.idx_list, set_instead_of_inc=True)(gz, zero, *index)
        gy = unbroadcast(self.get_op(self.idx_list)(gz, *index), y)
        return [gx, gy] + rest

    def connection_pattern(self, node):
        return [[True], [True]] + [[False] for _ in node.inputs[2:]]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class IncSubtensor(IncSubtensorBase):
    """``set_subtensor`` / ``inc_subtensor`` of a basic index."""

    get_op = Subtensor


Subtensor.inc_op = IncSubtensor


# -------------------------------------------------------------- front end


def getitem(x, index) -> Variable:
    """``x[index]`` with NumPy semantics (what ``Variable.__getitem__`` calls).

    Basic indices (ints, symbolic int scalars, slices with constant or
    symbolic bounds, ``None``, ``...``) give a :class:`Subtensor`; integer or
    boolean arrays (lists, NumPy arrays, symbolic tensors) give the advanced
    ops, following NumPy's placement rules for the broadcast index
    dimensions.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x = T.matrix("x")
    >>> f = x[::-1, [0, 0, 2]]
    >>> f.eval({x: np.arange(6.0).reshape(2, 3)})
    array([[3., 3., 5.],
           [0., 0., 2.]])
    """
    x = as_tensor_variable(x)
    idx_list, inputs = parse_index(x, index)
    if x.owner is not None and len(idx_list) == 1 and is_int(idx_list[0]):
        from symgraph.ops.shape import Shape, shape_i

        # x.shape[i] is Shape_i: a constant where the size is static
        base = x.owner.inputs[0] if isinstance(x.owner.op, Shape) else None
        if base is not None and -base.ndim <= idx_list[0] < base.ndim:
            return shape_i(base, idx_list[0] % base.ndim)
    if ARRAY in idx_list:
        from symgraph.ops import advanced_subtensor as adv

        return adv.advanced_getitem(x, idx_list, inputs)
    return Subtensor(strip_index(expand_ellipsis(idx_list, x.ndim)))(x, *inputs)


def inc_subtensor(
    x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False
) -> Variable:
    """``x[idx] += y`` as a new tensor: the first argument is ``x[idx]``.

    ``x`` and ``idx`` are recovered from how the first argument was built.
    ``y`` broadcasts to ``x[idx]``. With integer arrays, repeated indices
    accumulate (as ``np.add.at``). ``inplace`` is accepted for Theano
    compatibility; user data is never modified.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x = T.vector("x")
    >>> T.inc_subtensor(x[[0, 0, 2]], 1.0).eval({x: np.zeros(3)})
    array([2., 0., 1.])
    """
    node = x.owner if isinstance(x, Variable) else None
    if node is None or not isinstance(node.op, SubtensorBase):
        what = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
        got = x.describe() if isinstance(x, Variable) else repr(x)
        raise TypeError(
            f"{what}: the first argument must be the result of indexing, as in "
            f"{what}(x[idx], y); got {got}"
        )
    base, *index = node.inputs
    return node.op.inc_op(node.op.idx_list, set_instead_of_inc)(base, y, *index)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False) -> Variable:
    """``x[idx] = y`` as a new tensor: the first argument is ``x[idx]``.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x = T.matrix("x")
    >>> T.set_subtensor(x[:, 1], [5.0, 6.0]).eval({x: np.zeros((2, 2))})
    array([[0., 5.],
           [0., 6.]])
    """
    return inc_subtensor(x, y, set_instead_of_inc=True)


def take(a, indices, axis=None, mode="raise") -> Variable:
    """``np.take``: ``a``'s elements at ``indices`` along ``axis`` (None: flattened).

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> m = T.matrix("m")
    >>> T.take(m, [2, 0], axis=1).eval({m: np.arange(6.0).reshape(2, 3)})
    array([[2., 0.],
           [5., 3.]])
    """
    if mode != "raise":
        raise NotImplementedError(f"take: mode={mode!r} is not supported; only 'raise'")
    a = as_tensor_variable(a)
    if axis is None:
        a = a.flatten() if a.ndim != 1 else a
        axis = 0
    if not is_int(axis) or not -a.ndim <= axis < a.ndim:
        raise ValueError(
            f"take: axis {axis!r} is out of range for {a.describe()} "
            f"({a.ndim}-dimensional)"
        )
    if isinstance(indices, tuple):
        indices = list(indices)  # a tuple would read as several indices
    return getitem(a, (slice(None),) * (axis % a.ndim) + (indices,))
