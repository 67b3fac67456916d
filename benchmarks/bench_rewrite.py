"""How the optimizer scales with graph size (a benchmark, not a test).

Optimizes (optimizer="fast_run") elementwise chains of about 100, 1,000 and
10,000 nodes and the full gradient graph of MLPs of 80 and 800 layers, and
prints nodes before/after, seconds, and the time ratio per 10x nodes (the
goal: at most ~12x).

    python benchmarks/bench_rewrite.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.fgraph import FunctionGraph
from symgraph.rewrite import optimize_graph


def chain(n_nodes: int):
    """``y = tanh(y * a + b)`` (2 Dimshuffles, mul, add, tanh per step) to ~n nodes."""
    x = T.vector("x")
    a = T.vector("a")
    y = x
    for k in range(n_nodes // 4):
        y = T.tanh(y * a + 0.5) if k % 2 else T.exp(-y) * a
    return [x, a], [y.sum()]


def mlp_grad(layers: int, width: int = 8):
    """The loss and the gradients of every weight and bias of a tanh MLP."""
    rng = np.random.default_rng(0)
    x = T.matrix("x")
    params = []
    h = x
    for _ in range(layers):
        w = sg.shared(rng.normal(size=(width, width)) / width)
        b = sg.shared(np.zeros(width))
        params += [w, b]
        h = T.tanh(T.dot(h, w) + b)
    loss = T.sqr(h).mean()
    return [x], [loss, *sg.grad(loss, params)]


def measure(build, repeat: int):
    inputs, outputs = build()
    best, stats = None, None
    for _ in range(repeat):
        fg = FunctionGraph(inputs + _shared(outputs), outputs, check_inputs=False)
        t0 = time.perf_counter()
        stats = optimize_graph(fg, "fast_run")
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return stats.nodes_before, stats.nodes_after, best


def _shared(outputs):
    from symgraph.graph import SharedVariable, graph_inputs

    return [v for v in graph_inputs(outputs) if isinstance(v, SharedVariable)]


COLUMNS = ("<22", ">8", ">8", ">10", ">9", ">21")


def row(cells) -> str:
    return "".join(f"{c:{w}}" for c, w in zip(cells, COLUMNS, strict=True))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    rows = []
    for label, build in [
        ("chain 100", lambda: chain(100)),
        ("chain 1,000", lambda: chain(1000)),
        ("chain 10,000", lambda: chain(10000)),
        ("MLP grad 80 layers", lambda: mlp_grad(80)),
        ("MLP grad 800 layers", lambda: mlp_grad(800)),
    ]:
        rows.append((label, *measure(build, args.repeat)))
    head = ("graph", "nodes", "after", "seconds", "us/node", "x per 10x nodes")
    print(row(head))
    prev = None
    for label, before, after, seconds in rows:
        ratio = ""
        if prev is not None and label.split()[0] == prev[0].split()[0]:
            growth = before / prev[1]
            ratio = f"{seconds / prev[3]:.1f}x ({growth:.1f}x nodes)"
        per_node = seconds / before * 1e6
        print(row((label, before, after, f"{seconds:.3f}", f"{per_node:.1f}", ratio)))
        prev = (label, before, after, seconds)


if __name__ == "__main__":
    main()
