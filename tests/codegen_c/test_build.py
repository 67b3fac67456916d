"""The native build layer: toolchain, compile + load, disk cache, BLAS."""

import json
import os
import pickle
import platform
import shlex
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from symgraph.codegen_c import blas, build, diskcache, toolchain
from symgraph.codegen_c.build import CompileError, compile_library

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not toolchain.compiler_works(), reason="no working C compiler"
)

SCALE_SRC = """\
#include <stdint.h>

int scale(int64_t n, const float *restrict x, float *restrict y, float a)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = a * x[i];
    return 0;
}
"""
SCALE_CDEF = "int scale(int64_t, const float *, float *, float);"


@pytest.fixture(autouse=True)
def _empty_cache(cache):  # every test here starts from one (conftest)
    return cache


def call_scale(library, x, a):
    y = np.empty_like(x)
    ffi = library.ffi
    src, dst = ffi.from_buffer("float[]", x), ffi.from_buffer("float[]", y)
    assert library.lib.scale(x.size, src, dst, a) == 0
    return y


def test_toolchain_flags():
    tc = toolchain.get_toolchain()
    assert tc.version and tc.cpu_key.startswith(os.uname().machine)
    assert "-ffast-math" not in tc.cflags and "-O2" in tc.cflags
    assert "-march=native" in tc.cflags and "-shared" in tc.cflags
    assert ("-fopenmp" in tc.cflags) == tc.has_openmp
    assert tc.has_libmvec == bool(tc.mvec_functions)
    if tc.has_libmvec:
        assert "-lmvec" in tc.ldflags and "expf" in tc.mvec_functions


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 vector ABI"
)
def test_mvec_symbol_probe_agrees_with_building_every_kernel(monkeypatch, tmp_path):
    # the fast probe looks symbols up; the slow one builds a loop per function
    cc = shlex.split(toolchain.get_toolchain().cc)
    fast = toolchain._probe_mvec(cc, str(tmp_path), "-fopenmp-simd")
    monkeypatch.setattr(toolchain.platform, "machine", lambda: "other")
    slow = toolchain._probe_mvec(cc, str(tmp_path), "-fopenmp-simd")
    assert sorted(fast) == sorted(slow)


def test_toolchain_probe_is_cached_on_disk(monkeypatch, cache):
    cc = toolchain.get_toolchain().cc
    first = toolchain._probe_cached(cc)  # probes, writes into the tmp cache
    assert list((cache / "c" / "toolchain").glob("*.json"))

    def no_probe(cc):
        raise AssertionError("probed again despite the disk cache")

    monkeypatch.setattr(toolchain, "_probe", no_probe)
    assert toolchain._probe_cached(cc) == first


def test_missing_compiler_is_reported(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    toolchain.get_toolchain.cache_clear()
    try:
        assert not toolchain.compiler_works()
        with pytest.raises(CompileError, match="no working C compiler"):
            compile_library("int f(void) { return 1; }", "int f(void);")
    finally:
        monkeypatch.delenv("CC")
        toolchain.get_toolchain.cache_clear()
    assert toolchain.compiler_works()


def test_simd_declarations():
    text = toolchain.simd_declarations(["powf", "tanh"])
    assert text.splitlines() == [
        'float powf(float, float) __attribute__((simd("notinbranch")));',
        'double tanh(double) __attribute__((simd("notinbranch")));',
    ]


def test_compile_and_call(cache):
    library = compile_library(SCALE_SRC, SCALE_CDEF)
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(call_scale(library, x, 2.5), 2.5 * x)
    assert library.path.is_file() and library.path.is_relative_to(cache)
    assert library.source_path.read_text() == SCALE_SRC == library.source


def test_compile_error_shows_stderr_and_numbered_source(cache):
    source = SCALE_SRC.replace("a * x[i]", "a * x[i] + undeclared_thing")
    with pytest.raises(CompileError) as info:
        compile_library(source, SCALE_CDEF)
    message = str(info.value)
    assert "undeclared_thing" in info.value.stderr
    assert "error" in message and "undeclared_thing" in message
    assert "> 6 |         y[i] = a * x[i] + undeclared_thing;" in message
    assert "\n  5 |     for (int64_t" in message  # context before ...
    assert "\n  7 |     return 0;" in message  # ... and after
    assert info.value.source_path.read_text() == source
    assert str(info.value.source_path) in message
    assert str(pickle.loads(pickle.dumps(info.value))) == message
    assert diskcache.stats["builds"] == 0


def test_link_error_is_a_compile_error():
    source = "void missing(void);\nvoid f(void) { missing(); }\n"
    with pytest.raises(CompileError, match="missing"):
        compile_library(source, "void f(void);")


def test_disk_cache_builds_once(cache):
    first = compile_library(SCALE_SRC, SCALE_CDEF)
    mtime = first.path.stat().st_mtime_ns
    diskcache.memory.clear()  # as if in a new process
    second = compile_library(SCALE_SRC, SCALE_CDEF)
    assert second is not first and second.path == first.path
    assert second.path.stat().st_mtime_ns == mtime
    assert diskcache.stats == {"builds": 1, "disk_hits": 1, "repairs": 0}
    x = np.ones(3, np.float32)
    np.testing.assert_array_equal(call_scale(second, x, 3.0), 3.0 * x)


def test_memory_hit_is_the_same_object_and_fast():
    first = compile_library(SCALE_SRC, SCALE_CDEF)
    start = time.perf_counter()
    for _ in range(1000):
        again = compile_library(SCALE_SRC, SCALE_CDEF)
    per_call = (time.perf_counter() - start) / 1000
    assert again is first and per_call < 20e-6
    assert diskcache.stats["builds"] == 1 and diskcache.stats["disk_hits"] == 0


def test_compiler_flags_change_the_key():
    plain = compile_library(SCALE_SRC, SCALE_CDEF)
    flagged = compile_library(SCALE_SRC, SCALE_CDEF, extra_cflags=["-DUNUSED=1"])
    assert plain.key != flagged.key and plain.path != flagged.path
    assert diskcache.stats["builds"] == 2


def test_truncated_shared_object_is_rebuilt(cache):
    # Built but not loaded here: truncating a mapped .so would crash us.
    entry = build.build_shared_object(SCALE_SRC)
    data = entry.so_path.read_bytes()
    entry.so_path.write_bytes(data[: len(data) // 3])
    with pytest.warns(RuntimeWarning, match="corrupt"):
        library = compile_library(SCALE_SRC, SCALE_CDEF)
    assert library.path.read_bytes() == data
    assert diskcache.stats == {"builds": 2, "disk_hits": 0, "repairs": 1}
    x = np.arange(4, dtype=np.float32)
    np.testing.assert_array_equal(call_scale(library, x, -1.0), -x)


CHILD = """\
import json, sys, time
from symgraph.codegen_c import build, diskcache
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
library = build.compile_library(sys.argv[2], "int tag(void);")
print(json.dumps({"stats": diskcache.stats, "tag": library.lib.tag()}))
"""


def test_concurrent_processes_build_once(cache):
    toolchain.get_toolchain.cache_clear()
    toolchain.get_toolchain()  # write the probe so children only read it
    source = f"int tag(void) {{ return {os.getpid() % 1000}; }}\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    start_at = str(time.time() + 1.0)  # all children compile at this moment
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, start_at, source],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    assert [r["tag"] for r in results] == [os.getpid() % 1000] * 4
    assert sum(r["stats"]["builds"] for r in results) == 1
    assert sum(r["stats"]["disk_hits"] for r in results) == 3
    entries = [p for p in (cache / "c").glob("??/*") if p.is_dir()]
    assert len(entries) == 1 and not list((cache / "c").glob("??/.tmp-*"))


def test_clear_cache_forgets_everything(cache):
    library = compile_library(SCALE_SRC, SCALE_CDEF)
    diskcache.clear_cache()
    assert not library.path.exists()
    assert compile_library(SCALE_SRC, SCALE_CDEF) is not library
    assert diskcache.stats["builds"] == 2


SPECIAL_SRC = """\
#include <math.h>
#include <stdint.h>
{decls}

void special(int64_t n, const {t} *restrict x, {t} *restrict out)
{{
    #pragma omp simd
    for (int64_t i = 0; i < n; i++) {{
        out[0 * n + i] = sqrt{s}(x[i]);
        out[1 * n + i] = log{s}(x[i]);
        out[2 * n + i] = exp{s}(x[i]);
        out[3 * n + i] = tanh{s}(x[i]);
        out[4 * n + i] = log1p{s}(x[i]);
        out[5 * n + i] = pow{s}(x[i], ({t})-1.5);
        out[6 * n + i] = floor{s}(x[i]);
    }}
}}
"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ieee_special_values_without_math_errno(dtype):
    # -fno-math-errno (our default) must give the same values as -fmath-errno
    # and as NumPy on inf, nan, signed zeros, negatives, overflow, denormals.
    t, s = ("float", "f") if dtype == np.float32 else ("double", "")
    names = [f + s for f in ("sqrt", "log", "exp", "tanh", "log1p", "pow")]
    tc = toolchain.get_toolchain()
    decls = toolchain.simd_declarations(set(names) & tc.mvec_functions)
    source = SPECIAL_SRC.format(t=t, s=s, decls=decls)
    cdef = f"void special(int64_t, const {t} *, {t} *);"
    with np.errstate(all="ignore"):
        x = np.array(
            [np.inf, -np.inf, np.nan, 0.0, -0.0, -1.0, 1e-40, 0.5, 1e30, -1e30]
            + [100.0, -100.0, 800.0, -800.0],
            dtype=dtype,
        )
        expected = [
            np.sqrt(x),
            np.log(x),
            np.exp(x),
            np.tanh(x),
            np.log1p(x),
            np.power(x, dtype(-1.5)),
            np.floor(x),
        ]
    got = {}
    for flags in [(), ("-fmath-errno",)]:
        library = compile_library(source, cdef, extra_cflags=flags)
        out = np.empty(len(expected) * x.size, dtype)
        library.lib.special(
            x.size,
            library.ffi.from_buffer(f"{t}[]", x),
            library.ffi.from_buffer(f"{t}[]", out),
        )
        got[flags] = out.reshape(len(expected), x.size)
    np.testing.assert_array_equal(got[()], got[("-fmath-errno",)])
    for name, want, have in zip(names + ["floor"], expected, got[()], strict=True):
        np.testing.assert_allclose(have, want, rtol=4e-6, err_msg=name)
        zero = want == 0
        np.testing.assert_array_equal(
            np.signbit(have[zero]), np.signbit(want[zero]), err_msg=name
        )


# --- BLAS -------------------------------------------------------------------

needs_blas = pytest.mark.skipif(
    not blas.blas_available(), reason="scipy-openblas32 not installed"
)

GEMM_SRC = (
    blas.CBLAS_HEADER
    + """
void gemm(int m, int n, int k, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
                1.0f, a, k, b, n, 0.0f, c, n);
}
"""
)


@needs_blas
def test_sgemm_through_built_library_matches_numpy():
    library = compile_library(
        GEMM_SRC,
        "void gemm(int, int, int, const float *, const float *, float *);",
        link_blas=True,
    )
    rng = np.random.default_rng(0)
    a = rng.standard_normal((37, 53), dtype=np.float32)
    b = rng.standard_normal((53, 29), dtype=np.float32)
    c = np.empty((37, 29), np.float32)
    ffi = library.ffi
    library.lib.gemm(
        37,
        29,
        53,
        ffi.from_buffer("float[]", a),
        ffi.from_buffer("float[]", b),
        ffi.from_buffer("float[]", c),
    )
    np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)
    info = blas.blas_info()
    assert info["available"] and Path(info["library"]).is_file()
    assert info["num_threads"] == blas.default_num_threads()
    assert info["corename"] and info["reason"]


@pytest.mark.parametrize(
    "flags, expected",
    [
        ({"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"}, "SkylakeX"),
        (
            {"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"}
            | {"avx512_bf16"},
            "Cooperlake",
        ),
        ({"avx2", "fma", "avx512f"}, "Haswell"),
        ({"sse4_2", "avx"}, None),
    ],
)
def test_choose_coretype(monkeypatch, flags, expected):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("SYMGRAPH_BLAS_CORETYPE", raising=False)
    assert blas.choose_coretype(flags)[0] == expected
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Zen")
    assert blas.choose_coretype(flags) == ("Zen", blas.choose_coretype(flags)[1])
    assert "user" in blas.choose_coretype(flags)[1]


def test_default_num_threads(monkeypatch):
    monkeypatch.setenv("SYMGRAPH_NUM_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert blas.default_num_threads() == 3
    monkeypatch.delenv("SYMGRAPH_NUM_THREADS")
    assert blas.default_num_threads() == 5
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert blas.default_num_threads() >= 1


@needs_blas
def test_child_process_picks_core_type_before_loading(monkeypatch):
    # In a fresh process (OpenBLAS not yet loaded) the choice must take effect.
    code = textwrap.dedent(
        """
        import json
        from symgraph.codegen_c import blas
        print(json.dumps(blas.blas_info()))
        """
    )
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("SYMGRAPH_BLAS_CORETYPE", raising=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    info = json.loads(out.stdout)
    expected, _ = blas.choose_coretype()
    assert "loaded before" not in info["reason"]
    assert info["coretype"] == expected
