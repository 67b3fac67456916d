"""Reductions: one accumulator per output element, kept axes outside.

The loops run over the kept axes (outer, in parallel when large) and the
reduced axes (inner), accumulating in C locals. The input is read through
``ctx.element``, so an elementwise producer that only this reduction reads is
computed inside the loop: ``sum(exp(x))`` is one pass (so is the optimizer's
``FusedReduce``). A reduction over every axis of a contiguous input is one
flat loop with an OpenMP reduction.

float32 sums add floats in blocks of 512 and the blocks in double (as
accurate as NumPy's pairwise sum); integer sums wrap in uint64_t like NumPy;
max/min propagate NaN (a separate vectorisable flag), argmax/argmin return
the first extreme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from symgraph.graph import TensorType
from symgraph.ops.elemwise import broadcast_static_shapes

from .kernels import COMBINE, Kernel, odometer
from .loops import (
    Blocks,
    Index,
    innermost,
    loop_cost,
    parallel_threshold,
    scoped_loops,
)
from .lower import INLINE_CONSUMERS
from .registry import classes, rule
from .render import c_literal
from .scalar_table import CTYPES, kind


@dataclass
class Reduction:
    """How to reduce. Each accumulator: (C type, start, update, OpenMP op).

    Updates are statements over ``{a}`` (the accumulator) and ``v`` (the
    element, already in the first accumulator's type: ``sg_v``); ``{a}_k``
    counts the elements of the group when ``counted`` (named after the first
    accumulator: two reductions at one scope must not share it). ``result``
    formats the output from ``{0}``, ``{1}``... (the accumulators).
    """

    accs: list
    result: str = "{0}"
    counted: bool = False
    needs_elements: bool = False  # an empty group is an error (max, argmax)
    value_type: str | None = None  # the element's C type (default accs[0])
    extra: dict = field(default_factory=dict)
    #: C type of per-block sums (`loops.Blocks`), or None: accumulate directly
    block: str | None = None


def _vtype(red: Reduction) -> str:
    return red.value_type or red.accs[0][0]


def _declare(ctx, red, names) -> None:
    for (ctype, init, _, _), name in zip(red.accs, names, strict=False):
        ctx.emit(f"{ctype} {name} = {init};")
    if red.extra.get("at"):
        ctx.emit(f"int64_t {names[0]}_at = 0;")
    if red.counted:
        ctx.emit(f"int64_t {names[0]}_k = 0;")


def _updates(ctx, red, names, index, x_var, vt=None) -> None:
    v = ctx.element(x_var, index)
    vt = vt or _vtype(red)
    if CTYPES[x_var.dtype] != vt:
        v = f"({vt}){v}" if vt != "bool" else f"({v} != 0)"
    ctx.emit(f"const {vt} sg_v = {v};")
    for (_, _, update, _), name in zip(red.accs, names, strict=False):
        for line in update.format(a=name).split("\n"):
            ctx.emit(line)
    if red.counted:
        ctx.emit(f"{names[0]}_k++;")


def _clause(red, names) -> str:
    ops = [(acc[3], n) for acc, n in zip(red.accs, names, strict=False)]
    if red.counted or any(op is None for op, _ in ops):
        return None
    return " ".join(f"reduction({op}:{n})" for op, n in ops)


def _blocked(ctx, red, names, x_var):
    """``(Blocks, body)`` for a reduction with per-block sums, else None."""
    if red.block is None:
        return None
    block = [f"{n}_b" for n in names]
    begin = [
        f"{red.block} {b} = {acc[1]};" for acc, b in zip(red.accs, block, strict=True)
    ]
    end = [
        COMBINE[acc[3]].format(a=n, b=b)
        for acc, n, b in zip(red.accs, names, block, strict=True)
    ]

    def body(index) -> None:
        _updates(ctx, red, block, index, x_var, red.block)

    return Blocks(_clause(red, block), begin, end), body


def emit_reduction(ctx, node, red: Reduction, x_var=None) -> None:
    """Lower a reduction of ``x_var`` (default ``node.inputs[0]``)."""
    x_var = x_var if x_var is not None else node.inputs[0]
    (out,) = node.outputs
    x = ctx.var(x_var)
    axes = tuple(node.op.axis)
    keepdims = node.op.keepdims
    nd = x_var.ndim
    kept = [d for d in range(nd) if d not in axes]
    out_ctype = CTYPES[out.dtype]
    outer = [d for d in kept if x_var.type.shape[d] != 1]
    inner = [d for d in axes if x_var.type.shape[d] != 1]
    if red.needs_elements:
        # NumPy refuses an empty group even where the result is empty too:
        # max over axis 0 of a (0, 0) array
        group = " * ".join(x.shape(d) for d in axes) or "1"
        if group != "1":
            ctx.emit(f"if (({group}) == 0)")
            ctx.emit(
                "    "
                + ctx.op_error("cannot reduce an empty group (it has no identity)")
            )
    with ctx.capture() as probe:
        _updates(
            ctx,
            red,
            ["a"] * len(red.accs),
            Index(dims=[f"i{d}" for d in range(nd)]),
            x_var,
        )
    threshold = parallel_threshold(loop_cost(probe))
    names = [ctx.tmp("acc") for _ in red.accs]

    def result() -> str:
        return f"({out_ctype})({red.result.format(*names)})"

    if not kept:
        _declare(ctx, red, names)
        _full(ctx, x, x_var, red, names, threshold)
        if out.ndim == 0:
            ctx.new_scalar(out, result())
        else:
            dst = ctx.new_array(out, ["1"] * out.ndim)
            ctx.emit(f"{dst.name}[0] = {result()};")
        return
    out_dims = [
        ("1" if d in axes else x.shape(d))
        for d in range(nd)
        if keepdims or d not in axes
    ]
    dst = ctx.new_array(out, out_dims)
    if keepdims:
        out_index = Index(dims=[None if d in axes else f"i{d}" for d in range(nd)])
    else:
        out_index = Index(dims=[f"i{d}" for d in kept])
    index = Index(dims=[f"i{d}" for d in range(nd)])

    def group() -> None:  # one output element: its accumulators over the group
        _declare(ctx, red, names)
        clause = _clause(red, names)

        def update(at) -> None:
            _updates(ctx, red, names, at, x_var)

        if inner:
            *nest, last = inner
            for d in nest:
                ctx.open(f"for (int64_t i{d} = 0; i{d} < {x.shape(d)}; i{d}++)")
            pragma = f"omp simd {clause}" if clause else None
            blocks, update = _blocked(ctx, red, names, x_var) or (None, update)
            i, n = f"i{last}", x.shape(last)
            innermost(ctx, i, "0", n, index, update, pragma, blocks)
            for _ in nest:
                ctx.close()
        else:
            update(index)
        ctx.emit(f"{dst.name}[{out_index.offset(dst)}] = {result()};")

    n_out = " * ".join(x.shape(d) for d in outer) or "1"
    n_all = " * ".join(x.shape(d) for d in outer + inner) or "1"
    if not (ctx.unit.openmp and outer):
        scoped_loops(ctx, [(d, x.shape(d)) for d in outer], group)
        return
    # a kernel over the output elements (kept axes), on all cores when large
    with Kernel(ctx, ctx.tmp("loop"), ctx.kernel_comment()) as kernel:
        odometer(ctx, [(d, x.shape(d)) for d in outer], group)
    ctx.open(f"if ({n_out} > 0)")
    kernel.call(n_out, f"{n_all} >= {threshold} && {n_out} > 1")
    ctx.close()


def _full(ctx, x, x_var, red, names, threshold) -> None:
    """Reduce every axis into the accumulators: a kernel returning partial
    results per thread when the reduction is one OpenMP can split."""
    from .loops import emit_loops
    from .lower_elemwise import flat_leaves, loop_leaves

    clause = _clause(red, names)
    if x.kind == "inline":
        leaves = flat_leaves(loop_leaves(ctx, x_var.owner), x_var.type.shape)
    elif x.kind == "array":
        leaves = flat_leaves([x], x_var.type.shape)
    else:
        leaves = []
    dims = x.dims if x.kind != "scalar" else []

    def body(index) -> None:
        _updates(ctx, red, names, index, x_var)

    blocks, body = _blocked(ctx, red, names, x_var) or (None, body)
    size = 1
    for s in x_var.type.shape:
        size = None if size is None or s is None else size * s
    small = size is not None and size < threshold
    if clause is None or not ctx.unit.openmp or small or not dims:
        emit_loops(
            ctx,
            dims,
            x_var.type.shape,
            body,
            leaves,
            parallel=False,
            clause=clause or "",
            simd=clause is not None,
            blocks=blocks,
        )
        return
    part = [
        (acc[0], name, acc[1], acc[3])
        for acc, name in zip(red.accs, names, strict=False)
    ]
    emit_loops(
        ctx,
        dims,
        x_var.type.shape,
        body,
        leaves,
        partials=part,
        clause=clause,
        threshold=threshold,
        blocks=blocks,
    )


# ----------------------------------------------------------- the reductions
def _extreme(dtype: str, sign: str) -> str:
    """The start value of max (sign '-') / min (sign '+')."""
    import numpy as np

    if kind(dtype) == "f":
        return "-INFINITY" if sign == "-" else "INFINITY"
    if dtype == "bool":
        return "false" if sign == "-" else "true"
    info = np.iinfo(dtype)
    return c_literal(info.min if sign == "-" else info.max, dtype)


# Truth-valued accumulators are ints reduced with | and &: GCC vectorises
# those OpenMP reductions, but not bool || and && (softmax's NaN flag: 2x).
def _any(test: str) -> tuple:
    return ("int", "0", f"{{a}} |= {test};", "|")


def _all(test: str) -> tuple:
    return ("int", "1", f"{{a}} &= {test};", "&")


def reduction_for(op, in_dtype: str, out_dtype: str) -> Reduction:
    """The Reduction of a reduce op (also used by FusedReduce)."""
    k = kind(out_dtype)
    name = type(op).__name__
    if name in ("Sum", "Prod"):
        sym = "+" if name == "Sum" else "*"
        if k == "f":
            acc = "double"  # float32 accumulates in double
        elif k == "b":
            acc = "uint64_t"
        else:
            acc = "uint64_t"  # wraps like NumPy, never undefined
        start = "0" if sym == "+" else "1"
        # float32 sums in float per block, then double (loops.Blocks)
        narrow = name == "Sum" and in_dtype == out_dtype == "float32"
        block = "float" if narrow else None
        return Reduction([(acc, start, f"{{a}} {sym}= sg_v;", sym)], block=block)
    if name in ("Max", "Min") and out_dtype == "bool":
        acc = _any("sg_v") if name == "Max" else _all("sg_v")
        return Reduction([acc], needs_elements=True, value_type="bool")
    if name in ("Max", "Min"):
        t = CTYPES[out_dtype]
        cmp = ">" if name == "Max" else "<"
        start = _extreme(out_dtype, "-" if cmp == ">" else "+")
        accs = [
            (
                t,
                start,
                f"{{a}} = sg_v {cmp} {{a}} ? sg_v : {{a}};",
                "max" if cmp == ">" else "min",
            )
        ]
        if k == "f":  # NaN propagates: tracked apart so the loop vectorises
            accs.append(_any("sg_v != sg_v"))
            return Reduction(accs, "{1} ? NAN : {0}", needs_elements=True)
        return Reduction(accs, needs_elements=True)
    if name in ("Argmax", "Argmin"):
        t = CTYPES[in_dtype]
        cmp = ">" if name == "Argmax" else "<"
        start = _extreme(in_dtype, "-" if cmp == ">" else "+")
        if kind(in_dtype) == "f":
            # the first NaN wins, as in NumPy
            test = f"(sg_v {cmp} {{a}} || (sg_v != sg_v && {{a}} == {{a}}))"
        else:
            test = f"sg_v {cmp} {{a}}"
        update = f"if ({test}) {{{{\n    {{a}} = sg_v;\n    {{a}}_at = {{a}}_k;\n}}}}"
        accs = [(t, start, update, None)]
        red = Reduction(accs, "{0}_at", counted=True, needs_elements=True, value_type=t)
        red.extra["at"] = True
        return red
    if name in ("All", "Any"):
        acc = _all("sg_v") if name == "All" else _any("sg_v")
        return Reduction([acc], value_type="bool")
    raise NotImplementedError(f"no C lowering for {op}")


REDUCE_OPS = ("Sum", "Prod", "Max", "Min", "Argmax", "Argmin", "All", "Any")


def _accepts(consumer, position, var) -> bool:
    return True


@rule(*REDUCE_OPS)
def c_Reduce(op, node, ctx) -> None:
    red = reduction_for(op, node.inputs[0].dtype, node.outputs[0].dtype)
    emit_reduction(ctx, node, red)


for _cls in classes(*REDUCE_OPS):
    INLINE_CONSUMERS[_cls] = _accepts


@rule("FusedReduce")
def c_FusedReduce(op, node, ctx) -> None:
    """``reduce(elemwise(inputs))``: the elementwise value computed in the loop."""
    from .lower_elemwise import broadcast_dims

    dtype = op.scalar_op.output_dtype(*(v.dtype for v in node.inputs))
    shape = broadcast_static_shapes(op, list(node.inputs))
    value = TensorType(dtype, shape)()
    elem = SimpleNamespace(
        op=SimpleNamespace(scalar_op=op.scalar_op), inputs=node.inputs, outputs=[value]
    )
    value.owner = elem
    ctx.unit.name_temp(value, ctx.name(node.outputs[0]) + "_e")
    ctx.new_inline(value, broadcast_dims(ctx, elem))
    reduce_node = SimpleNamespace(op=op.reduce_op, inputs=[value], outputs=node.outputs)
    red = reduction_for(op.reduce_op, dtype, node.outputs[0].dtype)
    emit_reduction(ctx, reduce_node, red)


def _fused_accepts(consumer, position, var) -> bool:
    shape = broadcast_static_shapes(consumer.op, list(consumer.inputs))
    return all(s != 1 or o == 1 for s, o in zip(var.type.shape, shape, strict=False))


for _cls in classes("FusedReduce"):
    INLINE_CONSUMERS[_cls] = _fused_accepts
