"""symgraph's own float32 ``exp`` and ``tanh`` for AVX-512 vector loops.

In the fused ``tanh(x*a+b)*sigmoid(x)+exp(-x*x)`` on one Zen 4 core, glibc's
libmvec calls (two ``expf``, one ``tanhf``) take nearly all of the loop's
1.1 ns per element. These are about fifteen vector instructions each, with
no call into libmvec; their error bounds were found by checking every
float32 input against double-precision libm:

- ``exp``: at most 1.02 ulp (libmvec's AVX-512 ``expf``: 2.64);
- ``tanh``: at most 2.50 ulp (libmvec: 1.37);
- ``sigmoid`` (the helper's ``e = exp(-|x|)``, ``(x >= 0 ? 1 : e) / (1 + e)``):
  at most 2.40 ulp.

Inf, NaN, signed zeros, overflow and denormal results are as libm's (the
scaling is ``vscalefps``, rounded once). ``tests/codegen_c/test_vmath.py``
checks the bounds against NumPy in float64 on a sample of every binade.

A ``#pragma omp simd`` loop calls the 16-lane versions through the x86-64
vector function ABI (``_ZGVeN16v_<name>``); the scalar versions (loop
remainders, loops GCC does not vectorise) compute lane 0 of the same, so a
result never depends on its position in the array. The unit renames
``expf``/``tanhf`` to them with a macro, so the body reads as plain C.
"""

from __future__ import annotations

import re

# (C name, name the unit's code calls): the functions this module replaces.
REPLACED = {"expf": "sg_vexpf", "tanhf": "sg_vtanhf"}

_CORE = r"""/* float32 exp and tanh for AVX-512 (symgraph/codegen_c/vmath.py): exp
   within 1.02 ulp, tanh within 2.50 ulp; inf, NaN and signed zeros as libm.
   Vectorised loops call the 16-lane versions (x86-64 vector ABI names);
   the scalar ones jump to them: lane 0 of the same. */
#include <immintrin.h>
#define SG_VHIDDEN __attribute__((visibility("hidden")))

/* exp(x) - 1 reduced: x = n ln2 + r, |r| <= ln(2)/2 (Cody-Waite with FMA),
   then a degree-6 minimax polynomial; the caller scales by 2^n. */
static inline __m512 sg_expm1_reduced16(__m512 x, __m512 *n)
{
    *n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(0x1.715476p0f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(0x1.62e43p-1f), x);
    r = _mm512_fnmadd_ps(*n, _mm512_set1_ps(-0x1.05c610p-29f), r);
    __m512 p = _mm512_set1_ps(0x1.6a244cp-10f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.1239d4p-7f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.5558f2p-5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.555492p-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.fffffcp-2f));
    return _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r);
}"""

_EXP = r"""static inline __m512 sg_exp16(__m512 x)
{
    /* exp over/underflows beyond these; min/max keep a NaN x */
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);
    __m512 n, p = sg_expm1_reduced16(x, &n);
    return _mm512_scalef_ps(_mm512_add_ps(p, _mm512_set1_ps(1.0f)), n);
}"""

_TANH = r"""/* tanh|x| = -m / (2 + m), m = expm1(-2|x|): no cancellation near 0 */
static inline __m512 sg_tanh16(__m512 x)
{
    const __m512 sign = _mm512_set1_ps(-0.0f);
    __m512 a = _mm512_min_ps(_mm512_set1_ps(10.0f), _mm512_andnot_ps(sign, x));
    __m512 y = _mm512_mul_ps(a, _mm512_set1_ps(-2.0f));
    __m512 n, p = sg_expm1_reduced16(y, &n);
    __m512 s = _mm512_scalef_ps(_mm512_set1_ps(1.0f), n);
    __m512 m = _mm512_fmadd_ps(s, p, _mm512_sub_ps(s, _mm512_set1_ps(1.0f)));
    __m512 t = _mm512_div_ps(m, _mm512_sub_ps(_mm512_set1_ps(-2.0f), m));
    return _mm512_or_ps(_mm512_andnot_ps(sign, t), _mm512_and_ps(sign, x));
}"""

# The declaration without a body makes GCC call the ABI names. Without
# 'const' (which libm's declarations get from -fno-math-errno) GCC assumes
# the call writes memory and vectorises nothing. The scalar version is two
# instructions of assembly (broadcast, jump to the vector version: lane 0 is
# the float result): a C body for the same symbol, which link-time
# optimisation would see, stops GCC from vectorising the calls at all.
_ENTRY = r"""#pragma omp declare simd simdlen(16) notinbranch
SG_VHIDDEN __attribute__((const)) float {name}(float);
SG_VHIDDEN __attribute__((used)) __m512 _ZGVeN16v_{name}(__m512 x)
{{
    return {kernel}(x);
}}
__asm__(".pushsection .text\n.globl {name}\n.hidden {name}\n"
        ".type {name}, @function\n{name}:\n"
        "\tvbroadcastss %xmm0, %zmm0\n\tjmp _ZGVeN16v_{name}\n"
        ".size {name}, .-{name}\n.popsection");
#define {libm}(x) {name}(x)"""

_KERNELS = {"expf": ("sg_exp16", _EXP), "tanhf": ("sg_tanh16", _TANH)}


def used_functions(code: str) -> list[str]:
    """The libm names of `code` ("expf", "tanhf") that this module replaces."""
    return sorted(n for n in REPLACED if re.search(rf"\b{n}\(", code))


def vmath_source(names) -> str:
    """The C definitions replacing the libm functions `names` ("expf", "tanhf").

    Emit it after ``math.h`` and before any code that calls them: it
    defines ``expf(x)`` and ``tanhf(x)`` as macros for its own functions.
    The unit must be built for AVX-512F with OpenMP simd on.
    """
    parts = [_CORE]
    for libm in sorted(names):
        kernel, text = _KERNELS[libm]
        parts += [text, _ENTRY.format(name=REPLACED[libm], kernel=kernel, libm=libm)]
    return "\n\n".join(parts)
