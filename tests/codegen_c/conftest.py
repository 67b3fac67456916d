"""Shared helpers of the C backend tests."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.codegen_c import backend, diskcache, toolchain

needs_cc = pytest.mark.skipif(
    not toolchain.compiler_works(), reason="no working C compiler"
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty disk cache (its path), nothing compiled in memory, stats at 0."""
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(diskcache, "stats", dict.fromkeys(diskcache.stats, 0))
    diskcache.memory.clear()
    backend.clear_memory_cache()
    yield tmp_path / "cache"
    diskcache.memory.clear()
    backend.clear_memory_cache()


def both(inputs, outputs, **kwargs):
    """The same graph compiled on the python and the C backend."""
    kwargs.setdefault("on_unused_input", "ignore")
    return (
        sg.function(inputs, outputs, backend="python", **kwargs),
        sg.function(inputs, outputs, backend="c", **kwargs),
    )


def assert_same(want, got, rtol=1e-7, atol=1e-12) -> None:
    """Equal dtypes, shapes and values (lists of outputs compared pairwise)."""
    if not isinstance(want, list):
        want, got = [want], [got]
    assert len(want) == len(got)
    for w, g in zip(want, got, strict=False):
        assert isinstance(g, np.ndarray), type(g)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
