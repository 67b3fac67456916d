"""Stabilisation: rewrite forms that overflow, underflow or cancel catastrophically.

Each rule names the naive form and the inputs that break it. The gradient
graphs of these forms are made stable by the same canonical machinery:
cancelling mathematically nonzero factors (``canonicalize.is_nonzero``),
distributing a factor over a sum where that lets it cancel
(:func:`local_mul_distribute_cancel`), the softmax/label identities below,
and :func:`local_exp_over_sum_exp` for ``exp(x) / sum(exp(x))``, which
:func:`local_sum_div_invariant` helps reach in that quotient's gradient.
"""

from __future__ import annotations

from symgraph.ops import math as M
from symgraph.ops import scalar_math as S
from symgraph.ops.elemwise import DimShuffle
from symgraph.ops.nnet import (
    LogSoftmax,
    PickLabel,
    ScatterLabel,
    Softmax,
    SoftmaxCrossentropyWithLogits,
)
from symgraph.ops.reduce import Max, Sum
from symgraph.rewrite.canonicalize import _ADDLIKE, _MULLIKE, _expand, is_nonzero
from symgraph.rewrite.engine import rewriter
from symgraph.rewrite.utils import (
    const,
    covers,
    fit,
    is_op,
    scalar_constant,
    scalar_op,
)


def _last_axis(op, x) -> bool:
    return op.axis is not None and op.axis % x.ndim == x.ndim - 1


# ------------------------------------------------------------ log and exp


@rewriter("stabilize", tracks=(S.Log,))
def local_log_sigmoid(fgraph, node):
    # log(sigmoid(x)) -> -softplus(-x);  log(1 - sigmoid(x)) -> -softplus(x)
    (u,) = node.inputs
    if is_op(u, S.Sigmoid):
        return [
            fit(fgraph, M.neg(M.softplus(M.neg(u.owner.inputs[0]))), node.outputs[0])
        ]
    if (
        is_op(u, S.Sub)
        and scalar_constant(u.owner.inputs[0]) == 1
        and is_op(u.owner.inputs[1], S.Sigmoid)
    ):
        x = u.owner.inputs[1].owner.inputs[0]
        return [fit(fgraph, M.neg(M.softplus(x)), node.outputs[0])]
    return None


@rewriter("stabilize", tracks=(S.Log,))
def local_log1p(fgraph, node):
    # log(1 + x) -> log1p(x);  log(1 - x) -> log1p(-x): exact for |x| ~ 1e-20
    (u,) = node.inputs
    if is_op(u, S.Add):
        terms = u.owner.inputs
        ones = [i for i, t in enumerate(terms) if scalar_constant(t) == 1]
        if not ones:
            return None
        rest = [t for i, t in enumerate(terms) if i != ones[0]]
        x = rest[0] if len(rest) == 1 else M.add(*rest)
    elif is_op(u, S.Sub) and scalar_constant(u.owner.inputs[0]) == 1:
        x = M.neg(u.owner.inputs[1])
    else:
        return None
    return [fit(fgraph, M.log1p(x), node.outputs[0])]


@rewriter("stabilize", tracks=(S.Sub, S.Add))
def local_expm1(fgraph, node):
    # exp(x) - 1 -> expm1(x): exact for |x| ~ 1e-20
    ins = node.inputs
    if is_op(node.outputs[0], S.Sub):
        if is_op(ins[0], S.Exp) and scalar_constant(ins[1]) == 1:
            return [fit(fgraph, M.expm1(ins[0].owner.inputs[0]), node.outputs[0])]
        return None
    exps = [i for i, t in enumerate(ins) if is_op(t, S.Exp)]
    ones = [i for i, t in enumerate(ins) if scalar_constant(t) == -1]
    if not exps or not ones:
        return None
    e = M.expm1(ins[exps[0]].owner.inputs[0])
    rest = [t for i, t in enumerate(ins) if i not in (exps[0], ones[0])]
    return [fit(fgraph, M.add(e, *rest) if rest else e, node.outputs[0])]


@rewriter("stabilize", tracks=(S.Log,))
def local_log_softmax(fgraph, node):
    # log(softmax(x)) -> log_softmax(x): finite for logits ~ 1000
    (u,) = node.inputs
    if u.owner is not None and isinstance(u.owner.op, Softmax):
        return [
            fit(fgraph, LogSoftmax(u.owner.op.axis)(u.owner.inputs[0]), node.outputs[0])
        ]
    return None


def _max_shift(x, axis):
    """max(x) over ``axis`` (keepdims), 0 where it is infinite (all -inf rows)."""
    m = Max(axis, keepdims=True)(x)
    return M.switch(M.isinf(m), 0, m)


def _is_shifted(x) -> bool:
    """``x`` is already ``y - max(y)`` (made by the rules below)."""
    if not is_op(x, S.Sub):
        return False
    b = x.owner.inputs[1]
    if is_op(b, S.Switch):
        b = b.owner.inputs[2]
    return b.owner is not None and isinstance(b.owner.op, Max)


def _unshifted_sum_exp(s):
    """The ``exp(x)`` that ``s = sum(exp(x))`` adds up, unless ``x`` is
    already shifted by its maximum; else None."""
    if (
        s.owner is None
        or not isinstance(s.owner.op, Sum)
        or not is_op(s.owner.inputs[0], S.Exp)
    ):
        return None
    e = s.owner.inputs[0]
    return None if _is_shifted(e.owner.inputs[0]) else e


@rewriter("stabilize", tracks=(S.Log,))
def local_logsumexp(fgraph, node):
    # log(sum(exp(x))) -> m + log(sum(exp(x - m))), m = max(x): finite for x ~ 1000
    (s,) = node.inputs
    e = _unshifted_sum_exp(s)
    if e is None or e.dtype != s.dtype:
        return None
    x = e.owner.inputs[0]
    op = s.owner.op
    m = _max_shift(x, op.axis)
    shifted = op(M.exp(M.sub(x, m)))
    m_out = (
        m
        if op.keepdims
        else DimShuffle(m.ndim, [a for a in range(m.ndim) if a not in op.axis])(m)
    )
    return [fit(fgraph, M.add(M.log(shifted), m_out), node.outputs[0])]


def _strip_dimshuffle(v):
    while v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    return v


def _factors(v):
    """The factors of a product ``v`` (``[v]`` itself if it is not one)."""
    return list(v.owner.inputs) if is_op(v, S.Mul) else [v]


def _product(factors):
    return factors[0] if len(factors) == 1 else M.mul(*factors)


def _replace_first(factors, old, new):
    """``factors`` with the first ``old`` (by identity) replaced by ``new``."""
    at = next(i for i, f in enumerate(factors) if f is old)
    return factors[:at] + [new] + factors[at + 1 :]


def _softmax_pair(nums, dens):
    """``(e, d)``: a factor ``e = exp(x)`` of ``nums`` and a factor ``d`` of
    ``dens`` that is (a DimShuffle of) ``sum(exp(x))``, with ``x`` not yet
    shifted; else None. (Only looks: the rewrites that merely test for a
    pair build nothing.)"""
    for d in dens:
        e = _unshifted_sum_exp(_strip_dimshuffle(d))
        if e is not None and any(f is e for f in nums):
            return e, d
    return None


def _shifted(e, d):
    """``exp(x - m)`` and ``sum(exp(x - m))`` (``m = max(x)``) for the pair
    ``e``, ``d`` of `_softmax_pair`: the same ratio, finite at large x."""
    s = _strip_dimshuffle(d)
    op = s.owner.op
    x = e.owner.inputs[0]
    e_new = M.exp(M.sub(x, _max_shift(x, op.axis)))
    chain = []
    v = d
    while v is not s:
        chain.append(v.owner.op)
        v = v.owner.inputs[0]
    d_new = op(e_new)
    for ds in reversed(chain):
        d_new = ds(d_new)
    return e_new, d_new


@rewriter("stabilize", tracks=(S.TrueDiv,))
def local_exp_over_sum_exp(fgraph, node):
    # exp(x) * a / (sum(exp(x)) * b) -> exp(x - m) * a / (sum(exp(x - m)) * b):
    # softmax written out, and the square of its sum in its gradient
    num, den = node.inputs
    nums, dens = _factors(num), _factors(den)
    pair = _softmax_pair(nums, dens)
    if pair is None:
        return None
    e, d = pair
    e_new, d_new = _shifted(e, d)
    # one factor each: exp(x)**2 / sum(exp(x)) is not exp(x-m)**2 / sum(exp(x-m))
    new_num = _product(_replace_first(nums, e, e_new))
    new_den = _product(_replace_first(dens, d, d_new))
    return [fit(fgraph, M.true_div(new_num, new_den), node.outputs[0])]


@rewriter("stabilize", tracks=(Sum,))
def local_sum_div_invariant(fgraph, node):
    # sum(a / (d * b), axis) -> sum(a / b, axis) / d where d is constant along
    # axis: in softmax's gradient, lets d = sum(exp(x)) meet the exp(x) outside
    out, (quotient,) = node.outputs[0], node.inputs
    if fgraph.n_clients(quotient) != 1:
        return None  # the other readers would still compute a / (d * b)
    terms, negs, _, _ = _expand(fgraph, quotient, _MULLIKE, mul=True)
    nums = [v for s, v in terms if s > 0]
    dens = [v for s, v in terms if s < 0]
    if not dens or _softmax_pair(nums, dens) is not None:
        return None  # nothing to move, or exp(x) / sum(exp(x)) must pair first
    axes = node.op.axis
    moved = [
        d
        for d in dens
        if d.ndim == quotient.ndim and all(d.type.shape[a] == 1 for a in axes)
    ]
    kept = [d for d in dens if not any(d is m for m in moved)]
    if not moved or not (nums or kept):
        return None  # (with neither, the sum's extent would be lost)
    inner = _product(nums) if nums else const(1, out.dtype)
    if kept:
        inner = M.true_div(inner, _product(kept))
    if negs < 0:
        inner = M.neg(inner)
    divisor = _product(moved)
    if not node.op.keepdims:
        keep = [a for a in range(divisor.ndim) if a not in axes]
        divisor = DimShuffle(divisor.ndim, keep)(divisor)
    return [fit(fgraph, M.true_div(node.op(inner), divisor), out)]


# ------------------------------------------------------- softmax gradients


@rewriter("stabilize", tracks=(S.Mul,))
def local_mul_distribute_cancel(fgraph, node):
    # f * (a/f - b) -> a - f*b  (f nonzero): lets f cancel instead of 0 * inf
    out = node.outputs[0]
    factors = node.inputs
    for i, t in enumerate(factors):
        if not isinstance(scalar_op(t), _ADDLIKE) or isinstance(scalar_op(t), S.Neg):
            continue
        others = [f for j, f in enumerate(factors) if j != i]
        terms, _, _, _ = _expand(fgraph, t, _ADDLIKE, mul=False)
        if not any(_absorbs(f, term) for f in others for _, term in terms):
            continue
        parts = [(s, M.mul(*others, term)) for s, term in terms]
        pos = [p for s, p in parts if s > 0]
        neg = [p for s, p in parts if s < 0]
        total = pos[0] if len(pos) == 1 else M.add(*pos) if pos else None
        minus = neg[0] if len(neg) == 1 else M.add(*neg) if neg else None
        if total is None:
            new = M.neg(minus)
        elif minus is None:
            new = total
        else:
            new = M.sub(total, minus)
        return [fit(fgraph, new, out)]
    return None


def _absorbs(f, term) -> bool:
    """``f * term`` simplifies: ``term`` divides by ``f``, or scatters into softmax."""
    if is_op(term, S.TrueDiv) and term.owner.inputs[1] is f and is_nonzero(f):
        return True
    return (
        term.owner is not None
        and isinstance(term.owner.op, ScatterLabel)
        and f.owner is not None
        and isinstance(f.owner.op, Softmax)
    )


@rewriter("stabilize", tracks=(S.Mul,))
def local_softmax_times_scatter(fgraph, node):
    # softmax(x) * scatter(q, y) -> scatter(q * softmax(x)[y], y): zeros stay zeros
    factors = list(node.inputs)
    for i, f in enumerate(factors):
        if (
            f.owner is None
            or not isinstance(f.owner.op, Softmax)
            or not _last_axis(f.owner.op, f)
        ):
            continue
        for j, g in enumerate(factors):
            if (
                g.owner is None
                or not isinstance(g.owner.op, ScatterLabel)
                or not covers(g, f)
            ):
                continue
            q, y, k = g.owner.inputs
            scattered = ScatterLabel()(M.mul(q, PickLabel()(f, y)), y, k)
            rest = [v for n, v in enumerate(factors) if n not in (i, j)]
            new = M.mul(scattered, *rest) if rest else scattered
            return [fit(fgraph, new, node.outputs[0])]
    return None


def _last_axis_sum_of_product(sum_node, op_class):
    """For ``sum(a * b)`` over the last axis where one factor is an ``op_class``
    op over its last axis: ``(other factor, that factor)``, else None."""
    prod = sum_node.inputs[0]
    if (
        sum_node.op.axis != (prod.ndim - 1,)
        or not is_op(prod, S.Mul)
        or len(prod.owner.inputs) != 2
    ):
        return None
    first, second = prod.owner.inputs
    for other, factor in ((first, second), (second, first)):
        if (
            factor.owner is not None
            and isinstance(factor.owner.op, op_class)
            and _last_axis(factor.owner.op, factor)
        ):
            return other, factor
    return None


@rewriter("stabilize", tracks=(Sum,))
def local_sum_scatter_softmax(fgraph, node):
    # sum(scatter(q, y) * softmax(x), last axis) -> q * softmax(x)[y]
    op = node.op
    pair = _last_axis_sum_of_product(node, Softmax)
    if pair is None:
        return None
    a, b = pair
    if a.owner is None or not isinstance(a.owner.op, ScatterLabel):
        return None
    q, y, _ = a.owner.inputs
    new = M.mul(q, PickLabel()(b, y))
    if op.keepdims:
        new = DimShuffle(new.ndim, list(range(new.ndim)) + ["x"])(new)
    return [fit(fgraph, new, node.outputs[0])]


# ------------------------------------------------------------ cross-entropy


@rewriter("stabilize", tracks=(S.Neg,))
def local_crossentropy_softmax(fgraph, node):
    # -log(softmax(x)[y]) -> xent(x, y);  -sum(t * log_softmax(x)) -> xent(x, t)
    (u,) = node.inputs
    out = node.outputs[0]
    if is_op(u, S.Log):
        p = u.owner.inputs[0]
        if p.owner is None or not isinstance(p.owner.op, PickLabel):
            return None
        sm, y = p.owner.inputs
        if (
            sm.owner is None
            or not isinstance(sm.owner.op, Softmax)
            or not _last_axis(sm.owner.op, sm)
        ):
            return None
        return [
            fit(fgraph, SoftmaxCrossentropyWithLogits()(sm.owner.inputs[0], y), out)
        ]
    if u.owner is None or not isinstance(u.owner.op, Sum) or u.owner.op.keepdims:
        return None
    prod = u.owner.inputs[0]
    pair = _last_axis_sum_of_product(u.owner, LogSoftmax)
    if pair is None:
        return None
    a, b = pair
    if not covers(a, prod) or not covers(b, prod):
        return None
    return [fit(fgraph, SoftmaxCrossentropyWithLogits()(b.owner.inputs[0], a), out)]
