"""Advanced indexing: integer and boolean arrays (gathers), and writing through them.

The op's :class:`~symgraph.ops.index_layout.Layout` says, at compile time, where
each output axis comes from: a slice of an axis of ``x``, a new axis, or an
axis of the broadcast index arrays. The generated loop walks the output (or,
to write, the indexed region) in C order and computes each source offset:
slices add ``start + i * step``, integer arrays read their entry at the
broadcast position (negative entries wrap, out-of-range ones raise
IndexError), and a boolean mask stands for its ``nonzero()`` coordinates,
gathered into a scratch buffer first. Increments run in order, so repeated
indices accumulate (``np.add.at``).
"""

from __future__ import annotations

from symgraph.ops.index_layout import SCALAR as SYMBOLIC

from .loops import Index
from .lower_index import _value
from .registry import rule
from .scalar_table import CTYPES


def _index_inputs(node):
    from symgraph.ops.subtensor import IncSubtensorBase

    return node.inputs[2:] if isinstance(node.op, IncSubtensorBase) else node.inputs[1:]


def _plan(ctx, x, node, label):
    """Emit the index preparation; return (dims, offset_fn) of the selection.

    ``offset_fn(index)`` gives the C offset into ``x`` for an Index over the
    selection's axes (it also emits the bounds checks).
    """
    op = node.op
    lay = op.layout_of(node)
    index_vars = _index_inputs(node)
    B = lay.bcast_ndim
    bool_items = {}
    for kind, axis, ref in lay.items:
        if kind != "bool":
            continue
        mask = ctx.var(index_vars[ref])
        k = mask.ndim
        for j in range(k):
            if mask.shape(j) != x.shape(axis + j):
                ctx.emit(f"if ({mask.shape(j)} != {x.shape(axis + j)})")
                ctx.emit(
                    "    "
                    + ctx.op_error(
                        "boolean index of size {0} on its axis {1} does not match the "
                        "indexed axis of size {2}",
                        mask.shape(j),
                        str(j),
                        x.shape(axis + j),
                        exc="IndexError",
                    )
                )
        count, coords = f"{label}_c{ref}", f"{label}_nz{ref}"
        size = " * ".join(mask.dims) or "1"
        ctx.emit(f"int64_t {count} = 0;")
        buf = ctx.temp_buffer("int64", f"{size} * {max(k, 1)}")
        ctx.emit(f"int64_t *{coords} = {buf};")
        axes = list(range(k))
        for j in axes:
            ctx.open(f"for (int64_t i{j} = 0; i{j} < {mask.shape(j)}; i{j}++)")
        value = ctx.element(index_vars[ref], Index(dims=[f"i{j}" for j in axes]))
        ctx.open(f"if ({value})")
        for j in axes:
            ctx.emit(f"{coords}[{count} * {max(k, 1)} + {j}] = i{j};")
        ctx.emit(f"{count}++;")
        ctx.close()
        for _ in axes:
            ctx.close()
        bool_items[ref] = (count, coords, k)
    # the broadcast shape of the advanced indices (only static 1 broadcasts)
    item_dims = []
    for kind, _, ref in lay.items:
        if kind == "array":
            cv = ctx.var(index_vars[ref])
            item_dims.append(
                [(cv.shape(d), cv.static_shape[d]) for d in range(cv.ndim)]
            )
        elif kind == "bool":
            item_dims.append([(bool_items[ref][0], None)])
        else:
            item_dims.append([])
    bcast = []
    for b in range(-B, 0):
        first = None
        for dims in item_dims:
            if len(dims) < -b or dims[b][1] == 1:
                continue
            if first is None:
                first = dims[b][0]
            elif dims[b][0] != first:
                ctx.emit(f"if ({dims[b][0]} != {first})")
                ctx.emit(
                    "    "
                    + ctx.op_error(
                        "shape mismatch: indexing arrays could not be broadcast "
                        "together ({0} vs {1})",
                        dims[b][0],
                        first,
                        exc="IndexError",
                    )
                )
        bcast.append(first or "1")
    # the selection's axes
    slice_info = {}
    dims = []
    for pos, dim in enumerate(lay.dims):
        if dim[0] == "new":
            dims.append("1")
        elif dim[0] == "adv":
            dims.append(bcast[dim[1]])
        else:
            _, axis, entry, positions = dim
            parts = iter(index_vars[p] for p in positions)
            step = _value(ctx, entry.step, parts) if entry.step is not None else "1"
            start = _value(ctx, entry.start, parts) if entry.start is not None else "0"
            stop = _value(ctx, entry.stop, parts) if entry.stop is not None else "0"
            first, length = f"{label}_f{pos}", f"{label}_n{pos}"
            ctx.emit(f"int64_t {length};")
            ctx.emit(
                f"const int64_t {first} = sg_slice({x.shape(axis)}, "
                f"{int(entry.start is not None)}, "
                f"{start}, {int(entry.stop is not None)}, {stop}, {step}, &{length});"
            )
            slice_info[pos] = (axis, first, step)
            dims.append(length)
    adv_pos = [pos for pos, dim in enumerate(lay.dims) if dim[0] == "adv"]

    def offset(index) -> str:
        terms = []
        for pos, (axis, first, step) in slice_info.items():
            i = index.dims[pos] or "0"
            terms.append(f"({first} + {i} * {step}) * {x.stride(axis)}")
        b_index = [index.dims[p] or "0" for p in adv_pos]
        for n, (kind, axis, ref) in enumerate(lay.items):
            if kind == "bool":
                count, coords, k = bool_items[ref]
                j = b_index[-1] if b_index else "0"
                for c in range(k):
                    terms.append(f"{coords}[{j} * {k} + {c}] * {x.stride(axis + c)}")
                continue
            if kind == "const":
                value = str(int(ref))
            elif kind == "scalar":
                value = _value(ctx, SYMBOLIC, iter([index_vars[ref]]))
            else:
                cv = ctx.var(index_vars[ref])
                at = Index(dims=b_index[B - cv.ndim :])
                value = f"(int64_t){cv.name}[{at.offset(cv)}]"
            i = f"{label}_i{n}"
            ctx.emit(f"int64_t {i} = {value};")
            _bounds_check(ctx, i, axis, x)
            ctx.emit(f"if ({i} < 0)")
            ctx.emit(f"    {i} += {x.shape(axis)};")
            terms.append(f"{i} * {x.stride(axis)}")
        return " + ".join(terms) or "0"

    _check_when_empty(ctx, x, lay, index_vars, dims, label)
    return dims, offset


def _bounds_check(ctx, i: str, axis: int, x) -> None:
    ctx.emit(f"if ({i} < -{x.shape(axis)} || {i} >= {x.shape(axis)})")
    ctx.emit(
        "    "
        + ctx.op_error(
            "index {0} is out of bounds for axis {1} with size {2}",
            i,
            str(axis),
            x.shape(axis),
            exc="IndexError",
        )
    )


def _check_when_empty(ctx, x, lay, index_vars, dims, label) -> None:
    """Bounds-check every integer index when the selection is empty.

    The loop over the selection checks each index it reads; with nothing to
    select (``x`` of shape (3, 0) indexed by ``[5]``) it never runs, and
    NumPy still raises IndexError.
    """
    items = [item for item in lay.items if item[0] in ("array", "scalar", "const")]
    if not items:
        return
    ctx.open(f"if (({' * '.join(dims) or '1'}) == 0)")
    for n, (kind, axis, ref) in enumerate(items):
        i = f"{label}_e{n}"
        if kind != "array":
            value = (
                str(int(ref))
                if kind == "const"
                else _value(ctx, SYMBOLIC, iter([index_vars[ref]]))
            )
            ctx.emit(f"const int64_t {i} = {value};")
            _bounds_check(ctx, i, axis, x)
            continue
        cv = ctx.var(index_vars[ref])
        loops = [f"{label}_e{n}_{d}" for d in range(cv.ndim)]
        for d, j in enumerate(loops):
            ctx.open(f"for (int64_t {j} = 0; {j} < {cv.shape(d)}; {j}++)")
        ctx.emit(
            f"const int64_t {i} = (int64_t){cv.name}[{Index(dims=loops).offset(cv)}];"
        )
        _bounds_check(ctx, i, axis, x)
        for _ in loops:
            ctx.close()
    ctx.close()


def _walk(ctx, dims, body) -> None:
    """Serial loops over ``dims`` in C order (errors may return from inside)."""
    axes = [d for d in range(len(dims)) if dims[d] != "1"]
    for d in axes:
        ctx.open(f"for (int64_t i{d} = 0; i{d} < {dims[d]}; i{d}++)")
    body(Index(dims=[f"i{d}" if d in axes else None for d in range(len(dims))]))
    for _ in axes:
        ctx.close()


@rule("AdvancedSubtensor", "AdvancedSubtensor1")
def c_AdvancedSubtensor(op, node, ctx) -> None:
    x = ctx.var(node.inputs[0])
    (out,) = node.outputs
    label = ctx.name(out)
    dims, offset = _plan(ctx, x, node, label)
    dst = ctx.new_array(out, dims)

    def body(index) -> None:
        off = offset(index)
        ctx.emit(f"{dst.name}[{index.offset(dst)}] = {ctx.pointer(x)}[{off}];")

    _walk(ctx, dst.dims, body)


@rule("AdvancedIncSubtensor", "AdvancedIncSubtensor1")
def c_AdvancedIncSubtensor(op, node, ctx) -> None:
    from .lower_elemwise import copy_into

    x_var, y_var = node.inputs[:2]
    (out,) = node.outputs
    x = ctx.var(x_var)
    dst = ctx.new_array(out, list(x.dims) if x.kind == "array" else [])
    copy_into(ctx, dst, x)
    label = ctx.name(out)
    dims, offset = _plan(ctx, dst, node, label)
    y = ctx.var(y_var)
    lead = len(dims) - y_var.ndim
    for d in range(y_var.ndim):
        if y_var.type.shape[d] != 1 and y.shape(d) != dims[lead + d]:
            ctx.emit(f"if ({y.shape(d)} != {dims[lead + d]})")
            ctx.emit(
                "    "
                + ctx.op_error(
                    "the value has size {0} on its axis {1}, the indexed region {2}",
                    y.shape(d),
                    str(d),
                    dims[lead + d],
                )
            )
    assign = "=" if op.set_instead_of_inc else "+="

    def body(index) -> None:
        off = offset(index)
        if y.kind == "scalar":
            value = y.name
        else:
            at = Index(dims=index.dims[lead:])
            value = f"{y.name}[{at.offset(y)}]"
        ctx.emit(f"{dst.name}[{off}] {assign} ({CTYPES[out.dtype]}){value};")

    _walk(ctx, dims, body)
