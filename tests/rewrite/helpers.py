"""Shared helpers of the rewrite tests: compile both ways, compare, inspect."""

from __future__ import annotations

import warnings

import numpy as np

import symgraph as sg
from symgraph.graph import Constant, toposort
from symgraph.ops.elemwise import Elemwise
from symgraph.rewrite import RewriteWarning


def compile_both(inputs, outputs, **kwargs):
    """(optimized, unoptimized) python-backend functions; rewrite warnings fail."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RewriteWarning)
        f = sg.function(
            inputs, outputs, backend="python", on_unused_input="ignore", **kwargs
        )
    g = sg.function(
        inputs, outputs, backend="python", optimizer="none", on_unused_input="ignore"
    )
    return f, g


def check(inputs, outputs, values, rtol=1e-7, atol=1e-12, **kwargs):
    """Optimized and unoptimized agree on ``values``; returns the optimized function."""
    f, g = compile_both(inputs, outputs, **kwargs)
    got, want = f(*values), g(*values)
    if not isinstance(got, list):
        got, want = [got], [want]
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape, (
            (a.dtype, b.dtype, a.shape, b.shape)
        )
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    return f


def op_names(f) -> list[str]:
    """Names of the ops in the optimized graph (scalar op names for Elemwise)."""
    names = []
    for node in toposort(f.optimized_graph):
        op = node.op
        if isinstance(op, Elemwise):
            names.append(type(op.scalar_op).__name__)
            inner = getattr(op.scalar_op, "nodes", ())
            names.extend(type(o).__name__ for o, _ in inner)
        else:
            names.append(type(op).__name__)
            scalar = getattr(op, "scalar_op", None)
            if scalar is not None:
                names.append(type(scalar).__name__)
                names.extend(type(o).__name__ for o, _ in getattr(scalar, "nodes", ()))
    return names


def equal_computations(xs, ys) -> bool:
    """Two graphs compute the same thing node for node (ops equal, constants by
    value)."""
    memo: dict = {}
    stack = list(zip(xs, ys, strict=True))
    while stack:
        x, y = stack.pop()
        if (x, y) in memo:
            continue
        memo[(x, y)] = True
        if x is y:
            continue
        if isinstance(x, Constant) and isinstance(y, Constant):
            if x.type.dtype != y.type.dtype or not np.array_equal(x.data, y.data):
                return False
            continue
        if x.owner is None or y.owner is None:
            return False
        if x.owner.op != y.owner.op or x.index != y.index:
            return False
        if len(x.owner.inputs) != len(y.owner.inputs):
            return False
        stack.extend(zip(x.owner.inputs, y.owner.inputs, strict=True))
    return True
