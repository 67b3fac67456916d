"""The graph optimizer: ordered phases of local rewrites run to a fixpoint.

Phases, in order: merge (CSE), constant_fold, canonicalize, stabilize,
specialize, fusion (see :mod:`symgraph.rewrite.engine`). ``optimizer=``
picks which run: ``"fast_run"`` (all), ``"fast_compile"`` (up to
stabilize: stability is correctness) or ``"none"``. ``include``/``exclude``
take rewrite or phase names.

Example
-------
>>> import symgraph as sg, symgraph.tensor as T
>>> x = T.vector("x")
>>> f = sg.function([x], T.log(1 + x), backend="python")
>>> f.rewrite_stats["local_log1p"].applications
1
"""

from __future__ import annotations

from symgraph.rewrite import basic, canonicalize, fusion, specialize, stabilize  # noqa: F401
from symgraph.rewrite.engine import (
    PHASES,
    REGISTRY,
    RewriteStats,
    RewriteWarning,
    optimize,
    pattern,
    rewriter,
)

__all__ = [
    "optimize_graph",
    "rewriter",
    "pattern",
    "PHASES",
    "REGISTRY",
    "RewriteStats",
    "RewriteWarning",
]


def optimize_graph(fgraph, optimizer: str, include=(), exclude=()) -> RewriteStats:
    """Rewrite ``fgraph`` in place; returns the counters (``f.rewrite_stats``)."""
    return optimize(fgraph, optimizer, include, exclude)
