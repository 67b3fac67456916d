"""FunctionGraph: the graph one compiled function computes, with its inputs.

Holds the input and output variables of a function and answers graph
questions (the nodes in order, the clients of a variable). Rewrites replace
variables by building new nodes; the user's graph is never edited.
"""

from __future__ import annotations

from symgraph.graph import Constant, SharedVariable, Variable, ancestors, io_toposort


class MissingInputError(ValueError):
    """The outputs depend on a variable that is neither an input nor shared."""


class FunctionGraph:
    """Inputs and outputs of one function, and the nodes between them."""

    def __init__(self, inputs, outputs, check_inputs: bool = True) -> None:
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self._order = None
        self._clients = None
        if check_inputs:
            self.check_inputs()

    def check_inputs(self) -> None:
        """Every leaf of the outputs must be an input, a constant or shared."""
        given = set(self.inputs)
        for var in ancestors(self.outputs, given):
            if var.owner is None and var not in given and not isinstance(var, (Constant, SharedVariable)):
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
        """``{variable: [(node, input_position), ...]}``; outputs list ``("output", i)``."""
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
        self._order = None
        self._clients = None

    def __str__(self) -> str:
        return f"FunctionGraph({', '.join(map(str, self.inputs))} -> {', '.join(map(str, self.outputs))})"
