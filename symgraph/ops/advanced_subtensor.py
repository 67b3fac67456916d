"""Advanced indexing: integer and boolean arrays, alone or mixed with basic indices.

NumPy's rules, which :func:`symgraph.ops.index_layout.layout` encodes: integer
arrays (and the integers beside them) broadcast together; the broadcast
dimensions replace the indexed axes in place when the advanced indices are
adjacent in the index, and go first otherwise; a boolean array of ``k``
dimensions stands for the ``k`` integer arrays of its ``nonzero()``, so its
output size is known only at run time.

One difference from NumPy, the same as for Elemwise: index arrays broadcast
only along dimensions of static size 1. Arrays whose sizes are unknown
statically must match at run time, so that shapes and gradients are known
when the graph is built.

``x[int_vector]`` alone is :class:`AdvancedSubtensor1` (a gather along axis
0), which backends can lower directly.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, Constant, Variable, as_tensor_variable
from symgraph.ops.index_layout import (
    ARRAY,
    SCALAR,
    Layout,
    result_shape,
    slice_length,
    wrap_index_error,
)
from symgraph.ops.subtensor import IncSubtensorBase, SubtensorBase

__all__: list[str] = []


def _item_shapes(node, lay, x_shape, index_values):
    """Static and run-time shapes of the advanced indices (bool: its count)."""
    index_vars = (
        node.inputs[2:] if isinstance(node.op, IncSubtensorBase) else node.inputs[1:]
    )
    static, shapes = [], []
    for kind, axis, ref in lay.items:
        if kind in ("const", "scalar"):
            static.append(())
            shapes.append(())
        elif kind == "array":
            static.append(index_vars[ref].type.shape)
            shapes.append(np.shape(index_values[ref]))
        else:
            mask = np.asarray(index_values[ref])
            want = tuple(x_shape[axis : axis + mask.ndim])
            if mask.shape != want:
                raise IndexError(
                    f"boolean index of shape {mask.shape} does not match the indexed "
                    f"axes {axis}..{axis + mask.ndim - 1} of shape {want}"
                )
            var = index_vars[ref]
            static.append(
                (
                    int(np.count_nonzero(var.data))
                    if isinstance(var, Constant)
                    else None,
                )
            )
            shapes.append((int(np.count_nonzero(mask)),))
    return static, shapes


def check_index_broadcast(lay: Layout, static_shapes, shapes) -> None:
    """Refuse index arrays that broadcast along a dimension not of static size 1."""
    for axis in range(-lay.bcast_ndim, 0):
        size = first = None
        for k, (st, shp) in enumerate(zip(static_shapes, shapes, strict=True)):
            if len(st) < -axis or st[axis] == 1:
                continue
            if size is None:
                size, first = shp[axis], k
            elif shp[axis] != size:
                raise IndexError(
                    "shape mismatch: indexing arrays could not be broadcast together: "
                    f"advanced index {first} has size {size} and advanced index {k} "
                    f"has size {shp[axis]} on broadcast axis {lay.bcast_ndim + axis}; "
                    "symgraph broadcasts only index dimensions of static size 1"
                )


class AdvancedSubtensor(SubtensorBase):
    """``x[idx]`` where ``idx`` holds integer or boolean arrays (copies the data).

    ``idx_list`` may mix ``ARRAY`` entries with everything basic indexing
    allows, and keeps an Ellipsis (its place decides NumPy's layout).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> x = T.tensor("x", shape=(3, 4, 5))
    >>> x[[0, 2], :, [1, 1]].type.shape
    (2, 4)
    """

    markers = (SCALAR, ARRAY)

    def check_values(self, node, x, index_values) -> None:
        lay = self.layout_of(node)
        if sum(kind != "const" for kind, _, _ in lay.items) > 1:
            static, shapes = _item_shapes(node, lay, x.shape, index_values)
            check_index_broadcast(lay, static, shapes)


class AdvancedSubtensor1(AdvancedSubtensor):
    """``x[i]`` for an integer vector ``i``: rows of ``x`` gathered along axis 0.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.matrix("x")[T.lvector("i")].owner.op
    AdvancedSubtensor1
    """

    __props__ = ()

    def __init__(self, idx_list=(ARRAY,)) -> None:
        if tuple(idx_list) != (ARRAY,):
            raise ValueError(
                f"AdvancedSubtensor1 indexes with one integer vector, not {idx_list!r}"
            )
        super().__init__((ARRAY,))

    def __str__(self) -> str:
        return "AdvancedSubtensor1"

    __repr__ = __str__

    def make_node(self, x, ilist) -> Apply:
        ilist = as_tensor_variable(ilist)
        if ilist.ndim != 1 or ilist.dtype[0] not in "iu":
            raise TypeError(
                f"{self}: the index must be an integer vector, got "
                f"{ilist.describe()} ({ilist.type.describe()})"
            )
        return super().make_node(x, ilist)

    def check_values(self, node, x, index_values) -> None:
        pass

    def perform(self, node, inputs, output_storage) -> None:
        x, ilist = inputs
        try:
            output_storage[0][0] = x.take(ilist, axis=0)
        except IndexError as exc:
            raise wrap_index_error(node, exc) from None

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1]) + tuple(input_shapes[0][1:])]


class AdvancedIncSubtensor(IncSubtensorBase):
    """``set_subtensor`` / ``inc_subtensor`` of an advanced index.

    Incrementing accumulates over repeated indices (``np.add.at``); setting
    with repeated indices keeps one of the values, as NumPy does.
    """

    get_op = AdvancedSubtensor

    def target_shape(self, node, out, index, index_values) -> tuple:
        lay = self.layout_of(node)
        static, shapes = _item_shapes(node, lay, out.shape, index_values)
        check_index_broadcast(lay, static, shapes)

        def slice_len(n, dim):
            return slice_length(n, dim[2], [index_values[p] for p in dim[3]])

        return result_shape(
            lay, out.shape, shapes, slice_len, lambda s: np.broadcast_shapes(*s)
        )

    def increment(self, out, index, y) -> None:
        np.add.at(out, index, y)


class AdvancedIncSubtensor1(AdvancedIncSubtensor):
    """``inc_subtensor(x[i], y)`` / ``set_subtensor`` for an integer vector ``i``."""

    __props__ = ("set_instead_of_inc", "inplace")
    get_op = AdvancedSubtensor1

    def __init__(
        self, idx_list=(ARRAY,), set_instead_of_inc: bool = False, inplace: bool = False
    ) -> None:
        if isinstance(
            idx_list, bool
        ):  # Theano's AdvancedIncSubtensor1(set_instead_of_inc)
            idx_list, set_instead_of_inc = (ARRAY,), idx_list
        AdvancedSubtensor1(idx_list)
        super().__init__((ARRAY,), set_instead_of_inc, inplace)

    def __str__(self) -> str:
        name = (
            "AdvancedSetSubtensor1"
            if self.set_instead_of_inc
            else "AdvancedIncSubtensor1"
        )
        return name + ("{inplace}" if self.inplace else "")

    __repr__ = __str__

    def target_shape(self, node, out, index, index_values) -> tuple:
        return (len(index_values[0]),) + out.shape[1:]


AdvancedSubtensor.inc_op = AdvancedIncSubtensor
AdvancedSubtensor1.inc_op = AdvancedIncSubtensor1


def advanced_getitem(x: Variable, idx_list: tuple, inputs: list) -> Variable:
    """The advanced op for a parsed index (see ``index_layout.parse_index``)."""
    if idx_list == (ARRAY,) and inputs[0].ndim == 1 and inputs[0].dtype != "bool":
        return AdvancedSubtensor1()(x, inputs[0])
    return AdvancedSubtensor(idx_list)(x, *inputs)
