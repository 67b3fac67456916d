"""Loop nests for elementwise-style code: a flat fast path and a strided nest.

``emit_loops`` writes, for an iteration space of C sizes ``dims``:

- a *flat* loop ``for (i = 0; i < n; i++)`` used when every array it reads
  is C-contiguous with the iteration's shape (checked at run time for
  arrays that come from outside or are views), with ``#pragma omp simd``;
- a *nest* of loops over the dimensions, innermost ``#pragma omp simd``,
  indexing each array through its element strides (broadcasting, views,
  negative strides);
- in either, the innermost loop twice when an array from outside is read
  along its last axis: once for unit stride (vector loads), once in general;

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

    __slots__ = ("flat", "dims", "unit", "assumed")

    def __init__(self, flat: str | None = None, dims=None, unit=None) -> None:
        self.flat = flat
        self.dims = dims
        #: an index along which strides unknown when generating are taken as 1
        self.unit = unit
        #: the strides so taken: the caller tests them before using this index
        self.assumed: list[str] = []

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
            if i == self.unit and _unknown_last(cv, d, s):
                self.assumed.append(s)
                s = "1"
            terms.append(i if s == "1" else f"{i} * {s}")
        return " + ".join(terms) or "0"


SCALAR = Index(dims=[])


def _unknown_last(cv, d: int, stride: str) -> bool:
    # only an array's last axis is worth a unit-stride copy: C-contiguous
    # arrays, the common case, have unit stride there and nowhere else
    later = cv.static_shape[d + 1 :]
    return all(s == 1 for s in later) and not stride.lstrip("-").isdigit()


class Blocks:
    """Accumulate a reduction in blocks: narrow sums per block, wide across.

    float32 sums: each of the 16 vector lanes adds ``SIZE / 16`` floats, and
    the blocks' float sums are added in double. As accurate as NumPy's
    pairwise sum, and no conversion per element (``sum(exp(x))``: 10%).
    ``clause`` is the inner loop's reduction; ``begin``/``end`` are the
    statements around each block (declare, then fold its sums).
    """

    SIZE = 512

    def __init__(self, clause: str, begin: list[str], end: list[str]) -> None:
        self.clause = clause
        self.begin = begin
        self.end = end


def innermost(ctx, i, lo, hi, index: Index, body, pragma=None, blocks=None):
    """``for (i = lo; i < hi; i++) body(index)``, preceded by ``#pragma pragma``.

    The strides of arrays from outside are unknown when generating, and GCC
    vectorises loads at an unknown stride as gathers (``sum(exp(x))``: 1.3x
    slower than unit-stride loads). So a vectorised loop indexing such an
    array along ``i`` is written twice: a copy for unit strides, chosen by a
    test before the loop, and the general one. With ``blocks`` (`Blocks`),
    the loop runs block by block.
    """
    fast = Index(dims=index.dims, unit=i)
    ctx.level += 1
    with ctx.capture() as lines:
        _for(ctx, i, lo, hi, fast, body, pragma, blocks)
    ctx.level -= 1
    if (pragma is None and blocks is None) or not fast.assumed:
        _for(ctx, i, lo, hi, index, body, pragma, blocks)
        return
    tests = " && ".join(f"{s} == 1" for s in dict.fromkeys(fast.assumed))
    ctx.open(f"if ({tests})")
    ctx.lines.extend(lines)
    ctx.reopen("else")
    _for(ctx, i, lo, hi, index, body, pragma, blocks)
    ctx.close()


def _for(ctx, i, lo, hi, index, body, pragma, blocks=None) -> None:
    if blocks is not None:  # the loop below, block by block
        size = Blocks.SIZE
        ctx.open(f"for (int64_t sg_j = {lo}; sg_j < {hi}; sg_j += {size})")
        ctx.emit(f"const int64_t sg_je = {hi} - sg_j > {size} ? sg_j + {size} : {hi};")
        for line in blocks.begin:
            ctx.emit(line)
        _for(ctx, i, "sg_j", "sg_je", index, body, f"omp simd {blocks.clause}")
        for line in blocks.end:
            ctx.emit(line)
        ctx.close()
        return
    if pragma is not None:
        ctx.pragma(pragma)
    with ctx.block(f"for (int64_t {i} = {lo}; {i} < {hi}; {i}++)"):
        body(index)


def scoped_loops(ctx, loops, body) -> None:
    """``body()`` inside ``for`` loops over ``loops`` (``(axis, C size)``
    pairs, indices ``i{axis}``), or inside a bare block when there are none:
    in a scope of its own either way, so that the fixed-name locals of one
    node's body (``sg_v``, ``sg_m``...) never meet another node's."""
    heads = [f"for (int64_t i{d} = 0; i{d} < {n}; i{d}++)" for d, n in loops]
    for head in heads or [None]:  # None: a bare block
        ctx.open(head)
    body()
    for _ in heads or [None]:
        ctx.close()


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
    ctx,
    dims,
    static,
    body,
    flat_leaves=None,
    parallel=True,
    clause="",
    simd=True,
    partials=None,
    threshold=None,
    blocks=None,
) -> None:
    """Iterate over ``dims``, calling ``body(index)`` to write the loop body.

    ``flat_leaves``: the arrays that must be C-contiguous for the loop to run
    as one long inner loop (``None``: never, e.g. when an input broadcasts);
    arrays from outside are checked at run time and the extents collapse.
    ``static``: the static sizes of the iteration (None where unknown).

    A loop that may be large becomes a kernel (``kernels.py``) run serially
    or on all cores; others are written in place. ``clause`` is added to the
    ``omp simd`` pragma; ``simd=False`` emits plain loops. ``partials``
    (``[(C type, accumulator, start, OpenMP op)]``) makes it a reduction
    kernel: each thread accumulates its chunk, the caller combines them.
    ``blocks`` (`Blocks`): the innermost loop accumulates block by block.
    """
    from .kernels import Kernel, rows

    omp = _Pragmas(clause, simd)
    dims = list(dims)
    with ctx.capture() as probe:
        body(Index(dims=[f"i{d}" for d in range(len(dims))]))
    threshold = threshold or parallel_threshold(loop_cost(probe))
    size = _static_size(static)
    axes = [d for d in range(len(dims)) if static[d] != 1]
    if not axes:
        with ctx.block():
            for line in blocks.begin if blocks else ():
                ctx.emit(line)
            body(Index(dims=[None] * len(dims)))
            for line in blocks.end if blocks else ():
                ctx.emit(line)
        return
    parallel = partials is not None or (
        parallel
        and simd
        and not clause
        and ctx.unit.openmp
        and (size is None or size >= threshold)
    )
    index_dims = [f"i{d}" if d in axes else None for d in range(len(dims))]
    extents = [(d, dims[d]) for d in axes]
    n = ctx.tmp("n")
    ctx.declare("int64_t", n, product(dims))
    if len(axes) >= 2 and flat_leaves is not None:
        tests = [contiguous_test(cv) for cv in flat_leaves if not cv.contiguous]
        tests = [t for t in dict.fromkeys(tests) if t != "1"]
        if not tests:  # contiguous by construction: one loop over everything
            last = axes[-1]
            extents = [(last, n)]
            index_dims = [None] * len(dims)
            index_dims[last] = f"i{last}"
        else:  # contiguous at run time: the extents collapse into the last
            flat = ctx.tmp("flat")
            ctx.declare(
                "bool", flat, " && ".join(tests) + "  /* one long inner loop */"
            )
            ext = [f"{n}_{d}" for d in axes]
            for k, (e, d) in enumerate(zip(ext, axes, strict=False)):
                whole = n if k == len(axes) - 1 else "1"
                ctx.declare("int64_t", e, f"{flat} ? {whole} : {dims[d]}")
            extents = list(zip(axes, ext, strict=False))
    index = Index(dims=index_dims)
    if not parallel:
        _nest_loops(ctx, extents, index, body, omp, blocks)
        return

    def inner(lo: str, hi: str) -> None:
        i = f"i{extents[-1][0]}"
        innermost(ctx, i, lo, hi, index, body, omp.text("simd"), blocks)

    with Kernel(ctx, ctx.tmp("loop"), ctx.kernel_comment(), partials) as kernel:
        rows(ctx, extents, inner)
    ctx.open(f"if ({n} > 0)")
    kernel.call(n, f"{n} >= {threshold}")
    ctx.close()


def _nest_loops(ctx, extents, index, body, omp, blocks) -> None:
    *outer, (last, extent) = extents
    for d, e in outer:
        ctx.open(f"for (int64_t i{d} = 0; i{d} < {e}; i{d}++)")
    pragma = omp.text("simd")
    innermost(ctx, f"i{last}", "0", extent, index, body, pragma, blocks)
    for _ in outer:
        ctx.close()


class _Pragmas:
    """The OpenMP pragmas of one loop, with its reduction clause."""

    def __init__(self, clause: str, simd: bool) -> None:
        self.clause = f" {clause}" if clause else ""
        self.simd = simd

    def text(self, what: str) -> str | None:
        return f"omp {what}{self.clause}" if self.simd else None
