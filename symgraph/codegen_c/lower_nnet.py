"""Neural-network ops: softmax, log-softmax, label pick/scatter, fused cross-entropy.

Softmax-like ops run one group at a time (a row for ``axis=-1``): the kept
axes outside (in parallel when large), and three vectorised passes over the
group: the maximum (NaN-propagating), the sum of ``exp(x - max)``, and the
result. Labels are checked against the class axis.

A softmax over the last axis with a large output keeps each row's
exponentials in a buffer on the stack and writes the scaled row with
streaming stores (``sg_stream_scale``): the output's cache lines are not
read from memory first, only to be evicted again (float32 on two cores:
4096x1000 1.35 -> 1.14 ms, 8192x1000 2.88 -> 2.37 ms).

Two rules keep several such nodes in one C function apart and correct:

- each group's statements are in a block of their own (a loop body, or
  ``{ }`` when no axis is looped over): their locals (``sg_m``, ``sg_s``,
  ``sg_buf``, ``sg_l``, ...) would collide with the next node's at function
  scope;
- an axis of static size 1 gets no loop, so no ``i{d}`` either: the indices
  (`_indices`) say ``None`` there for every operand. The other operands may
  not know that size statically (a logits ``(1, ?)`` with labels ``(?,)``);
  their run-time checks make it 1, so offset 0 is right for them too.
"""

from __future__ import annotations

from .loops import Index, innermost, parallel_threshold, scoped_loops
from .registry import rule
from .scalar_table import CTYPES


def _math(dtype: str, name: str) -> str:
    return name + ("f" if dtype == "float32" else "")


def _indices(static_shape, extra=()) -> Index:
    """``i{d}`` on each axis that is looped over, ``None`` (offset 0) on
    those of static size 1, which are not; then the indices ``extra``."""
    dims = [None if n == 1 else f"i{d}" for d, n in enumerate(static_shape)]
    return Index(dims=dims + list(extra))


def _group_loops(ctx, x, group, kept, inner, after=()) -> None:
    """``inner()`` for each group: a kernel over the kept axes of ``x``,
    which ends with the statements ``after``."""
    from .kernels import Kernel, odometer

    iterated = [d for d in kept if x.static_shape[d] != 1]
    if not (ctx.unit.openmp and iterated):
        scoped_loops(ctx, [(d, x.shape(d)) for d in iterated], inner)
        for line in after:
            ctx.emit(line)
        return
    size = " * ".join(x.shape(d) for d in range(x.ndim)) or "1"
    n = " * ".join(x.shape(d) for d in iterated)
    with Kernel(ctx, ctx.tmp("loop"), ctx.kernel_comment()) as kernel:
        odometer(ctx, [(d, x.shape(d)) for d in iterated], inner)
        for line in after:
            ctx.emit(line)
    ctx.open(f"if ({n} > 0)")
    kernel.call(n, f"{size} >= {parallel_threshold(24)} && {n} > 1")
    ctx.close()


def _over(ctx, x, group, clause: str, index, body) -> None:
    """One pass over the group axes (vectorised, with ``clause``):
    ``body(at)`` writes an element's step at index ``at``."""
    axes = [d for d in group if x.static_shape[d] != 1]
    if not axes:
        scoped_loops(ctx, [], lambda: body(index))
        return
    *nest, last = axes
    for d in nest:
        ctx.open(f"for (int64_t i{d} = 0; i{d} < {x.shape(d)}; i{d}++)")
    innermost(ctx, f"i{last}", "0", x.shape(last), index, body, f"omp simd{clause}")
    for _ in nest:
        ctx.close()


def _max_and_sum(ctx, x, x_var, group, t, index, keep=None) -> tuple[str, str]:
    """Emit the max and sum(exp(x - max)) passes; return their C names.

    ``keep(at)``: where each ``exp(x - max)`` is also stored (a C lvalue).
    """
    f = _math(t if t == "float32" else "float64", "")
    ct = CTYPES[t]
    acc = ct  # 16 lanes of float32 partial sums: accurate enough per group
    ctx.emit(f"{ct} sg_m = -INFINITY;")
    ctx.emit("int sg_nan = 0;")  # an int, as in lower_reduce._any: it vectorises

    def find_max(at) -> None:
        ctx.emit(f"const {ct} sg_v = ({ct}){ctx.element(x_var, at)};")
        ctx.emit("sg_m = sg_v > sg_m ? sg_v : sg_m;")
        ctx.emit("sg_nan |= sg_v != sg_v;")

    clause = " reduction(max:sg_m) reduction(|:sg_nan)"
    _over(ctx, x, group, clause, index, find_max)
    ctx.emit("if (sg_nan)")
    ctx.emit("    sg_m = NAN;")
    ctx.emit(f"{acc} sg_s = 0;")

    def add_exp(at) -> None:
        v = ctx.element(x_var, at)
        if keep is None:
            ctx.emit(f"sg_s += exp{f}(({ct}){v} - sg_m);")
            return
        ctx.emit(f"const {ct} sg_e = exp{f}(({ct}){v} - sg_m);")
        ctx.emit(f"{keep(at)} = sg_e;")
        ctx.emit("sg_s += sg_e;")

    _over(ctx, x, group, " reduction(+:sg_s)", index, add_exp)
    return "sg_m", "sg_s"


def _softmax(op, node, ctx, log: bool) -> None:
    (x_var,) = node.inputs
    (out,) = node.outputs
    x = ctx.var(x_var)
    nd = x_var.ndim
    group = list(range(nd)) if op.axis is None else [op.axis % nd]
    kept = [d for d in range(nd) if d not in group]
    dst = ctx.new_array(out, list(x.dims))
    t, ct = out.dtype, CTYPES[out.dtype]
    f = "f" if t == "float32" else ""
    index = _indices(x.static_shape)

    last = nd - 1
    stream = not log and group == [last] and x.static_shape[last] != 1
    row = _indices(x.static_shape[:last], [None])

    def result(at) -> str:
        return f"sg_row[i{last}]" if stream else f"{dst.name}[{at.offset(dst)}]"

    def inner() -> None:
        # softmax: the exponentials go to the output (or the row buffer) in
        # the second pass, and the third scales them (one exp per element)
        if stream:
            n = x.shape(last)
            ctx.emit(f"{ct} sg_buf[SG_STREAM_ROW];")
            ctx.emit(
                f"const int sg_stream = {n} <= SG_STREAM_ROW"
                f" && ({dst.size()}) * sizeof({ct}) >= SG_STREAM_BYTES;"
            )
            ctx.emit(
                f"{ct} *restrict sg_row = sg_stream ? sg_buf"
                f" : {dst.name} + {row.offset(dst)};"
            )
        m, s = _max_and_sum(
            ctx, x, x_var, group, t, index, keep=None if log else result
        )
        if log:
            ctx.emit(f"const {ct} sg_ls = ({ct})log{f}(({ct}){s});")
        else:
            ctx.emit(f"const {ct} sg_rcp = ({ct})(1.0 / {s});")
        if stream:
            ctx.emit("if (sg_stream)")
            ctx.emit(
                f"    sg_stream_scale{f}({dst.name} + {row.offset(dst)},"
                f" sg_buf, {x.shape(last)}, sg_rcp);"
            )
            ctx.open("else")

        def write(at) -> None:
            y = result(at)
            if log:
                v = f"({ct}){ctx.element(x_var, at)}"
                ctx.emit(f"{y} = ({v} - {m}) - sg_ls;")
            else:
                ctx.emit(f"{y} = {y} * sg_rcp;")

        _over(ctx, x, group, "", index, write)
        if stream:
            ctx.close()

    fence = ["sg_stream_fence();"] if stream else []
    _group_loops(ctx, x, group, kept, inner, after=fence)


@rule("Softmax")
def c_Softmax(op, node, ctx) -> None:
    _softmax(op, node, ctx, log=False)


@rule("LogSoftmax")
def c_LogSoftmax(op, node, ctx) -> None:
    _softmax(op, node, ctx, log=True)


def _check_labels(ctx, p, y, k: str, where: str) -> None:
    """Labels of ``p``'s leading shape, each in 0..k-1 (checked in a pass)."""
    for d in range(y.ndim):
        if p.shape(d) != y.shape(d):
            ctx.emit(f"if ({p.shape(d)} != {y.shape(d)})")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "the labels have size {0} on axis {1}, " + where + " {2}",
                    y.shape(d),
                    str(d),
                    p.shape(d),
                )
            )
    index = Index(dims=[f"i{d}" for d in range(y.ndim)])
    axes = [d for d in range(y.ndim) if y.static_shape[d] != 1]
    for d in axes:
        ctx.open(f"for (int64_t i{d} = 0; i{d} < {y.shape(d)}; i{d}++)")
    label = ctx.element(y.var, index)
    ctx.emit(f"if ((int64_t){label} < 0 || (int64_t){label} >= {k})")
    ctx.emit(
        "    "
        + ctx.op_error(
            "a label holds {0}, outside the {1} classes 0..{1}-1",
            f"(int64_t){label}",
            k,
        )
    )
    for _ in axes:
        ctx.close()


@rule("PickLabel")
def c_PickLabel(op, node, ctx) -> None:
    p_var, y_var = node.inputs
    (out,) = node.outputs
    p, y = ctx.var(p_var), ctx.var(y_var)
    nd = y_var.ndim
    k = p.shape(nd)
    _check_labels(ctx, p, y, k, "the probabilities")
    dst = ctx.new_array(out, [p.shape(d) for d in range(nd)])
    # the output's static shape is the labels' and the probabilities' unified
    static = out.type.shape
    index, src = _indices(static), _indices(static, ["sg_l"])

    def pick() -> None:
        label = f"(int64_t){ctx.element(y_var, index)}"
        ctx.emit(f"const int64_t sg_l = {label};")
        ctx.emit(f"{dst.name}[{index.offset(dst)}] = {p.name}[{src.offset(p)}];")

    scoped_loops(ctx, [(d, y.shape(d)) for d in range(nd) if static[d] != 1], pick)


@rule("ScatterLabel")
def c_ScatterLabel(op, node, ctx) -> None:
    from .loops import SCALAR

    g_var, y_var, k_var = node.inputs
    (out,) = node.outputs
    g, y = ctx.var(g_var), ctx.var(y_var)
    nd = y_var.ndim
    k = ctx.element(k_var, SCALAR)
    _check_labels(ctx, g, y, k, "the gradient")
    dst = ctx.new_array(out, [g.shape(d) for d in range(nd)] + [k])
    ctx.emit(
        f"memset({dst.name}, 0, (size_t)({dst.size()}) * sizeof({CTYPES[out.dtype]}));"
    )
    # the output's static shape: the labels' and the gradient's unified
    static = out.type.shape[:nd]
    index, at = _indices(static), _indices(static, ["sg_l"])

    def scatter() -> None:
        ctx.emit(f"const int64_t sg_l = (int64_t){ctx.element(y_var, index)};")
        ctx.emit(f"{dst.name}[{at.offset(dst)}] = {ctx.element(g_var, index)};")

    scoped_loops(ctx, [(d, y.shape(d)) for d in range(nd) if static[d] != 1], scatter)


@rule("SoftmaxCrossentropyWithLogits")
def c_SoftmaxCrossentropyWithLogits(op, node, ctx) -> None:
    x_var, t_var = node.inputs
    (out,) = node.outputs
    x, tv = ctx.var(x_var), ctx.var(t_var)
    nd = x_var.ndim
    last = nd - 1
    dense = t_var.ndim == nd
    dt, ct = out.dtype, CTYPES[out.dtype]
    f = "f" if dt == "float32" else ""
    if dense:
        for d in range(nd):
            if x.shape(d) != tv.shape(d):
                ctx.emit(f"if ({x.shape(d)} != {tv.shape(d)})")
                ctx.emit(
                    "    "
                    + ctx.op_error(
                        "the targets have size {0} on axis {1}, the logits {2}",
                        tv.shape(d),
                        str(d),
                        x.shape(d),
                    )
                )
    else:
        _check_labels(ctx, x, tv, x.shape(last), "the logits")
    dst = ctx.new_array(out, [x.shape(d) for d in range(last)])
    # loops over the logits' axes; the targets, checked above, follow them
    index = _indices(x.static_shape)
    row = _indices(x.static_shape[:last])

    def inner() -> None:
        m, s = _max_and_sum(ctx, x, x_var, [last], dt, index)
        ctx.emit(f"const {ct} sg_ls = ({ct})log{f}(({ct}){s});")
        if dense:
            ctx.emit("double sg_t = 0;")

            def add(at) -> None:
                v = f"({ct}){ctx.element(x_var, at)}"
                t = f"({ct}){ctx.element(t_var, at)}"
                ctx.emit(f"sg_t += {t} * (({v} - {m}) - sg_ls);")

            _over(ctx, x, [last], " reduction(+:sg_t)", index, add)
            ctx.emit(f"{dst.name}[{row.offset(dst)}] = ({ct})(-sg_t);")
        else:
            ctx.emit(f"const int64_t sg_l = (int64_t){ctx.element(t_var, row)};")
            pick = _indices(x.static_shape[:last], ["sg_l"])
            v = (
                f"({ct}){x.name}[{pick.offset(x)}]"
                if x.kind == "array"
                else f"({ct}){x.name}"
            )
            ctx.emit(f"{dst.name}[{row.offset(dst)}] = -(({v} - {m}) - sg_ls);")

    _group_loops(ctx, x, [last], list(range(last)), inner)
