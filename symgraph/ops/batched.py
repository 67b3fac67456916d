"""Vectorising a graph over a new leading (batch) axis.

:func:`vectorize_graph` rebuilds a graph so that some of its variables carry
one extra leading axis: ``vectorize_graph(g, {u: U})`` with ``U`` a stack of
values of ``u`` computes ``g`` for each of them at once. ``sg.jacobian`` uses
it to apply a vector-Jacobian product to all the one-hot cotangents (the rows
of an identity matrix) in one graph, with no Python loop over the outputs.

Each op class has a *batch rule* (``batch_rule.register(OpClass)``, a
singledispatch on the op) that rewrites one node for batched inputs:
elementwise ops broadcast, reductions and dimshuffles shift their axes,
products become ``matmul`` of stacks. An op without a rule is wrapped in
:class:`Batched`, which loops over the batch axis at run time calling the
op's ``perform`` on each slice: still one node, still differentiable (its
gradient is the vectorised gradient of the op).
"""

from __future__ import annotations

import copy
import functools

import numpy as np

from symgraph.graph import Apply, TensorType, Variable, ancestors, io_toposort
from symgraph.op import Op

__all__ = ["vectorize_graph", "batch_rule", "Batched"]


def vectorize_graph(
    outputs, batched: dict, plain: dict | None = None
) -> list[Variable]:
    """``outputs`` rebuilt with the variables of ``batched`` given a batch axis.

    ``batched`` maps variables to stacks of values (one more leading axis,
    the same batch size for all); ``plain`` maps variables to unbatched
    replacements. Every returned variable has the batch axis, including
    outputs that do not depend on the batched variables (broadcast).
    """
    from symgraph.ops.creation import alloc
    from symgraph.ops.shape import shape_i, shape_tuple

    stacked: dict[Variable, Variable] = dict(batched)
    memo: dict[Variable, Variable] = dict(plain or {})
    for node in io_toposort(list(stacked) + list(memo), list(outputs)):
        flags = tuple(x in stacked for x in node.inputs)
        inputs = [
            stacked[x] if f else memo.get(x, x)
            for x, f in zip(node.inputs, flags, strict=True)
        ]
        if not any(flags):
            if any(
                new is not old for new, old in zip(inputs, node.inputs, strict=True)
            ):
                for old, new in zip(
                    node.outputs,
                    node.clone_with_new_inputs(inputs).outputs,
                    strict=True,
                ):
                    memo[old] = new
            continue
        for old, (new, is_batched) in zip(
            node.outputs, batch_rule(node.op, node, inputs, flags), strict=True
        ):
            if is_batched:
                stacked[old] = new
            else:
                memo[old] = new
    size = shape_i(next(iter(batched.values())), 0)
    results = []
    for out in outputs:
        if out in stacked:
            results.append(stacked[out])
        else:
            out = memo.get(out, out)
            results.append(alloc(out, size, *shape_tuple(out)))
    return results


@functools.singledispatch
def batch_rule(op, node: Apply, inputs: list[Variable], flags: tuple[bool, ...]):
    """``[(output, is_batched)]`` for ``node`` applied to (partly) batched inputs.

    ``flags[i]`` says whether ``inputs[i]`` has the batch axis. The default
    wraps the op in :class:`Batched` (a run-time loop over the batch axis).
    """
    return _fallback(op, node, inputs, flags)


def _fallback(op, node, inputs, flags):
    return [(out, True) for out in Batched(op, flags).make_node(*inputs).outputs]


def _pad_left(x: Variable) -> Variable:
    """An unbatched ``x`` with a leading broadcastable axis."""
    return _dimshuffle(x, ["x"] + list(range(x.ndim)))


def _dimshuffle(x: Variable, order) -> Variable:
    from symgraph.ops.elemwise import DimShuffle

    return DimShuffle(x.ndim, order)(x)


# -- batch rules: one per op class, registered by _register_rules below


def _elemwise(op, node, inputs, flags):
    # all inputs of an Elemwise node have the same ndim: pad the unbatched
    padded = [x if f else _pad_left(x) for x, f in zip(inputs, flags, strict=True)]
    return [(out, True) for out in op.make_node(*padded).outputs]


def _dimshuffle_rule(op, node, inputs, flags):
    order = [0] + ["x" if a == "x" else a + 1 for a in op.new_order]
    return [(_dimshuffle(inputs[0], order), True)]


def _reduce(op, node, inputs, flags):
    shifted = copy.copy(op)
    shifted.axis = tuple(a + 1 for a in op.axis)
    return [(shifted(inputs[0]), True)]


def _alloc(op, node, inputs, flags):
    from symgraph.ops.shape import shape_i

    value, *dims = inputs
    if any(flags[1:]):
        return _fallback(op, node, inputs, flags)
    # value (B, ...) -> (B, 1.., ...) aligned with the allocated shape
    lead = len(dims) - (value.ndim - 1)
    value = _dimshuffle(value, [0] + ["x"] * lead + list(range(1, value.ndim)))
    return [(op(value, shape_i(value, 0), *dims), True)]


def _shape_i(op, node, inputs, flags):
    from symgraph.ops.shape import shape_i

    return [(shape_i(inputs[0], op.i + 1), False)]


def _reshape(op, node, inputs, flags):
    from symgraph.ops.shape import shape_i

    x, *dims = inputs
    if any(flags[1:]):
        return _fallback(op, node, inputs, flags)
    dims = _without_minus_one(x, dims)
    return [(type(op)(op.ndim + 1)(x, shape_i(x, 0), *dims), True)]


def _without_minus_one(x, dims):
    """``dims`` of one slice of the stack ``x``, a -1 among them worked out
    from that slice's size: with an empty batch the stack has no elements,
    and NumPy cannot infer a -1 from them."""
    from symgraph.graph import Constant
    from symgraph.ops.math import int_div, maximum, mul
    from symgraph.ops.shape import shape_i

    at = [k for k, d in enumerate(dims) if isinstance(d, Constant) and d.data == -1]
    if not at:
        return dims
    size = functools.reduce(mul, [shape_i(x, d) for d in range(1, x.ndim)], 1)
    others = [d for k, d in enumerate(dims) if k != at[0]]
    known = functools.reduce(mul, others, 1)
    dims = list(dims)
    dims[at[0]] = int_div(size, maximum(known, 1))  # as NumPy, if no size is 0
    return dims


def _subtensor(op, node, inputs, flags):
    # x[idx] for each slice of x is x_stack[:, idx]
    from symgraph.ops.index_layout import FULL

    if any(flags[1:]):
        return _fallback(op, node, inputs, flags)
    return [(type(op)((FULL, *op.idx_list))(*inputs), True)]


def _inc_subtensor(op, node, inputs, flags):
    from symgraph.ops.creation import alloc
    from symgraph.ops.index_layout import FULL
    from symgraph.ops.shape import shape_i, shape_tuple

    x, y, *index = inputs
    if any(flags[2:]):
        return _fallback(op, node, inputs, flags)
    if not flags[0]:  # every slice starts from the same x
        x = alloc(x, shape_i(y, 0), *shape_tuple(x))
    if flags[1]:  # y's batch axis must line up with x's, before any broadcast
        target = op.get_op(op.idx_list).make_node(node.inputs[0], *index).outputs[0]
        lead = target.ndim - node.inputs[1].ndim
        y = _dimshuffle(y, [0] + ["x"] * lead + list(range(1, y.ndim)))
    stacked = type(op)((FULL, *op.idx_list), op.set_instead_of_inc, op.inplace)
    return [(stacked(x, y, *index), True)]


def _matmul(op, node, inputs, flags):
    # Matmul broadcasts stacks: the unbatched operand gets a size-1 axis
    a, b = (x if f else _pad_left(x) for x, f in zip(inputs, flags, strict=True))
    return [(op(a, b), True)]


def _dot(op, node, inputs, flags):
    from symgraph.ops.linalg import matmul

    a, b = inputs
    fa, fb = flags
    va = a.ndim - fa == 1  # the unbatched operand was a vector
    vb = b.ndim - fb == 1
    if fa and fb:
        # per-slice products: give vectors a unit axis, matmul, drop it
        a2 = _dimshuffle(a, [0, "x", 1]) if va else a
        b2 = _dimshuffle(b, [0, 1, "x"]) if vb else b
        keep = [i for i, drop in ((0, False), (1, va), (2, vb)) if not drop]
        return [(_dimshuffle(matmul(a2, b2), keep), True)]
    if fb and vb:  # a . b[k] for every k: the rows of b_stack . a^T
        return [(matmul(b, _dimshuffle(a, list(range(a.ndim))[::-1])), True)]
    return [(matmul(a, b), True)]  # a stack times one matrix, or one a times stacks


_RULES = {
    "symgraph.ops.elemwise": {"Elemwise": _elemwise, "DimShuffle": _dimshuffle_rule},
    "symgraph.ops.reduce": {"Reduce": _reduce},
    "symgraph.ops.creation": {"Alloc": _alloc},
    "symgraph.ops.shape": {"Shape_i": _shape_i, "Reshape": _reshape},
    "symgraph.ops.subtensor": {"Subtensor": _subtensor, "IncSubtensor": _inc_subtensor},
    "symgraph.ops.linalg": {"Matmul": _matmul, "Dot": _dot},
}


def _register_rules() -> None:
    """Register the rules above for the op families that are installed."""
    import importlib

    for module_name, rules in _RULES.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pragma: no cover - a family not written yet
            continue
        for class_name, rule in rules.items():
            if hasattr(module, class_name):
                batch_rule.register(getattr(module, class_name), rule)


class Batched(Op):
    """``core_op`` applied to every slice along the leading axis of its inputs.

    ``batched[i]`` says whether input ``i`` carries the batch axis; the other
    inputs are shared by all slices. The fallback of :func:`vectorize_graph`
    for ops without a batch rule: ``perform`` loops over the slices.
    """

    __props__ = ("core_op", "batched")

    def __init__(self, core_op: Op, batched) -> None:
        self.core_op = core_op
        self.batched = tuple(bool(b) for b in batched)

    def __str__(self) -> str:
        return f"Batched{{{self.core_op}}}"

    __repr__ = __str__

    def _core_inputs(self, inputs):
        return [
            TensorType(x.dtype, x.type.shape[1:])() if b else x
            for x, b in zip(inputs, self.batched, strict=True)
        ]

    def make_node(self, *inputs) -> Apply:
        if len(inputs) != len(self.batched) or not any(self.batched):
            raise TypeError(
                f"{self}: expected {len(self.batched)} inputs, some batched"
            )
        core = self.core_op.make_node(*self._core_inputs(inputs))
        sizes = {
            x.type.shape[0] for x, b in zip(inputs, self.batched, strict=True) if b
        } - {None}
        size = sizes.pop() if len(sizes) == 1 else None
        outputs = [TensorType(o.dtype, (size, *o.type.shape))() for o in core.outputs]
        node = Apply(self, inputs, outputs)
        node.tag.core_node = core
        return node

    def _core_node(self, node):
        if not hasattr(node.tag, "core_node"):
            node.tag.core_node = self.core_op.make_node(*self._core_inputs(node.inputs))
        return node.tag.core_node

    def perform(self, node, inputs, output_storage) -> None:
        core = self._core_node(node)
        sizes = {x.shape[0] for x, b in zip(inputs, self.batched, strict=True) if b}
        if len(sizes) != 1:
            raise ValueError(
                f"{self}: the batched inputs have different sizes {sorted(sizes)}"
            )
        size = sizes.pop()
        slices = [[] for _ in node.outputs]
        for k in range(max(size, 1)):  # an empty batch still runs once, for the shapes
            args = [
                (x[k] if size else np.zeros(x.shape[1:], x.dtype)) if b else x
                for x, b in zip(inputs, self.batched, strict=True)
            ]
            storage = [[None] for _ in node.outputs]
            self.core_op.perform(core, args, storage)
            for out, cell in zip(slices, storage, strict=True):
                out.append(np.asarray(cell[0]))
        for cell, values, var in zip(output_storage, slices, node.outputs, strict=True):
            stacked = np.stack(values) if size else np.empty((0, *values[0].shape))
            cell[0] = stacked.astype(var.dtype, copy=False)

    def connection_pattern(self, node):
        return self.core_op.connection_pattern(self._core_node(node))

    def L_op(self, inputs, outputs, output_grads):
        # the gradient of the map is the map of the gradient; an unbatched
        # input's gradient sums the per-slice gradients over the batch axis
        from symgraph.gradient import is_disconnected, is_null
        from symgraph.ops.reduce import sum as sum_

        core_inputs = self._core_inputs(inputs)
        core = self.core_op.make_node(*core_inputs)
        core_gz = [o.type() for o in core.outputs]
        core_grads = self.core_op.L_op(core_inputs, core.outputs, core_gz)
        mapping = {
            c: x for c, x, b in zip(core_inputs, inputs, self.batched, strict=True) if b
        }
        mapping.update(zip(core.outputs, outputs, strict=True))
        mapping.update(zip(core_gz, output_grads, strict=True))
        tensors = [
            k
            for k, g in enumerate(core_grads)
            if not (is_disconnected(g) or is_null(g))
        ]
        stacked = vectorize_graph([core_grads[k] for k in tensors], mapping)
        result = list(core_grads)
        for k, g in zip(tensors, stacked, strict=True):
            result[k] = g if self.batched[k] else sum_(g, axis=0)
        return result

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.ops.shape import shape_i

        core = self._core_node(node)
        core_shapes = [
            s[1:] if b else s for s, b in zip(input_shapes, self.batched, strict=True)
        ]
        size = next(s[0] for s, b in zip(input_shapes, self.batched, strict=True) if b)
        placeholders = {c for c, b in zip(core.inputs, self.batched, strict=True) if b}
        result = []
        for j, shp in enumerate(self.core_op.infer_shape(fgraph, core, core_shapes)):
            dims = [size]
            for axis, d in enumerate(shp):
                uses_core = isinstance(d, Variable) and placeholders & set(
                    ancestors([d])
                )
                dims.append(shape_i(node.outputs[j], axis + 1) if uses_core else d)
            result.append(tuple(dims))
        return result


_register_rules()
