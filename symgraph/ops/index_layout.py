"""The static structure of a NumPy index, and the shape it gives.

:func:`parse_index` turns what a user wrote between brackets into an
``idx_list`` (constants, ``None``, and the markers ``SCALAR``/``ARRAY`` for
symbolic values, taken from the node's inputs in order) and those inputs.
:func:`layout` says where each index's axes go in the result; the result's
shape follows from it, statically (:func:`static_result_shape`) or as
symbolic int64 scalars (:func:`symbolic_result_shape`, with
:class:`SliceLength` for a slice's size). The indexing ops of
:mod:`symgraph.ops.subtensor` and :mod:`symgraph.ops.advanced_subtensor`
share all of this.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from symgraph.graph import Apply, Constant, TensorType, Variable, as_tensor_variable
from symgraph.op import Op

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


def is_int(value) -> bool:
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
    if part is None or is_int(part):
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
        elif is_int(item):
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
    return strip_index(tuple(entries)), inputs


def strip_index(idx_list: tuple) -> tuple:
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
        1 for e in idx_list if e is SCALAR or is_int(e) or isinstance(e, Slice)
    )
    arrays = [
        k for e, k in zip(input_entries(idx_list), kinds, strict=True) if e is ARRAY
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
        elif is_int(entry):
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


def input_entries(idx_list):
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
