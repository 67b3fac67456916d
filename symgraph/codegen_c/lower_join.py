"""Join (concatenate), Split (views) and Repeat."""

from __future__ import annotations

from .loops import SCALAR, Index, emit_loops
from .lower import CVar
from .registry import rule
from .scalar_table import CTYPES


def _region(ctx, dst, offset: str, dims, label: str) -> CVar:
    """A writable window of ``dst`` (same strides) starting at ``offset``."""
    t = CTYPES[dst.dtype]
    ctx.emit(f"{t} *{label} = {dst.name} + {offset};")
    for d in range(dst.ndim):
        ctx.declare("int64_t", f"{label}_stride{d}", dst.stride(d))
    return CVar(dst.var, label, "array", dims=list(dims))


def _copy(ctx, region, src) -> None:
    def body(index) -> None:
        ctx.emit(
            f"{region.name}[{index.offset(region)}] = {src.name}[{index.offset(src)}];"
        )

    static = tuple(
        s if d.isdigit() else None
        for s, d in zip(src.static_shape, region.dims, strict=False)
    )
    emit_loops(ctx, region.dims, static, body, None)


@rule("Join")
def c_Join(op, node, ctx) -> None:
    (out,) = node.outputs
    parts = [ctx.var(v) for v in node.inputs]
    axis = op.axis
    first = parts[0]
    for pos, cv in enumerate(parts[1:], start=1):
        for d in range(out.ndim):
            if d != axis and cv.shape(d) != first.shape(d):
                ctx.emit(f"if ({cv.shape(d)} != {first.shape(d)})")
                ctx.emit(
                    "    "
                    + ctx.op_error(
                        "input {0} has size {1} on axis {2} but input 0 has {3}; only "
                        "the joined axis may differ",
                        str(pos),
                        cv.shape(d),
                        str(d),
                        first.shape(d),
                    )
                )
    total = " + ".join(cv.shape(axis) for cv in parts)
    dims = [total if d == axis else first.shape(d) for d in range(out.ndim)]
    dst = ctx.new_array(out, dims)
    label = ctx.name(out)
    ctx.emit(f"int64_t {label}_at = 0;")
    for k, cv in enumerate(parts):
        with ctx.block():
            region = _region(
                ctx, dst, f"{label}_at * {dst.stride(axis)}", cv.dims, f"{label}_p{k}"
            )
            _copy(ctx, region, cv)
            ctx.emit(f"{label}_at += {cv.shape(axis)};")


@rule("Split")
def c_Split(op, node, ctx) -> None:
    x_var, *size_vars = node.inputs
    x = ctx.var(x_var)
    axis = op.axis
    label = ctx.name(node.outputs[0])
    sizes = [ctx.element(v, SCALAR) for v in size_vars]
    for k, size in enumerate(sizes):
        ctx.emit(f"const int64_t {label}_n{k} = {size};")
    total = " + ".join(f"{label}_n{k}" for k in range(len(sizes)))
    negative = " || ".join(f"{label}_n{k} < 0" for k in range(len(sizes)))
    ctx.emit(f"if ({negative} || {total} != {x.shape(axis)})")
    ctx.emit(
        "    "
        + ctx.op_error(
            "the sizes add up to {0}, but axis {1} has size {2} (sizes must be >= 0)",
            total,
            str(axis),
            x.shape(axis),
        )
    )
    at = "0"
    for k, out in enumerate(node.outputs):
        dims = [f"{label}_n{k}" if d == axis else x.shape(d) for d in range(x.ndim)]
        strides = [x.stride(d) for d in range(x.ndim)]
        ctx.new_view(out, x, f"{x.name} + ({at}) * {x.stride(axis)}", dims, strides)
        at = f"{at} + {label}_n{k}" if at != "0" else f"{label}_n{k}"


@rule("Repeat")
def c_Repeat(op, node, ctx) -> None:
    x_var, r_var = node.inputs
    (out,) = node.outputs
    x = ctx.var(x_var)
    axis = op.axis
    label = ctx.name(out)
    n = x.shape(axis)
    if r_var.ndim == 0:
        r = ctx.element(r_var, SCALAR)
        ctx.emit(f"if ({r} < 0)")
        ctx.emit("    " + ctx.op_error("negative repeat count {0}", r))
        ctx.emit(f"const int64_t {label}_total = {n} * {r};")
    else:
        rv = ctx.var(r_var)
        if rv.shape(0) != n:
            ctx.emit(f"if ({rv.shape(0)} != {n})")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "{0} repeat counts for an axis of size {1}", rv.shape(0), n
                )
            )
        ctx.emit(f"int64_t {label}_total = 0;")
        with ctx.block(f"for (int64_t i0 = 0; i0 < {n}; i0++)"):
            count = ctx.element(r_var, Index(dims=["i0"]))
            ctx.emit(f"if ({count} < 0)")
            ctx.emit("    " + ctx.op_error("negative repeat count {0}", str(count)))
            ctx.emit(f"{label}_total += {count};")
    dims = [f"{label}_total" if d == axis else x.shape(d) for d in range(x.ndim)]
    dst = ctx.new_array(out, dims)
    src = ctx.temp_buffer("int64", f"{label}_total")
    # src[j]: the element of x along the axis that output position j copies
    if r_var.ndim == 0:
        with ctx.block(f"for (int64_t i0 = 0; i0 < {label}_total; i0++)"):
            ctx.emit(f"{src}[i0] = i0 / {ctx.element(r_var, SCALAR)};")
    else:
        j = f"{label}_j"  # this node's own: another Repeat may share the scope
        ctx.emit(f"int64_t {j} = 0;")
        with ctx.block(f"for (int64_t i0 = 0; i0 < {n}; i0++)"):
            with ctx.block(
                "for (int64_t i1 = 0; "
                f"i1 < {ctx.element(r_var, Index(dims=['i0']))}; i1++)"
            ):
                ctx.emit(f"{src}[{j}++] = i0;")

    def body(index) -> None:
        dims = list(index.dims)
        dims[axis] = f"{src}[{dims[axis] or 0}]"
        at = Index(dims=dims)
        ctx.emit(f"{dst.name}[{index.offset(dst)}] = {x.name}[{at.offset(x)}];")

    emit_loops(ctx, dst.dims, out.type.shape, body, None, parallel=False)
