"""Specialisation: cheaper forms for backends (pow, x*0, GEMM).

``x * 0 -> 0`` follows the same finite-value assumption as ``x - x -> 0``
(see :mod:`symgraph.rewrite.canonicalize`): for float ``x`` the unoptimised
graph gives NaN where ``x`` is inf or NaN, the optimised one 0. Integer and
bool products are exact. Exclude ``local_mul_zero`` to keep IEEE semantics.
"""

from __future__ import annotations

from symgraph.ops import math as M
from symgraph.ops import scalar_math as S
from symgraph.ops.composite import gemm
from symgraph.ops.linalg import Dot
from symgraph.rewrite.engine import rewriter
from symgraph.rewrite.utils import const, covers, filled, fit, is_op, scalar_constant


@rewriter("specialize", tracks=(S.Pow,))
def local_pow_specialize(fgraph, node):
    # x**2 -> sqr(x), x**3 -> x*sqr(x), x**4 -> sqr(sqr(x)), x**0.5 -> sqrt(x),
    # x**-1 -> 1/x, x**-2 -> 1/sqr(x), x**-0.5 -> 1/sqrt(x), x**0 -> 1
    x, y = node.inputs
    out = node.outputs[0]
    p = scalar_constant(y)
    if p is None or not out.type.is_float:
        return None
    if p == 0:
        return [filled(fgraph, 1, out)]
    table = {
        1: lambda v: v,
        2: M.sqr,
        3: lambda v: M.mul(v, M.sqr(v)),
        4: lambda v: M.sqr(M.sqr(v)),
        0.5: M.sqrt,
        -1: M.reciprocal,
        -2: lambda v: M.reciprocal(M.sqr(v)),
        -0.5: lambda v: M.reciprocal(M.sqrt(v)),
    }
    if p not in table:
        return None
    base = M.cast(x, out.dtype) if x.dtype != out.dtype else x
    return [fit(fgraph, table[p](base), out)]


@rewriter("specialize", tracks=(S.Mul,))
def local_mul_zero(fgraph, node):
    # x * 0 -> 0 (finite x; see the module docstring)
    if not any(scalar_constant(v) == 0 for v in node.inputs):
        return None
    return [filled(fgraph, 0, node.outputs[0])]


def _scaled_dot(v):
    """``(alpha, A, B)`` for ``dot(A, B)`` or ``alpha * dot(A, B)`` (2-d), else None."""
    if v.owner is not None and isinstance(v.owner.op, Dot):
        a, b = v.owner.inputs
        return (1, a, b) if a.ndim == 2 and b.ndim == 2 else None
    if is_op(v, S.Mul) and len(v.owner.inputs) == 2:
        for i in (0, 1):
            d, s = v.owner.inputs[i], v.owner.inputs[1 - i]
            if (
                d.owner is not None
                and isinstance(d.owner.op, Dot)
                and all(n == 1 for n in s.type.shape)
            ):
                inner = _scaled_dot(d)
                if inner is not None:
                    return (_as_scalar(s), inner[1], inner[2])
    return None


def _scaled(v):
    """``(beta, C)`` for ``beta * C``, beta a broadcastable scalar; else ``(1, v)``."""
    if is_op(v, S.Mul) and len(v.owner.inputs) == 2:
        for i in (0, 1):
            s, c = v.owner.inputs[i], v.owner.inputs[1 - i]
            if all(n == 1 for n in s.type.shape) and not all(
                n == 1 for n in c.type.shape
            ):
                return _as_scalar(s), c
    return 1, v


def _as_scalar(s):
    from symgraph.ops.elemwise import DimShuffle

    if s.ndim == 0:
        return s
    return DimShuffle(s.ndim, [])(s)


@rewriter("specialize", tracks=(S.Add, S.Sub))
def local_gemm(fgraph, node):
    # alpha * dot(A, B) + beta * C -> gemm(C, alpha, A, B, beta);  C - dot(A, B) too
    out = node.outputs[0]
    if out.ndim != 2 or not out.type.is_float:
        return None
    ins = node.inputs
    subtract = is_op(out, S.Sub)
    if len(ins) != 2:
        return None
    for i in (0, 1):
        found = _scaled_dot(ins[i])
        if found is None or fgraph.n_clients(ins[i]) != 1:
            continue
        alpha, A, B = found
        beta, C = _scaled(ins[1 - i])
        if C.ndim != 2 or not covers(ins[i], out):
            continue
        if subtract:
            if i == 0:
                beta = M.neg(beta) if not isinstance(beta, int) else -beta
            else:
                alpha = M.neg(alpha) if not isinstance(alpha, int) else -alpha
        dtype = out.dtype
        alpha, beta = (
            const(v, dtype) if isinstance(v, int) else M.cast(v, dtype)
            for v in (alpha, beta)
        )
        return [fit(fgraph, gemm(C, alpha, A, B, beta), out)]
    return None
