"""Elementwise lowering: Elemwise loops, fused producers, copies.

An Elemwise node becomes one loop writing its output. An Elemwise producer
whose only reader is another elementwise loop or a reduction (and which does
not broadcast there) gets no buffer and no loop of its own: its value is
computed inside the reader's loop (``const float t2 = expf(x[i]);``), so a
chain of them, or ``sum(exp(x))``, is a single pass over memory.
"""

from __future__ import annotations

from symgraph.ops.composite import Composite
from symgraph.ops.elemwise import Elemwise

from . import prelude
from .loops import SCALAR, emit_loops
from .lower import INLINE_CONSUMERS, c_lower, c_supported
from .scalar_table import CTYPES, has_scalar_rule, render_scalar


@c_supported(Elemwise)
def _elemwise_supported(node) -> bool:
    return len(node.outputs) == 1 and has_scalar_rule(node.op.scalar_op)


def _no_broadcast_into(consumer, position, var) -> bool:
    # Inlining a value the consumer broadcasts would recompute it per element.
    out_shape = consumer.outputs[0].type.shape
    return all(
        s != 1 or o == 1 for s, o in zip(var.type.shape, out_shape, strict=False)
    )


INLINE_CONSUMERS[Elemwise] = _no_broadcast_into


def broadcast_dims(ctx, node) -> list[str]:
    """The output sizes of an elementwise node; emits the run-time checks.

    As in the python backend, only dimensions of static size 1 broadcast: two
    inputs that are not static 1 on an axis must have equal sizes there.
    """
    out = node.outputs[0]
    dims = []
    for d, static in enumerate(out.type.shape):
        if static == 1:
            dims.append("1")
            continue
        first = (-1, str(static)) if static is not None else None
        for pos, var in enumerate(node.inputs):
            if var.type.shape[d] == 1:
                continue
            size = ctx.var(var).shape(d)
            if first is None:
                first = (pos, size)
            elif size != first[1]:
                ctx.emit(f"if ({size} != {first[1]})")
                ctx.emit(
                    "    "
                    + ctx.fail(
                        prelude.E_BROADCAST,
                        str(first[0]),
                        str(pos),
                        str(d),
                        first[1],
                        size,
                    )
                )
        dims.append(first[1])
    return dims


def scalar_expr(ctx, node, index) -> str:
    """The C expression of the node's scalar op on its inputs at ``index``."""
    args = [ctx.element(v, index) for v in node.inputs]
    dtypes = [v.dtype for v in node.inputs]
    op = node.op.scalar_op
    if isinstance(op, Composite):
        return composite_expr(ctx, op, args, dtypes, ctx.name(node.outputs[0]))
    return render_scalar(op, args, dtypes, node.outputs[0].dtype)


def composite_expr(ctx, op, args, dtypes, prefix: str) -> str:
    """A fused expression: one ``const`` local per step, the last returned."""
    from .render import c_literal

    step_dtypes = op.step_dtypes(*dtypes)
    values = list(args)
    for k, (sop, sargs) in enumerate(op.nodes):
        exprs = [
            c_literal(a[1], a[2]) if isinstance(a, tuple) else values[a] for a in sargs
        ]
        arg_dtypes = [a[2] if isinstance(a, tuple) else step_dtypes[a] for a in sargs]
        dtype = step_dtypes[op.nin + k]
        if isinstance(sop, Composite):
            expr = composite_expr(ctx, sop, exprs, arg_dtypes, f"{prefix}_s{k}")
        else:
            expr = render_scalar(sop, exprs, arg_dtypes, dtype)
        if k == len(op.nodes) - 1:
            return expr
        name = f"{prefix}_s{k}"
        ctx.emit(f"const {CTYPES[dtype]} {name} = {expr};")
        values.append(name)
    raise AssertionError("Composite without steps")


def inline_value(ctx, node, index) -> str:
    """Inside a consumer's loop: compute this producer's element, name it."""
    out = node.outputs[0]
    name = ctx.name(out)
    ctx.emit(f"const {CTYPES[out.dtype]} {name} = {scalar_expr(ctx, node, index)};")
    return name


def plan_inline(ctx, node) -> None:
    """An inlined producer at its own place: shape checks and a comment."""
    from .render import describe_node

    ctx.emit("")
    ctx.comment(
        f"node {ctx.positions[node]}: {describe_node(node, ctx.unit.names)}"
        " (computed inside the loop that reads it)"
    )
    ctx.new_inline(node.outputs[0], broadcast_dims(ctx, node))


def loop_leaves(ctx, node) -> list:
    """The arrays an elementwise loop reads, through inlined producers."""
    leaves, stack = [], list(node.inputs)
    while stack:
        var = stack.pop()
        cv = ctx.var(var)
        if cv.kind == "inline":
            stack.extend(var.owner.inputs)
        elif cv.kind == "array":
            leaves.append(cv)
    return leaves


def flat_leaves(leaves, out_static):
    """Arrays to check for the flat loop, or None when one of them broadcasts."""
    checked = []
    for cv in leaves:
        shape = cv.static_shape
        if all(s == 1 for s in shape):
            continue  # one element, read at offset 0
        if len(shape) != len(out_static) or any(
            s == 1 and o != 1 for s, o in zip(shape, out_static, strict=False)
        ):
            return None
        checked.append(cv)
    return checked


@c_lower.register(Elemwise)
def c_Elemwise(op, node, ctx) -> None:
    (out,) = node.outputs
    if out.ndim == 0:
        ctx.new_scalar(out, scalar_expr(ctx, node, SCALAR))
        return
    dims = broadcast_dims(ctx, node)
    dst = ctx.new_array(out, dims)

    def body(index) -> None:
        ctx.emit(f"{dst.name}[{index.offset(dst)}] = {scalar_expr(ctx, node, index)};")

    leaves = flat_leaves(loop_leaves(ctx, node), out.type.shape)
    emit_loops(ctx, dst.dims, out.type.shape, body, leaves)


def copy_into(ctx, dst, src) -> None:
    """``dst[...] = src[...]`` over ``dst``'s shape (same shape, same dtype)."""
    if src.kind != "array":
        ctx.emit(f"{dst.name}[0] = {src.name};")
        return

    def body(index) -> None:
        ctx.emit(f"{dst.name}[{index.offset(dst)}] = {src.name}[{index.offset(src)}];")

    static = dst.var.type.shape
    emit_loops(ctx, dst.dims, static, body, flat_leaves([src], static))
