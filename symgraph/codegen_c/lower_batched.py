"""Batched: a core op mapped over the leading axis (``vectorize_graph``'s fallback).

The core op's own rule runs inside a loop over the batch, on views of one
slice of each batched input; each slice's results are copied into the
stacked outputs, which are allocated once the first slice gives their shape.
"""

from __future__ import annotations

from symgraph.graph import TensorType

from .loops import emit_loops
from .lower import CVar, c_lower, c_supported, can_lower
from .registry import classes, rule
from .scalar_table import CTYPES


def _batched_supported(node) -> bool:
    return can_lower(node.op._core_node(node))


for _cls in classes("Batched"):
    c_supported(_cls)(_batched_supported)


@rule("Batched")
def c_Batched(op, node, ctx) -> None:
    core = op._core_node(node)
    label = ctx.name(node.outputs[0])
    batched = [ctx.var(x) for x, b in zip(node.inputs, op.batched, strict=False) if b]
    size = batched[0].shape(0)
    for cv in batched[1:]:
        if cv.shape(0) != size:
            ctx.emit(f"if ({cv.shape(0)} != {size})")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "the batched inputs have different sizes ({0} and {1})",
                    cv.shape(0),
                    size,
                )
            )
    outs = []
    for out in node.outputs:
        name = ctx.name(out)
        t = CTYPES[out.dtype]
        ctx.emit(f"{t} *{name} = NULL;")
        dims = []
        for d in range(out.ndim):
            ctx.emit(f"int64_t {name}_shape{d} = 0;")
            dims.append(f"{name}_shape{d}")
        outs.append((out, name, dims, ctx.acquire(out, dims)))
    # An empty batch still runs the core once, on zeros, for the shapes (as
    # perform does): each batched input then reads a zero buffer.
    bases = {}
    for i, (x_var, is_batched) in enumerate(zip(node.inputs, op.batched, strict=False)):
        if not is_batched:
            continue
        x = ctx.var(x_var)
        base = f"{label}_b{i}"
        dims = [x.shape(d) for d in range(1, x.ndim)]
        ctx.emit(f"const {CTYPES[x_var.dtype]} *{base} = {x.name};")
        ctx.open(f"if ({size} == 0)")
        zeros = ctx.temp_buffer(x_var.dtype, " * ".join(dims) or "1")
        ctx.emit(
            f"memset({zeros}, 0, (size_t)({' * '.join(dims) or '1'})"
            f" * sizeof(*{zeros}));"
        )
        ctx.emit(f"{base} = {zeros};")
        ctx.close()
        strides, stride = [], "1"
        for d in reversed(range(1, x.ndim)):
            strides.insert(0, f"({size} ? {x.stride(d)} : {stride})")
            stride = x.shape(d) if stride == "1" else f"{stride} * {x.shape(d)}"
        bases[x_var] = (base, dims, strides)
    b = f"{label}_k"
    ctx.open(f"for (int64_t {b} = 0; {b} < ({size} ? {size} : 1); {b}++)")
    for i, (core_in, x_var, is_batched) in enumerate(
        zip(core.inputs, node.inputs, op.batched, strict=False)
    ):
        if not is_batched:
            continue
        x = ctx.var(x_var)
        base, dims, strides = bases[x_var]
        # named after the node: x_var may be a constant, which has no name
        ctx.unit.name_temp(core_in, f"{label}_s{i}")
        ctx.new_view(
            core_in, x, f"{base} + ({size} ? {b} * {x.stride(0)} : 0)", dims, strides
        )
    for core_out in core.outputs:
        ctx.unit.name_temp(core_out, f"{label}_c{core_out.index}")
    c_lower(op.core_op, core, ctx)
    for (out, name, dims, call), core_out in zip(outs, core.outputs, strict=False):
        res = ctx.var(core_out)
        res_dims = res.dims if res.kind == "array" else []
        ctx.open(f"if ({b} == 0)")
        ctx.emit(f"{dims[0]} = {size};")
        for d, expr in enumerate(res_dims, start=1):
            ctx.emit(f"{dims[d]} = {expr};")
        ctx.emit(f"{name} = {call};")
        ctx.emit(f"if (!{name})")
        ctx.emit("    return SG_ERROR;")
        ctx.close()
        for d, expr in enumerate(res_dims, start=1):
            ctx.emit(f"if ({expr} != {dims[d]})")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "the slices' results differ in shape on axis {0}", str(d)
                )
            )
        stride = "1"
        strides = []
        for d in reversed(range(1, out.ndim)):
            strides.insert(0, stride)
            stride = dims[d] if stride == "1" else f"{stride} * {dims[d]}"
        # one slice of out: the core output's rank and static shape, not out's
        # (a static batch size of 1 would read as a broadcast first core axis)
        core_type = TensorType(out.dtype, out.type.shape[1:])
        region = CVar(core_type(), f"{name}_r", "array", dims=res_dims)
        region.strides = strides
        ctx.open(f"if ({size} > 0)")
        ctx.emit(f"{CTYPES[out.dtype]} *{name}_r = {name} + {b} * ({stride});")
        if res.kind != "array":
            ctx.emit(f"{name}_r[0] = {res.name};")
        else:

            def body(index, region=region, res=res) -> None:
                ctx.emit(
                    f"{region.name}[{index.offset(region)}] = "
                    f"{res.name}[{index.offset(res)}];"
                )

            emit_loops(ctx, res_dims, core_out.type.shape, body, None, parallel=False)
        ctx.close()
    ctx.close()
    for out, name, dims, _ in outs:
        ctx.cvars[out] = CVar(out, name, "array", contiguous=True, dims=dims)
        stride = "1"
        for d in reversed(range(out.ndim)):
            ctx.declare("int64_t", f"{name}_stride{d}", stride)
            stride = dims[d] if stride == "1" else f"{stride} * {dims[d]}"
