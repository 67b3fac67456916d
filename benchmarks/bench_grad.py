"""How the gradient graph grows, and how long building it takes.

A chain of N layers ``h = tanh(h @ W_i + b_i)``; ``sg.grad(sum(h), all W)``.
Prints, for N = 10, 100, 1000: the Apply nodes of the forward graph and of
the gradient graph, nodes per layer (constant when growth is linear), and
the median time of ``sg.grad`` over 5 runs. Also times ``sg.jacobian`` and
``sg.hessian`` of a small network (vectorised: no loop over outputs).

Run: python benchmarks/bench_grad.py
"""

from __future__ import annotations

import statistics
import time

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph import toposort


def chain(n_layers: int):
    x = T.matrix("x")
    h, weights = x, []
    for i in range(n_layers):
        w = T.matrix(f"W{i}")
        b = T.vector(f"b{i}")
        weights.append(w)
        h = T.tanh(h @ w + b)
    return h.sum(), weights


def median_time(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    print("sg.grad(sum(h), [W_1..W_N]) for h = tanh(h @ W_i + b_i)")
    for n in (10, 100, 1000):
        cost, weights = chain(n)
        grads = sg.grad(cost, weights)
        forward = len(toposort([cost]))
        total = len(toposort(grads))
        seconds = median_time(lambda c=cost, w=weights: sg.grad(c, w))
        print(
            f"  N={n:>4}: forward {forward:>5} nodes, gradient graph {total:>6} nodes "
            f"({total / n:.1f} per layer), grad built in {seconds * 1e3:7.1f} ms"
        )

    x = T.matrix("x")
    w = T.matrix("w")
    out = T.tanh(T.dot(x, w)).sum(axis=0)
    seconds = median_time(lambda: sg.jacobian(out, [x, w]))
    print(f"jacobian of a layer w.r.t. [x, w]: built in {seconds * 1e3:.1f} ms")
    cost = (T.tanh(T.dot(x, w)) ** 2).sum()
    seconds = median_time(lambda: sg.hessian(cost, w))
    print(f"hessian of a layer's cost w.r.t. w: built in {seconds * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
