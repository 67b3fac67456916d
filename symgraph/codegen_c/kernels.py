"""Loop kernels: a loop's body compiled once, run serially or on all cores.

A parallelisable loop becomes a ``static void`` kernel over a range
``[sg_lo, sg_hi)`` of its iterations, reading what it needs from a struct
of the segment's locals. The segment calls it directly for small sizes and
through ``sg_parallel`` (the translation unit's one OpenMP region, in the
prelude) for large ones. One copy of each vectorised loop is compiled,
however it runs: compile time is proportional to the loops written.

Reductions over a whole range return partial results per thread (a small
struct), which the caller combines in thread order (deterministic).
"""

from __future__ import annotations

import re

_DECL = re.compile(
    r"^\s*(?P<const>const\s+)?(?P<type>(?:unsigned\s+)?[A-Za-z_]\w*)\s+"
    r"(?P<ptr>\*\s*)?(?:restrict\s+)?(?P<name>[A-Za-z_]\w*)\s*(?P<arr>\[[^\]]*\])?\s*[=;]"
)
_FOR = re.compile(r"\bfor \(\s*(?:const\s+)?[A-Za-z_]\w*\s+(?P<name>[A-Za-z_]\w*)\s*=")
_COMMENT = re.compile(r"/\*.*?\*/")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_KEYWORDS = frozenset(
    ("return", "if", "else", "for", "while", "goto", "struct", "enum")
)

#: How an accumulator of each OpenMP reduction operator merges a partial.
COMBINE = {
    "+": "{a} += {b};",
    "*": "{a} *= {b};",
    "max": "{a} = {b} > {a} ? {b} : {a};",
    "min": "{a} = {b} < {a} ? {b} : {a};",
    "|": "{a} |= {b};",
    "&": "{a} &= {b};",
}


def _text(line) -> str:
    return line if isinstance(line, str) else line.text


def declarations(lines) -> dict[str, str]:
    """``{name: member type}`` of the locals declared in ``lines``."""
    found: dict[str, str] = {}
    for line in lines:
        code = _COMMENT.sub(" ", _text(line))
        loop = _FOR.search(code)
        if loop:
            found[loop.group("name")] = "int64_t"
        m = _DECL.match(code)
        if not m or m.group("type") in _KEYWORDS:
            continue
        t = m.group("type")
        if m.group("ptr") or m.group("arr"):
            const = "const " if m.group("const") else ""
            found[m.group("name")] = f"{const}{t} *"
        else:
            found[m.group("name")] = t
    return found


class Kernel:
    """A kernel being written: ``with ctx.kernel(...) as k:`` emits its body."""

    def __init__(self, ctx, label: str, comment: str, part: list | None = None):
        self.ctx = ctx
        self.name = f"seg{ctx.index}_{label}"
        self.comment = comment
        #: accumulators returned per thread: [(C type, name, init, omp op)]
        self.part = part or []

    def __enter__(self):
        ctx = self.ctx
        self._saved = (ctx.lines, ctx.level)
        ctx.lines, ctx.level = [], 1
        for t, name, init, _ in self.part:
            ctx.emit(f"{t} {name} = {init};")
        return self

    def __exit__(self, kind, exc, tb):
        ctx = self.ctx
        body, (ctx.lines, ctx.level) = ctx.lines, self._saved
        if kind is not None:
            return False
        if self.part:
            body.append("    struct " + self.name + "_part *sg_p = sg_part;")
            body += [f"    sg_p->{name} = {name};" for _, name, _, _ in self.part]
        outer = ctx.declared()
        inner = declarations(body)
        used = []
        for line in body:
            for word in _IDENT.findall(_COMMENT.sub(" ", _text(line))):
                if word in outer and word not in inner and word not in used:
                    used.append(word)
        used.sort(key=list(outer).index)  # the segment's order
        self.members = [(outer[w], w) for w in used]
        ctx.unit.kernels.append(self._function(body))
        return False

    def _function(self, body) -> str:
        from .render import c_comment, drop_unused

        lines = [f"/* {c_comment(self.comment)} */", f"struct {self.name} {{"]
        lines += [
            f"    {t}{'' if t.endswith('*') else ' '}{n};" for t, n in self.members
        ]
        if not self.members:
            lines.append("    char unused;")
        lines.append("};")
        if self.part:
            lines.append(f"struct {self.name}_part {{")
            lines += [f"    {t} {n};" for t, n, _, _ in self.part]
            lines.append("};")
        lines += [
            "",
            f"static void {self.name}(const void *sg_args, int64_t sg_lo, "
            "int64_t sg_hi, void *sg_part)",
            "{",
            f"    const struct {self.name} *sg_c = sg_args;",
        ]
        unpack = []
        for t, n in self.members:
            if t.endswith("*"):
                unpack.append(f"    {t}restrict {n} = sg_c->{n};")
            else:
                unpack.append(f"    const {t} {n} = sg_c->{n};")
        tail = [] if self.part else ["    (void)sg_part;"]
        return "\n".join(lines + drop_unused(unpack + [*body]) + tail + ["}"])

    def call(self, n: str, parallel_if: str | None) -> None:
        """Run the kernel over ``[0, n)``; on all cores where ``parallel_if``."""
        ctx = self.ctx
        args = ", ".join(name for _, name in self.members) or "0"
        ctx.emit(f"const struct {self.name} {self.name}_args = {{{args}}};")
        if self.part:
            ctx.emit(f"struct {self.name}_part {self.name}_parts[SG_MAX_THREADS];")
            ctx.emit("int sg_nt = 1;")
            parts, size = f"{self.name}_parts", f"sizeof({self.name}_parts[0])"
        else:
            parts, size = "NULL", "0"
        serial = f"{self.name}(&{self.name}_args, 0, {n}, {parts});"
        if parallel_if is None:
            ctx.emit(serial)
        else:
            ctx.emit(f"if ({parallel_if})")
            nt = "sg_nt = " if self.part else ""
            ctx.emit(
                f"    {nt}sg_parallel({self.name}, &{self.name}_args, {n}, "
                f"{parts}, {size});"
            )
            ctx.emit("else")
            ctx.emit(f"    {serial}")
        for _, name, _, op in self.part:
            with ctx.block("for (int sg_t = 0; sg_t < sg_nt; sg_t++)"):
                ctx.emit(COMBINE[op].format(a=name, b=f"{parts}[sg_t].{name}"))


def rows(ctx, extents: list[str], inner) -> None:
    """Inside a kernel: the iterations ``[sg_lo, sg_hi)`` of a nest with these
    extents, the last one innermost; ``inner(lo, hi)`` writes the inner loop
    bounds' use. Outer indices ``i{d}`` come from the row number."""
    *outer, last = extents
    if not outer:
        inner("sg_lo", "sg_hi")
        return
    ctx.open(
        f"for (int64_t sg_r = sg_lo / {last[1]}; sg_r * {last[1]} < sg_hi; sg_r++)"
    )
    ctx.emit("int64_t sg_q = sg_r;")
    for d, e in reversed(outer):
        if (d, e) == outer[0]:
            ctx.emit(f"const int64_t i{d} = sg_q;")
        else:
            ctx.emit(f"const int64_t i{d} = sg_q % {e};")
            ctx.emit(f"sg_q /= {e};")
    ctx.emit(
        f"const int64_t sg_a = sg_r * {last[1]} < sg_lo ? sg_lo - sg_r * {last[1]} : 0;"
    )
    ctx.emit(
        f"const int64_t sg_b = (sg_r + 1) * {last[1]} > sg_hi "
        f"? sg_hi - sg_r * {last[1]} "
        f": {last[1]};"
    )
    inner("sg_a", "sg_b")
    ctx.close()


def odometer(ctx, extents: list[tuple[int, str]], body) -> None:
    """Inside a kernel: ``body()`` for each of ``[sg_lo, sg_hi)``, the indices
    ``i{d}`` of these extents counted like an odometer (no division per step)."""
    if not extents:
        ctx.open("for (int64_t sg_o = sg_lo; sg_o < sg_hi; sg_o++)")
        body()
        ctx.close()
        return
    ctx.emit("int64_t sg_q = sg_lo;")
    for d, e in reversed(extents):
        ctx.emit(f"int64_t i{d} = sg_q % {e};")
        ctx.emit(f"sg_q /= {e};")
    ctx.open("for (int64_t sg_o = sg_lo; sg_o < sg_hi; sg_o++)")
    body()
    *outer, (d_last, e_last) = extents
    ctx.emit(f"if (++i{d_last} == {e_last}) {{")
    ctx.level += 1
    ctx.emit(f"i{d_last} = 0;")
    for d, e in reversed(outer):
        ctx.emit(f"if (++i{d} == {e}) {{")
        ctx.level += 1
        ctx.emit(f"i{d} = 0;")
    for _ in outer:
        ctx.level -= 1
        ctx.emit("}")
    ctx.level -= 1
    ctx.emit("}")
    ctx.close()
