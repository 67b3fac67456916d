"""Link generated C against OpenBLAS from the ``scipy-openblas32`` wheel.

The wheel's symbols carry a ``scipy_`` prefix (``scipy_cblas_sgemm``) and a
32-bit integer interface. `CBLAS_HEADER` declares the few we use and maps the
usual names onto them, so generated code reads ``cblas_sgemm(...)``.

OpenBLAS picks its kernels once, when it loads. Its detection takes AVX-512
AMD Zen 4/5 CPUs for Haswell (AVX2 kernels, about half the sgemm speed; see
DESIGN.md), so `prepare_blas` sets ``OPENBLAS_CORETYPE`` from the CPU flags
before the first load unless the user chose one.
"""

from __future__ import annotations

import ctypes
import os
import threading
from functools import cache
from pathlib import Path
from string import Template

from .toolchain import cpu_flags

__all__ = [
    "CBLAS_HEADER",
    "blas_available",
    "cblas_source",
    "blas_info",
    "blas_link_flags",
    "choose_coretype",
    "default_num_threads",
    "prepare_blas",
    "set_num_threads",
]

PREFIX = "scipy_"
_AVX512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq"}

# Enum values are CBLAS's own; blasint is int in this 32-bit-index build.
CBLAS_HEADER = """\
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };
void scipy_cblas_sgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE,
    enum CBLAS_TRANSPOSE, int, int, int, float, const float *, int,
    const float *, int, float, float *, int);
void scipy_cblas_dgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE,
    enum CBLAS_TRANSPOSE, int, int, int, double, const double *, int,
    const double *, int, double, double *, int);
void scipy_cblas_sgemv(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, int, int,
    float, const float *, int, const float *, int, float, float *, int);
void scipy_cblas_dgemv(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, int, int,
    double, const double *, int, const double *, int, double, double *, int);
float scipy_cblas_sdot(int, const float *, int, const float *, int);
double scipy_cblas_ddot(int, const double *, int, const double *, int);
void scipy_cblas_sger(enum CBLAS_ORDER, int, int, float, const float *, int,
    const float *, int, float *, int);
void scipy_cblas_dger(enum CBLAS_ORDER, int, int, double, const double *, int,
    const double *, int, double *, int);
#define cblas_sgemm scipy_cblas_sgemm
#define cblas_dgemm scipy_cblas_dgemm
#define cblas_sgemv scipy_cblas_sgemv
#define cblas_dgemv scipy_cblas_dgemv
#define cblas_sdot scipy_cblas_sdot
#define cblas_ddot scipy_cblas_ddot
#define cblas_sger scipy_cblas_sger
#define cblas_dger scipy_cblas_dger
"""

# Each Gemm/Dot/Matmul is a call of a few lines in the generated driver: the
# layout decisions, compiled once per dtype in the unit, cost GCC far less
# than repeated at every product. Like the driver, they run once per call and
# are built at -O1 (SG_HELPER). Templates: $T the C type, $F its libm suffix
# ("f" for float), $X the BLAS letter (s or d).
_GEMM = Template(
    r"""/* Where BLAS finds a rows x cols operand with element strides s0, s1: in
   place when its rows or its columns are contiguous (read transposed then),
   else copied to scratch slot `slot`. NULL when that copy cannot be
   allocated. BLAS wants a leading dimension of at least the row (column)
   length, even where, with one row (column), it never steps by it. */
SG_HELPER static const $T *sg_blas_operand$F(
    sg_state *st, int node, int slot, const $T *p, int64_t rows, int64_t cols,
    int64_t s0, int64_t s1, enum CBLAS_TRANSPOSE *trans, int *ld)
{
    int64_t row_len = cols > 1 ? cols : 1, col_len = rows > 1 ? rows : 1;
    if ((cols <= 1 || s1 == 1) && (rows <= 1 || s0 >= row_len)) {
        *trans = CblasNoTrans;
        *ld = (int)(rows > 1 ? s0 : row_len);
        return p;
    }
    if ((rows <= 1 || s0 == 1) && (cols <= 1 || s1 >= col_len)) {
        *trans = CblasTrans;
        *ld = (int)(cols > 1 ? s1 : col_len);
        return p;
    }
    int64_t n = rows * cols;
    $T *copy = ($T *)sg_scratch(st, slot, node, 1, &n, sizeof($T));
    if (!copy)
        return NULL;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            copy[i * cols + j] = p[i * s0 + j * s1];
    *trans = CblasNoTrans;
    *ld = (int)row_len;
    return copy;
}

/* c = alpha a.b + beta c, c m x n and C-contiguous, a (m x k) and b (k x n)
   with element strides (s0, s1); an operand BLAS cannot read in place is
   copied to its scratch slot first. The sizes must fit in an int. */
SG_HELPER static int sg_cblas_${X}gemm(
    sg_state *st, int node, int64_t m, int64_t n, int64_t k, $T alpha,
    const $T *a, int64_t a_s0, int64_t a_s1, int a_slot,
    const $T *b, int64_t b_s0, int64_t b_s1, int b_slot, $T beta, $T *c)
{
    enum CBLAS_TRANSPOSE ta, tb;
    int lda, ldb;
    a = sg_blas_operand$F(st, node, a_slot, a, m, k, a_s0, a_s1, &ta, &lda);
    if (!a)
        return SG_ERROR;
    b = sg_blas_operand$F(st, node, b_slot, b, k, n, b_s0, b_s1, &tb, &ldb);
    if (!b)
        return SG_ERROR;
    cblas_${X}gemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, a, lda,
                b, ldb, beta, c, (int)(n > 1 ? n : 1));
    return SG_OK;
}"""
)

_FILL = Template(
    r"""/* dst (m x n, C-contiguous) = src read with element strides s0, s1 (0 along
   the axes it is broadcast over). */
SG_HELPER static void sg_fill_matrix$F(
    $T *restrict dst, int64_t m, int64_t n, const $T *src, int64_t s0, int64_t s1)
{
    for (int64_t i = 0; i < m; i++) {
#pragma omp simd
        for (int64_t j = 0; j < n; j++)
            dst[i * n + j] = src[i * s0 + j * s1];
    }
}"""
)

_FLOATS = ({"T": "float", "F": "f", "X": "s"}, {"T": "double", "F": "", "X": "d"})


def cblas_source(body: str) -> str:
    """The OpenBLAS declarations, then the wrappers that `body` calls.

    ``sg_cblas_sgemm``/``sg_cblas_dgemm`` (a product of strided operands) and
    ``sg_fill_matrixf``/``sg_fill_matrix`` (a broadcast copy), each emitted
    only where called.

    Examples
    --------
    >>> "sg_cblas_dgemm(" in cblas_source("sg_cblas_sgemm(st, 2, m, n, k, ...)")
    False
    """
    parts = ["/* OpenBLAS (scipy-openblas32) */\n" + CBLAS_HEADER.strip("\n")]
    for kind in _FLOATS:
        if f"sg_cblas_{kind['X']}gemm(" in body:
            parts.append(_GEMM.substitute(kind))
        if f"sg_fill_matrix{kind['F']}(" in body:
            parts.append(_FILL.substitute(kind))
    return "\n\n".join(parts)


_state: dict = {}  # filled by prepare_blas: lib, coretype, reason
_lock = threading.RLock()


@cache
def _library() -> tuple[str, str] | None:
    """Return (lib_dir, link name) of the wheel's OpenBLAS, or None.

    Found without importing ``scipy_openblas32``: its import loads the library
    at once, before we could set ``OPENBLAS_CORETYPE``.
    """
    import importlib.util

    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.origin:
        return None
    lib_dir = Path(spec.origin).parent / "lib"
    names = sorted(lib_dir.glob("libscipy_openblas*.so"))
    if not names:
        return None
    return str(lib_dir), names[0].name[3:-3]  # libNAME.so -> NAME


def blas_available() -> bool:
    """Return True if ``scipy-openblas32`` is installed."""
    return _library() is not None


def _so_path() -> Path:
    lib_dir, name = _library()
    return Path(lib_dir) / f"lib{name}.so"


def blas_link_flags() -> tuple[str, ...]:
    """Return the linker flags for OpenBLAS (an rpath, so no LD_LIBRARY_PATH).

    Raises
    ------
    RuntimeError
        If ``scipy-openblas32`` is not installed.
    """
    if _library() is None:
        raise RuntimeError(
            "linking BLAS needs the scipy-openblas32 package: "
            "pip install scipy-openblas32"
        )
    lib_dir, name = _library()
    return (f"-L{lib_dir}", f"-l{name}", f"-Wl,-rpath,{lib_dir}")


def choose_coretype(flags=None) -> tuple[str | None, str]:
    """Return (OpenBLAS core type or None, why) for a set of CPU flags.

    The user's ``OPENBLAS_CORETYPE`` wins; ``SYMGRAPH_BLAS_CORETYPE`` may name
    a core type or ``native`` (leave it to OpenBLAS's detection).
    """
    if os.environ.get("OPENBLAS_CORETYPE"):
        return os.environ["OPENBLAS_CORETYPE"], "set by the user (OPENBLAS_CORETYPE)"
    wish = os.environ.get("SYMGRAPH_BLAS_CORETYPE", "auto")
    if wish.lower() == "native":
        return None, "OpenBLAS's own detection (SYMGRAPH_BLAS_CORETYPE=native)"
    if wish.lower() != "auto":
        return wish, "set by SYMGRAPH_BLAS_CORETYPE"
    flags = set(cpu_flags() if flags is None else flags)
    if _AVX512 <= flags:
        if "avx512_bf16" in flags:
            return "Cooperlake", "CPU has AVX-512 F/BW/VL/DQ and BF16"
        return "SkylakeX", "CPU has AVX-512 F/BW/VL/DQ"
    if {"avx2", "fma"} <= flags:
        return "Haswell", "CPU has AVX2 and FMA"
    return None, "no AVX2: OpenBLAS's own detection"


def default_num_threads() -> int:
    """Return the thread count symgraph uses for native code and BLAS.

    ``$SYMGRAPH_NUM_THREADS``, else ``$OMP_NUM_THREADS``, else the CPUs this
    process may run on.
    """
    for var in ("SYMGRAPH_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _already_mapped(path: Path) -> bool:
    try:
        return str(path.resolve()) in Path("/proc/self/maps").read_text()
    except OSError:
        return False


def prepare_blas() -> None:
    """Choose the core type, load OpenBLAS and set its thread count (once).

    Call before loading any library linked with `blas_link_flags`: the
    dynamic loader then reuses this copy, already set up. Thread-safe.
    """
    with _lock:
        if "lib" in _state:
            return
        blas_link_flags()  # raises the install hint if the wheel is missing
        path = _so_path()
        core, reason = choose_coretype()
        if _already_mapped(path):
            reason = "none: OpenBLAS was loaded before symgraph could choose"
            core = os.environ.get("OPENBLAS_CORETYPE")
        elif core is not None:
            # Read by OpenBLAS's constructor during the load below, and
            # inherited by child processes, which then make the same choice.
            os.environ["OPENBLAS_CORETYPE"] = core
        # ctypes rather than cffi: no C declarations to parse (pycparser).
        lib = ctypes.CDLL(str(path))
        lib.scipy_openblas_get_corename.restype = ctypes.c_char_p
        lib.scipy_openblas_get_config.restype = ctypes.c_char_p
        _state.update(lib=lib, coretype=core, reason=reason)
        set_num_threads()


def set_num_threads(n: int | None = None) -> int:
    """Set OpenBLAS's thread count (default `default_num_threads`); return it."""
    prepare_blas()
    n = default_num_threads() if n is None else max(1, int(n))
    _state["lib"].scipy_openblas_set_num_threads(n)
    return n


def blas_info() -> dict:
    """Return what BLAS symgraph uses, for diagnostics (loads it if needed).

    Examples
    --------
    >>> blas_info()["corename"]  # doctest: +SKIP
    'SkylakeX'
    """
    if not blas_available():
        return {"available": False, "reason": "scipy-openblas32 not installed"}
    prepare_blas()
    lib = _state["lib"]
    return {
        "available": True,
        "library": str(_so_path()),
        "coretype": _state["coretype"],
        "reason": _state["reason"],
        "corename": lib.scipy_openblas_get_corename().decode(),
        "config": lib.scipy_openblas_get_config().decode().strip(),
        "num_threads": lib.scipy_openblas_get_num_threads(),
    }
