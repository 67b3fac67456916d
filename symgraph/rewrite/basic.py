"""Merge (CSE), constant folding, useless-op removal and shape inference."""

from __future__ import annotations

import numpy as np

from symgraph.graph import Constant, TensorType
from symgraph.ops import scalar_math as S
from symgraph.ops.creation import Alloc
from symgraph.ops.elemwise import DimShuffle, Elemwise
from symgraph.ops.gradient_ops import _GradientIdentity
from symgraph.ops.reduce import Reduce
from symgraph.ops.shape import Shape, Shape_i
from symgraph.rewrite.engine import rewriter
from symgraph.rewrite.utils import covers, fit, scalar_constant, scalar_op

#: Folding stops at outputs larger than this many elements, unless they are
#: no larger than the inputs (``alloc(0, 1000, 1000)`` stays an alloc).
FOLD_LIMIT = 4096


@rewriter("merge", tracks=None)
def local_merge(fgraph, node):
    # f(a, b) computed twice -> once (hash of (op, inputs); constants by value)
    other = fgraph.merge_candidate(node)
    return None if other is None else list(other.outputs)


@rewriter("constant_fold", tracks=None)
def local_constant_fold(fgraph, node):
    # f(c1, c2) -> c, with c = perform(c1, c2)
    if not node.inputs:
        return None
    for v in node.inputs:
        if not isinstance(v, Constant):
            return None
    if getattr(node.op, "no_constant_folding", False) or node.op.destroy_map:
        return None
    if any(not isinstance(o.type, TensorType) for o in node.outputs):
        return None
    storage = [[None] for _ in node.outputs]
    with np.errstate(all="ignore"):
        node.op.perform(node, [v.data for v in node.inputs], storage)
    in_size = sum(v.data.size for v in node.inputs)
    result = []
    for out, (value,) in zip(node.outputs, storage, strict=False):
        value = np.asarray(value, dtype=out.dtype)
        if value.size > FOLD_LIMIT and value.size > in_size:
            return None
        result.append(Constant(TensorType(out.dtype, value.shape), value))
    return result


# ------------------------------------------------------------- useless ops


@rewriter(
    "canonicalize", tracks=(S.Add, S.Mul, S.Sub, S.TrueDiv, S.Pow, S.Identity, S.Cast)
)
def local_useless_elemwise(fgraph, node):
    # x+0 -> x, x*1 -> x, x-0 -> x, x/1 -> x, x**1 -> x, identity(x) -> x,
    # cast(x, x.dtype) -> x
    op = node.op.scalar_op
    out = node.outputs[0]
    ins = node.inputs
    if isinstance(op, (S.Identity, S.Cast)):
        x = ins[0]
        return [x] if x.dtype == out.dtype else None
    if isinstance(op, (S.Add, S.Mul)):
        neutral = 0 if isinstance(op, S.Add) else 1
        keep = [v for v in ins if scalar_constant(v) != neutral]
        if len(keep) == len(ins):
            return None
        if not keep:
            return [fit(fgraph, ins[0], out)]
        if len(keep) == 1:
            new = keep[0]
        else:
            new = Elemwise(op)(*keep)
        if new.dtype != out.dtype or not covers(new, out):
            return [fit(fgraph, new, out)]
        return [new]
    neutral = {S.Sub: 0, S.TrueDiv: 1, S.Pow: 1}[type(op)]
    x, y = ins
    if scalar_constant(y) == neutral and x.dtype == out.dtype and covers(x, out):
        return [x]
    return None


@rewriter("canonicalize", tracks=(DimShuffle,))
def local_dimshuffle(fgraph, node):
    # dimshuffle{0,1,...}(x) -> x;  ds{p}(ds{q}(x)) -> ds{q o p}(x)
    op = node.op
    x = node.inputs[0]
    if op.new_order == tuple(range(op.input_ndim)):
        return [x]
    inner = x.owner
    if inner is not None and isinstance(inner.op, DimShuffle):
        order = tuple("x" if a == "x" else inner.op.new_order[a] for a in op.new_order)
        return [DimShuffle(inner.op.input_ndim, order)(inner.inputs[0])]
    return None


@rewriter("canonicalize", tracks=(DimShuffle,))
def local_dimshuffle_lift(fgraph, node):
    # ds(f(a, b)) -> f(ds(a), ds(b)): dimshuffles move toward the inputs
    x = node.inputs[0]
    inner = x.owner
    if inner is None or not isinstance(inner.op, Elemwise) or len(inner.outputs) != 1:
        return None
    if fgraph.n_clients(x) != 1:
        return None
    ds = node.op
    return [
        inner.op(*[DimShuffle(ds.input_ndim, ds.new_order)(v) for v in inner.inputs])
    ]


@rewriter("canonicalize", tracks=(Reduce,))
def local_reduce_useless(fgraph, node):
    # sum(x, axis=()) -> x; sum over axes of size 1 -> dimshuffle (drop them)
    op = node.op
    x = node.inputs[0]
    if type(op).__name__ not in _VALUE_REDUCTIONS:
        return None  # argmax over one element is 0, not the element
    if not all(x.type.shape[a] == 1 for a in op.axis):
        return None
    if op.keepdims or not op.axis:
        new = x
    else:
        new = DimShuffle(x.ndim, [a for a in range(x.ndim) if a not in op.axis])(x)
    return [fit(fgraph, new, node.outputs[0])]


_VALUE_REDUCTIONS = ("Sum", "Prod", "Max", "Min", "All", "Any")


@rewriter("canonicalize", tracks=(Alloc,))
def local_useless_alloc(fgraph, node):
    # alloc(x, *x.shape) -> x
    value, *dims = node.inputs
    out = node.outputs[0]
    if value.ndim != out.ndim or value.dtype != out.dtype:
        return None
    shape = fgraph.shape_of(value)
    if not all(same_value(d, s) for d, s in zip(dims, shape, strict=False)):
        return None
    return [value]


@rewriter("canonicalize", tracks=(Elemwise,))
def local_alloc_in_elemwise(fgraph, node):
    # f(alloc(v, shape), y) -> f(v, y) where y already gives the output that shape
    out = node.outputs[0]
    changed = False
    inputs = list(node.inputs)
    for i, v in enumerate(inputs):
        if v.owner is None or not isinstance(v.owner.op, Alloc):
            continue
        value, *dims = v.owner.inputs
        others = [w for j, w in enumerate(inputs) if j != i]
        if not others or not _shape_given_by(fgraph, dims, value, others, out):
            continue
        inputs[i] = value
        changed = True
    if not changed:
        return None
    return [fit(fgraph, node.op(*inputs), out)]


def _shape_given_by(fgraph, dims, value, others, out) -> bool:
    """Every axis the alloc sizes is sized the same by ``value`` or another input."""
    lead = len(dims) - value.ndim
    for axis, d in enumerate(dims):
        if out.type.shape[axis] == 1:
            continue
        if axis >= lead and value.type.shape[axis - lead] != 1:
            continue  # the value itself has that size (alloc only broadcasts)
        if not any(
            w.type.shape[axis] != 1 and same_value(fgraph.shape_of(w)[axis], d)
            for w in others
        ):
            return False
    return True


def same_value(a, b, depth: int = 3) -> bool:
    """``a`` and ``b`` compute the same value: same variable, equal constants, or
    the same op on inputs that are the same (shape expressions built twice)."""
    if a is b:
        return True
    va = scalar_constant(a)
    if va is not None:
        return va == scalar_constant(b)
    if depth == 0 or a.owner is None or b.owner is None or a.index != b.index:
        return False
    if a.owner.op != b.owner.op or len(a.owner.inputs) != len(b.owner.inputs):
        return False
    return all(
        same_value(x, y, depth - 1)
        for x, y in zip(a.owner.inputs, b.owner.inputs, strict=False)
    )


# ------------------------------------------------------------ shape inference


@rewriter("canonicalize", tracks=(Shape_i,))
def local_shape_i_infer(fgraph, node):
    # shape_i(f(x)) -> the infer_shape expression of f in terms of x's shape
    x = node.inputs[0]
    if x.owner is None:
        size = x.type.shape[node.op.i]
        return None if size is None else [Constant(TensorType("int64", ()), size)]
    dim = fgraph.shape_of(x)[node.op.i]
    if dim.owner is not None and dim.owner.op == node.op and dim.owner.inputs[0] is x:
        return None  # no rule gave anything better
    return [fit(fgraph, dim, node.outputs[0])]


@rewriter("canonicalize", tracks=(Shape,))
def local_shape_static(fgraph, node):
    # shape(x) -> constant where x's static shape is fully known
    x = node.inputs[0]
    dims = [scalar_constant(d) for d in fgraph.shape_of(x)]
    if any(d is None for d in dims):
        return None
    return [
        Constant(TensorType("int64", (len(dims),)), np.asarray(dims, dtype="int64"))
    ]


@rewriter("canonicalize", tracks=(_GradientIdentity,))
def local_remove_gradient_identity(fgraph, node):
    # zero_grad(x), grad_clip(x), grad_scale(x)... -> x once gradients are taken
    return [node.inputs[0]]


__all__ = ["scalar_op"]
