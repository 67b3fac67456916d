"""The C backend: plan, render, compile and cache a function's graph.

``sg.function(..., backend="c")`` (the default where a C compiler works)
ends here. The graph is cut into *steps*: native segments (nodes with a C
lowering rule, one C function each) and Python steps (``perform`` of nodes
without one), ordered so that there are as few segments as the data flow
allows. A graph whose nodes all lower is one segment, called through the
fast path of ``glue.py``.

Compiled graphs are cached in memory by a structural key of the graph, so a
second ``sg.function`` on an identical graph skips rendering and loading;
below that, ``build.compile_library`` caches the shared object on disk.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np

from symgraph.compile.backends import register_backend
from symgraph.graph import Constant, SharedVariable

from .build import compile_library
from .lower import INLINE_CONSUMERS, can_lower
from .runtime import NUMPY_LAYOUT, Compiled, CProgram, Segment
from .shapes import predict_output_shapes
from .toolchain import compiler_works, get_toolchain
from .unit import UnitRenderer, embeddable

#: How many compiled graphs the in-memory cache keeps.
MEMORY_CACHE_SIZE = 512
_memory: OrderedDict = OrderedDict()

# IEEE semantics: no contraction of a*b+c into an FMA (NumPy does not).
EXTRA_CFLAGS = ("-ffp-contract=off",)
# A unit with this many vectorised loops (GCC's main cost) builds on several
# cores where the toolchain can (`Toolchain.parallel_cflags`): the MLP
# training step has 24; a softmax, 7, builds faster in one piece.
PARALLEL_BUILD_LOOPS = 12
# Drivers are built at -O1 for the loops some rules write into them. A big
# unit whose drivers hold none (only calls and checks) builds them at -O0:
# the MLP step builds 35 ms faster and runs as fast (a driver runs once per
# call). Loops over the threads' partial sums (``sg_nt``) are short.
_DRIVER = re.compile(r"^SG_DRIVER static int seg\d+\(.*?^}$", re.M | re.S)
_DRIVER_LOOP = re.compile(r"\b(for \((?!int sg_t = 0; sg_t < sg_nt;)|while \()")

_pinned: list = []


def _pin_openmp_runtime() -> None:
    """Keep libgomp loaded for the life of the process.

    Compiled libraries link it; if the last of them were unloaded (cffi
    closes a library when it is collected, e.g. at interpreter exit) while
    OpenMP's worker threads sleep inside it, they would crash the process.
    ctypes never unloads what it loads, so one reference here is enough.
    """
    if _pinned:
        return
    import ctypes

    try:
        _pinned.append(ctypes.CDLL("libgomp.so.1", mode=ctypes.RTLD_GLOBAL))
    except OSError:  # another OpenMP runtime, or none: nothing to pin
        _pinned.append(None)


# --------------------------------------------------------------- graph key
def graph_key(fgraph, name) -> tuple:
    """Everything the generated source depends on, positionally."""
    ref: dict = {}
    items: list = [name]
    for i, var in enumerate(fgraph.inputs):
        ref[var] = i
        items.append((var.type, var.name, _trace(var), isinstance(var, SharedVariable)))

    def get(var):
        found = ref.get(var)
        if found is not None:
            return found
        if isinstance(var, Constant):
            return ("const", var.signature(), var.name)
        raise KeyError(var)

    for node in fgraph.toposort():
        ins = tuple(get(v) for v in node.inputs)
        outs = tuple((o.type, o.name, _trace(o)) for o in node.outputs)
        items.append((node.op, ins, outs))
        for out in node.outputs:
            ref[out] = len(ref)
    items.append(tuple(get(v) for v in fgraph.outputs))
    return tuple(items)


def _trace(var):
    t = var.trace
    return (t.filename, t.lineno) if t is not None else None


# ------------------------------------------------------------------- plan
def plan_steps(nodes) -> list[tuple[str, list]]:
    """Group nodes into alternating native and Python steps.

    A node's level counts the Python nodes it must wait for; native nodes of
    one level form one segment, run before that level's Python nodes.
    """
    native = {node: can_lower(node) for node in nodes}
    level: dict = {}
    for node in nodes:
        lv = 0
        for var in node.inputs:
            p = var.owner
            if p in level:
                lv = max(lv, level[p] + (1 if native[node] and not native[p] else 0))
        level[node] = lv
    steps = []
    for lv in range(max(level.values(), default=-1) + 1):
        seg = [n for n in nodes if native[n] and level[n] == lv]
        if seg:
            steps.append(("c", seg))
        steps += [("py", [n]) for n in nodes if not native[n] and level[n] == lv]
    return steps


def plan_inline(nodes, outputs, clients) -> set:
    """Elementwise results computed inside the one loop that reads them."""
    inside = set(nodes)
    keep = set(outputs)
    inline = set()
    for node in nodes:
        accepts = INLINE_CONSUMERS.get(type(node.op))
        if accepts is None:
            continue
        for pos, var in enumerate(node.inputs):
            owner = var.owner
            if owner is None or owner not in inside or var in keep or var.ndim == 0:
                continue
            if len(owner.outputs) != 1 or type(owner.op) not in INLINE_CONSUMERS:
                continue
            from symgraph.ops.elemwise import Elemwise

            if not isinstance(owner.op, Elemwise):
                continue
            if len(clients.get(var, ())) == 1 and accepts(node, pos, var):
                inline.add(var)
    return inline


class _Cells:
    """Numbering of the values a program holds: inputs, constants, results."""

    def __init__(self, fgraph) -> None:
        self.index: dict = {}
        self.locs: list = []
        self.const_cells: list = []
        for i, var in enumerate(fgraph.inputs):
            self.index[var] = len(self.locs)
            self.locs.append(("in", i))

    def of(self, var, positions) -> int:
        found = self.index.get(var)
        if found is not None:
            return found
        cell = self.index[var] = len(self.locs)
        if isinstance(var, Constant):
            self.locs.append(("const", var))
            self.const_cells.append((cell, var.data))
        else:
            self.locs.append(("node", positions[var.owner], var.index))
        return cell


def build(fgraph, name=None) -> Compiled:
    """Render and compile ``fgraph``; the result backs every identical graph."""
    nodes = fgraph.toposort()
    positions = {node: i for i, node in enumerate(nodes)}
    clients = fgraph.clients
    steps = plan_steps(nodes)
    single = all(kind == "c" for kind, _ in steps) and len(steps) <= 1
    cells = _Cells(fgraph)
    segments, step_meta = [], []
    if single:
        seg_nodes = steps[0][1] if steps else []
        inputs = list(fgraph.inputs) + _big_constants(seg_nodes)
        outputs = list(fgraph.outputs)
        segments.append(
            (seg_nodes, inputs, outputs, plan_inline(seg_nodes, outputs, clients))
        )
        step_meta.append(("c", 0))
    else:
        produced_by = {}
        for k, (_, group) in enumerate(steps):
            for node in group:
                for out in node.outputs:
                    produced_by[out] = k
        for k, (kind, group) in enumerate(steps):
            if kind == "py":
                step_meta.append(("py", group[0]))
                continue
            inside = set(group)
            inputs, outputs = [], []
            for node in group:
                for var in node.inputs:
                    if (
                        var.owner not in inside and not embeddable(var)
                    ) and var not in inputs:
                        inputs.append(var)
            for node in group:
                for out in node.outputs:
                    later = any(
                        c == "output" or produced_by.get(c.outputs[0], k) != k
                        for c, _ in clients.get(out, ())
                    )
                    if later:
                        outputs.append(out)
            inline = plan_inline(group, outputs, clients)
            step_meta.append(("c", len(segments)))
            segments.append((group, inputs, outputs, inline))
    toolchain = get_toolchain()
    if toolchain.has_openmp:
        _pin_openmp_runtime()
    title = f"sg.function {name!r}" if name else "sg.function"
    unit = UnitRenderer(
        fgraph, segments, clients, positions, NUMPY_LAYOUT, toolchain, title
    )
    source = unit.render()
    flags = EXTRA_CFLAGS + (() if toolchain.has_openmp else ("-fopenmp-simd",))
    if source.count("#pragma omp simd") >= PARALLEL_BUILD_LOOPS:
        flags += toolchain.parallel_cflags()
        if not any(_DRIVER_LOOP.search(body) for body in _DRIVER.findall(source)):
            flags += ('-DSG_DRIVER_LEVEL="O0"',)
    library = compile_library(
        source, unit.cdef(), extra_cflags=flags, link_blas="cblas_" in source
    )
    predictions = predict_output_shapes(fgraph, nodes, cells, positions)
    built_steps = []
    for meta in step_meta:
        if meta[0] == "py":
            node = meta[1]
            built_steps.append(
                (
                    "py",
                    positions[node],
                    [cells.of(v, positions) for v in node.inputs],
                    [cells.of(v, positions) for v in node.outputs],
                )
            )
            continue
        k = meta[1]
        _, inputs, outputs, _ = segments[k]
        in_cells = [cells.of(v, positions) for v in inputs]
        built_steps.append(
            (
                "c",
                Segment(
                    k,
                    library.lib,
                    in_cells,
                    [cells.of(v, positions) for v in outputs],
                    [v.dtype for v in outputs],
                    [v.ndim for v in outputs],
                    [predictions(v, in_cells) for v in outputs],
                    unit.out_base[k],
                ),
            )
        )
    output_cells = [cells.of(v, positions) for v in fgraph.outputs]
    compiled = Compiled(
        lib=library.lib,
        ffi=library.ffi,
        source=source,
        source_path=library.source_path,
        steps=built_steps,
        n_cells=len(cells.locs),
        input_cells=list(range(len(fgraph.inputs))),
        const_cells=cells.const_cells,
        output_cells=output_cells,
        templates=list(unit.templates),
        out_maxdim=unit.out_maxdim,
        single=single,
    )
    compiled.locs = cells.locs
    return compiled


def _big_constants(nodes) -> list:
    found = []
    for node in nodes:
        for var in node.inputs:
            if isinstance(var, Constant) and not embeddable(var) and var not in found:
                found.append(var)
    return found


# ---------------------------------------------------------------- factory
def c_program(fgraph, name=None) -> CProgram:
    """The ``"c"`` backend's factory (``symgraph.compile.backends``)."""
    key = graph_key(fgraph, name)
    compiled = _memory.get(key)
    if compiled is None:
        compiled = build(fgraph, name)
        _memory[key] = compiled
        if len(_memory) > MEMORY_CACHE_SIZE:
            _memory.popitem(last=False)
    else:
        _memory.move_to_end(key)
    return CProgram(fgraph, compiled, name)


def clear_memory_cache() -> None:
    """Forget compiled graphs (the disk cache stays)."""
    _memory.clear()


register_backend("c", c_program, available=compiler_works)

__all__ = ["build", "c_program", "clear_memory_cache", "graph_key", "plan_steps", "np"]
