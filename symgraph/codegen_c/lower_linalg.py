"""Products: Dot, Matmul and the optimizer's Gemm, through CBLAS where it fits.

float32/float64 products whose operands share the output dtype call
``cblas_sgemm``/``cblas_dgemm`` (OpenBLAS from scipy-openblas32; a vector is
a 1-row or 1-column matrix) through the wrappers of `blas.cblas_source`:
each operand is passed as it lies when its rows or columns are contiguous
(transposed if need be) and copied to a scratch buffer otherwise. Other
dtypes (integers, mixed) use plain loops with NumPy's wrapping integer
arithmetic.
"""

from __future__ import annotations

from .loops import SCALAR
from .registry import rule
from .scalar_table import CTYPES

_BLAS_INT_MAX = 2**31 - 1


def _blas_dtype(*variables) -> bool:
    dtypes = {v.dtype for v in variables}
    return len(dtypes) == 1 and dtypes <= {"float32", "float64"}


def _as_matrix(cv, row_vector: bool):
    """(rows, cols, stride0, stride1) of a 1-d or 2-d operand as a matrix."""
    if cv.ndim == 2:
        return cv.shape(0), cv.shape(1), cv.stride(0), cv.stride(1)
    if row_vector:
        return "1", cv.shape(0), "0", cv.stride(0)
    return cv.shape(0), "1", cv.stride(0), "0"


def emit_gemm(ctx, dst, a_ptr, am, b_ptr, bm, alpha, beta) -> None:
    """``dst = alpha * A.B + beta * dst`` for float matrices (one BLAS call).

    ``am``/``bm``: (rows, cols, stride0, stride1) of A and B. The call goes
    through ``sg_cblas_sgemm``/``sg_cblas_dgemm`` (`blas.cblas_source`),
    which decides how BLAS reads each operand, copying it to a scratch slot
    when neither its rows nor its columns are contiguous.
    """
    fn = "sg_cblas_sgemm" if dst.dtype == "float32" else "sg_cblas_dgemm"
    m, k, n = am[0], am[1], bm[1]
    ctx.emit(
        f"if ({m} > {_BLAS_INT_MAX} || {n} > {_BLAS_INT_MAX} || {k} > {_BLAS_INT_MAX})"
    )
    ctx.emit("    " + ctx.op_error("a matrix dimension exceeds BLAS's 32-bit limit"))
    # one scratch slot per operand, for the copy a strided one may need
    slot_a, slot_b = ctx.slots.take(object()), ctx.slots.take(object())
    pad = " " * (len(fn) + 5)
    ctx.emit(f"if ({fn}(st, {ctx.node_id}, {m}, {n}, {k}, {alpha},")
    ctx.emit(f"{pad}{a_ptr}, {am[2]}, {am[3]}, {slot_a},")
    ctx.emit(f"{pad}{b_ptr}, {bm[2]}, {bm[3]}, {slot_b}, {beta}, {dst.name}))")
    ctx.emit("    return SG_ERROR;")


def _inner_check(
    ctx, ka: str, kb: str, a_pos: int = 0, b_pos: int = 1, b_axis: str = "first"
) -> None:
    """Refuse operands (inputs ``a_pos``, ``b_pos``) whose sizes ka, kb differ."""
    if ka != kb:
        ctx.emit(f"if ({ka} != {kb})")
        ctx.emit(
            "    "
            + ctx.op_error(
                "the inner dimensions do not match: {0} (last axis of input "
                f"{a_pos}) vs {{1}} ({b_axis} axis of input {b_pos})",
                ka,
                kb,
            )
        )


def _naive(
    ctx, dst, a, am, b, bm, m, n, k, a_ptr, b_ptr, alpha=None, beta=None
) -> None:
    """Loops for integer or mixed dtypes (integer arithmetic wraps).

    With ``alpha`` and ``beta`` (C expressions): dst = alpha A.B + beta dst.
    """
    t = CTYPES[dst.dtype]
    acc = "double" if dst.dtype in ("float32", "float64") else "uint64_t"
    out = f"{dst.name}[i0 * ({n}) + i1]"
    with ctx.block(f"for (int64_t i0 = 0; i0 < {m}; i0++)"):
        with ctx.block(f"for (int64_t i1 = 0; i1 < {n}; i1++)"):
            ctx.emit(f"{acc} sg_s = 0;")
            with ctx.block(f"for (int64_t i2 = 0; i2 < {k}; i2++)"):
                ctx.emit(
                    f"sg_s += ({acc}){a_ptr}[i0 * {am[2]} + i2 * {am[3]}] * "
                    f"({acc}){b_ptr}[i2 * {bm[2]} + i1 * {bm[3]}];"
                )
            if alpha is None:
                ctx.emit(f"{out} = ({t})sg_s;")
            else:
                ctx.emit(
                    f"{out} = ({t})(({acc}){alpha} * sg_s + "
                    f"({acc}){beta} * ({acc}){out});"
                )


@rule("Dot")
def c_Dot(op, node, ctx) -> None:
    a_var, b_var = node.inputs
    (out,) = node.outputs
    a, b = ctx.var(a_var), ctx.var(b_var)
    _inner_check(ctx, a.shape(a.ndim - 1), b.shape(0))
    t = CTYPES[out.dtype]
    if a.ndim == 1 and b.ndim == 1:
        acc = "double" if out.dtype in ("float32", "float64") else "uint64_t"
        s = ctx.tmp("dot")
        ctx.emit(f"{acc} {s} = 0;")
        ctx.pragma(f"omp simd reduction(+:{s})")
        with ctx.block(f"for (int64_t i0 = 0; i0 < {a.shape(0)}; i0++)"):
            ctx.emit(
                f"{s} += ({acc}){a.name}[i0 * {a.stride(0)}] * "
                f"({acc}){b.name}[i0 * {b.stride(0)}];"
            )
        ctx.new_scalar(out, f"({t}){s}")
        return
    am = _as_matrix(a, row_vector=True)
    bm = _as_matrix(b, row_vector=False)
    m, k, n = am[0], am[1], bm[1]
    dims = ([m] if a.ndim == 2 else []) + ([n] if b.ndim == 2 else [])
    dst = ctx.new_array(out, dims)
    if _blas_dtype(a_var, b_var, out):
        one, zero = ("1.0f", "0.0f") if out.dtype == "float32" else ("1.0", "0.0")
        emit_gemm(ctx, dst, a.name, am, b.name, bm, one, zero)
        return
    _naive(ctx, dst, a, am, b, bm, m, n, k, a.name, b.name)


@rule("Gemm")
def c_Gemm(op, node, ctx) -> None:
    from .lower_shape import broadcast_to

    c_var, alpha_var, a_var, b_var, beta_var = node.inputs
    (out,) = node.outputs
    a, b = ctx.var(a_var), ctx.var(b_var)
    _inner_check(ctx, a.shape(1), b.shape(0), a_pos=2, b_pos=3)
    m, k, n = a.shape(0), a.shape(1), b.shape(1)
    dst = ctx.new_array(out, [m, n])
    t = CTYPES[out.dtype]
    alpha = f"({t}){ctx.element(alpha_var, SCALAR)}"
    beta = f"({t}){ctx.element(beta_var, SCALAR)}"
    c = ctx.var(c_var)
    # dst = C (broadcast), then dst = alpha A.B + beta dst
    src, strides = broadcast_to(ctx, c, dst.dims)
    strides = ["0"] * (2 - len(strides)) + strides  # leading axes repeat
    blas = _blas_dtype(a_var, b_var, out)
    if blas and c_var.dtype == out.dtype:
        fill = "sg_fill_matrixf" if out.dtype == "float32" else "sg_fill_matrix"
        ptr = src.name if src.kind != "scalar" else f"(const {t}[]){{{src.name}}}"
        ctx.emit(f"{fill}({dst.name}, {m}, {n}, {ptr}, {', '.join(strides)});")
    else:
        with ctx.block(f"for (int64_t i0 = 0; i0 < {m}; i0++)"):
            ctx.pragma("omp simd")
            with ctx.block(f"for (int64_t i1 = 0; i1 < {n}; i1++)"):
                if src.kind == "scalar":
                    value = src.name
                else:
                    terms = [
                        f"{i} * {s}"
                        for i, s in zip(["i0", "i1"], strides, strict=True)
                        if s != "0"
                    ]
                    value = f"{src.name}[{' + '.join(terms) or '0'}]"
                ctx.emit(f"{dst.name}[i0 * {n} + i1] = ({t}){value};")
    am = (m, k, a.stride(0), a.stride(1))
    bm = (k, n, b.stride(0), b.stride(1))
    if blas:
        emit_gemm(ctx, dst, a.name, am, b.name, bm, alpha, beta)
        return
    _naive(ctx, dst, a, am, b, bm, m, n, k, a.name, b.name, alpha, beta)


@rule("Matmul")
def c_Matmul(op, node, ctx) -> None:
    a_var, b_var = node.inputs
    (out,) = node.outputs
    a, b = ctx.var(a_var), ctx.var(b_var)
    nd = out.ndim
    b_axis = "first" if nd == 2 else "second-to-last"
    _inner_check(ctx, a.shape(nd - 1), b.shape(nd - 2), b_axis=b_axis)
    dims = []
    for d in range(nd - 2):
        sa, sb = a_var.type.shape[d], b_var.type.shape[d]
        if sa == 1:
            dims.append(b.shape(d))
        elif sb == 1:
            dims.append(a.shape(d))
        else:
            if a.shape(d) != b.shape(d):
                ctx.emit(f"if ({a.shape(d)} != {b.shape(d)})")
                ctx.emit(
                    "    "
                    + ctx.op_error(
                        "the batch axes do not match: {0} vs {1} on axis {2}",
                        a.shape(d),
                        b.shape(d),
                        str(d),
                    )
                )
            dims.append(a.shape(d))
    m, k, n = a.shape(nd - 2), a.shape(nd - 1), b.shape(nd - 1)
    dst = ctx.new_array(out, dims + [m, n])
    opened = 0
    for d in range(nd - 2):
        ctx.open(f"for (int64_t sg_b{d} = 0; sg_b{d} < {dims[d]}; sg_b{d}++)")
        opened += 1

    def offset(cv, var) -> str:
        terms = [
            f"sg_b{d} * {cv.stride(d)}" for d in range(nd - 2) if var.type.shape[d] != 1
        ]
        return " + ".join(terms) or "0"

    ctx.emit(f"const {CTYPES[a_var.dtype]} *sg_a = {a.name} + {offset(a, a_var)};")
    ctx.emit(f"const {CTYPES[b_var.dtype]} *sg_b = {b.name} + {offset(b, b_var)};")
    out_off = " + ".join([f"sg_b{d} * {dst.stride(d)}" for d in range(nd - 2)]) or "0"
    t = CTYPES[out.dtype]
    ctx.emit(f"{t} *sg_c = {dst.name} + {out_off};")
    am = (m, k, a.stride(nd - 2), a.stride(nd - 1))
    bm = (k, n, b.stride(nd - 2), b.stride(nd - 1))
    view = type(dst)(out, "sg_c", "array", contiguous=True, dims=[m, n])
    if _blas_dtype(a_var, b_var, out):
        one, zero = ("1.0f", "0.0f") if out.dtype == "float32" else ("1.0", "0.0")
        emit_gemm(ctx, view, "sg_a", am, "sg_b", bm, one, zero)
    else:
        _naive(ctx, view, a, am, b, bm, m, n, k, "sg_a", "sg_b")
    for _ in range(opened):
        ctx.close()
