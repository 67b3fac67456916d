"""FunctionGraph: the graph one compiled function computes, with its inputs.

Holds the input and output variables of a function and answers graph
questions (the nodes in order, the clients of a variable, the symbolic shape
of any variable). Rewrites replace variables by building new nodes; no
:class:`~symgraph.graph.Apply` is ever edited, so the user's graph is safe.

Replacing cheaply without editing nodes
---------------------------------------
While a rewrite session is open (:meth:`FunctionGraph.open`), the graph keeps

- the live nodes, each with a priority that orders them topologically;
- ``clients``: for every live variable, the live nodes reading it;
- a replacement map ``old -> new``.

:meth:`replace` only records ``old -> new`` and moves ``old``'s clients to
``new``: O(number of clients). A client that still reads ``old`` is *stale*;
the engine rebuilds it (:meth:`refresh`, a new Apply) when it reaches it in
priority order, so a wave of changes rebuilds each downstream node once, not
once per change. A rebuild goes through ``make_node`` unless the op's output
types can only depend on its input types and the new inputs have the old
inputs' types: then the node is cloned (:func:`rebuild`). New nodes are
hash-consed on the way in (an equal node already live is reused, its merge
key computed once per node), which keeps CSE incremental.

Example
-------
>>> import symgraph.tensor as T
>>> x = T.vector("x")
>>> fg = FunctionGraph([x], [T.exp(x) + 1])
>>> [str(n.op) for n in fg.toposort()]
['Elemwise{exp}', 'DimShuffle{x}', 'Elemwise{add}']
"""

from __future__ import annotations

from symgraph.compile.shape_feature import ShapeFeature
from symgraph.graph import (
    Apply,
    Constant,
    SharedVariable,
    TensorType,
    Variable,
    ancestors,
    io_toposort,
)


class MissingInputError(ValueError):
    """The outputs depend on a variable that is neither an input nor shared."""


class FunctionGraph:
    """Inputs and outputs of one function, and the nodes between them."""

    def __init__(self, inputs, outputs, check_inputs: bool = True) -> None:
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self._order = None
        self._clients = None
        self._live = None  # set while a rewrite session is open
        self.shape_feature = ShapeFeature(self)
        if check_inputs:
            self.check_inputs()

    def check_inputs(self) -> None:
        """Every leaf of the outputs must be an input, a constant or shared."""
        given = set(self.inputs)
        for var in ancestors(self.outputs, given):
            if (
                var.owner is None
                and var not in given
                and not isinstance(var, (Constant, SharedVariable))
            ):
                raise MissingInputError(
                    f"the outputs depend on {var.describe()}, which is not among the "
                    "inputs; add it to the inputs list, or replace it with givens="
                )

    def toposort(self):
        """The Apply nodes in dependency order (cached until the graph changes)."""
        if self._order is None:
            self._order = io_toposort(self.inputs, self.outputs)
        return self._order

    @property
    def apply_nodes(self):
        return set(self.toposort())

    @property
    def variables(self) -> set[Variable]:
        result = set(self.inputs) | set(self.outputs)
        for node in self.toposort():
            result.update(node.inputs)
            result.update(node.outputs)
        return result

    @property
    def clients(self) -> dict[Variable, list]:
        """``{variable: [(node, input_position), ...]}``; outputs: ``("output", i)``."""
        if self._live is not None:
            return {v: list(c) for v, c in self._live_clients.items() if c}
        if self._clients is None:
            clients: dict[Variable, list] = {}
            for node in self.toposort():
                for pos, var in enumerate(node.inputs):
                    clients.setdefault(var, []).append((node, pos))
            for i, var in enumerate(self.outputs):
                clients.setdefault(var, []).append(("output", i))
            self._clients = clients
        return self._clients

    def replace_all(self, pairs) -> None:
        """Replace variables everywhere (``[(old, new), ...]``), rebuilding users."""
        from symgraph.graph import clone_replace

        mapping = dict(pairs)
        self.outputs = clone_replace(self.outputs, mapping) if self.outputs else []
        self._changed()

    def shape_of(self, var: Variable) -> tuple:
        """``var``'s shape as int64 scalars computed from the inputs' shapes."""
        return self.shape_feature.shape_of(var)

    def _changed(self) -> None:
        self._order = None
        self._clients = None

    def __str__(self) -> str:
        ins = ", ".join(map(str, self.inputs))
        outs = ", ".join(map(str, self.outputs))
        return f"FunctionGraph({ins} -> {outs})"

    # ------------------------------------------------------- rewrite session

    def open(self, on_node=None) -> None:
        """Start a rewrite session; ``on_node(node)`` hears of nodes to (re)visit."""
        self._live = {}
        self._keys: dict = {}  # live node -> its merge key
        self._live_clients: dict[Variable, dict] = {}
        self._repl: dict[Variable, Variable] = {}
        self._merge: dict[tuple, object] = {}
        self._seq = 0
        #: Bumped whenever some variable gains or loses readers (a rebuilt node
        #: taking over from the old one does not count): a live node whose
        #: rewrites all declined, visited again with no change since, declines
        #: again (its inputs are immutable; only reader counts could differ).
        self.changes = 0
        self._on_node = on_node or (lambda node: None)
        for i, var in enumerate(self.outputs):
            self._clients_of(var)[("output", i)] = None
        for node in self.toposort():
            self._add_node(node)

    def close(self) -> None:
        """End the session: the outputs now reach exactly the rewritten graph."""
        self.outputs = [self.resolve(v) for v in self.outputs]
        self._live = self._keys = None
        self._live_clients = self._repl = self._merge = None
        self._changed()

    @property
    def nodes(self):
        """The live nodes of an open session (in no particular order)."""
        return self._live.keys()

    def priority(self, node) -> int:
        """``node``'s place in topological order: (depth, arrival) as one int."""
        return self._live[node]

    def is_live(self, node) -> bool:
        return node in self._live

    def n_clients(self, var: Variable) -> int:
        """How many live nodes (and graph outputs) read ``var``."""
        clients = self._live_clients.get(self.resolve(var))
        return len(clients) if clients else 0

    def client_nodes(self, var: Variable) -> list:
        """The live nodes reading ``var`` (``"output"`` for a graph output).

        Look at their ops, not their identity: a reader rebuilt on new inputs
        (same op, same kinds of inputs) is not a change (see ``changes``).
        """
        clients = self._live_clients.get(self.resolve(var)) or ()
        return [node for node, _ in clients]

    def is_output(self, var: Variable) -> bool:
        return any(node == "output" for node in self.client_nodes(var))

    def resolve(self, var: Variable) -> Variable:
        """The variable that stands for ``var`` now (after replacements)."""
        repl = self._repl
        if var not in repl:
            return var
        path = []
        while var in repl:
            path.append(var)
            var = repl[var]
        for old in path[:-1]:  # path compression
            repl[old] = var
        return var

    def is_stale(self, node) -> bool:
        """True when a live node still reads a replaced variable."""
        repl = self._repl
        for v in node.inputs:
            if v in repl:
                return True
        return False

    def merge_candidate(self, node):
        """A live node equal to ``node`` (same op, same inputs) that comes first."""
        key = self._keys[node]
        if key is None:
            return None
        other = self._merge.get(key)
        if other is node:
            return None
        live = self._live
        if other is None or other not in live:
            self._merge[key] = node
            return None
        if live[other] > live[node]:
            self._merge[key] = node  # keep the earlier one: it stays topological
            return None
        return other

    def replace(self, old: Variable, new: Variable, reason: str = "") -> Variable:
        """Make every reader of ``old`` read ``new``; returns the variable used.

        ``new`` may be the root of a subgraph of new nodes: they are imported
        (hash-consed, stale inputs rebuilt) first. Raises TypeError when the
        types cannot stand for each other.
        """
        old = self.resolve(old)
        new = self.import_var(new)
        if new is old:
            return new
        check_replacement_type(old, new, reason)
        self.changes += 1
        moved = self._live_clients.pop(old, None) or {}
        target = self._clients_of(new)
        self._repl[old] = new
        for key in moved:
            target[key] = None
            node, pos = key
            if node == "output":
                self.outputs[pos] = new
            else:
                self._on_node(node)  # stale now: the engine rebuilds it
        self._prune_if_unused(old)
        return new

    def import_var(self, var: Variable) -> Variable:
        """Bring ``var`` and the new nodes below it into the live graph."""
        var = self.resolve(var)
        if var.owner is None or var.owner in self._live:
            return var
        # Post-order over the new nodes (iterative: replacement chains can be deep).
        live, repl = self._live, self._repl
        stack = [(var.owner, False)]
        seen = set()
        while stack:
            node, ready = stack.pop()
            if node in live or any(o in repl for o in node.outputs):
                continue
            if ready:
                self._import_node(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            for inp in node.inputs:
                inp = self.resolve(inp)
                if inp.owner is not None and inp.owner not in live:
                    stack.append((inp.owner, False))
        return self.resolve(var)

    def _import_node(self, node) -> None:
        if self.is_stale(node):
            rebuilt = rebuild(node, [self.resolve(v) for v in node.inputs])
            for old, new in zip(node.outputs, rebuilt.outputs, strict=False):
                self._repl[old] = new
            node = rebuilt
        key = merge_key(node)
        other = self._merge_partner(node, key)
        if other is not None:
            for old, new in zip(node.outputs, other.outputs, strict=False):
                self._repl[old] = new
            return
        self._add_node(node, key)
        self.changes += 1
        self._on_node(node)

    def _merge_partner(self, node, key):
        """A live node equal to the not-yet-live ``node`` (merge ``key``), if any."""
        if key is None:
            return None
        other = self._merge.get(key)
        return other if other is not None and other in self._live else None

    def merge_candidate_new(self, node):
        """A live node equal to the not-yet-live ``node``, if any."""
        return self._merge_partner(node, merge_key(node))

    def refresh(self, node):
        """A stale node rebuilt on the current variables (a new Apply), live."""
        repl = self._repl
        new = rebuild(node, [self.resolve(v) if v in repl else v for v in node.inputs])
        key = merge_key(new)
        other = self._merge_partner(new, key)
        if other is None:
            self._add_node(new, key)
            if all(
                o.type is r.type
                for o, r in zip(node.outputs, new.outputs, strict=False)
            ):
                self._hand_over(node, new)
                return new
        else:
            new = other
        for old, rep in zip(node.outputs, new.outputs, strict=False):
            if old in self._live_clients:
                self.replace(old, rep, "refresh")
            else:
                self._repl[old] = rep
        self._remove_node(node)
        return new

    def _hand_over(self, node, new) -> None:
        """``new`` (live, fresh outputs of the same types) takes ``node``'s place:
        what :meth:`replace` of each output then removing ``node`` would do,
        without the checks that cannot fail here."""
        live_clients, repl, on_node = self._live_clients, self._repl, self._on_node
        read = False
        for old, rep in zip(node.outputs, new.outputs, strict=False):
            repl[old] = rep
            moved = live_clients.pop(old, None)
            if moved is None:
                continue
            read = True
            live_clients[rep] = moved  # the same readers, in the same order
            for reader, pos in moved:
                if reader == "output":
                    self.outputs[pos] = rep
                else:
                    on_node(reader)  # stale now: the engine rebuilds it
        if not read:
            self._remove_node(node)
            return
        del self._live[node]
        self._keys.pop(node, None)
        live = self._live
        for var in self._unlink_inputs(node):
            if var.owner is not None and var.owner in live:
                on_node(var.owner)

    # -- bookkeeping
    def _clients_of(self, var: Variable) -> dict:
        clients = self._live_clients.get(var)
        if clients is None:
            clients = self._live_clients[var] = {}
        return clients

    def _add_node(self, node, key=False) -> None:
        """Make ``node`` live: reader of its inputs, next in topological order."""
        live, repl, live_clients = self._live, self._repl, self._live_clients
        major = 0
        for pos, var in enumerate(node.inputs):
            if var in repl:
                var = self.resolve(var)
            clients = live_clients.get(var)
            if clients is None:
                clients = live_clients[var] = {}
            clients[(node, pos)] = None
            owner = var.owner
            if owner is not None and owner in live:
                depth = (live[owner] >> 32) + 1
                if depth > major:
                    major = depth
        self._seq += 1
        live[node] = (major << 32) | self._seq
        if key is False:  # a node of the graph itself: the first of equals is kept
            key = merge_key(node)
            if key is not None:
                existing = self._merge.get(key)
                if existing is None or existing not in live:
                    self._merge[key] = node
        elif key is not None:  # the caller found no live equal (_merge_partner)
            self._merge[key] = node
        self._keys[node] = key

    def _remove_node(self, node) -> None:
        if self._live.pop(node, None) is None:
            return
        self.changes += 1
        self._keys.pop(node, None)
        for var in self._unlink_inputs(node):
            self._prune_if_unused(var)

    def _unlink_inputs(self, node) -> list[Variable]:
        """Drop ``node`` from its live inputs' readers; return those inputs."""
        unlinked = []
        for pos, var in enumerate(node.inputs):
            var = self.resolve(var)
            clients = self._live_clients.get(var)
            if clients is not None:
                clients.pop((node, pos), None)
                unlinked.append(var)
        return unlinked

    def _prune_if_unused(self, var: Variable) -> None:
        """Remove the nodes nothing reads any more (iteratively, upward)."""
        live, live_clients = self._live, self._live_clients
        stack = [var]
        while stack:
            v = stack.pop()
            if live_clients.get(v):
                continue
            live_clients.pop(v, None)
            owner = v.owner
            if owner is None or owner not in live:
                continue
            if any(live_clients.get(o) for o in owner.outputs):
                continue
            del live[owner]
            self.changes += 1
            self._keys.pop(owner, None)
            for inp in self._unlink_inputs(owner):
                if inp.owner is not None and inp.owner in live:
                    self._on_node(inp.owner)  # fewer clients: may fuse now
                stack.append(inp)


def merge_key(node):
    """``(op, inputs)`` with constants by value: equal keys compute equal values.

    None for ops that must not merge (``destroy_map``, ``no_merge``).
    """
    op = node.op
    if getattr(op, "destroy_map", None) or getattr(op, "no_merge", False):
        return None
    return (
        op,
        tuple([v.signature() if isinstance(v, Constant) else v for v in node.inputs]),
    )


_TYPE_ONLY: set = set()


def type_only_make_nodes() -> set:
    """The ``make_node`` functions whose output types depend on the input types
    alone (not on values, owners or weak constants) and which keep inputs of
    the right types as they are."""
    if not _TYPE_ONLY:
        from symgraph.ops.composite import FusedReduce, Gemm
        from symgraph.ops.elemwise import DimShuffle, Elemwise
        from symgraph.ops.linalg import Dot
        from symgraph.ops.nnet import Softmax
        from symgraph.ops.reduce import Reduce
        from symgraph.ops.shape import Shape, Shape_i

        for cls in (
            Elemwise,
            DimShuffle,
            Reduce,
            Dot,
            Softmax,
            Shape,
            Shape_i,
            Gemm,
            FusedReduce,
        ):
            _TYPE_ONLY.add(cls.make_node)
    return _TYPE_ONLY


def rebuild(node, inputs) -> Apply:
    """``node``'s op applied to ``inputs``: a new Apply.

    Cloned (no ``make_node``, no static-shape work) when the op's output types
    depend only on its input types and every changed input keeps its type and
    is not a constant (constants carry values that ``make_node`` may look at);
    through ``make_node`` otherwise. A clone's outputs keep the old outputs'
    types and source lines.
    """
    op = node.op
    if type(op).make_node in (_TYPE_ONLY or type_only_make_nodes()):
        for old, new in zip(node.inputs, inputs, strict=False):
            if old is new:
                if isinstance(old, Constant) and old.weak:
                    break  # make_node would give it a dtype
            elif (
                old.type != new.type
                or isinstance(old, Constant)
                or isinstance(new, Constant)
            ):
                break
        else:
            return _clone(node, inputs)
    return op.make_node(*inputs)


def _clone(node, inputs: list) -> Apply:
    """A new Apply of ``node``'s op on ``inputs`` (Variables of the old inputs'
    types) with new outputs of the old outputs' types and source lines."""
    new = Apply.__new__(Apply)
    new.op = node.op
    new.inputs = inputs
    new._tag = None
    outputs = new.outputs = []
    for index, old in enumerate(node.outputs):
        var = Variable.__new__(Variable)
        var.type = old.type
        var.owner = new
        var.index = index
        var.name = var._tag = None
        var.trace = old.trace
        outputs.append(var)
    return new


def check_replacement_type(old: Variable, new: Variable, reason: str = "") -> None:
    """``new`` may stand for ``old``: same dtype and ndim, no broadcast lost."""
    if (
        isinstance(new, Variable)
        and new.type is old.type
        and type(old.type) is TensorType
    ):
        return
    why = f" (rewrite {reason})" if reason else ""
    if not isinstance(new, Variable) or not isinstance(new.type, TensorType):
        raise TypeError(
            f"replacement for {old} must be a tensor Variable{why}, got {new!r}"
        )
    a, b = old.type, new.type
    if a.dtype != b.dtype or a.ndim != b.ndim:
        raise TypeError(
            f"cannot replace {old} ({a}) with {new} ({b}){why}: dtype and ndim "
            "must match"
        )
    for axis, (sa, sb) in enumerate(zip(a.shape, b.shape, strict=False)):
        if (sa == 1) != (sb == 1) and sa is not None and sb is not None:
            raise TypeError(
                f"cannot replace {old} ({a}) with {new} ({b}){why}: axis {axis}"
            )
        if sa == 1 and sb is None:
            raise TypeError(
                f"cannot replace {old} ({a}) with {new} ({b}){why}: axis {axis} "
                "would stop broadcasting"
            )
