"""C expressions of the scalar ops: one table, ``{ScalarOpClass: entry}``.

An entry is a format string over the input expressions ``{0}``, ``{1}``...,
already converted to the op's computation type, with:

- ``{f}``: ``f`` when computing in float32 (``exp{f}`` -> ``expf``), else "";
- ``{T}``: the C type computed in; ``{O}``: the C type of the output.

Entries that depend on the dtype kind use :class:`Rule` (one template per
kind: float, signed/unsigned int, bool); a few are functions
``(op, args, ctx) -> str``. Inputs are cast to the *output* dtype before
the op (NumPy's loop selection for arithmetic), to the *promoted* input
dtype for predicates, or left alone (``compute="none"``).

Semantics follow NumPy, not C: integer arithmetic wraps (computed in
uint64_t, never signed overflow), integer division by zero gives 0 instead
of trapping, ``round`` is half-to-even, ``max``/``min`` propagate NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

CTYPES = {
    "bool": "bool",
    "int8": "int8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "int64": "int64_t",
    "uint8": "uint8_t",
    "uint16": "uint16_t",
    "uint32": "uint32_t",
    "uint64": "uint64_t",
    "float32": "float",
    "float64": "double",
}


def kind(dtype: str) -> str:
    """'f' float, 'i' signed int, 'u' unsigned int, 'b' bool."""
    return np.dtype(dtype).kind


@dataclass(frozen=True)
class Rule:
    """Templates per dtype kind of the computation; ``None``: same as float."""

    float: str
    int: str | None = None
    uint: str | None = None
    bool: str | None = None
    compute: str = "out"  # "out", "promote" or "none"

    def template(self, dtype: str) -> str:
        k = kind(dtype)
        if k == "b" and self.bool is not None:
            return self.bool
        if k in "bu" and self.uint is not None:
            return self.uint
        if k in "biu" and self.int is not None:
            return self.int
        return self.float


# Integer arithmetic in uint64_t wraps like NumPy and is never undefined.
_WRAP = "({T})((uint64_t){0} %s (uint64_t){1})"


def _variadic(symbol: str, bool_symbol: str) -> Callable:
    def render(op, args, ctx) -> str:
        k = kind(ctx.dtype)
        if k == "b":
            return "(" + f" {bool_symbol} ".join(args) + ")"
        if k == "f":
            return "(" + f" {symbol} ".join(args) + ")"
        result = args[0]
        for a in args[1:]:
            result = f"({ctx.T})((uint64_t){result} {symbol} (uint64_t){a})"
        return result

    render.compute = "out"
    return render


_FLOAT_ONLY = {
    # transcendental: computed in the float output dtype (ints upgraded)
    "Exp": "exp{f}({0})",
    "Exp2": "exp2{f}({0})",
    "Expm1": "expm1{f}({0})",
    "Log": "log{f}({0})",
    "Log2": "log2{f}({0})",
    "Log10": "log10{f}({0})",
    "Log1p": "log1p{f}({0})",
    "Sqrt": "sqrt{f}({0})",
    "Cbrt": "cbrt{f}({0})",
    "Sin": "sin{f}({0})",
    "Cos": "cos{f}({0})",
    "Tan": "tan{f}({0})",
    "ArcSin": "asin{f}({0})",
    "ArcCos": "acos{f}({0})",
    "ArcTan": "atan{f}({0})",
    "ArcTan2": "atan2{f}({0}, {1})",
    "Sinh": "sinh{f}({0})",
    "Cosh": "cosh{f}({0})",
    "Tanh": "tanh{f}({0})",
    "ArcSinh": "asinh{f}({0})",
    "ArcCosh": "acosh{f}({0})",
    "ArcTanh": "atanh{f}({0})",
    "Erf": "erf{f}({0})",
    "Erfc": "erfc{f}({0})",
    "Hypot": "hypot{f}({0}, {1})",
    "TrueDiv": "({0} / {1})",
    "Reciprocal": "(({T})1 / {0})",
    # as the ops' perform: exp(-|x|) never overflows
    "Sigmoid": "sg_sigmoid{f}({0})",
    "Softplus": "sg_softplus{f}({0})",
    "Deg2rad": "({0} * ({T})0.017453292519943295)",
    "Rad2deg": "({0} * ({T})57.29577951308232)",
}

_RULES: dict[str, object] = {name: Rule(t) for name, t in _FLOAT_ONLY.items()}
_RULES.update(
    {
        "Add": _variadic("+", "||"),
        "Mul": _variadic("*", "&&"),
        "Sub": Rule("({0} - {1})", int=_WRAP % "-"),
        "Neg": Rule("(-{0})", int="({T})(0 - (uint64_t){0})"),
        "Sqr": Rule("({0} * {0})", int=_WRAP.replace("{1}", "{0}") % "*", bool="{0}"),
        "Abs": Rule(
            "fabs{f}({0})",
            int="({0} < 0 ? ({T})(0 - (uint64_t){0}) : {0})",
            uint="{0}",
        ),
        "Sign": Rule(
            "({0} > 0 ? ({T})1 : {0} < 0 ? ({T})-1 : {0})",
            uint="({T})({0} > 0)",
        ),
        "Floor": Rule("floor{f}({0})", int="{0}"),
        "Ceil": Rule("ceil{f}({0})", int="{0}"),
        "Trunc": Rule("trunc{f}({0})", int="{0}"),
        "Round": Rule("nearbyint{f}({0})", int="{0}"),  # half to even
        "RoundHalfToEven": Rule("nearbyint{f}({0})", int="{0}"),
        # NaN-propagating, as np.maximum / np.minimum
        "Maximum": Rule("(({0} >= {1} || {0} != {0}) ? {0} : {1})"),
        "Minimum": Rule("(({0} <= {1} || {0} != {0}) ? {0} : {1})"),
        "Clip": Rule(
            "sg_clip{f}({0}, {1}, {2})", int="({0} < {1} ? {1} : {0} > {2} ? {2} : {0})"
        ),
        "IntDiv": Rule(
            "sg_floordiv{f}({0}, {1})",
            int="sg_floordiv_{T}({0}, {1})",
            bool="({0} && {1})",
        ),
        "FloorDiv": Rule(
            "sg_floordiv{f}({0}, {1})",
            int="sg_floordiv_{T}({0}, {1})",
            bool="({0} && {1})",
        ),
        "Mod": Rule(
            "sg_mod{f}({0}, {1})", int="sg_mod_{T}({0}, {1})", bool="({0} && !{1})"
        ),
        "Pow": Rule("pow{f}({0}, {1})", int="sg_ipow_{T}({0}, {1})"),
        # predicates: inputs in their promoted dtype
        "LT": Rule("({0} < {1})", compute="promote"),
        "GT": Rule("({0} > {1})", compute="promote"),
        "LE": Rule("({0} <= {1})", compute="promote"),
        "GE": Rule("({0} >= {1})", compute="promote"),
        "EQ": Rule("({0} == {1})", compute="promote"),
        "NEQ": Rule("({0} != {1})", compute="promote"),
        "IsNan": Rule("isnan({0})", int="false", compute="none"),
        "IsInf": Rule("isinf({0})", int="false", compute="none"),
        "IsFinite": Rule("isfinite({0})", int="true", compute="none"),
        "And": Rule("({T})({0} & {1})", bool="({0} && {1})"),
        "Or": Rule("({T})({0} | {1})", bool="({0} || {1})"),
        "Xor": Rule("({T})({0} ^ {1})", bool="({0} != {1})"),
        "Invert": Rule("({T})(~{0})", bool="(!{0})"),
        "LeftShift": Rule("sg_lshift_{T}({0}, {1})"),
        "RightShift": Rule("sg_rshift_{T}({0}, {1})"),
        "LogicalAnd": Rule("({0} && {1})", compute="none"),
        "LogicalOr": Rule("({0} || {1})", compute="none"),
        "LogicalXor": Rule("(!{0} != !{1})", compute="none"),
        "LogicalNot": Rule("(!{0})", compute="none"),
        "Identity": Rule("{0}", compute="none"),
    }
)


def _switch(op, args, ctx) -> str:
    cond, a, b = args
    return f"({cond} ? {ctx.cast(a, 1)} : {ctx.cast(b, 2)})"


def _cast(op, args, ctx) -> str:
    (x,) = args
    if ctx.dtype == "bool":
        return f"({x} != 0)"
    return f"({ctx.O}){x}"


_RULES["Switch"] = _switch
_RULES["Cast"] = _cast
_NO_CAST = {"Switch", "Cast"}


def _build_table() -> dict:
    from .registry import find_op

    table = {}
    for name, entry in _RULES.items():
        cls = find_op(name)
        if isinstance(cls, type):
            table[cls] = entry
    return table


#: {ScalarOp class: Rule | format string | function}
SCALAR_TABLE: dict = _build_table()


def register_scalar(cls, entry) -> None:
    """Add or replace the C expression of a scalar op class."""
    SCALAR_TABLE[cls] = entry


def has_scalar_rule(scalar_op) -> bool:
    """True when ``scalar_op`` has an entry (a Composite: every inner op)."""
    from symgraph.ops.composite import Composite

    if isinstance(scalar_op, Composite):
        return all(has_scalar_rule(op) for op, _ in scalar_op.nodes)
    return type(scalar_op) in SCALAR_TABLE


class ScalarCtx:
    """What an entry may ask while rendering: the dtypes and C types."""

    def __init__(self, dtype: str, out_dtype: str, in_dtypes) -> None:
        self.dtype = dtype
        self.out_dtype = out_dtype
        self.in_dtypes = list(in_dtypes)
        self.T = CTYPES[dtype]
        self.O = CTYPES[out_dtype]

    def cast(self, expr: str, i: int) -> str:
        """Input ``i`` converted to the output dtype."""
        return cast_expr(expr, self.in_dtypes[i], self.out_dtype)


def cast_expr(expr: str, src: str, dst: str) -> str:
    if src == dst:
        return expr
    if dst == "bool":
        return f"({expr} != 0)"
    return f"({CTYPES[dst]}){expr}"


def _compute_dtype(rule, in_dtypes, out_dtype) -> str | None:
    mode = getattr(rule, "compute", "none")
    if mode == "out":
        return out_dtype
    if mode == "promote":
        from symgraph.ops.scalar import promote

        return promote(*in_dtypes)
    return None


def render_scalar(op, args: list[str], in_dtypes: list[str], out_dtype: str) -> str:
    """The C expression of ``op`` applied to ``args`` (C expressions)."""
    entry = SCALAR_TABLE.get(type(op))
    if entry is None:
        inner = getattr(op, "c_render", None)
        if inner is None:
            raise NotImplementedError(f"no C expression for scalar op {op}")
        return inner(args, in_dtypes, out_dtype, render_scalar)
    compute = _compute_dtype(entry, in_dtypes, out_dtype)
    if compute is not None:
        args = [cast_expr(a, d, compute) for a, d in zip(args, in_dtypes, strict=False)]
        in_dtypes = [compute] * len(args)
    ctx = ScalarCtx(compute or out_dtype, out_dtype, in_dtypes)
    if isinstance(entry, Rule):
        # predicates (bool out, inputs as they are) choose by the input dtype
        text = entry.template(ctx.dtype if compute or not in_dtypes else in_dtypes[0])
    elif isinstance(entry, str):
        text = entry
    else:
        return entry(op, args, ctx)
    f = "f" if ctx.dtype == "float32" else ""
    return text.format(*args, f=f, T=ctx.T, O=ctx.O)
