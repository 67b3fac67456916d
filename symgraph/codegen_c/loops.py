"""Loop nests for elementwise-style code: a flat fast path and a strided nest.

``emit_loops`` writes, for an iteration space of C sizes ``dims``:

- a *flat* loop ``for (i = 0; i < n; i++)`` used when every array it reads
  is C-contiguous with the iteration's shape (checked at run time for
  arrays that come from outside or are views), with ``#pragma omp simd``;
- a *nest* of loops over the dimensions, innermost ``#pragma omp simd``,
  indexing each array through its element strides (broadcasting, views,
  negative strides);

each in a serial copy and, when the work is large enough, an OpenMP copy
(entering a parallel region costs about a microsecond even with one thread,
so small loops must not).
"""

from __future__ import annotations

import re

from .lower import product

#: Elements of cheap arithmetic worth splitting across threads; loops calling
#: math functions divide it by their cost. Set high: a parallel region costs
#: microseconds, and when the cores are shared (other processes, BLAS
#: threads) one late thread stalls the whole region for milliseconds.
PARALLEL_MIN = 1 << 20
#: No loop under this many elements runs in parallel, whatever its cost.
PARALLEL_FLOOR = 1 << 15


def parallel_threshold(cost: int) -> int:
    """Elements from which a loop of this per-element cost runs in parallel."""
    return max(PARALLEL_MIN // cost, PARALLEL_FLOOR)


_MATH_CALL = re.compile(r"\b(?!sg_)[a-z][a-z0-9]*\(")


class Index:
    """Where a loop body is: a flat index, or one index per dimension."""

    __slots__ = ("flat", "dims")

    def __init__(self, flat: str | None = None, dims=None) -> None:
        self.flat = flat
        self.dims = dims

    def offset(self, cv) -> str:
        """The element offset of array ``cv`` at this index."""
        if self.flat is not None:
            # arrays broadcast along every axis hold one element
            return "0" if all(s == 1 for s in cv.static_shape) else self.flat
        terms = []
        for d in range(cv.ndim):
            i = self.dims[d] if d < len(self.dims) else None
            if i is None or cv.static_shape[d] == 1:
                continue
            s = cv.stride(d)
            terms.append(i if s == "1" else f"{i} * {s}")
        return " + ".join(terms) or "0"


SCALAR = Index(dims=[])


def contiguous_test(cv) -> str:
    """A C condition: ``cv``'s strides are those of a C-contiguous array."""
    terms, expected = [], "1"
    for d in reversed(range(cv.ndim)):
        if cv.static_shape[d] == 1:
            continue
        terms.append(f"{cv.stride(d)} == {expected}")
        expected = cv.shape(d) if expected == "1" else f"{expected} * {cv.shape(d)}"
    return " && ".join(reversed(terms)) or "1"


def loop_cost(lines) -> int:
    """A rough per-element cost: 1, plus 8 per math function call."""
    text = "\n".join(x if isinstance(x, str) else x.text for x in lines)
    return 1 + 8 * len(_MATH_CALL.findall(text))


def _static_size(static) -> int | None:
    n = 1
    for s in static:
        if s is None:
            return None
        n *= s
    return n


def emit_loops(
    ctx, dims, static, body, flat_leaves=None, parallel=True, clause="", simd=True
) -> None:
    """Iterate over ``dims``, calling ``body(index)`` to write the loop body.

    ``flat_leaves``: the arrays that must be contiguous for the flat loop
    (``None``: never flat, e.g. when an input broadcasts). ``static``: the
    static sizes of the iteration (None where unknown).

    At most two copies of the body are emitted (compile time grows with
    them): a serial one and, for large sizes, an OpenMP one. When arrays
    that come from outside turn out contiguous, the serial nest runs as one
    long inner loop (its extents collapse) and the parallel copy is flat.
    ``clause`` is added to every OpenMP pragma (``reduction(+:acc)``);
    ``simd=False`` emits plain loops (a reduction OpenMP cannot express).
    """
    omp = _Pragmas(clause, simd)
    dims = list(dims)
    with ctx.capture() as probe:
        body(Index(dims=[f"i{d}" for d in range(len(dims))]))
    threshold = parallel_threshold(loop_cost(probe))
    size = _static_size(static)
    parallel = parallel and ctx.unit.openmp and (size is None or size >= threshold)
    axes = [d for d in range(len(dims)) if static[d] != 1]
    parallel = parallel and simd
    if len(axes) < 2 or flat_leaves is None:
        _nest(ctx, dims, axes, body, threshold, parallel, omp)
        return
    tests = [contiguous_test(cv) for cv in flat_leaves if not cv.contiguous]
    tests = [t for t in dict.fromkeys(tests) if t != "1"]
    if not tests:
        _flat(ctx, dims, body, threshold, parallel, omp)
        return
    # serial: the nest, collapsed at run time; parallel: flat when contiguous
    test = " && ".join(tests)
    n = ctx.tmp("n")
    ctx.emit(f"const int64_t {n} = {product(dims)};")
    ext = [f"{n}_{d}" for d in axes]
    for e, d in zip(ext, axes):
        ctx.emit(f"int64_t {e} = {dims[d]};")
    flat = ctx.tmp("flat")
    ctx.emit(f"const bool {flat} = {test};")
    ctx.open(f"if ({flat})")
    ctx.comment("contiguous: one long inner loop")
    ctx.emit(f"{ext[-1]} = {n};")
    for e in ext[:-1]:
        ctx.emit(f"{e} = 1;")
    ctx.close()
    if parallel:
        ctx.open(f"if ({flat} && {n} >= {threshold})")
        omp.emit(ctx, "parallel for simd schedule(static)")
        with ctx.block(f"for (int64_t i = 0; i < {n}; i++)"):
            body(Index(flat="i"))
        ctx.reopen("else")
    _nest_loops(ctx, dims, axes, body, False, omp, extents=dict(zip(axes, ext)))
    if parallel:
        ctx.close()


class _Pragmas:
    """The OpenMP pragmas of one loop, with its reduction clause."""

    def __init__(self, clause: str, simd: bool) -> None:
        self.clause = f" {clause}" if clause else ""
        self.simd = simd

    def emit(self, ctx, what: str) -> None:
        if self.simd:
            ctx.pragma(f"omp {what}{self.clause}")


def _flat(ctx, dims, body, threshold, parallel, omp) -> None:
    n = ctx.tmp("n")
    ctx.emit(f"const int64_t {n} = {product(dims)};")

    def emit(par: bool) -> None:
        omp.emit(ctx, "parallel for simd schedule(static)" if par else "simd")
        with ctx.block(f"for (int64_t i = 0; i < {n}; i++)"):
            body(Index(flat="i"))

    if not parallel:
        emit(False)
        return
    ctx.open(f"if ({n} >= {threshold})")
    emit(True)
    ctx.reopen("else")
    emit(False)
    ctx.close()


def _nest_loops(ctx, dims, axes, body, par: bool, omp, extents=None) -> None:
    index = Index(dims=[f"i{d}" if d in axes else None for d in range(len(dims))])
    extents = extents or {}
    for k, d in enumerate(axes):
        inner = k == len(axes) - 1
        if inner and par and len(axes) == 1:
            omp.emit(ctx, "parallel for simd schedule(static)")
        elif par and k == 0:
            omp.emit(ctx, "parallel for schedule(static)")
        elif inner:
            omp.emit(ctx, "simd")
        bound = extents.get(d, dims[d])
        ctx.open(f"for (int64_t i{d} = 0; i{d} < {bound}; i{d}++)")
    body(index)
    for _ in axes:
        ctx.close()


def _nest(ctx, dims, axes, body, threshold, parallel, omp) -> None:
    if not axes:
        with ctx.block():
            body(Index(dims=[None] * len(dims)))
        return
    if not parallel:
        _nest_loops(ctx, dims, axes, body, False, omp)
        return
    ctx.open(f"if ({product([dims[d] for d in axes])} >= {threshold})")
    _nest_loops(ctx, dims, axes, body, True, omp)
    ctx.reopen("else")
    _nest_loops(ctx, dims, axes, body, False, omp)
    ctx.close()
