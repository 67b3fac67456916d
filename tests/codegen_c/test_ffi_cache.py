"""The parsed cdef kept beside a cached library (``ffi.txt``)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import _cffi_backend
import cffi
import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.codegen_c import backend, build, diskcache, runtime
from symgraph.codegen_c.build import CompileError, compile_library
from tests.codegen_c.conftest import needs_cc

pytestmark = needs_cc
REPO = Path(__file__).resolve().parents[2]

SRC = "int twice(int x) { return 2 * x; }\n"
CDEF = "int twice(int);"


@pytest.fixture(autouse=True)
def _empty_cache(cache):  # every test here starts from one (conftest)
    return cache


def reload(source=SRC, cdef=CDEF):
    """compile_library as a new process would: nothing in memory."""
    diskcache.memory.clear()
    return compile_library(source, cdef)


def test_a_built_library_keeps_its_parsed_cdef():
    first = compile_library(SRC, CDEF)
    assert isinstance(first.ffi, cffi.FFI)  # parsed
    record = first.path.parent / build.FFI_NAME
    assert CDEF in record.read_text()
    again = reload()
    assert type(again.ffi) is _cffi_backend.FFI  # rebuilt from the record
    assert again.lib.twice(21) == 42


def test_the_record_serves_the_runtime_api(monkeypatch):
    x = T.matrix("x")
    graph = [T.tanh(x).sum(axis=1), x.T * 2]

    def compile_graph():  # from one line: the source names it
        return sg.function([x], graph)

    compile_graph()
    backend.clear_memory_cache()
    diskcache.memory.clear()
    monkeypatch.setattr(runtime, "NUMPY_LAYOUT", None)  # sg_array from Python
    f = compile_graph()
    ffi, lib = f.program.ffi, f.program.lib
    assert type(ffi) is _cffi_backend.FFI
    value = np.arange(6.0).reshape(2, 3)[:, ::-1]
    got = f(value)
    np.testing.assert_allclose(got[0], np.tanh(value).sum(axis=1))
    np.testing.assert_array_equal(got[1], value.T * 2)
    state = ffi.gc(lib.sg_new_state(), lib.sg_free_state)
    raw = ffi.cast("char *", lib.sg_info(state))
    assert bytes(ffi.buffer(raw, 8)) == bytes(8)


def test_a_record_for_another_cdef_or_a_broken_one_is_not_used():
    library = compile_library(SRC, CDEF)
    record = library.path.parent / build.FFI_NAME
    other = reload(SRC, "int  twice(int);")  # another text: parsed
    assert isinstance(other.ffi, cffi.FFI) and other.lib.twice(2) == 4
    assert "int  twice" not in record.read_text()  # still the first one's
    record.write_text("{'cdef': 'int twice(int);', 'cffi': ")  # cut short
    broken = reload()
    assert isinstance(broken.ffi, cffi.FFI) and broken.lib.twice(3) == 6


def test_errors_keep_their_order():
    with pytest.raises(CompileError):  # the compiler's error first
        compile_library("int broken(void) { return }", "int broken(void) {")
    with pytest.raises(cffi.CDefError):
        compile_library(SRC, "int twice(int")
    assert reload().lib.twice(4) == 8


def test_a_new_process_loading_from_the_cache_imports_less(cache):
    code = textwrap.dedent(
        f"""
        import json, sys
        from symgraph.codegen_c.build import compile_library
        lib = compile_library({SRC!r}, {CDEF!r}).lib
        slow = ("pycparser", "filelock", "platformdirs")
        print(json.dumps([lib.twice(5), [m for m in slow if m in sys.modules]]))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}

    def run():
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert run() == [10, ["pycparser"]]  # built: parsed while the compiler ran
    assert run() == [10, []]
