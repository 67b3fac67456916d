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

import functools
from typing import NamedTuple

import numpy as np

from symgraph.graph import Apply, Constant, TensorType, Variable, as_tensor_variable
from symgraph.op import Op

__all__ = ["getitem", "set_subtensor", "inc_subtensor", "take"]


# --------------------------------------------------------- index structure


class _Marker:
    """A placeholder in ``idx_list`` for a value taken from the node's inputs."""

    __slots__ = ("symbol", "name")

    def __init__(self, symbol: str, name: str) -> None:
        self.symbol = symbol
        self.name = name

    def __repr__(self) -> str:
        return self.symbol

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton


SCALAR = _Marker("?", "SCALAR")  # a symbolic integer scalar
ARRAY = _Marker("[?]", "ARRAY")  # a symbolic or constant integer / boolean array


class Slice(NamedTuple):
    """A hashable slice (``slice`` objects are not hashable before Python 3.12)."""

    start: object = None
    stop: object = None
    step: object = None

    def __repr__(self) -> str:
        parts = ["" if p is None else repr(p) for p in self]
        text = f"{parts[0]}:{parts[1]}"
        return text + (f":{parts[2]}" if self.step is not None else "")


FULL = Slice()


def format_idx_list(idx_list) -> str:
    """``1:?, ::-1, newaxis`` for op names."""
    words = []
    for entry in idx_list:
        if entry is None:
            words.append("newaxis")
        elif entry is Ellipsis:
            words.append("...")
        else:
            words.append(repr(entry))
    return ", ".join(words)


def _index_error(message: str) -> IndexError:
    return IndexError(
        f"{message}. Valid indices are integers (Python or symbolic integer "
        "scalars), slices, None (newaxis), Ellipsis, and integer or boolean arrays"
    )


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _index_var(item, x: Variable, position: int):
    """``item`` as a Variable if it is array-like, else None."""
    if isinstance(item, Variable):
        return item
    if isinstance(item, (list, tuple, range, np.ndarray)):
        if isinstance(item, (list, tuple)) and any(
            isinstance(i, Variable) for i in item
        ):
            return as_tensor_variable(item)
        value = np.asarray(item)
        if value.size == 0 and value.dtype.kind == "f":
            value = value.astype("int64")  # x[[]] is an empty integer index in NumPy
        if value.dtype.kind not in "biu":
            raise _index_error(
                f"index {position} into {x.describe()} is an array of dtype "
                f"{value.dtype.name}"
            )
        return Constant(TensorType(value.dtype, value.shape), value)
    return None


def _bound(part, x: Variable, position: int, inputs: list):
    """One slice bound: None, a Python int, or SCALAR (its variable appended)."""
    if part is None or _is_int(part):
        return None if part is None else int(part)
    var = _index_var(part, x, position)
    if var is not None and var.ndim == 0 and var.dtype[0] in "iu":
        if isinstance(var, Constant):
            return int(var.data)
        inputs.append(var)
        return SCALAR
    raise _index_error(
        f"slice bound {part!r} in index {position} into {x.describe()} is not an "
        "integer or None"
    )


def parse_index(x: Variable, index) -> tuple[tuple, list[Variable]]:
    """``(idx_list, inputs)`` for ``x[index]``; Ellipsis is kept as an entry.

    Raises IndexError for what NumPy refuses (floats, strings, too many
    indices, two Ellipses) and ValueError for a constant zero slice step.
    """
    items = index if isinstance(index, tuple) else (index,)
    entries: list = []
    inputs: list[Variable] = []
    consumed = 0
    for pos, item in enumerate(items):
        if item is None or item is Ellipsis:
            if item is Ellipsis and Ellipsis in entries:
                raise IndexError(
                    f"an index can only have a single ellipsis ('...'); got {index!r}"
                )
            entries.append(item)
        elif isinstance(item, slice):
            if isinstance(item.step, (int, np.integer)) and item.step == 0:
                raise ValueError(
                    f"slice step cannot be zero (index {pos} into {x.describe()})"
                )
            entries.append(
                Slice(
                    *(
                        _bound(p, x, pos, inputs)
                        for p in (item.start, item.stop, item.step)
                    )
                )
            )
            consumed += 1
        elif _is_int(item):
            entries.append(int(item))
            consumed += 1
        elif isinstance(item, (bool, np.bool_)):
            entries.append(ARRAY)
            inputs.append(Constant(TensorType("bool", ()), bool(item)))
        else:
            var = _index_var(item, x, pos)
            if var is None or not isinstance(var.type, TensorType):
                raise _index_error(
                    f"index {pos} into {x.describe()} is {type(item).__name__} {item!r}"
                )
            if var.dtype == "bool":
                entries.append(ARRAY)
                inputs.append(var)
                consumed += var.ndim
                continue
            if var.dtype[0] not in "iu":
                raise _index_error(
                    f"index {pos} into {x.describe()} is {var.describe()} of dtype "
                    f"{var.dtype}; cast it, e.g. i.astype('int64')"
                )
            if var.ndim == 0 and isinstance(var, Constant):
                entries.append(int(var.data))
            else:
                entries.append(SCALAR if var.ndim == 0 else ARRAY)
                inputs.append(var)
            consumed += 1
    if consumed > x.ndim:
        raise IndexError(
            f"too many indices for {x.describe()}: it is {x.ndim}-dimensional, but "
            f"{consumed} were indexed"
        )
    return _strip(tuple(entries)), inputs


def _strip(idx_list: tuple) -> tuple:
    """Drop trailing full slices and Ellipses: x[i, :] and x[i, ...] are x[i]."""
    while idx_list and (
        idx_list[-1] is Ellipsis or (idx_list[-1] == FULL and Ellipsis not in idx_list)
    ):
        idx_list = idx_list[:-1]
    return idx_list


def expand_ellipsis(idx_list, x_ndim: int) -> tuple:
    """``idx_list`` with its Ellipsis replaced by full slices (basic indexing)."""
    if Ellipsis not in idx_list:
        return idx_list
    consumed = sum(e is not None and e is not Ellipsis for e in idx_list)
    k = idx_list.index(Ellipsis)
    return idx_list[:k] + (FULL,) * (x_ndim - consumed) + idx_list[k + 1 :]


# ------------------------------------------------------------------ layout


class Layout(NamedTuple):
    """Where each output dimension of ``x[idx]`` comes from (NumPy's rules).

    ``dims``: per output axis, ``("slice", x_axis, entry, input_positions)``,
    ``("new",)`` or ``("adv", k)`` (axis k of the broadcast advanced indices).
    ``items``: the advanced indices, ``(kind, x_axis, ref)`` with kind
    ``"const"`` (ref: the Python int), ``"scalar"``, ``"array"`` or ``"bool"``
    (ref: the position among the index inputs). Integers count as advanced
    indices here; with no arrays they broadcast to nothing: basic indexing.
    """

    dims: tuple
    items: tuple
    bcast_ndim: int


@functools.lru_cache(maxsize=4096)
def layout(idx_list: tuple, kinds: tuple, x_ndim: int) -> Layout:
    """The :class:`Layout` of ``idx_list`` for inputs of ``kinds``.

    ``kinds`` has one ``(dtype_kind, ndim)`` per index input ("b" for bool).
    """
    pos = 0
    consumed = sum(
        1 for e in idx_list if e is SCALAR or _is_int(e) or isinstance(e, Slice)
    )
    arrays = [
        k for e, k in zip(_input_entries(idx_list), kinds, strict=True) if e is ARRAY
    ]
    consumed += sum(nd if kind == "b" else 1 for kind, nd in arrays)
    if consumed > x_ndim:
        raise IndexError(f"too many indices: {consumed} for a {x_ndim}-d input")
    axis = 0
    before, after, items, adv_at = [], [], [], []
    for at, entry in enumerate(idx_list):
        dims = after if adv_at else before
        if entry is None:
            dims.append(("new",))
        elif entry is Ellipsis:
            for _ in range(x_ndim - consumed):
                dims.append(("slice", axis, FULL, ()))
                axis += 1
        elif isinstance(entry, Slice):
            n = sum(p is SCALAR for p in entry)
            dims.append(("slice", axis, entry, tuple(range(pos, pos + n))))
            pos += n
            axis += 1
        elif entry is SCALAR:
            items.append(("scalar", axis, pos))
            pos += 1
            adv_at.append(at)
            axis += 1
        elif _is_int(entry):
            items.append(("const", axis, entry))
            adv_at.append(at)
            axis += 1
        else:  # ARRAY
            kind, nd = kinds[pos]
            if kind == "b":
                items.append(("bool", axis, pos))
                axis += nd
            else:
                items.append(("array", axis, pos))
                axis += 1
            pos += 1
            adv_at.append(at)
    after.extend(("slice", a, FULL, ()) for a in range(axis, x_ndim))
    ndim = max(
        [kinds[ref][1] if k == "array" else int(k == "bool") for k, _, ref in items],
        default=0,
    )
    bcast = tuple(("adv", k) for k in range(ndim))
    adjacent = not adv_at or adv_at[-1] - adv_at[0] == len(adv_at) - 1
    dims = before + list(bcast) + after if adjacent else list(bcast) + before + after
    return Layout(tuple(dims), tuple(items), ndim)


def _input_entries(idx_list):
    """The markers of ``idx_list`` in input order (a slice's parts included)."""
    for entry in idx_list:
        if isinstance(entry, Slice):
            yield from (p for p in entry if p is SCALAR)
        elif entry is SCALAR or entry is ARRAY:
            yield entry


def input_kinds(inputs) -> tuple:
    return tuple(("b" if v.dtype == "bool" else "i", v.ndim) for v in inputs)


def slice_length(n: int, s: Slice, parts=()) -> int:
    """``len(range(n)[s])`` with SCALAR parts taken from ``parts`` (ints)."""
    it = iter(parts)
    bounds = [int(next(it)) if p is SCALAR else p for p in s]
    if bounds[2] == 0:
        raise ValueError("slice step cannot be zero")
    return len(range(*slice(*bounds).indices(int(n))))


def result_shape(lay: Layout, x_shape, item_shapes, slice_len, broadcast) -> tuple:
    """The shape of ``x[idx]`` from helpers for static, symbolic or run-time shapes.

    ``item_shapes``: one shape per advanced item; ``slice_len(n, dim)`` gives
    a slice dimension's length; ``broadcast(shapes)`` the broadcast shape.
    """
    bcast = broadcast(item_shapes) if lay.bcast_ndim else ()
    shape = []
    for dim in lay.dims:
        if dim[0] == "new":
            shape.append(1)
        elif dim[0] == "adv":
            shape.append(bcast[dim[1]])
        else:
            shape.append(slice_len(x_shape[dim[1]], dim))
    return tuple(shape)


def static_broadcast(shapes, what: str = "indexing arrays") -> tuple:
    """NumPy broadcasting of static shapes (None: unknown); conflicts raise."""
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        known = sizes - {None}
        if len(known) > 1:
            text = " ".join(
                str(tuple("?" if d is None else d for d in s)) for s in shapes
            )
            raise IndexError(
                f"shape mismatch: {what} could not be broadcast together with "
                f"shapes {text}"
            )
        result.append(known.pop() if known else None if sizes else 1)
    return tuple(result)


def static_result_shape(lay: Layout, x: Variable, inputs) -> tuple:
    """The static shape of ``x[idx]``; checks constant indices against ``x``."""
    x_shape = x.type.shape
    item_shapes = []
    for kind, axis, ref in lay.items:
        size = x_shape[axis]
        if kind in ("const", "scalar"):
            value = ref if kind == "const" else _constant_int(inputs[ref])
            if value is not None and size is not None and not -size <= value < size:
                raise IndexError(
                    f"index {value} is out of bounds for axis {axis} with size {size} "
                    f"(indexing {x.describe()})"
                )
            item_shapes.append(())
        elif kind == "array":
            var = inputs[ref]
            if isinstance(var, Constant) and var.data.size and size is not None:
                low, high = int(var.data.min()), int(var.data.max())
                if low < -size or high >= size:
                    bad = low if low < -size else high
                    raise IndexError(
                        f"index {bad} is out of bounds for axis {axis} with size "
                        f"{size} (indexing {x.describe()})"
                    )
            item_shapes.append(var.type.shape)
        else:
            var = inputs[ref]
            for j, got in enumerate(var.type.shape):
                want = x_shape[axis + j]
                if got is not None and want is not None and got != want:
                    raise IndexError(
                        f"boolean index did not match indexed array along axis "
                        f"{axis + j}; size of axis is {want} but size of corresponding "
                        f"boolean axis is {got} (indexing {x.describe()})"
                    )
            count = (
                int(np.count_nonzero(var.data)) if isinstance(var, Constant) else None
            )
            item_shapes.append((count,))

    def slice_len(n, dim):
        entry, positions = dim[2], dim[3]
        values = [_constant_int(inputs[p]) for p in positions]
        if _keeps_size(entry):
            return n
        if n is None or None in values:
            return None
        return slice_length(n, entry, values)

    return result_shape(lay, x_shape, item_shapes, slice_len, static_broadcast)


def _constant_int(var):
    return int(var.data) if isinstance(var, Constant) else None


def _keeps_size(entry: Slice) -> bool:
    """``x[:]`` and ``x[::-1]`` keep the size of the axis."""
    return entry.start is None and entry.stop is None and entry.step in (None, 1, -1)


def symbolic_result_shape(lay: Layout, x_shape, inputs, input_shapes) -> tuple:
    """``x[idx]``'s shape as int64 scalars (for infer_shape)."""
    from symgraph.ops.reduce import sum as sum_

    item_shapes = []
    static = []
    for kind, _, ref in lay.items:
        if kind in ("const", "scalar"):
            item_shapes.append(())
            static.append(())
        elif kind == "array":
            item_shapes.append(tuple(input_shapes[ref]))
            static.append(inputs[ref].type.shape)
        else:
            var = inputs[ref]
            count = (
                int(np.count_nonzero(var.data))
                if isinstance(var, Constant)
                else sum_(var)
            )
            item_shapes.append((count,))
            static.append((count if isinstance(count, int) else None,))

    def broadcast(shapes):
        # The first index not of static size 1 on an axis gives its size
        # (only static size 1 broadcasts; perform checks that at run time).
        result = []
        for axis in range(-lay.bcast_ndim, 0):
            size = 1
            for shp, st in zip(shapes, static, strict=True):
                if len(shp) >= -axis and st[axis] != 1:
                    size = shp[axis]
                    break
            result.append(size)
        return tuple(result)

    def slice_len(n, dim):
        entry, positions = dim[2], dim[3]
        if _keeps_size(entry):
            return n
        parts = [inputs[p] for p in positions]
        n_value = n if isinstance(n, int) else _constant_int(n)
        values = [_constant_int(v) for v in parts]
        if n_value is not None and None not in values:
            return slice_length(n_value, entry, values)
        return SliceLength(entry)(n, *parts)

    return result_shape(lay, x_shape, item_shapes, slice_len, broadcast)


def wrap_index_error(node, exc: Exception) -> Exception:
    """NumPy's indexing error, naming the input that was indexed."""
    message = f"{node.op}: {exc} (indexing input 0 {node.inputs[0].describe()})"
    return type(exc)(message)


# --------------------------------------------------------------- the ops


class SliceLength(Op):
    """``len(range(n)[start:stop:step])``: a slice's size, for ``infer_shape``.

    ``slice_`` is a :class:`Slice` of constants and SCALAR markers; the node's
    inputs are ``n`` and the symbolic bounds.
    """

    __props__ = ("slice_",)

    def __init__(self, slice_: Slice) -> None:
        self.slice_ = Slice(*slice_)

    def __str__(self) -> str:
        return f"SliceLength{{{self.slice_!r}}}"

    __repr__ = __str__

    def make_node(self, n, *parts) -> Apply:
        from symgraph.ops.shape import as_index_scalar

        n = as_index_scalar(n, "SliceLength size")
        parts = [as_index_scalar(p, "slice bound") for p in parts]
        if len(parts) != sum(p is SCALAR for p in self.slice_):
            raise TypeError(f"{self}: expected one input per '?' bound, got {parts}")
        return Apply(self, [n, *parts], [TensorType("int64", ())()])

    def perform(self, node, inputs, output_storage) -> None:
        n, *parts = inputs
        output_storage[0][0] = np.asarray(
            slice_length(n, self.slice_, parts), dtype="int64"
        )

    def grad(self, inputs, output_grads):
        from symgraph.gradient import disconnected_type

        return [disconnected_type() for _ in inputs]

    def connection_pattern(self, node):
        return [[False] for _ in node.inputs]

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]


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
        markers = list(_input_entries(self.idx_list))
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
    if x.owner is not None and len(idx_list) == 1 and _is_int(idx_list[0]):
        from symgraph.ops.shape import Shape, shape_i

        # x.shape[i] is Shape_i: a constant where the size is static
        base = x.owner.inputs[0] if isinstance(x.owner.op, Shape) else None
        if base is not None and -base.ndim <= idx_list[0] < base.ndim:
            return shape_i(base, idx_list[0] % base.ndim)
    if ARRAY in idx_list:
        from symgraph.ops import advanced_subtensor as adv

        return adv.advanced_getitem(x, idx_list, inputs)
    return Subtensor(_strip(expand_ellipsis(idx_list, x.ndim)))(x, *inputs)


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
    if not _is_int(axis) or not -a.ndim <= axis < a.ndim:
        raise ValueError(
            f"take: axis {axis!r} is out of range for {a.describe()} "
            f"({a.ndim}-dimensional)"
        )
    if isinstance(indices, tuple):
        indices = list(indices)  # a tuple would read as several indices
    return getitem(a, (slice(None),) * (axis % a.ndim) + (indices,))
