"""The rewrite engine: a registry of local rewrites and a worklist to a fixpoint.

A rewrite is a plain function of one node::

    @rewriter("canonicalize", tracks=(S.Neg,))
    def local_neg_neg(fgraph, node):
        # -(-x) -> x
        ...
        return [replacement]          # or {old_var: new_var}, or None

registered to one phase of a fixed, ordered list. ``tracks`` names the Op
classes (or, for Elemwise, the ScalarOp classes) the rewrite looks at, so a
node is offered only to the rewrites that can apply (:class:`Dispatch`: one
dict lookup by op class). Rewrites build new nodes and never edit one.

Each phase runs to a fixpoint (:func:`run_phase`): a heap of nodes in
topological order, filled with every live node once, then only with the
nodes a change touched (the readers of a replaced variable, rebuilt on the
new one when popped; the new nodes; the producers of a variable that lost a
reader). Cost is proportional to what changes, not to graph size times
passes; an iteration guard stops runaway rewrite cycles with a warning.
Work that cannot change anything is skipped, never work that could:

- a node all of whose rewrites declined is not offered to them again while
  no variable has gained or lost a reader (``fgraph.changes``): its inputs
  are immutable, so they would decline again;
- once local_merge has seen every node, the fgraph's hash-consing of new and
  rebuilt nodes keeps the graph merged, and the later phases drop it;
- a phase whose nodes have nothing but clean-ups that just declined on all
  of them is skipped;
- the cyclic garbage collector is paused while a session runs (it would walk
  the whole graph again and again, for garbage that only dies at the end).

One-line identities use :func:`pattern`, a tuple form::

    # log(exp(x)) -> x
    pattern("canonicalize", (M.log, (M.exp, "x")), "x", name="local_log_exp")
"""

from __future__ import annotations

import gc
import heapq
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from symgraph.compile.fgraph import check_replacement_type
from symgraph.graph import Constant, Variable
from symgraph.ops.elemwise import Elemwise
from symgraph.ops.scalar import ScalarOp

PHASES = ("merge", "constant_fold", "canonicalize", "stabilize", "specialize", "fusion")
MODES = {
    "fast_run": PHASES,
    "fast_compile": ("merge", "constant_fold", "canonicalize", "stabilize"),
    "none": (),
}
#: Rewrites that also run inside every later phase (cheap clean-ups).
CLEANUP = ("local_merge", "local_constant_fold")
#: Phases whose rewrites also run in another phase: stabilising rewrites make
#: forms the canonicalisers must tidy before the next stabilising rule fits.
ALSO = {"stabilize": ("canonicalize",)}


class RewriteWarning(UserWarning):
    """A rewrite failed or returned an unusable replacement; it was skipped."""


@dataclass
class Rewrite:
    name: str
    fn: Callable
    phase: str
    tracks: tuple | None
    default: bool = True  # off-by-default rewrites run only when included

    def matches(self, node) -> bool:
        if self.tracks is None:
            return True
        op = node.op
        scalar = op.scalar_op if isinstance(op, Elemwise) else None
        for cls in self.tracks:
            if isinstance(cls, type):
                if isinstance(op, cls) or (
                    scalar is not None and isinstance(scalar, cls)
                ):
                    return True
            elif op == cls or (scalar is not None and scalar == cls):
                return True
        return False


REGISTRY: dict[str, Rewrite] = {}


def rewriter(phase: str, tracks=None, name: str | None = None, default: bool = True):
    """Register ``fn(fgraph, node)`` as a rewrite of ``phase`` (a decorator).

    ``tracks``: Op or ScalarOp classes (or instances) the rewrite looks at;
    None for every node. ``default=False`` makes it opt-in (``include=``).
    """
    if phase not in PHASES:
        raise ValueError(f"rewriter: unknown phase {phase!r}; phases are {PHASES}")

    def register(fn):
        rname = name or fn.__name__
        if rname in REGISTRY:
            raise ValueError(
                f"rewriter: a rewrite named {rname!r} is already registered"
            )
        REGISTRY[rname] = Rewrite(
            rname, fn, phase, None if tracks is None else tuple(tracks), default
        )
        return fn

    return register


# ---------------------------------------------------------------- statistics


@dataclass
class RewriteCounter:
    """One rewrite's counters: calls, applications, rejections and seconds."""

    name: str
    phase: str
    calls: int = 0
    applications: int = 0
    rejected: int = 0
    time: float = 0.0


@dataclass
class RewriteStats:
    """Per-rewrite and per-phase counters of one optimisation (``f.rewrite_stats``).

    Index by rewrite name (``stats["local_log1p"].applications``); ``str()``
    prints a table.
    """

    optimizer: str = "none"
    rewrites: dict = field(default_factory=dict)
    _unlisted: dict = field(default_factory=dict, repr=False, compare=False)
    phases: dict = field(default_factory=dict)  # phase -> (seconds, node visits)
    nodes_before: int = 0
    nodes_after: int = 0
    time: float = 0.0

    def __getitem__(self, name: str) -> RewriteCounter:
        return self.rewrites[name]

    def __contains__(self, name: str) -> bool:
        return name in self.rewrites

    def get(self, name: str, default=None):
        return self.rewrites.get(name, default)

    def applied(self) -> dict[str, int]:
        """``{rewrite name: applications}`` for the rewrites that fired."""
        return {n: c.applications for n, c in self.rewrites.items() if c.applications}

    def counter(self, rewrite: Rewrite) -> RewriteCounter:
        """``rewrite``'s counter; listed in ``rewrites`` from its first call."""
        c = self.rewrites.get(rewrite.name)
        if c is None:
            c = self._unlisted.get(rewrite.name)
            if c is None:
                c = self._unlisted[rewrite.name] = RewriteCounter(
                    rewrite.name, rewrite.phase
                )
        return c

    def list_counter(self, counter: RewriteCounter) -> None:
        if self.rewrites.get(counter.name) is None:
            self.rewrites[counter.name] = counter

    def __str__(self) -> str:
        lines = [
            f"optimizer={self.optimizer}: {self.nodes_before} -> {self.nodes_after} "
            f"nodes in {self.time * 1e3:.1f} ms",
            f"{'phase':<14}{'ms':>9}{'visits':>9}",
        ]
        for phase, (seconds, visits) in self.phases.items():
            lines.append(f"{phase:<14}{seconds * 1e3:>9.2f}{visits:>9}")
        rows = sorted(self.rewrites.values(), key=lambda c: (-c.applications, -c.time))
        lines.append(f"{'rewrite':<40}{'phase':<14}{'applied':>8}{'calls':>8}{'ms':>9}")
        for c in rows:
            if c.applications or c.rejected:
                extra = f"  ({c.rejected} rejected)" if c.rejected else ""
                lines.append(
                    f"{c.name:<40}{c.phase:<14}{c.applications:>8}{c.calls:>8}"
                    f"{c.time * 1e3:>9.2f}{extra}"
                )
        return "\n".join(lines)

    __repr__ = __str__


# --------------------------------------------------------------------- driver


def select_rewrites(optimizer: str, include=(), exclude=()) -> dict[str, list[Rewrite]]:
    """The rewrites each phase runs, after include/exclude (names or phases)."""
    if optimizer not in MODES:
        raise ValueError(
            f"optimizer must be one of {', '.join(MODES)}, not {optimizer!r}"
        )
    include, exclude = set(include), set(exclude)
    for name in include | exclude:
        if name not in REGISTRY and name not in PHASES:
            import difflib

            close = difflib.get_close_matches(name, list(REGISTRY) + list(PHASES), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(
                f"unknown rewrite or phase {name!r} in include/exclude{hint}"
            )
    phases = [
        p
        for p in PHASES
        if (p in MODES[optimizer] or p in include) and p not in exclude
    ]
    selected: dict[str, list[Rewrite]] = {}
    for phase in phases:
        chosen = []
        for rw in REGISTRY.values():
            if rw.name in exclude:
                continue
            own = (rw.phase == phase or rw.phase in ALSO.get(phase, ())) and (
                rw.default or rw.name in include
            )
            cleanup = rw.name in CLEANUP and PHASES.index(phase) > PHASES.index(
                rw.phase
            )
            if own or cleanup:
                chosen.append(rw)
        selected[phase] = chosen
    return selected


def optimize(
    fgraph, optimizer: str = "fast_run", include=(), exclude=()
) -> RewriteStats:
    """Rewrite ``fgraph`` through the phases of ``optimizer``; returns the stats."""
    stats = RewriteStats(optimizer=optimizer)
    phases = select_rewrites(optimizer, include, exclude)
    start = time.perf_counter()
    with gc_paused():
        stats.nodes_before = len(fgraph.toposort())
        if phases:
            fgraph.open()
            try:
                run_phases(fgraph, phases, stats)
            finally:
                fgraph.close()
        stats.nodes_after = len(fgraph.toposort())
    stats.time = time.perf_counter() - start
    return stats


def run_phases(fgraph, phases: dict, stats: RewriteStats) -> None:
    merged = False
    settled: set = set()  # the clean-ups that declined on every node just now
    for phase, rewrites in phases.items():
        if merged:
            rewrites = [rw for rw in rewrites if rw.name != "local_merge"]
        t0 = time.perf_counter()
        visits, converged = run_phase(fgraph, rewrites, stats, phase, settled)
        stats.phases[phase] = (time.perf_counter() - t0, visits)
        # Once local_merge has seen every node, the fgraph's hash-consing of
        # new and rebuilt nodes keeps the graph merged: it would never fire.
        merged = merged or (
            converged and any(rw.name == "local_merge" for rw in rewrites)
        )
        settled = (
            {rw.name for rw in rewrites if rw.name in CLEANUP} if converged else set()
        )


@contextmanager
def gc_paused():
    """The cyclic garbage collector off for a while (restored as it was).

    A rewrite session allocates many node/variable cycles, and keeps every
    replaced one reachable until it closes: collections during the session
    would walk the whole (growing) graph again and again for nothing, a cost
    that grows faster than the graph. What the session leaves behind is
    collected afterwards, once.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_phase(
    fgraph, rewrites: list[Rewrite], stats: RewriteStats, phase: str, settled=()
):
    """One phase to its fixpoint; returns (node visits, whether it got there).

    ``settled``: the clean-ups the previous phase ran to its fixpoint. Each
    declined on every live node (else the node would be gone) and depends on
    the node alone (local_merge: on the merge table, which hash-consing keeps
    free of duplicates), so it would decline again: a phase that has only
    those for every node has nothing to do.
    """
    live = fgraph._live  # node -> priority (an int, unique)
    dispatch = Dispatch(rewrites, stats)
    if settled and all(
        rw.name in settled for node in live for rw, _ in dispatch.candidates(node)
    ):
        return 0, True
    heap: list = []  # priorities of the queued nodes
    queued: dict = {}  # priority -> node

    def push(node) -> None:
        priority = live.get(node)
        if priority is not None and priority not in queued:
            queued[priority] = node
            heapq.heappush(heap, priority)

    fgraph._on_node = push
    for node, priority in live.items():
        queued[priority] = node
    heap.extend(queued)
    heapq.heapify(heap)
    declined: dict = {}  # node -> fgraph.changes when all its rewrites declined
    guard = 50 * max(len(queued), 1) + 1000
    visits = 0
    replaced = fgraph._repl
    while heap:
        node = queued.pop(heapq.heappop(heap))
        if node not in live:
            continue
        for var in node.inputs:
            if var in replaced:  # stale: rebuild it on the current variables
                node = fgraph.refresh(node)
                break
        visits += 1
        if visits > guard:
            if visits == guard + 1:
                warnings.warn(
                    f"phase {phase}: no fixpoint after {guard} node visits; stopping "
                    "(a rewrite cycle? see f.rewrite_stats)",
                    RewriteWarning,
                    stacklevel=5,
                )
            continue  # keep draining: stale nodes must still be rebuilt
        if declined.get(node) == fgraph.changes:
            continue  # nothing it could see has changed: it would decline again
        failed = False
        for rw, counter in dispatch.candidates(node):
            if not counter.calls:
                stats.list_counter(counter)
            applied = apply_rewrite(fgraph, node, rw, counter)
            if applied:
                break
            failed = failed or applied is None
        else:
            if not failed:
                declined[node] = fgraph.changes
    fgraph._on_node = lambda node: None
    return visits, visits <= guard


class Dispatch:
    """The rewrites (with their counters) that track a node's op, by op class.

    Keyed by the op's class and, for an Elemwise, its scalar op's class, so a
    node is offered only to the rewrites that can apply, found with one lookup.
    Rewrites that track op instances rather than classes are matched per op.
    """

    def __init__(self, rewrites: list[Rewrite], stats: RewriteStats) -> None:
        self.rewrites = [(rw, stats.counter(rw)) for rw in rewrites]
        self.by_class = all(
            isinstance(cls, type) for rw in rewrites for cls in (rw.tracks or ())
        )
        self.table: dict = {}

    def candidates(self, node) -> list:
        op = node.op
        if self.by_class:
            key = (
                (type(op), type(op.scalar_op)) if isinstance(op, Elemwise) else type(op)
            )
        else:
            key = op
        found = self.table.get(key)
        if found is None:
            found = self.table[key] = [
                (rw, c) for rw, c in self.rewrites if rw.matches(node)
            ]
        return found


def apply_rewrite(fgraph, node, rw: Rewrite, counter: RewriteCounter) -> bool | None:
    """Run one rewrite on one node: True when it applied, None when it failed."""
    counter.calls += 1
    t0 = time.perf_counter()
    try:
        result = rw.fn(fgraph, node)
        if not result:
            return False
        pairs = (
            list(result.items())
            if isinstance(result, dict)
            else list(zip(node.outputs, result, strict=False))
        )
        for old, new in pairs:
            check_replacement_type(old, new, rw.name)
    except Exception as exc:  # a broken rewrite must not break compilation
        counter.rejected += 1
        warnings.warn(
            f"rewrite {rw.name} failed on {node}: {exc}", RewriteWarning, stacklevel=5
        )
        return None
    finally:
        counter.time += time.perf_counter() - t0
    for old, new in pairs:
        if new is not old:
            fgraph.replace(old, new, rw.name)
    counter.applications += 1
    return True


# ------------------------------------------------------------------- patterns


def _op_matches(spec, node) -> bool:
    op = node.op
    if isinstance(spec, type):
        if isinstance(op, spec):
            return True
        return isinstance(op, Elemwise) and isinstance(op.scalar_op, spec)
    if isinstance(spec, ScalarOp):
        return isinstance(op, Elemwise) and op.scalar_op == spec
    return op == spec


def match(pat, var: Variable, bindings: dict) -> bool:
    """Match ``var`` against a tuple pattern, binding names into ``bindings``.

    ``"x"`` binds (the same name must bind the same variable), a number matches
    a constant whose every element equals it, ``(op, *args)`` matches a node
    of ``op`` (an Op, an Elemwise's ScalarOp, or a class) with those inputs.
    """
    if isinstance(pat, str):
        bound = bindings.get(pat)
        if bound is None:
            bindings[pat] = var
            return True
        return bound is var
    if isinstance(pat, (int, float)):
        from symgraph.rewrite.utils import scalar_constant

        value = scalar_constant(var)
        return value is not None and value == pat
    node = var.owner
    if (
        node is None
        or not _op_matches(pat[0], node)
        or len(node.inputs) != len(pat) - 1
    ):
        return False
    return all(
        match(p, v, bindings) for p, v in zip(pat[1:], node.inputs, strict=False)
    )


def build(pat, bindings: dict):
    if isinstance(pat, str):
        return bindings[pat]
    if isinstance(pat, (int, float)):
        return pat
    op = pat[0]
    if isinstance(op, type) and issubclass(op, ScalarOp):
        op = op()
    if isinstance(op, ScalarOp):
        op = Elemwise(op)
    return op(*[build(p, bindings) for p in pat[1:]])


def pattern(phase: str, lhs: tuple, rhs, name: str):
    """Register the identity ``lhs -> rhs`` (tuple patterns) as a rewrite."""
    root = lhs[0]

    def local_pattern(fgraph, node):
        bindings: dict = {}
        if not match(lhs, node.outputs[0], bindings):
            return None
        from symgraph.rewrite.utils import fit

        new = fit(fgraph, build(rhs, bindings), node.outputs[0])
        return None if new is None else [new]

    local_pattern.__doc__ = f"{lhs} -> {rhs}"
    tracks = (
        (type(root.scalar_op),)
        if isinstance(root, Elemwise)
        else ((root,) if isinstance(root, type) else (type(root),))
    )
    rewriter(phase, tracks=tracks, name=name)(local_pattern)
    return local_pattern


def constant_of(value, dtype: str) -> Constant:
    from symgraph.graph import TensorType

    return Constant(TensorType(dtype, np.shape(value)), np.asarray(value, dtype=dtype))
