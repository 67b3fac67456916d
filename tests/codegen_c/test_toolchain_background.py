"""The compiler probe that sg.function starts in a thread before rewriting."""

import platform
import threading
import warnings

import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.codegen_c import toolchain
from symgraph.compile import backends
from tests.codegen_c.conftest import needs_cc

pytestmark = needs_cc


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """No probe known in the process nor on disk; restored afterwards."""
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    toolchain.get_toolchain.cache_clear()
    toolchain._started.clear()
    yield
    toolchain._started.clear()
    toolchain.get_toolchain.cache_clear()


def record_probes(monkeypatch) -> list:
    """Names of the threads that run `_probe_cached` from now on."""
    seen = []
    probe = toolchain._probe_cached

    def recording(cc):
        seen.append(threading.current_thread().name)
        return probe(cc)

    monkeypatch.setattr(toolchain, "_probe_cached", recording)
    return seen


def test_background_probe_gives_the_same_toolchain(fresh, monkeypatch, tmp_path):
    seen = record_probes(monkeypatch)
    toolchain.probe_in_background()
    toolchain.probe_in_background()  # one probe, however often asked
    background = toolchain.get_toolchain()
    assert seen == ["symgraph-probe"]
    assert not toolchain._started
    toolchain.probe_in_background()  # known now: nothing to start
    assert seen == ["symgraph-probe"] and not toolchain._started
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(tmp_path / "other"))
    toolchain.get_toolchain.cache_clear()
    assert toolchain.get_toolchain() == background  # probed here, from scratch
    assert seen == ["symgraph-probe", "MainThread"]


def test_sg_function_probes_in_the_background(fresh, monkeypatch):
    seen = record_probes(monkeypatch)
    x = T.vector("x")
    f = sg.function([x], x + 1)
    assert f.backend == "c" and seen == ["symgraph-probe"]
    assert f([1.0]).tolist() == [2.0]


def test_python_backend_starts_no_probe(fresh, monkeypatch):
    seen = record_probes(monkeypatch)
    x = T.vector("x")
    sg.function([x], x + 1, backend="python")
    assert seen == [] and not toolchain._started


def test_background_errors_reach_the_caller(fresh, monkeypatch):
    def broken(cc):
        raise OSError("probe failed")

    monkeypatch.setattr(toolchain, "_probe_cached", broken)
    toolchain.probe_in_background()
    with pytest.raises(OSError, match="probe failed"):
        toolchain.get_toolchain()


def test_no_compiler_falls_back_to_python_with_a_warning(fresh, monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    monkeypatch.setattr(backends, "_warned_no_c", False)
    x = T.vector("x")
    with pytest.warns(UserWarning, match="no working C compiler"):
        f = sg.function([x], x * 2)
    assert f.backend == "python" and f([2.0]).tolist() == [4.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per process
        assert sg.function([x], x * 3).backend == "python"
    with pytest.raises(RuntimeError, match="not available"):
        sg.function([x], x * 2, backend="c")


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 vector ABI"
)
def test_one_build_probe_agrees_with_a_build_per_question(monkeypatch):
    cc = toolchain._find_cc()
    combined = toolchain._probe(cc)
    monkeypatch.setattr(toolchain, "_probe_openmp_mvec_x86", lambda cc, tmp: None)
    separate = toolchain._probe(cc)
    assert combined == separate and combined["works"]


def test_compiler_that_builds_nothing_does_not_work(tmp_path):
    fake = tmp_path / "fake-cc"
    fake.write_text(
        '#!/bin/sh\nif [ "$1" = --version ]; then echo "fake 1.0"; exit 0; fi\nexit 1\n'
    )
    fake.chmod(0o755)
    assert toolchain._probe(str(fake)) == {"works": False}


def test_job_returns_or_raises_in_the_caller():
    job = toolchain.Job(lambda a, b: (a + b, threading.current_thread().name), 1, 2)
    assert job.result() == (3, "symgraph") and job.result() == (3, "symgraph")

    def fail():
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        toolchain.Job(fail, name="x").result()
