"""Several nodes of one kind in one C function must not share locals.

A reduction whose loops all vanish (every axis of static size 1, or a full
reduction) emits its statements at the scope it is in, and so does a
Repeat's index table: two of them must not declare the same locals there
(``sg_v``, the argmax counter, the repeat position).
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from tests.codegen_c.conftest import assert_same, both, needs_cc

pytestmark = needs_cc

REDUCTIONS = ["sum", "prod", "mean", "max", "min", "argmax", "argmin", "all", "any"]


@pytest.mark.parametrize("shape", [(1, 1), (1, None), (None, 1), (None, None), (1,)])
def test_every_reduction_twice_and_chained_in_one_function(shape):
    a = T.tensor("a", dtype="float64", shape=shape)
    b = T.tensor("b", dtype="float64", shape=shape)
    outs = []
    for name in REDUCTIONS:
        for axis in [None, *range(len(shape))]:
            kw = {"axis": axis}
            if not name.startswith("arg"):
                kw["keepdims"] = True
            reduce = getattr(T, name)
            first = reduce(a * b, **kw)
            outs += [first, reduce(a, **kw), reduce(b, **kw)]
            if not name.startswith("arg"):  # a second pass over the first's result
                outs.append(reduce((a - first) * b, **kw))
    fp, fc = both([a, b], outs)
    rng = np.random.default_rng(0)
    values = [rng.normal(size=[n or 3 for n in shape]) for _ in range(2)]
    assert_same(fp(*values), fc(*values))


@pytest.mark.parametrize("shape", [(1, None), (None, None)])
def test_two_repeats_with_counts_in_one_function(shape):
    a = T.tensor("a", dtype="float64", shape=shape)
    b = T.matrix("b")
    outs = [T.repeat(a, [2, 0, 1], axis=-1), T.repeat(b, [1, 3, 1], axis=-1)]
    fp, fc = both([a, b], outs)
    values = np.arange(3.0).reshape(1, 3), np.arange(6.0).reshape(2, 3)
    assert_same(fp(*values), fc(*values))
