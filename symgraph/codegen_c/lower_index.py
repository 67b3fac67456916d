"""Basic indexing (views) and writing into them; Reshape, ARange, Eye.

``x[1:n, ::-1, None, 2]`` is a view: a pointer offset and new sizes and
strides, computed with Python's slice rules (``sg_slice``) and bounds-checked
integers. ``set_subtensor`` / ``inc_subtensor`` copy ``x`` and write ``y``
(broadcast) through the same view of the copy. ``reshape`` is a view of a
C-contiguous input and a copy otherwise.
"""

from __future__ import annotations

from symgraph.graph import Constant, TensorType
from symgraph.ops.index_layout import SCALAR, Slice

from .loops import SCALAR as AT_SCALAR
from .loops import contiguous_test, emit_loops
from .lower import CVar, product
from .registry import rule
from .scalar_table import CTYPES


def _value(ctx, part, inputs) -> str:
    """A slice bound or index: a literal, or the next symbolic input."""
    if part is SCALAR:
        return f"(int64_t){ctx.element(next(inputs), AT_SCALAR)}"
    return str(int(part))


def index_view(ctx, x, idx_list, index_vars, label: str):
    """Emit the checks of a basic index; return (offset, dims, strides)."""
    inputs = iter(index_vars)
    offset, dims, strides = [], [], []
    axis = 0
    for entry in idx_list:
        if entry is None:
            dims.append("1")
            strides.append("0")
        elif isinstance(entry, Slice):
            n, s = x.shape(axis), x.stride(axis)
            step = _value(ctx, entry.step, inputs) if entry.step is not None else "1"
            start = _value(ctx, entry.start, inputs) if entry.start is not None else "0"
            stop = _value(ctx, entry.stop, inputs) if entry.stop is not None else "0"
            if step != "1" and entry.step is SCALAR:
                ctx.emit(f"if ({step} == 0)")
                ctx.emit("    " + ctx.op_error("slice step cannot be zero"))
            first, length = f"{label}_f{axis}", f"{label}_n{axis}"
            ctx.emit(f"int64_t {length};")
            ctx.emit(
                f"const int64_t {first} = sg_slice({n}, "
                f"{int(entry.start is not None)}, "
                f"{start}, {int(entry.stop is not None)}, {stop}, {step}, &{length});"
            )
            offset.append(f"({length} > 0 ? {first} * {s} : 0)")
            dims.append(length)
            strides.append(f"{s} * {step}" if step != "1" else s)
            axis += 1
        else:  # an integer: drops the axis
            n = x.shape(axis)
            i = f"{label}_i{axis}"
            ctx.emit(f"int64_t {i} = {_value(ctx, entry, inputs)};")
            ctx.emit(f"if ({i} < -{n} || {i} >= {n})")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "index {0} is out of bounds for axis {1} with size {2}",
                    i,
                    str(axis),
                    n,
                    exc="IndexError",
                )
            )
            ctx.emit(f"if ({i} < 0)")
            ctx.emit(f"    {i} += {n};")
            offset.append(f"{i} * {x.stride(axis)}")
            axis += 1
    for d in range(axis, x.ndim):
        dims.append(x.shape(d))
        strides.append(x.stride(d))
    return " + ".join(offset) or "0", dims, strides


@rule("Subtensor")
def c_Subtensor(op, node, ctx) -> None:
    x_var, *index = node.inputs
    x = ctx.var(x_var)
    (out,) = node.outputs
    offset, dims, strides = index_view(ctx, x, op.idx_list, index, ctx.name(out))
    ctx.new_view(out, x, f"{ctx.pointer(x)} + {offset}", dims, strides)


@rule("IncSubtensor")
def c_IncSubtensor(op, node, ctx) -> None:
    from .lower_elemwise import copy_into

    x_var, y_var, *index = node.inputs
    (out,) = node.outputs
    x = ctx.var(x_var)
    dst = ctx.new_array(out, list(x.dims) if x.kind == "array" else [])
    copy_into(ctx, dst, x)
    label = ctx.name(out)
    offset, dims, strides = index_view(ctx, dst, op.idx_list, index, label)
    static = tuple(None if not d.isdigit() else int(d) for d in dims)
    # The region has its own rank and static shape, not out's: an integer
    # index drops an axis, and a static 1 of out's is then a longer axis here.
    region = CVar(TensorType(out.dtype, static)(), f"{label}_r", "array", dims=dims)
    t = CTYPES[out.dtype]
    ctx.emit(f"{t} *{label}_r = {dst.name} + {offset};")
    for d, s in enumerate(strides):
        ctx.declare("int64_t", f"{label}_r_stride{d}", s)
    y = ctx.var(y_var)
    lead = len(dims) - y_var.ndim
    for d in range(y_var.ndim):
        if y_var.type.shape[d] == 1:
            continue
        want, got = dims[lead + d], y.shape(d)
        if want != got:
            ctx.emit(f"if ({got} != {want})")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "the value has size {0} on its axis {1}, the indexed region {2}",
                    got,
                    str(d),
                    want,
                )
            )
    assign = "=" if op.set_instead_of_inc else "+="

    def body(ix) -> None:
        if y.kind == "scalar":
            value = y.name
        else:
            terms = []
            for d in range(y_var.ndim):
                i = ix.dims[lead + d]
                if i is not None and y_var.type.shape[d] != 1:
                    terms.append(f"{i} * {y.stride(d)}")
            value = f"{y.name}[{' + '.join(terms) or '0'}]"
        ctx.emit(f"{label}_r[{ix.offset(region)}] {assign} {value};")

    emit_loops(ctx, dims, static, body, None, parallel=False)


@rule("SliceLength")
def c_SliceLength(op, node, ctx) -> None:
    n_var, *parts = node.inputs
    inputs = iter(parts)
    entry = op.slice_
    n = ctx.element(n_var, AT_SCALAR)
    step = _value(ctx, entry.step, inputs) if entry.step is not None else "1"
    start = _value(ctx, entry.start, inputs) if entry.start is not None else "0"
    stop = _value(ctx, entry.stop, inputs) if entry.stop is not None else "0"
    label = ctx.name(node.outputs[0])
    ctx.emit(f"int64_t {label}_len;")
    ctx.emit(
        f"sg_slice({n}, {int(entry.start is not None)}, {start}, "
        f"{int(entry.stop is not None)}, {stop}, {step}, &{label}_len);"
    )
    ctx.new_scalar(node.outputs[0], f"{label}_len")


@rule("Reshape")
def c_Reshape(op, node, ctx) -> None:
    from .lower_elemwise import copy_into

    x_var, *dim_vars = node.inputs
    (out,) = node.outputs
    x = ctx.var(x_var)
    label = ctx.name(out)
    dims, rest = [], None
    for d, var in enumerate(dim_vars):
        if isinstance(var, Constant) and int(var.data) == -1:
            rest = d
            dims.append(None)
            continue
        size = ctx.element(var, AT_SCALAR)
        if not isinstance(var, Constant):
            ctx.emit(f"if ({size} < 0)")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "shape entry {0} is {1} at run time; sizes must be >= 0",
                    str(d),
                    size,
                )
            )
        dims.append(size)
    n_in = x.size() if x.kind == "array" else "1"
    if rest is not None:
        known = product(d for d in dims if d is not None)
        ctx.emit(f"const int64_t {label}_k = {known};")
        ctx.emit(f"if ({label}_k == 0 || ({n_in}) % {label}_k != 0)")
        ctx.emit(
            "    "
            + ctx.op_error(
                "cannot reshape {0} elements: they do not divide into "
                "{1}-element parts",
                n_in,
                f"{label}_k",
            )
        )
        dims[rest] = f"({n_in}) / {label}_k"
    else:
        total = product(dims)
        if total != n_in:
            ctx.emit(f"if ({total} != {n_in})")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "cannot reshape {0} elements into a shape of {1} elements",
                    n_in,
                    total,
                )
            )
    dims = [
        str(s) if s is not None else d
        for s, d in zip(out.type.shape, dims, strict=False)
    ]
    strides, stride = [], "1"
    for d in reversed(range(out.ndim)):
        strides.insert(0, stride)
        stride = dims[d] if stride == "1" else f"{stride} * {dims[d]}"
    if x.kind != "array" or x.contiguous:
        ctx.new_view(out, x, ctx.pointer(x), dims, strides)
        return
    # not contiguous: copy into a buffer. Either way ``out`` is a view, of x or
    # of the buffer: both stay as long as x's storage and its views.
    t = CTYPES[out.dtype]
    test = contiguous_test(x)
    ctx.emit(f"const {t} *{label}_p = {x.name};")
    ctx.open(f"if (!({test}))")
    buf = ctx.slot_buffer(out, x, x_var.dtype, x.dims)
    copy = CVar(x_var, buf, "array", contiguous=True, dims=list(x.dims))
    stride = "1"
    for d in reversed(range(x.ndim)):
        ctx.declare("int64_t", f"{buf}_stride{d}", stride)
        stride = x.dims[d] if stride == "1" else f"{stride} * {x.dims[d]}"
    copy_into(ctx, copy, x)
    ctx.emit(f"{label}_p = {buf};")
    ctx.close()
    ctx.new_view(out, x, f"{label}_p", dims, strides)


@rule("ARange")
def c_ARange(op, node, ctx) -> None:
    start, stop, step = (ctx.element(v, AT_SCALAR) for v in node.inputs)
    (out,) = node.outputs
    t = CTYPES[out.dtype]
    label = ctx.name(out)
    ctx.emit(f"if ({step} == 0)")
    ctx.emit("    " + ctx.op_error("arange: step is 0 at run time"))
    # NumPy: length ceil((stop - start) / step) in double; a[i] = start + i * delta
    ctx.emit(
        f"const double {label}_len = "
        f"ceil(((double){stop} - (double){start}) / (double){step});"
    )
    size = f"(int64_t)({label}_len > 0 ? {label}_len : 0)"
    dst = ctx.new_array(out, [size])
    ctx.emit(f"const {t} {label}_a = ({t}){start};")
    ctx.emit(f"const {t} {label}_d = ({t})({label}_a + ({t}){step}) - {label}_a;")
    ctx.pragma("omp simd")
    with ctx.block(f"for (int64_t i0 = 0; i0 < {dst.shape(0)}; i0++)"):
        ctx.emit(f"{dst.name}[i0] = ({t})({label}_a + ({t})i0 * {label}_d);")


@rule("Eye")
def c_Eye(op, node, ctx) -> None:
    n, m, k = (ctx.element(v, AT_SCALAR) for v in node.inputs)
    (out,) = node.outputs
    for size in (n, m):
        if not size.lstrip("-").isdigit():
            ctx.emit(f"if ({size} < 0)")
            ctx.emit("    " + ctx.op_error("eye: negative size {0}", size))
    dst = ctx.new_array(out, [n, m])
    t = CTYPES[out.dtype]
    ctx.emit(f"memset({dst.name}, 0, (size_t)({dst.size()}) * sizeof({t}));")
    with ctx.block(f"for (int64_t i0 = 0; i0 < {dst.shape(0)}; i0++)"):
        ctx.emit(f"const int64_t sg_j = i0 + {k};")
        ctx.emit(f"if (sg_j >= 0 && sg_j < {dst.shape(1)})")
        ctx.emit(f"    {dst.name}[i0 * {dst.shape(1)} + sg_j] = 1;")
