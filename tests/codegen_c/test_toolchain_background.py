"""The compiler probe that sg.function starts before rewriting the graph."""

import os
import platform
import warnings

import pytest

import symgraph as sg
import symgraph.rewrite
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


def count_probes(monkeypatch) -> list:
    """One entry per `_Probe` started from now on (its compiler runs)."""
    started = []
    probe = toolchain._Probe

    class Counted(probe):
        def __init__(self, cc):
            started.append(cc)
            super().__init__(cc)

    monkeypatch.setattr(toolchain, "_Probe", Counted)
    return started


def test_started_probe_gives_the_same_toolchain(fresh, monkeypatch, tmp_path):
    started = count_probes(monkeypatch)
    toolchain.probe_in_background()
    toolchain.probe_in_background()  # one probe, however often asked
    pending = toolchain._started[toolchain._find_cc()]
    assert len(started) == 1 and pending.procs  # the compilers are running
    background = toolchain.get_toolchain()
    assert not toolchain._started and not os.path.exists(pending.tmp)
    toolchain.probe_in_background()  # known now: nothing to start
    assert len(started) == 1 and not toolchain._started
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(tmp_path / "other"))
    toolchain.get_toolchain.cache_clear()
    assert toolchain.get_toolchain() == background  # probed here, from scratch
    assert len(started) == 2


def test_a_probe_on_disk_starts_nothing(fresh, monkeypatch):
    toolchain.get_toolchain()  # probes and writes the result to disk
    toolchain.get_toolchain.cache_clear()
    started = count_probes(monkeypatch)
    toolchain.probe_in_background()
    assert not started and toolchain.get_toolchain().version


def test_sg_function_starts_the_probe_before_rewriting(fresh, monkeypatch):
    seen = []
    optimize = symgraph.rewrite.optimize_graph

    def watching(*args, **kwargs):
        seen.append(dict(toolchain._started))
        return optimize(*args, **kwargs)

    monkeypatch.setattr(symgraph.rewrite, "optimize_graph", watching)
    x = T.vector("x")
    f = sg.function([x], x + 1)
    assert list(seen[0]) == [toolchain._find_cc()] and not toolchain._started
    assert f.backend == "c" and f([1.0]).tolist() == [2.0]


def test_python_backend_starts_no_probe(fresh, monkeypatch):
    started = count_probes(monkeypatch)
    x = T.vector("x")
    sg.function([x], x + 1, backend="python")
    assert not started and not toolchain._started


def test_an_unfinished_probe_cleans_up_after_itself():
    pending = toolchain._Probe(toolchain._find_cc())
    tmp, procs = pending.tmp, list(pending.procs.values())
    del pending  # never finished: collected (or, at the latest, at exit)
    assert not os.path.exists(tmp)
    assert all(proc.returncode is not None for proc in procs)


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
    # the combined build fails: OpenMP and libmvec probed one by one
    monkeypatch.setattr(toolchain, "_openmp_mvec_x86", lambda cc, tmp: ["false"])
    separate = toolchain._probe(cc)
    assert combined == separate and combined["works"]


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 vector ABI"
)
def test_vmath_is_off_where_its_code_does_not_build(monkeypatch):
    cc = toolchain._find_cc()
    working = toolchain._probe(cc)
    monkeypatch.setattr(toolchain, "_vmath_probe_code", lambda: "#error no\n")
    broken = toolchain._probe(cc)
    assert broken["works"] and not broken["vmath"]
    assert broken["mvec"] == working["mvec"]
    assert broken["has_openmp"] == working["has_openmp"]


def test_compiler_that_builds_nothing_does_not_work(tmp_path):
    fake = tmp_path / "fake-cc"
    fake.write_text(
        '#!/bin/sh\nif [ "$1" = --version ]; then echo "fake 1.0"; exit 0; fi\nexit 1\n'
    )
    fake.chmod(0o755)
    assert toolchain._probe(str(fake)) == {"works": False}
    assert toolchain._probe(str(tmp_path / "missing")) == {"works": False}
