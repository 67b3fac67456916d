"""Small C functions with NumPy's semantics, emitted only where used.

Integer division and modulo follow Python (floor, sign of the divisor) and
give 0 instead of trapping on a zero divisor, as NumPy does; float floor
division and modulo follow NumPy's ``npy_divmod``.
"""

from __future__ import annotations

import re

from .scalar_table import CTYPES

_SIGNED = {"int8_t", "int16_t", "int32_t", "int64_t"}
_NAMES = (
    "floordiv|mod|ipow|clip|sigmoid|softplus|lshift|rshift|slice"
    "|stream_scale|stream_fence"
)
_USED = re.compile(rf"\bsg_({_NAMES})(f|_[a-z0-9]+_t)?\(")

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
    if name == "stream_scale":
        return _stream_scale(t, f)
    if name == "clip":
        return f"""static inline {t} sg_clip{f}({t} x, {t} lo, {t} hi)
{{
    {t} y = (x >= lo || x != x) ? x : lo;
    return (y <= hi || y != y) ? y : hi;
}}"""
    raise KeyError(name)


# Streaming ("non-temporal") stores write whole cache lines to memory without
# reading them first and without keeping them in cache: right for an output
# too large to stay there. GCC has no portable spelling (it ignores OpenMP's
# 'nontemporal' clause), hence its x86 builtins; clang's own builtin is
# portable; other compilers and targets get plain stores.
# Those stores are weakly ordered: a kernel that streams ends with an sfence
# (sg_stream_fence, once: each one waits for the pending lines to drain) so
# that they are visible before the caller (another thread, Python) reads.
_STREAM_WIDTHS = {  # C type: [(ISA macro, vector bytes, builtin)], widest first
    "float": [
        ("__AVX512F__", 64, "__builtin_ia32_movntps512"),
        ("__AVX__", 32, "__builtin_ia32_movntps256"),
        ("__SSE__", 16, "__builtin_ia32_movntps"),
    ],
    "double": [
        ("__AVX512F__", 64, "__builtin_ia32_movntpd512"),
        ("__AVX__", 32, "__builtin_ia32_movntpd256"),
        ("__SSE2__", 16, "__builtin_ia32_movntpd"),
    ],
}


def _stream_scale(t: str, f: str) -> str:
    branches = [
        "#if defined(__clang__)\n"
        "    for (; i < n; i++)\n"
        "        __builtin_nontemporal_store(src[i] * scale, dst + i);\n"
    ]
    for isa, width, builtin in _STREAM_WIDTHS[t]:
        lanes = width // (4 if t == "float" else 8)
        branches.append(
            f"#elif defined({isa}) && defined(__GNUC__)\n"
            f"    typedef {t} sg_vec __attribute__((vector_size({width})));\n"
            f"    for (; i < n && ((uintptr_t)(dst + i) & {width - 1}); i++)\n"
            "        dst[i] = src[i] * scale;\n"
            f"    for (; i + {lanes} <= n; i += {lanes}) {{\n"
            "        sg_vec v;\n"
            "        memcpy(&v, src + i, sizeof v);\n"
            f"        {builtin}(dst + i, v * scale);\n"
            "    }\n"
        )
    return (
        f"/* dst[i] = src[i] * scale with streaming stores; src is in cache. */\n"
        f"static inline void sg_stream_scale{f}({t} *restrict dst,"
        f" const {t} *restrict src, int64_t n, {t} scale)\n"
        "{\n"
        "    int64_t i = 0;\n" + "".join(branches) + "#endif\n"
        "    for (; i < n; i++)\n"
        "        dst[i] = src[i] * scale;\n"
        "}"
    )


STREAM_FENCE = """/* rows up to this long go through a buffer on the stack; outputs from
   this size on are streamed (a quarter of a typical L3 cache) */
#define SG_STREAM_ROW 2048
#define SG_STREAM_BYTES ((size_t)8 << 20)

static inline void sg_stream_fence(void)
{
#if defined(__SSE__) && defined(__GNUC__)
    __builtin_ia32_sfence();
#endif
}"""


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
        elif name == "stream_fence":
            parts.append(STREAM_FENCE)
        elif suffix in ("", "f"):
            parts.append(_float(name, suffix))
        elif suffix[1:] in CTYPES.values():
            parts.append(_int(name, suffix[1:]))
    return "\n\n".join(parts)
