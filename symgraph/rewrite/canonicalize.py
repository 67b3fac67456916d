"""Canonical forms: flat add/mul chains, collected constants, cancellations.

Semantics of the cancellations (the documented choice):

- ``x - x -> 0`` (and any ``+x ... -x`` pair in an add chain) assumes ``x``
  is finite, as Theano and PyTensor do: with ``x = inf`` the unoptimised graph
  gives NaN. Exclude ``local_add_canonical`` to keep IEEE semantics.
- ``x / x -> 1`` (and any factor that is both multiplied and divided) is
  applied only where ``x`` is *mathematically* nonzero: nonzero constants,
  ``exp``, ``sigmoid``, ``softplus``, ``cosh``, ``softmax``, ``1 - sigmoid``,
  and products, quotients, squares and positive sums of those. Zero is an
  ordinary value, so ``x / x`` for an arbitrary ``x`` is left alone. Where
  such an ``x`` underflows to 0 the cancelled form is the *more* accurate one:
  this is what makes the gradients of ``log(sigmoid(x))`` and
  ``log(softmax(x))`` finite.
"""

from __future__ import annotations

import numpy as np

from symgraph.ops import math as M
from symgraph.ops import scalar_math as S
from symgraph.ops.elemwise import DimShuffle
from symgraph.rewrite.engine import pattern, rewriter
from symgraph.rewrite.utils import const, filled, fit, scalar_constant, scalar_op

#: The most terms (factors) a flattened chain gets: keeps rewriting of long
#: chains linear (each node is rebuilt with a bounded number of inputs).
MAX_TERMS = 32

_ADDLIKE = (S.Add, S.Sub, S.Neg)
_MULLIKE = (S.Mul, S.TrueDiv, S.Neg)


def _children(op, ins, sign, mul: bool):
    """(sign-or-exponent, input) pairs of one add-like or mul-like node."""
    if isinstance(op, (S.Add, S.Mul)):
        return [(sign, v) for v in ins]
    if isinstance(op, S.Neg):
        return [(-sign, ins[0])] if not mul else [(sign, ins[0], -1)]
    return [(sign, ins[0]), (-sign, ins[1])]  # Sub: a - b; TrueDiv: a / b


def _uniform(node, dtype) -> bool:
    return all(v.dtype == dtype for v in node.inputs) and node.outputs[0].dtype == dtype


def _expand(fgraph, out, kinds, mul: bool, shared: bool = False):
    """The terms of the tree at ``out``: [(+1/-1, var)], the sign of negs, opened?,
    and whether a child was left closed only because it has other readers.

    Children with other readers are opened only when ``shared`` (their value
    is still computed for those readers; worth it only if a term cancels).
    """
    dtype = out.dtype
    terms, negs, opened, held = [], 1, False, False
    stack = [(1, out, True)]
    while stack:
        sign, v, root = stack.pop()
        op = scalar_op(v)
        openable = isinstance(op, kinds) and _uniform(v.owner, dtype)
        if openable and not root:
            alone = shared or fgraph.n_clients(v) == 1
            room = len(terms) + len(stack) < MAX_TERMS
            held = held or (room and not alone)
            openable = alone and room
        if not openable:
            terms.append((sign, v))
            continue
        if not root:
            opened = True
        kids = []
        for entry in _children(op, v.owner.inputs, sign, mul):
            if len(entry) == 3:  # a neg inside a product: flip the overall sign
                negs = -negs
                entry = entry[:2]
            kids.append(entry)
        for s, child in reversed(kids):
            stack.append((s, child, False))
    return terms, negs, opened, held


def _same(a, b) -> bool:
    """Same variable, or constants of one value and rank (however spelled)."""
    if a is b:
        return True
    va = scalar_constant(a)
    return va is not None and a.ndim == b.ndim and va == scalar_constant(b)


def _same_tree(new, old, depth: int = 3) -> bool:
    """``new`` computes what ``old`` does with the same node structure."""
    if _same(new, old):
        return True
    if depth == 0 or new.owner is None or old.owner is None:
        return False
    if new.owner.op != old.owner.op or len(new.owner.inputs) != len(old.owner.inputs):
        return False
    return all(
        _same_tree(a, b, depth - 1)
        for a, b in zip(new.owner.inputs, old.owner.inputs, strict=False)
    )


def _rebuilds_itself(node) -> bool:
    """Rebuilding ``node`` from its own inputs as terms (nothing opened,
    cancelled or folded) gives the same tree: ``a + b + ...``, ``a - b``,
    ``-a``, ``a * b * ...`` or ``a / b``. Saves building it to compare."""
    op = node.op.scalar_op
    if op == S.add or op == S.mul:
        return len(node.inputs) >= 2
    return op == S.sub or op == S.neg or op == S.true_div


def _cancel(terms, allowed) -> tuple[list, bool]:
    """Drop (+v, -v) pairs of the same variable where ``allowed(v)``."""
    plus: dict = {}
    for s, v in terms:
        if s > 0:
            plus.setdefault(v, 0)
            plus[v] += 1
    drop: dict = {}
    for s, v in terms:
        if s < 0 and plus.get(v, 0) > 0 and allowed(v):
            plus[v] -= 1
            drop[v] = drop.get(v, 0) + 1
    if not drop:
        return terms, False
    kept, remove_pos = [], dict(drop)
    remove_neg = dict(drop)
    for s, v in terms:
        table = remove_pos if s > 0 else remove_neg
        if table.get(v, 0) > 0:
            table[v] -= 1
            continue
        kept.append((s, v))
    return kept, True


def _exact_dtype(dtype: str) -> bool:
    return dtype.startswith("int") or dtype.startswith("float")


# ------------------------------------------------------------------- add/sub


@rewriter("canonicalize", tracks=_ADDLIKE)
def local_add_canonical(fgraph, node):
    # ((a + b) - (c - d)) -> (a + b + d) - c;  x - x -> 0;  2 + x + 3 -> x + 5
    out = node.outputs[0]
    dtype = out.dtype
    if not _exact_dtype(dtype) or not _uniform(node, dtype):
        return None
    terms, _, opened, _ = _expand(fgraph, out, _ADDLIKE, mul=False)
    terms, cancelled = _cancel(terms, lambda v: True)
    consts = [(s, v, scalar_constant(v)) for s, v in terms]
    consts = [c for c in consts if c[2] is not None]
    if len(consts) == 1 and consts[0][2] != 0:
        consts = []  # a lone constant stays as it is (no churn between forms)
    if not (opened or cancelled or consts) and _rebuilds_itself(node):
        return None
    rest = [(s, v) for s, v in terms if not any(v is c[1] for c in consts)]
    total = sum(s * value for s, _, value in consts)
    pos = [v for s, v in rest if s > 0]
    neg = [v for s, v in rest if s < 0]
    total = np.asarray(total, dtype=dtype).item()
    if total:
        (pos if total > 0 else neg).append(const(abs(total), dtype))
    new = _rebuild_sum(fgraph, pos, neg, out)
    if not cancelled and _same_tree(new, out):
        return None
    return [fit(fgraph, new, out)]


def _rebuild_sum(fgraph, pos, neg, out):
    def total(vs):
        return vs[0] if len(vs) == 1 else M.add(*vs)

    if not pos and not neg:
        return filled(fgraph, 0, out)
    if not neg:
        return total(pos)
    if not pos:
        return M.neg(total(neg))
    return M.sub(total(pos), total(neg))


# ------------------------------------------------------------------- mul/div

_POSITIVE_OPS = ("Exp", "Exp2", "Sigmoid", "Softplus", "Cosh", "Softmax")


def is_positive(v, depth: int = 4) -> bool:
    """``v`` is mathematically > 0 (it may still underflow to 0 in floats)."""
    data = None if v.owner is not None else getattr(v, "data", None)
    if data is not None:
        return bool(data.size and np.all(data > 0) and np.all(np.isfinite(data)))
    if v.owner is None or depth == 0:
        return False
    op = scalar_op(v)
    name = type(op).__name__ if op is not None else type(v.owner.op).__name__
    ins = v.owner.inputs
    if name in _POSITIVE_OPS:
        return True
    if isinstance(v.owner.op, DimShuffle) or name in ("PickLabel", "Sum", "Sqrt"):
        return is_positive(ins[0], depth - 1)
    if name in ("Add", "Mul", "TrueDiv", "Reciprocal"):
        return all(is_positive(i, depth - 1) for i in ins)
    if name == "Sqr":
        return is_nonzero(ins[0], depth - 1)
    if name == "Sub":  # 1 - sigmoid(x) = sigmoid(-x)
        return (
            scalar_constant(ins[0]) == 1
            and type(scalar_op(ins[1])).__name__ == "Sigmoid"
        )
    return False


def is_nonzero(v, depth: int = 4) -> bool:
    """``v`` is mathematically nonzero and finite (so ``v / v == 1``)."""
    if is_positive(v, depth):
        return True
    data = None if v.owner is not None else getattr(v, "data", None)
    if data is not None:
        return bool(data.size and np.all(data != 0) and np.all(np.isfinite(data)))
    if v.owner is None or depth == 0:
        return False
    op = scalar_op(v)
    ins = v.owner.inputs
    if isinstance(op, (S.Neg, S.Sqr, S.Reciprocal)) or isinstance(
        v.owner.op, DimShuffle
    ):
        return is_nonzero(ins[0], depth - 1)
    if isinstance(op, (S.Mul, S.TrueDiv)):
        return all(is_nonzero(i, depth - 1) for i in ins)
    return False


@rewriter("canonicalize", tracks=_MULLIKE)
def local_mul_canonical(fgraph, node):
    # (a * (b / c)) / (-d) -> -((a * b) / (c * d));  (x * y) / x -> y  (x nonzero)
    out = node.outputs[0]
    dtype = out.dtype
    if not _exact_dtype(dtype) or not _uniform(node, dtype):
        return None
    if isinstance(node.op.scalar_op, S.Neg) and scalar_op(node.inputs[0]) is None:
        return None  # plain -x: the add canonicaliser's business
    terms, negs, opened, held = _expand(fgraph, out, _MULLIKE, mul=True)
    terms, cancelled = _cancel(terms, is_nonzero)
    if not cancelled and held:  # a factor shared with other readers may still cancel
        wide, wide_negs, _, _ = _expand(fgraph, out, _MULLIKE, mul=True, shared=True)
        wide, cancelled = _cancel(wide, is_nonzero)
        if cancelled:
            terms, negs = wide, wide_negs
    values = {id(v): scalar_constant(v) for _, v in terms}
    if not (opened or cancelled) and _rebuilds_itself(node):
        if all(value is None for value in values.values()):
            return None
    num_k = [v for s, v in terms if s > 0 and values[id(v)] is not None]
    den_k = [v for s, v in terms if s < 0 and values[id(v)] is not None]
    if len(num_k) == 1 and negs == 1 and values[id(num_k[0])] not in (1, -1):
        num_k = []  # a lone constant stays as it is (no churn between forms)
    if len(den_k) == 1 and values[id(den_k[0])] != 1:
        den_k = []
    folded = {id(v) for v in num_k + den_k}
    nums = [v for s, v in terms if s > 0 and id(v) not in folded]
    dens = [v for s, v in terms if s < 0 and id(v) not in folded]
    num_c = (
        np.asarray(np.prod([values[id(v)] for v in num_k] or [1]), dtype=dtype).item()
        * negs
    )
    den_c = np.asarray(
        np.prod([values[id(v)] for v in den_k] or [1]), dtype=dtype
    ).item()
    negate = False
    if num_c == -1:
        negate = True
    elif num_c != 1:
        nums.append(const(num_c, dtype))
    if den_c != 1:
        dens.append(const(den_c, dtype))
    new = _rebuild_product(fgraph, nums, dens, out, negate)
    if not cancelled and _same_tree(new, out):
        return None
    return [fit(fgraph, new, out)]


def _rebuild_product(fgraph, nums, dens, out, negate):
    def product(vs):
        return vs[0] if len(vs) == 1 else M.mul(*vs)

    top = product(nums) if nums else const(1, out.dtype)
    new = M.true_div(top, product(dens)) if dens else top
    if new.dtype != out.dtype:
        return out  # integer division would change dtype: leave it
    return M.neg(new) if negate else new


# ---------------------------------------------------------------- one-liners

pattern(
    "canonicalize", (S.Log, (S.Exp, "x")), "x", name="local_log_exp"
)  # log(exp(x)) -> x
pattern("canonicalize", (S.Neg, (S.Neg, "x")), "x", name="local_neg_neg")  # -(-x) -> x
pattern(
    "canonicalize", (S.Sqrt, (S.Sqr, "x")), (S.Abs, "x"), name="local_sqrt_sqr"
)  # sqrt(x^2) -> |x|
pattern(
    "canonicalize",
    (S.Exp, (S.Neg, (S.Log, "x"))),
    (S.Reciprocal, "x"),
    name="local_exp_neg_log",
)  # exp(-log(x)) -> 1/x
