"""Small C functions with NumPy's semantics, emitted only where used.

Integer division and modulo follow Python (floor, sign of the divisor) and
give 0 instead of trapping on a zero divisor, as NumPy does; float floor
division and modulo follow NumPy's ``npy_divmod``.
"""

from __future__ import annotations

import re

from .scalar_table import CTYPES

_SIGNED = {"int8_t", "int16_t", "int32_t", "int64_t"}
_USED = re.compile(
    r"\bsg_(floordiv|mod|ipow|clip|sigmoid|softplus|lshift|rshift|slice)(f|_[a-z0-9]+_t)?\("
)

# Python's slice.indices(n): the first index; the length goes to *len.
SLICE = """static inline int64_t sg_slice(int64_t n, int has_start, int64_t start,
                               int has_stop, int64_t stop, int64_t step, int64_t *len)
{
    int64_t lower = step > 0 ? 0 : -1, upper = step > 0 ? n : n - 1;
    if (!has_start)
        start = step > 0 ? lower : upper;
    else if (start < 0)
        start = start + n < lower ? lower : start + n;
    else if (start > upper)
        start = upper;
    if (!has_stop)
        stop = step > 0 ? upper : lower;
    else if (stop < 0)
        stop = stop + n < lower ? lower : stop + n;
    else if (stop > upper)
        stop = upper;
    if (step > 0)
        *len = stop > start ? (stop - start + step - 1) / step : 0;
    else
        *len = start > stop ? (start - stop - step - 1) / -step : 0;
    return start;
}"""


def _float(name: str, f: str) -> str:
    t = "float" if f else "double"
    if name == "floordiv":
        return f"""static inline {t} sg_floordiv{f}({t} a, {t} b)
{{
    if (b == 0)
        return a / b;
    {t} mod = fmod{f}(a, b);
    {t} div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0)))
        div -= 1;
    if (div == 0)
        return copysign{f}(0, a / b);
    {t} floordiv = floor{f}(div);
    if (div - floordiv > 0.5f)
        floordiv += 1;
    return floordiv;
}}"""
    if name == "mod":
        return f"""static inline {t} sg_mod{f}({t} a, {t} b)
{{
    if (b == 0)
        return fmod{f}(a, b);
    {t} mod = fmod{f}(a, b);
    if (mod == 0)
        return copysign{f}(0, b);
    return (b < 0) != (mod < 0) ? mod + b : mod;
}}"""
    if name == "sigmoid":
        # e = exp(-|x|) is in (0, 1]: 1/(1+e) for x >= 0, e/(1+e) below
        return f"""static inline {t} sg_sigmoid{f}({t} x)
{{
    {t} e = exp{f}(-fabs{f}(x));
    return (x >= 0 ? ({t})1 : e) / (1 + e);
}}"""
    if name == "softplus":
        return f"""static inline {t} sg_softplus{f}({t} x)
{{
    return log1p{f}(exp{f}(-fabs{f}(x))) + (x > 0 ? x : 0);
}}"""
    if name == "clip":
        return f"""static inline {t} sg_clip{f}({t} x, {t} lo, {t} hi)
{{
    {t} y = (x >= lo || x != x) ? x : lo;
    return (y <= hi || y != y) ? y : hi;
}}"""
    raise KeyError(name)


def _int(name: str, t: str) -> str:
    signed = t in _SIGNED
    if name == "floordiv":
        minus_one = (
            "    if (b == -1)\n        return (T)(0 - (uint64_t)a);\n" if signed else ""
        )
        fix = (
            "    if ((a % b != 0) && ((a < 0) != (b < 0)))\n        q -= 1;\n"
            if signed
            else ""
        )
        code = (
            "static inline T sg_floordiv_T(T a, T b)\n{\n"
            "    if (b == 0)\n        return 0;\n"
            + minus_one
            + "    T q = a / b;\n"
            + fix
            + "    return q;\n}"
        )
    elif name == "mod":
        minus_one = "    if (b == -1)\n        return 0;\n" if signed else ""
        fix = (
            "    if (r != 0 && ((r < 0) != (b < 0)))\n        r += b;\n"
            if signed
            else ""
        )
        code = (
            "static inline T sg_mod_T(T a, T b)\n{\n"
            "    if (b == 0)\n        return 0;\n"
            + minus_one
            + "    T r = a % b;\n"
            + fix
            + "    return r;\n}"
        )
    elif name == "ipow":
        neg = "    if (e < 0)\n        return b == 1 ? 1 : 0;\n" if signed else ""
        code = (
            "static inline T sg_ipow_T(T b, T e)\n{\n"
            + neg
            + "    uint64_t r = 1, x = (uint64_t)b;\n"
            "    for (uint64_t n = (uint64_t)e; n; n >>= 1) {\n"
            "        if (n & 1)\n            r *= x;\n        x *= x;\n    }\n"
            "    return (T)r;\n}"
        )
    elif name in ("lshift", "rshift"):
        bits = {"int8_t": 8, "int16_t": 16, "int32_t": 32, "int64_t": 64}.get(t) or int(
            re.sub(r"\D", "", t) or 8
        )
        out_of_range = f"(b < 0 || b >= {bits})" if signed else f"(b >= {bits})"
        if name == "lshift":
            body = f"    return {out_of_range} ? 0 : (T)((uint64_t)a << b);\n"
        else:
            over = "(a < 0 ? -1 : 0)" if signed else "0"
            body = f"    return {out_of_range} ? {over} : (T)(a >> b);\n"
        code = f"static inline T sg_{name}_T(T a, T b)\n{{\n{body}}}"
        code = code.replace(f"sg_{name}_T", f"sg_{name}_{t}")
    else:
        raise KeyError(name)
    return (
        code.replace("sg_floordiv_T", f"sg_floordiv_{t}")
        .replace("sg_mod_T", f"sg_mod_{t}")
        .replace("sg_ipow_T", f"sg_ipow_{t}")
        .replace("T ", f"{t} ")
        .replace("(T)", f"({t})")
    )


def helper_source(body: str) -> str:
    """The definitions of the ``sg_*`` helpers that ``body`` calls."""
    wanted = sorted(set(_USED.findall(body)))
    parts = []
    for name, suffix in wanted:
        if name == "slice":
            parts.append(SLICE)
        elif suffix in ("", "f"):
            parts.append(_float(name, suffix))
        elif suffix[1:] in CTYPES.values():
            parts.append(_int(name, suffix[1:]))
    return "\n\n".join(parts)
