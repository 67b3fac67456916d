"""Render one translation unit: a header, the prelude, one function per segment.

The text is meant to be read (``f.source``): deterministic names (``x``,
``t0``, ``x_shape0``), one statement per line, the graph as a header comment
and a comment on each node with the user's variable name and source line.
User text reaches the source only through :func:`c_comment` (which cannot
close or nest a comment) and :func:`c_identifier` (letters, digits, _).
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager

import numpy as np

from symgraph.graph import Constant

from . import memplan, prelude
from .lower import INLINE_CONSUMERS, VIEW_OPS, CVar, c_lower
from .scalar_table import CTYPES

# Identifiers generated code uses itself, plus C keywords and libm names: a
# user's variable called "exp" or "int" must not shadow or break them.
_C_WORDS = """auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static
struct switch typedef union unsigned void volatile while bool true false NULL st args
main free malloc calloc realloc memcpy memset abs labs fabs fabsf n i rc
""".split()
_LIBM = """acos asin atan atan2 cos sin tan acosh asinh atanh cosh sinh tanh exp exp2
exp10 expm1 log log2 log10 log1p pow sqrt cbrt hypot erf erfc floor ceil trunc round
nearbyint rint fmod fmax fmin fma isnan isinf isfinite copysign signbit lgamma tgamma
""".split()
RESERVED = frozenset(_C_WORDS + _LIBM + [w + "f" for w in _LIBM])
_GENERATED = re.compile(
    r"^(t\d+|c\d+|i\d*|n\d*(_\d+)?|(acc|lit|dot|tmp|out|flat|loop|seg)\d*|sg_\w*|SG_\w*)$"
    r"|_(shape|stride|st|s|at)\d*$"
)


def c_comment(text: str, limit: int = 160) -> str:
    """``text`` made safe inside ``/* ... */``: ASCII, one line, no ``*/``."""
    text = "".join(c if " " <= c <= "~" else "?" for c in str(text))
    # Neither "*/" (closes) nor "/*" (-Wcomment) nor "??" (trigraphs) survive.
    while "*/" in text or "/*" in text or "??" in text:
        text = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def c_identifier(text: str | None) -> str | None:
    """A C identifier made from a user's name, or None when nothing is left."""
    if not text:
        return None
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    name = re.sub(r"__+", "_", name)[:32].rstrip("_")
    if not name:
        return None
    if name[0].isdigit():
        name = "v_" + name
    if name in RESERVED or _GENERATED.search(name):
        name += "_v"
    return name


class Names:
    """Deterministic, unique C names: sanitised user names, else ``t0, t1...``."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.count = 0
        self.consts = 0

    def unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def for_var(self, var) -> str:
        user = c_identifier(var.name)
        if user is not None:
            return self.unique(user)
        name = f"t{self.count}"
        self.count += 1
        return self.unique(name)

    def const(self) -> str:
        name = f"c{self.consts}"
        self.consts += 1
        return self.unique(name)


def c_literal(value, dtype: str) -> str:
    """The C literal of one value of ``dtype`` (exact, parenthesised if < 0)."""
    if dtype == "bool":
        return "true" if bool(value) else "false"
    if dtype in ("float32", "float64"):
        v = float(value)
        suffix = "f" if dtype == "float32" else ""
        if math.isnan(v):
            return "NAN" if dtype == "float32" else "(double)NAN"
        if math.isinf(v):
            text = "INFINITY" if dtype == "float32" else "(double)INFINITY"
            return text if v > 0 else f"(-{text})"
        text = str(np.float32(v)) if dtype == "float32" else repr(v)
        if "." not in text and "e" not in text:
            text += ".0"
        text += suffix
        return f"({text})" if text.startswith("-") else text
    v = int(value)
    if dtype == "uint64" and v > 2**63 - 1:
        return f"{v}ULL"
    if v == -(2**63):
        return "(-9223372036854775807LL - 1)"
    text = str(v) if -(2**31) < v < 2**31 else f"{v}LL"
    return f"({text})" if v < 0 else text


_KIND_NAMES = {
    prelude.E_BROADCAST: "SG_E_BROADCAST",
    prelude.E_ALLOC: "SG_E_ALLOC",
    prelude.E_SIZE: "SG_E_SIZE",
    prelude.E_OP: "SG_E_OP",
}


class Decl:
    """An optional ``const`` local: dropped when nothing reads it."""

    __slots__ = ("name", "text")

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text


_IDENT = re.compile(r"[A-Za-z_]\w*")
_COMMENT = re.compile(r"/\*.*?\*/")


def drop_unused(lines: list) -> list[str]:
    """Remove optional declarations nobody reads (``-Wall`` clean output)."""
    refs: dict[str, int] = {}
    tokens = []
    for line in lines:
        text = line.text if isinstance(line, Decl) else line
        words = _IDENT.findall(_COMMENT.sub(" ", text))
        if isinstance(line, Decl):
            words.remove(line.name)
        tokens.append(words)
        for w in words:
            refs[w] = refs.get(w, 0) + 1
    decl_at = {line.name: i for i, line in enumerate(lines) if isinstance(line, Decl)}
    dead: set[int] = set()
    work = [n for n in decl_at if not refs.get(n)]
    while work:
        name = work.pop()
        i = decl_at[name]
        if i in dead:
            continue
        dead.add(i)
        for w in tokens[i]:
            refs[w] -= 1
            if refs[w] == 0 and w in decl_at:
                work.append(w)
    return [
        line.text if isinstance(line, Decl) else line
        for i, line in enumerate(lines)
        if i not in dead
    ]


def describe_node(node, names: dict) -> str:
    """``t3 = Elemwise{add}(x, t2)  'h' at model.py:12 (h = x + 1)``."""
    outs = ", ".join(names.get(o, "?") for o in node.outputs)
    ins = ", ".join(names.get(v, str(v)) for v in node.inputs)
    text = f"{outs} = {node.op}({ins})"
    out = node.outputs[0]
    if out.name:
        text += f"  '{out.name}'"
    if out.trace is not None:
        text += f" at {out.trace}"
    return text


class SegmentRenderer:
    """Emits one segment's C function; this is the ``ctx`` rules receive."""

    def __init__(self, unit, index: int, nodes, inputs, outputs, positions, inline):
        self.unit = unit
        self.index = index
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.positions = positions  # node -> index in the whole graph (errors)
        self.inline = inline  # variables computed inside their consumer's loop
        self.lines: list = []
        self.level = 1
        self.cvars: dict = {}
        self.node = None
        self.tmp_count = 0
        self.materialized: dict = {}  # output position -> True when written
        order = {node: k for k, node in enumerate(nodes)}
        self.loop_position = {}
        for node in reversed(nodes):  # inline nodes run in their consumer's loop
            pos = order[node]
            out = node.outputs[0]
            if out in inline:
                ((consumer, _),) = unit.clients[out]
                pos = self.loop_position[consumer]
            self.loop_position[node] = pos
        last = {}
        for node in nodes:
            for var in node.inputs:
                last[var] = max(last.get(var, -1), self.loop_position[node])
        for var in outputs:
            last[var] = memplan.NEVER
        self.slots = memplan.SlotPlan(last, first_slot=unit.n_slots)

    # ------------------------------------------------------------ emission
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.level + line if line else "")

    def declare(self, ctype: str, name: str, expr: str) -> None:
        """``const ctype name = expr;``, dropped later if unused."""
        self.lines.append(
            Decl(name, "    " * self.level + f"const {ctype} {name} = {expr};")
        )

    def pragma(self, text: str) -> None:
        self.lines.append("    " * self.level + f"#pragma {text}")

    def comment(self, text: str) -> None:
        self.emit(f"/* {c_comment(text)} */")

    def open(self, head: str | None = None) -> None:
        self.emit(f"{head} {{" if head else "{")
        self.level += 1

    def close(self) -> None:
        self.level -= 1
        self.emit("}")

    def reopen(self, head: str) -> None:
        """``} else {``: close the open block and start the next one."""
        self.level -= 1
        self.emit(f"}} {head} {{")
        self.level += 1

    @contextmanager
    def block(self, head: str | None = None):
        self.open(head)
        try:
            yield
        finally:
            self.close()

    @contextmanager
    def capture(self):
        """Collect emitted lines in a list instead of the function body."""
        saved, self.lines = self.lines, []
        try:
            yield self.lines
        finally:
            self.lines = saved

    def declared(self) -> dict:
        """The locals declared so far in the function (scanned incrementally)."""
        from .kernels import declarations

        seen, found = getattr(self, "_declared", (0, {}))
        if seen < len(self.lines):
            found.update(declarations(self.lines[seen:]))
            self._declared = (len(self.lines), found)
        return found

    def kernel_comment(self) -> str:
        """What a kernel of the current node says about itself."""
        if self.node is None:
            return "a copy"
        return f"node {self.node_id}: {describe_node(self.node, self.unit.names)}"

    def tmp(self, prefix: str = "n") -> str:
        self.tmp_count += 1
        return f"{prefix}{self.tmp_count}"

    # --------------------------------------------------------------- errors
    @property
    def node_id(self) -> int:
        return self.positions[self.node] if self.node is not None else -1

    def fail(self, kind: int, *args: str) -> str:
        """A ``return`` statement reporting error ``kind`` at the current node."""
        args = list(args) + ["0"] * (6 - len(args))
        where = f"{_KIND_NAMES[kind]}, {self.node_id}"
        return f"return sg_fail(st, {where}, {', '.join(args)});"

    def op_error(self, template: str, *args: str, exc: str = "ValueError") -> str:
        """Report an op-specific error: ``exc(template.format(*args))`` in Python."""
        code = self.unit.error_template((template, exc))
        return self.fail(prelude.E_OP, str(code), *args)

    # ------------------------------------------------------------ variables
    def var(self, var) -> CVar:
        found = self.cvars.get(var)
        if found is None:
            if not isinstance(var, Constant):
                raise KeyError(f"C codegen: {var} is used before it is defined")
            found = self.cvars[var] = self.unit.constant(var)
        return found

    def name(self, var) -> str:
        return self.unit.names[var]

    def new_scalar(self, var, expr: str) -> CVar:
        """A 0-d result held in a C local."""
        name = self.name(var)
        cv = self.cvars[var] = CVar(var, name, "scalar", dims=[])
        self.emit(f"const {cv.ctype} {name} = {expr};")
        return cv

    def new_inline(self, var, dims: list[str]) -> CVar:
        cv = self.cvars[var] = CVar(var, self.name(var), "inline", dims=list(dims))
        return cv

    def new_array(self, var, dims: list[str]) -> CVar:
        """A fresh C-contiguous buffer: an output array or a scratch slot."""
        name = self.name(var)
        dims = [
            str(s) if s is not None else d
            for s, d in zip(var.type.shape, dims, strict=False)
        ]
        cv = self.cvars[var] = CVar(var, name, "array", contiguous=True)
        cv.dims = [self._shape_local(name, d, expr) for d, expr in enumerate(dims)]
        stride = "1"
        for d in reversed(range(var.ndim)):
            self.declare("int64_t", f"{name}_stride{d}", stride)
            stride = f"{stride} * {cv.dims[d]}" if stride != "1" else cv.dims[d]
        self.emit(f"{cv.ctype} *restrict {name} = {self.acquire(var, cv.dims)};")
        self.emit(f"if (!{name})")
        self.emit("    return SG_ERROR;")
        return cv

    def acquire(self, var, dims) -> str:
        """The C call that gives ``var`` its buffer (an output, else a slot)."""
        shape_arg = f"(const int64_t[]){{{', '.join(dims)}}}" if var.ndim else "NULL"
        item = np.dtype(var.dtype).itemsize
        t = CTYPES[var.dtype]
        where = self._output_position(var)
        if where is not None:
            self.materialized[where] = True
            type_num, alias = self.unit.type_numbers(var.dtype)
            return (
                f"({t} *)sg_output(st, &args[{len(self.inputs) + where}], "
                f"{self.unit.out_base[self.index] + where}, {self.node_id}, "
                f"{type_num}, {alias}, {var.ndim}, {shape_arg}, {item})"
            )
        slot = self.slots.take(var)
        shape = f"{var.ndim}, {shape_arg}, {item}"
        return f"({t} *)sg_scratch(st, {slot}, {self.node_id}, {shape})"

    def new_local_array(self, var, values: list[str]) -> CVar:
        """A small 1-d array of computed values (e.g. a shape) in a C local."""
        name = self.name(var)
        items = ", ".join(values) or "0"
        self.emit(
            f"const {CTYPES[var.dtype]} {name}[{max(len(values), 1)}] = {{{items}}};"
        )
        cv = self.cvars[var] = CVar(
            var, name, "array", contiguous=True, dims=[str(len(values))]
        )
        return cv

    def new_view(self, var, base: CVar, data: str, dims, strides) -> CVar:
        """``var`` reads ``base``'s storage: a pointer with its own shape/strides."""
        name = self.name(var)
        cv = self.cvars[var] = CVar(var, name, "array", root=base.root)
        cv.dims = [self._shape_local(name, d, expr) for d, expr in enumerate(dims)]
        for d, expr in enumerate(strides):
            self.declare("int64_t", f"{name}_stride{d}", expr)
        self.lines.append(
            Decl(name, "    " * self.level + f"const {cv.ctype} *{name} = {data};")
        )
        self.slots.extend(base.root, var)
        return cv

    def _shape_local(self, name: str, d: int, expr: str) -> str:
        if re.fullmatch(r"\d+", expr):
            return expr
        self.declare("int64_t", f"{name}_shape{d}", expr)
        return f"{name}_shape{d}"

    def temp_buffer(self, dtype: str, count: str) -> str:
        """A scratch buffer of ``count`` elements for the current node only."""
        name = self.tmp("tmp")
        slot = self.slots.take(object())  # free again after this node
        t = CTYPES[dtype]
        item = np.dtype(dtype).itemsize
        shape = f"1, (const int64_t[]){{{count}}}, {item}"
        call = f"sg_scratch(st, {slot}, {self.node_id}, {shape})"
        self.emit(f"{t} *restrict {name} = ({t} *){call};")
        self.emit(f"if (!{name})")
        self.emit("    return SG_ERROR;")
        return name

    def slot_buffer(self, var, base: CVar, dtype: str, dims) -> str:
        """A scratch buffer for ``var``, a view of either ``base`` or this
        buffer: it lives as long as ``base``'s storage and every view of it
        (allocated where emitted)."""
        name = f"{self.name(var)}_buf"
        slot = self.slots.take(var, root=base.root)
        t = CTYPES[dtype]
        item = np.dtype(dtype).itemsize
        shape_arg = f"(const int64_t[]){{{', '.join(dims)}}}" if dims else "NULL"
        call = (
            f"sg_scratch(st, {slot}, {self.node_id}, {len(dims)}, {shape_arg}, {item})"
        )
        self.emit(f"{t} *restrict {name} = ({t} *){call};")
        self.emit(f"if (!{name})")
        self.emit("    return SG_ERROR;")
        return name

    def pointer(self, cv: CVar) -> str:
        """A pointer to ``cv``'s first element (arrays and scalars alike)."""
        if cv.kind == "array":
            return cv.name
        if cv.literal:
            local = self.tmp("lit")
            self.emit(f"const {cv.ctype} {local} = {cv.name};")
            return f"&{local}"
        return f"&{cv.name}"

    def _output_position(self, var):
        for k, out in enumerate(self.outputs):
            if out is var and not self.materialized.get(k):
                return k
        return None

    # ------------------------------------------------------------- elements
    def element(self, var, index) -> str:
        """The C expression of ``var``'s element at ``index`` (see loops.Index)."""
        cv = self.var(var)
        if cv.kind == "scalar":
            return cv.name
        if cv.value is not None:
            return cv.value
        if cv.kind == "inline":
            return self.unit.inline_value(self, var.owner, index)
        return f"{cv.name}[{index.offset(cv)}]"

    # --------------------------------------------------------------- driver
    def render(self) -> str:
        self._arguments()
        for node in self.nodes:
            self.node = node
            out = node.outputs[0]
            if out in self.inline:
                self.unit.plan_inline(self, node)
                continue
            self.emit("")
            self.comment(
                f"node {self.positions[node]}: {describe_node(node, self.unit.names)}"
            )
            c_lower(node.op, node, self)
            self.slots.release(self.loop_position[node])
        self.node = None
        self._copy_outputs()
        self.emit("return SG_OK;")
        body = drop_unused(self.lines)
        self.unit.n_slots += self.slots.n_slots
        head = (
            f"SG_DRIVER static int seg{self.index}(sg_state *st, const sg_array *args)"
        )
        return "\n".join([head, "{", *body, "}"])

    def _arguments(self) -> None:
        for pos, var in enumerate(self.inputs):
            name = self.name(var)
            self.comment(
                f"argument {pos}: {var.type.describe()}  {self.unit.origin(var)}"
            )
            t = CTYPES[var.dtype]
            item = np.dtype(var.dtype).itemsize
            type_num, alias = self.unit.type_numbers(var.dtype)
            strides = f"{name}_st" if var.ndim else "NULL"
            if var.ndim:
                self.emit(f"int64_t {name}_st[{var.ndim}];")
            self.emit(
                f"if (sg_arg(st, &args[{pos}], {pos}, {type_num}, {alias}, "
                f"{var.ndim}, {item}, {strides}))"
            )
            self.emit("    return SG_BAD_ARG;")
            data = f"(const {t} *)args[{pos}].data"
            if var.ndim == 0:
                self.cvars[var] = CVar(var, name, "scalar", dims=[])
                self.declare(t, name, f"*{data}")
                continue
            cv = self.cvars[var] = CVar(var, name, "array")
            cv.dims = []
            for d, size in enumerate(var.type.shape):
                self.declare("int64_t", f"{name}_shape{d}", f"args[{pos}].shape[{d}]")
                self.declare("int64_t", f"{name}_stride{d}", f"{name}_st[{d}]")
                cv.dims.append(str(size) if size is not None else f"{name}_shape{d}")
                if size is not None:
                    got = f"args[{pos}].shape[{d}]"
                    self.emit(f"if ({got} != {size})")
                    self.emit(
                        "    return sg_fail(st, SG_E_STATIC_SHAPE, "
                        f"{pos}, {d}, {size}, {got}, 0, 0, 0);"
                    )
            self.lines.append(
                Decl(
                    name, "    " * self.level + f"const {t} *restrict {name} = {data};"
                )
            )

    def _copy_outputs(self) -> None:
        """Outputs not written in place (views, scalars, repeats) are copied."""
        from .lower_elemwise import copy_into

        for k, var in enumerate(self.outputs):
            if self.materialized.get(k):
                continue
            self.materialized[k] = True
            src = self.var(var)
            self.emit("")
            self.comment(f"output {k}: a fresh copy of {src.name}")
            dims = src.dims if src.kind == "array" else ["1"] * var.ndim
            dst = CVar(var, f"out{k}", "array", contiguous=True, dims=list(dims))
            shape_arg = (
                f"(const int64_t[]){{{', '.join(dims)}}}" if var.ndim else "NULL"
            )
            item = np.dtype(var.dtype).itemsize
            type_num, alias = self.unit.type_numbers(var.dtype)
            self.emit(
                f"{dst.ctype} *restrict out{k} = ({dst.ctype} *)sg_output(st, "
                f"&args[{len(self.inputs) + k}], {self.unit.out_base[self.index] + k}, "
                f"-1, {type_num}, {alias}, {var.ndim}, {shape_arg}, {item});"
            )
            self.emit(f"if (!out{k})")
            self.emit("    return SG_ERROR;")
            stride = "1"
            for d in reversed(range(var.ndim)):
                self.declare("int64_t", f"out{k}_stride{d}", stride)
                stride = f"{stride} * {dims[d]}" if stride != "1" else dims[d]
            copy_into(self, dst, src)


__all__ = [
    "RESERVED",
    "INLINE_CONSUMERS",
    "VIEW_OPS",
    "Names",
    "SegmentRenderer",
    "c_comment",
    "c_identifier",
    "c_literal",
    "drop_unused",
]
