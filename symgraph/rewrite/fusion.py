"""Fusion: Elemwise chains -> one Elemwise(Composite); reductions absorb producers.

A group is grown from its *root* (the last Elemwise of a chain) upward
through producers that have no other reader, so each node is visited once
and fusion stays linear. A node whose only reader is another Elemwise
defers to it. Groups are bounded (``MAX_INPUTS`` distinct inputs,
``MAX_OPS`` scalar steps); where a bound stops a group, the producer it
stopped at becomes the root of a group of its own.
"""

from __future__ import annotations

import sys

from symgraph.graph import Constant
from symgraph.ops.composite import Composite, FusedReduce
from symgraph.ops.elemwise import Elemwise
from symgraph.ops.reduce import Reduce
from symgraph.rewrite.engine import rewriter

MAX_INPUTS = 32
MAX_OPS = 64
_REDUCTIONS = ("Sum", "Prod", "Max", "Min")


def _is_elemwise(var) -> bool:
    node = var.owner
    return node is not None and isinstance(node.op, Elemwise) and len(node.outputs) == 1


def _defers(fgraph, var) -> bool:
    """``var``'s only reader is an Elemwise that will absorb its producer."""
    readers = fgraph.client_nodes(var)
    return (
        len(readers) == 1
        and readers[0] != "output"
        and isinstance(readers[0].op, Elemwise)
        and len(readers[0].outputs) == 1
    )


def _embeddable(var) -> bool:
    return (
        isinstance(var, Constant)
        and var.data.size == 1
        and all(s == 1 for s in var.type.shape)
    )


def _cost(node) -> int:
    op = node.op.scalar_op
    return op.n_ops if isinstance(op, Composite) else 1


def _alone(fgraph, root, memo: dict) -> bool:
    """``root`` absorbs none of its producers and none of those fuses on its own
    (the common case, found without building a group)."""
    if MAX_OPS - _cost(root) > 0:
        for v in root.inputs:
            if (
                _is_elemwise(v)
                and fgraph.n_clients(v) == 1
                and len(v.owner.inputs) <= MAX_INPUTS
            ):
                return False
    seen: set = set()
    for v in root.inputs:
        if v in seen or _embeddable(v):
            continue
        seen.add(v)
        if (
            _is_elemwise(v)
            and _defers(fgraph, v)
            and fuse_group(fgraph, v.owner, memo) is not v
        ):
            return False
    return True


def fuse_group(fgraph, root, memo: dict):
    """The fused replacement of ``root``'s output (itself when nothing fuses)."""
    out = root.outputs[0]
    if out in memo:
        return memo[out]
    if _alone(fgraph, root, memo):
        memo[out] = out
        return out
    inputs: list = []
    input_pos: dict = {}
    steps: list = []
    step_pos: dict = {}
    budget = [MAX_OPS]
    changed = [False]

    def arg(v):
        if v in step_pos:
            return ("step", step_pos[v])
        if _embeddable(v):
            return ("const", v.data.reshape(()).item(), v.dtype)
        if v not in input_pos:
            input_pos[v] = len(inputs)
            inputs.append(v)
        return ("in", input_pos[v])

    def absorb(v) -> bool:
        if not _is_elemwise(v) or fgraph.n_clients(v) != 1 or budget[0] <= 0:
            return False
        n_new = len(v.owner.inputs)
        if len(inputs) + n_new > MAX_INPUTS:
            return False
        return True

    stack = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if ready:
            op = node.op.scalar_op
            args = [arg(v) for v in node.inputs]
            if isinstance(op, Composite):  # inline a fused producer
                local = list(args)
                for inner_op, inner_args in op.nodes:
                    mapped = [
                        a if isinstance(a, tuple) and a[0] == "const" else local[a]
                        for a in inner_args
                    ]
                    steps.append((inner_op, mapped))
                    local.append(("step", len(steps) - 1))
                step_pos[node.outputs[0]] = len(steps) - 1
            else:
                steps.append((op, args))
                step_pos[node.outputs[0]] = len(steps) - 1
            continue
        stack.append((node, True))
        budget[0] -= _cost(node)
        for v in reversed(node.inputs):
            if absorb(v):
                changed[0] = True
                stack.append((v.owner, False))
    # Producers left out by the bounds start groups of their own.
    for k, v in enumerate(inputs):
        if _is_elemwise(v) and _defers(fgraph, v):
            new = fuse_group(fgraph, v.owner, memo)
            if new is not v:
                inputs[k] = new
                changed[0] = True
    if not changed[0]:
        memo[out] = out
        return out
    if len(steps) == 1 and not isinstance(root.op.scalar_op, Composite):
        memo[out] = root.op(*inputs)
        return memo[out]
    nin = len(inputs)

    def final(a):
        if a[0] == "in":
            return a[1]
        if a[0] == "step":
            return nin + a[1]
        return a

    composite = Composite(
        nin, tuple((op, tuple(final(a) for a in args)) for op, args in steps)
    )
    new = Elemwise(composite)(*inputs)
    memo[out] = new
    return new


@rewriter("fusion", tracks=(Elemwise,))
def local_elemwise_fusion(fgraph, node):
    # f(g(x), h(y)) -> Elemwise{Composite{f(g(i0), h(i1))}}(x, y)
    if len(node.outputs) != 1 or _defers(fgraph, node.outputs[0]):
        return None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10000))
    try:
        new = fuse_group(fgraph, node, {})
    finally:
        sys.setrecursionlimit(limit)
    return None if new is node.outputs[0] else [new]


@rewriter("fusion", tracks=(Reduce,))
def local_reduce_absorb_elemwise(fgraph, node):
    # sum(f(x, y)) -> FusedReduce{sum, f}(x, y): the reduction reads x, y once
    if type(node.op).__name__ not in _REDUCTIONS:
        return None
    x = node.inputs[0]
    if not _is_elemwise(x) or fgraph.n_clients(x) != 1:
        return None
    return [FusedReduce(node.op, x.owner.op.scalar_op)(*x.owner.inputs)]


@rewriter("fusion", tracks=(Elemwise,), default=False)
def local_composite_sympy_simplify(fgraph, node):
    # Composite{expr} -> Composite{simplify(expr)} when SymPy finds fewer operations
    op = node.op.scalar_op
    if not isinstance(op, Composite):
        return None
    from symgraph.rewrite.utils import fit
    from symgraph.sympy import from_sympy, simplify_composite

    out = node.outputs[0]
    simpler = simplify_composite(op, tuple(v.dtype for v in node.inputs))
    if simpler is None:
        return None
    names = {f"i{k}": v for k, v in enumerate(node.inputs)}
    try:
        new = from_sympy(simpler, names, dtype=out.dtype)
    except (NotImplementedError, KeyError):
        return None
    return [fit(fgraph, new, out)]
