"""The python backend: each node's NumPy ``perform``, in order. The oracle.

Slow by design (one Python call per node) but simple enough to trust: every
other backend is tested against it.
"""

from __future__ import annotations

import numpy as np

from symgraph.compile.backends import register_backend
from symgraph.graph import Constant


class PythonProgram:
    """A linear list of ``perform`` calls over a flat list of storage cells."""

    backend = "python"

    def __init__(self, fgraph, name=None) -> None:
        self.fgraph = fgraph
        self.name = name
        nodes = fgraph.toposort()
        index: dict = {}

        def cell(var) -> int:
            if var not in index:
                index[var] = len(index)
            return index[var]

        for var in fgraph.inputs:
            cell(var)
        self.n_inputs = len(fgraph.inputs)
        self.steps = []
        for node in nodes:
            ins = [cell(v) for v in node.inputs]
            outs = [cell(v) for v in node.outputs]
            self.steps.append((node, ins, outs))
        self.output_cells = [cell(v) for v in fgraph.outputs]
        self.n_cells = len(index)
        self.constants = [
            (i, v.data) for v, i in index.items() if isinstance(v, Constant)
        ]
        # Outputs that are inputs, constants or views of them are copied so
        # the caller owns every array it gets back.
        self.fresh_cells = {index[v] for v in fgraph.inputs} | {
            i for i, _ in self.constants
        }

    def bind(self, function) -> None:
        self.function = function
        self.shared = function.shared_inputs

    @property
    def source(self) -> str:
        from symgraph.printing import debugprint

        return debugprint(self.fgraph.outputs, file="str")

    def run(self, args) -> list[np.ndarray]:
        values = self.function.check_arguments(args)
        cells: list = [None] * self.n_cells
        cells[: len(values)] = values
        for pos, var in enumerate(self.shared, start=len(values)):
            cells[pos] = var._value
        for i, data in self.constants:
            cells[i] = data
        for node, ins, outs in self.steps:
            storage = [[None] for _ in outs]
            try:
                node.op.perform(node, [cells[i] for i in ins], storage)
            except Exception as exc:
                raise _node_error(node, exc) from exc
            for i, (value,), var in zip(outs, storage, node.outputs, strict=False):
                cells[i] = _check_output(node, var, value)
        result = []
        for i in self.output_cells:
            value = cells[i]
            if i in self.fresh_cells or value.base is not None:
                value = value.copy()
            result.append(value)
        return result


def _check_output(node, var, value) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if value.dtype.name != var.dtype or value.ndim != var.ndim:
        raise TypeError(
            f"{node.op}.perform returned a {value.ndim}-d {value.dtype.name} array; "
            f"its output type is {var.type} (a bug in the op)"
        )
    return value


def _node_error(node, exc: Exception) -> Exception:
    where = node.outputs[0].trace
    message = str(exc)
    if where is not None and str(where.lineno) not in message:
        message = f"{message}\n  while computing {node.op} built at {where}"
    try:
        return type(exc)(message)
    except Exception:
        return RuntimeError(message)


register_backend("python", PythonProgram)
