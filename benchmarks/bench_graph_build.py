"""How long building a graph takes: graphs of 1,000 and 10,000 Apply nodes.

Run: python benchmarks/bench_graph_build.py
"""

from __future__ import annotations

import statistics
import time

import symgraph.tensor as T
from symgraph.graph import toposort


def build(n_nodes: int):
    """A chain of ``tanh(h * 0.5 + b)`` blocks (3 Apply nodes each)."""
    x = T.matrix("x")
    b = T.row("b")
    h = x
    for _ in range(n_nodes // 3):
        h = T.tanh(h * 0.5 + b)
    return h


def main() -> None:
    for n in (1_000, 10_000):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            out = build(n)
            times.append(time.perf_counter() - start)
        nodes = len(toposort([out]))
        median = statistics.median(times)
        print(
            f"{nodes:>6} Apply nodes: median {median * 1e3:7.1f} ms "
            f"({median / nodes * 1e6:.1f} us/node)"
        )


if __name__ == "__main__":
    main()
