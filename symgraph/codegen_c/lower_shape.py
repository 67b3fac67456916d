"""Shape lowering: views (DimShuffle, identities), symbolic shapes, Alloc."""

from __future__ import annotations

from symgraph.ops.elemwise import DimShuffle

from . import prelude
from .loops import SCALAR, emit_loops
from .lower import VIEW_OPS, c_lower
from .registry import classes, rule


def alias(ctx, out, src) -> None:
    """``out`` is ``src`` under another name (an identity): no code."""
    if src.kind == "scalar":
        from .lower import CVar

        ctx.cvars[out] = CVar(out, src.name, "scalar", literal=src.literal, dims=[])
        return
    strides = [src.stride(d) for d in range(src.ndim)]
    ctx.new_view(out, src, src.name, src.dims, strides)


@c_lower.register(DimShuffle)
def c_DimShuffle(op, node, ctx) -> None:
    x = ctx.var(node.inputs[0])
    (out,) = node.outputs
    if x.kind == "scalar" and out.ndim == 0:
        alias(ctx, out, x)
        return
    dims, strides = [], []
    for axis in op.new_order:
        if axis == "x":
            dims.append("1")
            strides.append("0")
        else:
            dims.append(x.shape(axis))
            strides.append(x.stride(axis))
    view = ctx.new_view(out, x, ctx.pointer(x), dims, strides)
    if x.kind == "scalar":
        view.value = x.name  # one value with size-1 axes: read it directly
    elif x.value is not None:
        view.value = x.value


VIEW_OPS.add(DimShuffle)


@rule("Shape")
def c_Shape(op, node, ctx) -> None:
    x = ctx.var(node.inputs[0])
    ctx.new_local_array(node.outputs[0], [x.shape(d) for d in range(x.ndim)])


@rule("Shape_i")
def c_Shape_i(op, node, ctx) -> None:
    x = ctx.var(node.inputs[0])
    ctx.new_scalar(node.outputs[0], x.shape(op.i))


def broadcast_to(ctx, value, dims: list[str]):
    """A view of ``value`` read as an array of sizes ``dims`` (NumPy rules:
    missing leading axes and axes of size 1 repeat). Emits the size checks."""
    out_nd = len(dims)
    lead = out_nd - value.ndim
    if value.kind == "scalar":
        return value, []
    strides = []
    for d in range(value.ndim):
        size, want = value.shape(d), dims[lead + d]
        if size == "1":
            strides.append("0")
            continue
        if size != want:
            ctx.emit(f"if ({size} != {want} && {size} != 1)")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "cannot broadcast the value (size {0} on its axis {1}) to size {2}",
                    size,
                    str(d),
                    want,
                )
            )
            strides.append(f"({size} == 1 ? 0 : {value.stride(d)})")
        else:
            strides.append(value.stride(d))
    return value, strides


@rule("Alloc")
def c_Alloc(op, node, ctx) -> None:
    value_var, *dim_vars = node.inputs
    (out,) = node.outputs
    dims = []
    for d, var in enumerate(dim_vars):
        size = ctx.element(var, SCALAR)
        if out.type.shape[d] is None:
            ctx.emit(f"if ({size} < 0)")
            ctx.emit(
                "    "
                + ctx.op_error("negative dimension {0} on axis {1}", size, str(d))
            )
        dims.append(size)
    value = ctx.var(value_var)
    if out.ndim == 0:
        ctx.new_scalar(out, ctx.element(value_var, SCALAR))
        return
    dst = ctx.new_array(out, dims)
    src, strides = broadcast_to(ctx, value, dst.dims)
    lead = out.ndim - value_var.ndim

    def body(index) -> None:
        if src.kind == "scalar":
            ctx.emit(f"{dst.name}[{index.offset(dst)}] = {src.name};")
            return
        terms = []
        for d, stride in enumerate(strides):
            i = index.dims[lead + d] if index.dims else None
            if i is not None and stride != "0":
                terms.append(f"{i} * {stride}" if stride != "1" else i)
        off = " + ".join(terms) or "0"
        ctx.emit(f"{dst.name}[{index.offset(dst)}] = {src.name}[{off}];")

    flat = [] if src.kind == "scalar" else None
    emit_loops(ctx, dst.dims, out.type.shape, body, flat)


@rule("ZeroGrad", "DisconnectedGrad", "GradClip", "GradScale", "_GradientIdentity")
def c_GradientIdentity(op, node, ctx) -> None:
    """The gradient-only ops: the identity of input 0 going forward."""
    alias(ctx, node.outputs[0], ctx.var(node.inputs[0]))


VIEW_OPS.update(
    classes(
        "ZeroGrad", "DisconnectedGrad", "GradClip", "GradScale", "_GradientIdentity"
    )
)

__all__ = ["alias", "broadcast_to", "prelude"]
