"""Big units build on several cores (GCC's link-time optimiser, partitioned)."""

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.codegen_c import backend, build, toolchain
from symgraph.codegen_c.build import CompileError, compile_library
from tests.codegen_c.conftest import assert_same, needs_cc

pytestmark = needs_cc


@pytest.fixture
def commands(monkeypatch) -> list:
    """The compiler command lines run from now on."""
    seen = []
    compile_ = build._compile

    def recording(argv, *args, **kwargs):
        seen.append(argv)
        return compile_(argv, *args, **kwargs)

    monkeypatch.setattr(build, "_compile", recording)
    return seen


def tc_with(**changes):
    from dataclasses import replace

    return replace(toolchain.get_toolchain(), **changes)


def test_parallel_flags_need_lto_two_cpus_and_make(monkeypatch):
    flags = tc_with(has_lto=True)
    monkeypatch.setattr(toolchain, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert flags.parallel_cflags() == (
        "-flto=auto",
        f"--param=lto-min-partition={toolchain.LTO_MIN_PARTITION}",
    )
    assert tc_with(has_lto=False).parallel_cflags() == ()
    monkeypatch.setattr(toolchain, "_usable_cpus", lambda: 1)
    assert flags.parallel_cflags() == ()
    monkeypatch.setattr(toolchain, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None)  # no make
    assert flags.parallel_cflags() == ()


def test_lto_probe_wants_gccs_own_lto_wrapper():
    assert not toolchain._is_lto_wrapper("lto-wrapper")  # what clang answers
    assert not toolchain._is_lto_wrapper("/nonexistent/lto-wrapper")
    tc = toolchain.get_toolchain()
    answer = subprocess.run(
        [*shlex.split(tc.cc), "-print-prog-name=lto-wrapper"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert tc.has_lto == toolchain._is_lto_wrapper(answer)


def many_loops():
    v = T.fvector("v")
    outs = [T.exp(v * (i + 1)) + T.tanh(v + i) for i in range(8)]
    return [v], outs


@pytest.mark.skipif(
    not toolchain.get_toolchain().parallel_cflags(), reason="no parallel build here"
)
def test_a_big_unit_builds_in_parallel_and_agrees(cache, commands):
    inputs, outs = many_loops()
    fc = sg.function(inputs, outs)
    assert fc.program.source.count("#pragma omp simd") >= backend.PARALLEL_BUILD_LOOPS
    assert any("-flto=auto" in argv for argv in commands)
    fp = sg.function(inputs, outs, backend="python")
    x = np.linspace(-3, 3, 1001, dtype=np.float32)
    assert_same(fp(x), fc(x), rtol=2e-6, atol=1e-6)


@pytest.mark.skipif(
    not toolchain.get_toolchain().parallel_cflags()
    or not toolchain.get_toolchain().has_vmath
    or not shutil.which("objdump"),
    reason="needs a parallel build, vmath.py's functions and objdump",
)
def test_vector_math_stays_vectorised_in_a_parallel_build(cache):
    # Link-time optimisation sees the whole unit: had it seen a C body for
    # the scalar sg_vtanhf, it would call that one element at a time.
    inputs, outs = many_loops()
    fc = sg.function(inputs, outs)
    library = Path(fc.program.source_path).with_name("lib.so")
    listing = subprocess.run(
        ["objdump", "-d", str(library)], capture_output=True, text=True, check=True
    ).stdout
    for name in ("sg_vexpf", "sg_vtanhf"):
        assert re.search(rf"call\s+\w+ <_ZGVeN16v_{name}>", listing), name


def test_a_small_unit_builds_in_one_piece(cache, commands):
    x = T.vector("x")
    sg.function([x], T.exp(x) + 1)
    assert commands and not any("-flto=auto" in argv for argv in commands)


@pytest.mark.skipif(
    not toolchain.get_toolchain().parallel_cflags(), reason="no parallel build here"
)
def test_errors_of_a_parallel_build_show_the_source(cache):
    flags = toolchain.get_toolchain().parallel_cflags()
    with pytest.raises(CompileError) as err:
        compile_library(
            "int f(void)\n{\n    return x;\n}\n", "int f(void);", extra_cflags=flags
        )
    assert "source.c:3:" in str(err.value) and ">" in str(err.value)


def driver_level(argvs) -> str:
    flags = [a for argv in argvs for a in argv if a.startswith("-DSG_DRIVER_LEVEL")]
    return flags[-1].split("=", 1)[1] if flags else '"O1"'


def test_loop_free_drivers_of_a_big_unit_build_at_O0(cache, commands):
    inputs, outs = many_loops()
    outs.append(T.exp(inputs[0]).sum())  # the driver adds up threads' partials
    fc = sg.function(inputs, outs)
    assert "sg_nt" in fc.program.source and driver_level(commands) == '"O0"'
    fp = sg.function(inputs, outs, backend="python")
    x = np.linspace(-3, 3, 101, dtype=np.float32)
    assert_same(fp(x), fc(x), rtol=2e-6, atol=1e-6)


def test_a_driver_with_a_loop_keeps_O1(cache, commands):
    inputs, outs = many_loops()
    i = T.lvector("i")
    sg.function([*inputs, i], [*outs, T.dot(i, i)])  # a loop in the driver
    assert commands and driver_level(commands) == '"O1"'


def test_driver_loop_detection():
    head = "SG_DRIVER static int seg0(sg_state *st, const sg_array *args)\n{\n"
    partial = "    for (int sg_t = 0; sg_t < sg_nt; sg_t++) {\n    }\n"
    loop = "    for (int64_t i0 = 0; i0 < n; i0++)\n        s += x[i0];\n"
    kernel = "static void seg0_loop1(void)\n{\n" + loop + "}\n"

    def loops(text):
        bodies = backend._DRIVER.findall(text)
        return [bool(backend._DRIVER_LOOP.search(b)) for b in bodies]

    assert loops(kernel + head + partial + "}\n") == [False]
    assert loops(head + loop + "}\n" + head + "}\n") == [True, False]
