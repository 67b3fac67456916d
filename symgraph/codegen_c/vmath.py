"""symgraph's own float32 ``exp`` and ``tanh`` for AVX-512 vector loops.

In the fused ``tanh(x*a+b)*sigmoid(x)+exp(-x*x)`` on one Zen 4 core, glibc's
libmvec calls (two ``expf``, one ``tanhf``) take nearly all of the loop's
1.1 ns per element. These are about fifteen vector instructions each, with
no call into libmvec; their error bounds were found by checking every
float32 input against double-precision libm:

- ``exp``: at most 1.02 ulp (libmvec's AVX-512 ``expf``: 2.64);
- ``tanh``: at most 2.50 ulp (libmvec: 1.37);
- ``sigmoid`` (the helper's ``e = exp(-|x|)``, ``(x >= 0 ? 1 : e) / (1 + e)``):
  at most 2.40 ulp (with libmvec's ``expf``: 3.63).

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

# libm name -> the function that replaces it in generated code.
REPLACED = {"expf": "sg_vexpf", "tanhf": "sg_vtanhf"}

_CORE = r"""/* float32 exp and tanh for AVX-512 (symgraph/codegen_c/vmath.py): exp
   within 1.02 ulp, tanh within 2.50 ulp; inf, NaN and signed zeros as libm.
   Vectorised loops call the 16-lane versions (x86-64 vector ABI names);
   the scalar ones jump to them: lane 0 of the same. GCC's builtins stand
   for <immintrin.h>, whose parsing alone would add 0.1 s to each build. */
typedef float sg_v16f __attribute__((vector_size(64)));
typedef int sg_v16i __attribute__((vector_size(64)));
#define SG_ALL16 ((unsigned short)0xffff)
#define SG_FMA16(a, b, c) __builtin_ia32_vfmaddps512_mask(a, b, c, SG_ALL16, 4)
#define SG_FNMA16(a, b, c) __builtin_ia32_vfnmaddps512_mask(a, b, c, SG_ALL16, 4)
#define SG_MIN16(a, b) __builtin_ia32_minps512_mask(a, b, b, SG_ALL16, 4)
#define SG_MAX16(a, b) __builtin_ia32_maxps512_mask(a, b, b, SG_ALL16, 4)
#define SG_SCALEF16(a, n) __builtin_ia32_scalefps512_mask(a, n, a, SG_ALL16, 4)
#define SG_VHIDDEN __attribute__((visibility("hidden")))

static inline sg_v16f sg_splat16(float c)
{
    return (sg_v16f){c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c};
}

/* exp(x) - 1 reduced: x = n ln2 + r, |r| <= ln(2)/2 (Cody-Waite with FMA),
   then a degree-6 minimax polynomial; the caller scales by 2^n. */
static inline sg_v16f sg_expm1_reduced16(sg_v16f x, sg_v16f *n)
{
    /* round to nearest, no exceptions */
    *n = __builtin_ia32_rndscaleps_mask(x * 0x1.715476p0f, 8, x, SG_ALL16, 4);
    sg_v16f r = SG_FNMA16(*n, sg_splat16(0x1.62e43p-1f), x);
    r = SG_FNMA16(*n, sg_splat16(-0x1.05c610p-29f), r);
    sg_v16f p = sg_splat16(0x1.6a244cp-10f);
    p = SG_FMA16(p, r, sg_splat16(0x1.1239d4p-7f));
    p = SG_FMA16(p, r, sg_splat16(0x1.5558f2p-5f));
    p = SG_FMA16(p, r, sg_splat16(0x1.555492p-3f));
    p = SG_FMA16(p, r, sg_splat16(0x1.fffffcp-2f));
    return SG_FMA16(p * r, r, r);
}"""

_EXP = r"""static inline sg_v16f sg_exp16(sg_v16f x)
{
    /* exp over/underflows beyond these; min/max keep a NaN x */
    x = SG_MIN16(sg_splat16(89.0f), x);
    x = SG_MAX16(sg_splat16(-104.0f), x);
    sg_v16f n, p = sg_expm1_reduced16(x, &n);
    return SG_SCALEF16(p + 1.0f, n);
}"""

_TANH = r"""/* tanh|x| = -m / (2 + m), m = expm1(-2|x|): no cancellation near 0 */
static inline sg_v16f sg_tanh16(sg_v16f x)
{
    const sg_v16i sign = (sg_v16i)sg_splat16(-0.0f);
    sg_v16f a = SG_MIN16(sg_splat16(10.0f), (sg_v16f)(~sign & (sg_v16i)x));
    sg_v16f n, p = sg_expm1_reduced16(a * -2.0f, &n);
    sg_v16f s = SG_SCALEF16(sg_splat16(1.0f), n);
    sg_v16f m = SG_FMA16(s, p, s - 1.0f);
    sg_v16f t = m / (-2.0f - m);
    return (sg_v16f)((~sign & (sg_v16i)t) | (sign & (sg_v16i)x));
}"""

# The declaration without a body makes GCC call the ABI names. Without
# 'const' (which libm's declarations get from -fno-math-errno) GCC assumes
# the call writes memory and vectorises nothing. The scalar version is two
# instructions of assembly (broadcast, jump to the vector version: lane 0 is
# the float result): a C body for the same symbol, which link-time
# optimisation would see, stops GCC from vectorising the calls at all.
_ENTRY = r"""#pragma omp declare simd simdlen(16) notinbranch
SG_VHIDDEN __attribute__((const)) float {name}(float);
SG_VHIDDEN __attribute__((used)) sg_v16f _ZGVeN16v_{name}(sg_v16f x)
{{
    return {kernel}(x);
}}
__asm__(".pushsection .text\n.globl {name}\n.hidden {name}\n"
        ".type {name}, @function\n{name}:\n"
        "\tvbroadcastss %xmm0, %zmm0\n\tjmp _ZGVeN16v_{name}\n"
        ".size {name}, .-{name}\n.popsection");
#define {libm}(x) {name}(x)"""

_KERNELS = {"expf": ("sg_exp16", _EXP), "tanhf": ("sg_tanh16", _TANH)}


def used_functions(called) -> list[str]:
    """Which of the function names `called` this module replaces."""
    return sorted(REPLACED.keys() & set(called))


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
