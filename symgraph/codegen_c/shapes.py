"""Output shapes predicted in Python, so outputs can be allocated before the call.

Each op's ``infer_shape`` gives its output sizes as small symbolic graphs of
the input sizes; those that reduce to constants, ``x.shape[i]`` of values the
program holds, integer scalars it holds, and integer arithmetic become a
Python expression over the cells (``(c[0].shape[0], 3)``). Where an output's
shape cannot be predicted, C allocates it and Python adopts the buffer.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import Constant
from symgraph.ops.elemwise import Elemwise
from symgraph.ops.shape import Shape_i, shape_tuple

_ARITH = {"Add": "+", "Sub": "-", "Mul": "*", "IntDiv": "//", "FloorDiv": "//"}


def predict_output_shapes(fgraph, nodes, cells, positions):
    """Return ``prediction(var, available) -> str | None``: Python over the
    cells ``c[i]`` whose numbers are in ``available`` (filled before the call)."""
    sym: dict = {}

    def shape_of(var):
        found = sym.get(var)
        if found is None:
            found = sym[var] = shape_tuple(var)
        return found

    for node in nodes:
        try:
            outs = node.op.infer_shape(fgraph, node, [shape_of(v) for v in node.inputs])
        except Exception:
            outs = None
        for k, out in enumerate(node.outputs):
            shape = outs[k] if outs is not None and k < len(outs) else None
            sym[out] = (
                tuple(shape) if shape is not None and len(shape) == out.ndim else None
            )

    available: set = set()

    def dim_text(dim, depth=0):
        if depth > 32:
            return None
        if isinstance(dim, (int, np.integer)):
            return str(int(dim))
        if isinstance(dim, Constant):
            return str(int(dim.data)) if dim.ndim == 0 else None
        owner = dim.owner
        if owner is None or cells.index.get(dim) in available:
            cell = cells.index.get(dim)
            if (
                cell in available
                and dim.ndim == 0
                and dim.dtype.startswith(("int", "uint"))
            ):
                return f"int(c[{cell}])"
            return None
        op = owner.op
        if isinstance(op, Shape_i):
            return size_text(owner.inputs[0], op.i, depth + 1)
        if isinstance(op, Elemwise) and dim.ndim == 0:
            name = type(op.scalar_op).__name__
            args = [dim_text(v, depth + 1) for v in owner.inputs]
            if any(a is None for a in args):
                return None
            if name in _ARITH:
                return "(" + f" {_ARITH[name]} ".join(args) + ")"
            if name in ("Maximum", "Minimum"):
                return f"{name[:3].lower()}({', '.join(args)})"
            if name in ("Cast", "Identity") and len(args) == 1:
                return args[0]
        return None

    def size_text(var, axis, depth=0):
        static = var.type.shape[axis]
        if static is not None:
            return str(static)
        cell = cells.index.get(var)
        if cell in available:
            return f"c[{cell}].shape[{axis}]"
        shape = sym.get(var)
        if shape is None:
            return None
        return dim_text(shape[axis], depth)

    def prediction(var, cells_before):
        available.clear()
        available.update(cells_before)
        if var.ndim == 0:
            return "()"
        cell = cells.index.get(var)
        if cell in available:
            return f"c[{cell}].shape"
        if var.owner is None:
            return repr(tuple(var.data.shape)) if isinstance(var, Constant) else None
        dims = [size_text(var, d) for d in range(var.ndim)]
        if any(d is None for d in dims):
            return None
        # x + 1 on a matrix: "c[0].shape" rather than "(c[0].shape[0], c[0].shape[1])"
        for cell in sorted(available):
            whole = [f"c[{cell}].shape[{d}]" for d in range(var.ndim)]
            if dims == whole and cells.locs[cell][0] == "in":
                if fgraph.inputs[cells.locs[cell][1]].ndim == var.ndim:
                    return f"c[{cell}].shape"
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"

    return prediction
