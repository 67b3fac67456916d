"""Turn the error a C function reported (``st->info``) into a Python exception.

Messages follow the python backend's: the op, the variable it computes with
its name and the user's source line, the inputs involved by name, what was
expected and what came.
"""

from __future__ import annotations

from . import prelude


def _where(node) -> str:
    out = node.outputs[0]
    label = f" '{out.name}'" if out.name else ""
    at = f" built at {out.trace}" if out.trace is not None else ""
    return f"{node.op}{label}{at}"


def _user_var(var):
    """The variable the user named, looking through inserted views
    (``x + m`` reads ``x`` through a DimShuffle that adds an axis)."""
    from .lower import VIEW_OPS

    while var.name is None and var.owner is not None and type(var.owner.op) in VIEW_OPS:
        var = var.owner.inputs[0]
    return var


def _describe(var) -> str:
    return _user_var(var).describe()


def _inputs(node) -> str:
    parts = [f"input {i} {_describe(v)}" for i, v in enumerate(node.inputs)]
    return "; ".join(parts)


def _cell_var(program, cell):
    """The variable a cell holds, in the program's own graph."""
    return program.compiled.cell_var(program.fgraph, cell)


def make_error(program, seg, info, ins) -> Exception:
    kind, where, a, b, c, d, e, f = (int(x) for x in info)
    label = (
        program.function.label if getattr(program, "function", None) else "sg.function"
    )
    if kind in prelude.ARG_ERRORS:
        var = _cell_var(program, seg.in_cells[where])
        value = ins[where]
        what = {
            prelude.E_DTYPE: f"NumPy type number {a} where {b} was expected",
            prelude.E_NDIM: f"ndim {a} where {b} was expected",
            prelude.E_LAYOUT: "an unaligned or byte-swapped array",
            prelude.E_STATIC_SHAPE: f"size {c} on axis {a} where {b} was expected",
        }[kind]
        return TypeError(
            f"{label}: {var.describe()} reached compiled code as "
            f"{getattr(value, 'dtype', '?')} array of shape "
            f"{getattr(value, 'shape', '?')} "
            f"({what}); this is a bug in symgraph, please report it"
        )
    nodes = program.fgraph.toposort()
    node = nodes[where] if 0 <= where < len(nodes) else None
    context = f"{label}: {_where(node)}" if node is not None else label
    if kind == prelude.E_BROADCAST:
        first = (
            f"input {a} {_describe(node.inputs[a])}" if a >= 0 else "its static shape"
        )
        hint = ""
        if 1 in (d, e):
            hint = (
                "; symgraph broadcasts only dimensions of static size 1: declare "
                "them, e.g. T.row(), shape=(1, None), or keepdims=True"
            )
        return ValueError(
            f"{context}: {first} has size {d} on axis {c} but input {b} "
            f"{_describe(node.inputs[b])} has size {e}{hint}"
        )
    if kind == prelude.E_ALLOC:
        return MemoryError(
            f"{context}: cannot allocate {a:,} bytes for the result; inputs: "
            f"{_inputs(node) if node else '-'}"
        )
    if kind == prelude.E_SIZE:
        dims = ", ".join(str(x) for x in (b, c, d)[: max(min(a, 3), 0)])
        more = ", ..." if a > 3 else ""
        return MemoryError(
            f"{context}: the result of shape ({dims}{more}) is too large to allocate "
            f"(negative or overflowing size); inputs: {_inputs(node) if node else '-'}"
        )
    if kind == prelude.E_OP:
        templates = program.compiled.templates
        template, exc = templates[a] if 0 <= a < len(templates) else ("?", "ValueError")
        detail = template.format(b, c, d, e, f)
        cls = {"IndexError": IndexError, "MemoryError": MemoryError}.get(
            exc, ValueError
        )
        return cls(f"{context}: {detail}; inputs: {_inputs(node) if node else '-'}")
    return RuntimeError(f"{context}: compiled code failed (error kind {kind})")
