"""One translation unit per compiled function: header, prelude, segments, entry points.

Each native segment becomes ``static int seg<K>(sg_state *, const sg_array *)``
(plain C over pointers, shapes and strides) with two exported entry points:
``sg_run<K>(st, args)`` taking ``sg_array`` descriptors, and
``sg_call<K>(st, a0, a1, ...)`` taking the addresses of NumPy arrays (the
fast path, see ``prelude.sg_from_numpy``).
"""

from __future__ import annotations

import re

import numpy as np

from symgraph.graph import Constant

from . import prelude, vmath
from .lower import CVar
from .render import Names, SegmentRenderer, c_comment, c_literal
from .scalar_table import CTYPES

#: Constants up to this many elements are written into the source.
INLINE_CONSTANT_SIZE = 64


def embeddable(var) -> bool:
    """Is this constant written into the C source (else passed as an argument)?"""
    return isinstance(var, Constant) and var.data.size <= INLINE_CONSTANT_SIZE


class UnitRenderer:
    """Renders the C source of a whole function, segment by segment."""

    def __init__(self, fgraph, segments, clients, positions, layout, toolchain, title):
        self.fgraph = fgraph
        self.segments = segments  # [(nodes, inputs, outputs, inline)]
        self.clients = clients
        self.positions = positions
        self.layout = layout  # NumPy struct offsets, or None
        self.openmp = toolchain.has_openmp
        self.mvec = toolchain.mvec_functions
        self.vmath = toolchain.has_vmath
        self.title = title
        self.names: dict = {}
        self.n_slots = 0
        self.templates: list[str] = []
        self.globals: list[str] = []
        self.kernels: list[str] = []  # loop kernels (kernels.py), before their segment
        self._const_names = Names()
        self._names = Names()
        self.out_base: list[int] = []
        total = 0
        for _, _, outputs, _ in segments:
            self.out_base.append(total)
            total += len(outputs)
        self.n_out = total
        self.out_maxdim = max(
            [v.ndim for _, _, outs, _ in segments for v in outs] + [1]
        )

    # ---------------------------------------------------------------- naming
    def _name_all(self) -> None:
        seen = set()
        order = list(self.fgraph.inputs)
        for nodes, inputs, _, _ in self.segments:
            order += inputs
            for node in nodes:
                order += node.outputs
        for var in order:
            if var not in seen and not embeddable(var):
                seen.add(var)
                self.names[var] = self._names.for_var(var)

    def name_temp(self, var, base: str) -> str:
        """Name a variable made during lowering (not in the graph)."""
        name = self.names[var] = self._names.unique(base)
        return name

    def origin(self, var) -> str:
        label = f"'{var.name}'" if var.name else str(var)
        return f"{label} built at {var.trace}" if var.trace else label

    def type_numbers(self, dtype: str) -> tuple[int, int]:
        """NumPy's type number of ``dtype`` and its alias (int64: long/longlong)."""
        nums = sorted(
            {np.dtype(c).num for c in np.typecodes["All"] if _dtype_name(c) == dtype}
        )
        main = np.dtype(dtype).num
        alias = next((n for n in nums if n != main), main)
        return main, alias

    def error_template(self, template: str) -> int:
        if template not in self.templates:
            self.templates.append(template)
        return self.templates.index(template)

    # -------------------------------------------------------------- constants
    def constant(self, var) -> CVar:
        data = var.data
        if data.ndim == 0:
            literal = c_literal(data.item(), var.dtype)
            return CVar(var, literal, "scalar", literal=True, dims=[])
        name = self._const_names.const()
        values = (
            ", ".join(c_literal(v, var.dtype) for v in data.ravel().tolist()) or "0"
        )
        size = max(data.size, 1)
        self.globals.append(
            f"static const {CTYPES[var.dtype]} {name}[{size}] = {{{values}}};"
        )
        cv = CVar(
            var, name, "array", contiguous=True, dims=[str(s) for s in data.shape]
        )
        cv.strides = [
            str(s // data.itemsize) for s in np.empty(data.shape, data.dtype).strides
        ]
        if data.size == 1 and all(s == 1 for s in var.type.shape):
            cv.value = c_literal(data.item(), var.dtype)  # read as a literal
        return cv

    # ------------------------------------------------------- elementwise hooks
    def inline_value(self, ctx, node, index) -> str:
        from .lower_elemwise import inline_value

        return inline_value(ctx, node, index)

    def plan_inline(self, ctx, node) -> None:
        from .lower_elemwise import plan_inline

        plan_inline(ctx, node)

    # ---------------------------------------------------------------- render
    def render(self) -> str:
        self._name_all()
        functions = []
        for k, (nodes, inputs, outputs, inline) in enumerate(self.segments):
            seg = SegmentRenderer(
                self, k, nodes, inputs, outputs, self.positions, inline
            )
            text = seg.render()
            functions += self.kernels  # the segment's loop kernels come first
            self.kernels = []
            functions.append(text)
            functions.append(self._entry_points(k, len(inputs), len(outputs)))
        body = "\n\n".join(functions)
        helpers = _helpers(body)
        # the helpers' calls too: sg_sigmoid's exp vectorises only if declared
        called = set(re.findall(r"\b(\w+)\(", helpers + body))
        used_mvec = sorted(self.mvec & called)
        from .toolchain import simd_declarations

        parts = [
            self._header(),
            self._defines(),
            prelude.PRELUDE.strip("\n"),
        ]
        if "cblas_" in body:
            from .blas import cblas_source

            parts.append(cblas_source(body))
        if self.vmath:  # before the helpers: sg_sigmoidf calls expf
            replaced = vmath.used_functions(called)
            if replaced:
                parts.append(vmath.vmath_source(replaced))
                used_mvec = [n for n in used_mvec if n not in replaced]
        if helpers:
            parts.append(helpers)
        if used_mvec:
            parts.append(
                "/* glibc libmvec: vector versions, for '#pragma omp simd' */\n"
                + simd_declarations(used_mvec)
            )
        used = [
            g
            for g in self.globals
            if re.search(rf"\b{g.split('[')[0].split()[-1]}\b", body)
        ]
        if used:  # constants that the code still reads
            parts.append("\n".join(used))
        parts.append(body)
        return "\n\n".join(parts) + "\n"

    def _header(self) -> str:
        from symgraph import __version__
        from symgraph.printing import debugprint

        graph = (
            debugprint(self.fgraph.outputs, file="str") if self.fgraph.outputs else ""
        )
        lines = [
            f"/* {c_comment(self.title)}",
            " *",
            f" * Generated by symgraph {__version__}. The graph (debugprint):",
            " *",
        ]
        lines += [f" *   {c_comment(line, 200)}" for line in graph.splitlines()]
        lines.append(" */")
        return "\n".join(lines)

    def _defines(self) -> str:
        lay = self.layout or {}
        names = (
            "DATA",
            "ND",
            "DIMS",
            "STRIDES",
            "DESCR",
            "FLAGS",
            "TYPENUM",
            "BYTEORDER",
        )
        out = [
            f"#define SG_NSLOTS {max(self.n_slots, 1)}",
            f"#define SG_NOUT {max(self.n_out, 1)}",
            f"#define SG_OUT_MAXDIM {self.out_maxdim}",
            "/* where NumPy keeps an array's fields (checked at import, runtime.py) */",
        ]
        out += [f"#define SG_NP_{n} {lay.get(n.lower(), 0)}" for n in names]
        out.append("#define SG_NP_ALIGNED 0x0100")
        out.append("#define SG_NP_WRITEABLE 0x0400")
        return "\n".join(out)

    def _entry_points(self, k: int, n_in: int, n_out: int) -> str:
        n = n_in + n_out
        params = [f"intptr_t a{i}" for i in range(n_in)] + [
            f"intptr_t o{i}" for i in range(n_out)
        ]
        objs = [f"a{i}" for i in range(n_in)] + [f"o{i}" for i in range(n_out)]
        fill = [f"    sg_from_numpy({o}, &args[{i}]);" for i, o in enumerate(objs)]
        return "\n".join(
            [
                f"int sg_run{k}(sg_state *st, const sg_array *args)",
                "{",
                "    int rc = sg_enter(st);",
                "    if (rc != SG_OK)",
                "        return rc;",
                f"    return sg_leave(st, seg{k}(st, args));",
                "}",
                "",
                f"int sg_call{k}(sg_state *st{''.join(', ' + p for p in params)})",
                "{",
                f"    sg_array args[{max(n, 1)}];",
                *fill,
                f"    return sg_run{k}(st, args);",
                "}",
            ]
        )

    def cdef(self) -> str:
        lines = [prelude.CDEF]
        for k, (_, inputs, outputs, _) in enumerate(self.segments):
            n = len(inputs) + len(outputs)
            lines.append(f"int sg_run{k}(sg_state *, const sg_array *);")
            lines.append(f"int sg_call{k}(sg_state *{', intptr_t' * n});")
        return "\n".join(lines)


def _dtype_name(code: str) -> str | None:
    try:
        return np.dtype(code).name
    except TypeError:
        return None


def _helpers(body: str) -> str:
    from .helpers import helper_source

    return helper_source(body)
