"""Many reductions in one C function, over shapes with static 1s.

A reduction whose loops all vanish (every axis of static size 1, or a full
reduction) emits its statements at the scope it is in: two of them must not
declare the same locals there (``sg_v``, the argmax counter).
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
