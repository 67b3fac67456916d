"""Windows written through, and scratch buffers read through views.

A region (the indexed part of ``set_subtensor``'s copy, one slice of a
``Batched`` output) has its own rank and static shape: a static 1 of the
whole array must not make an axis of the region look broadcast. A scratch
buffer that a view reads (a non-contiguous ``reshape``'s copy) lives as long
as the last reader of any view of it.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph.ops.batched import vectorize_graph
from tests.codegen_c.conftest import assert_same, both, needs_cc

pytestmark = needs_cc


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "build",
    [
        lambda x, y: T.set_subtensor(x[0], y),
        lambda x, y: T.inc_subtensor(x[0], y),
        lambda x, y: T.set_subtensor(x[-1, 1:], y[1:]),
        lambda x, y: T.inc_subtensor(x[0, ::-1], y).sum(),
    ],
    ids=["set-row", "inc-row", "set-tail", "inc-reversed-sum"],
)
def test_writing_an_indexed_row_of_a_static_one_row_matrix(build, dtype):
    # x's static (1, ?) must not make the row's own axis read as broadcast
    x = T.tensor("x", dtype=dtype, shape=(1, None))
    y = T.vector("y", dtype=dtype)
    fp, fc = both([x, y], build(x, y))
    xv = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=dtype)
    yv = np.array([10.0, 20.0, 30.0, 40.0], dtype=dtype)
    assert_same(fp(xv, yv), fc(xv, yv))


def test_writing_into_a_static_one_axis_after_a_dropped_axis():
    x = T.tensor("x", dtype="float64", shape=(None, 1, None))
    y = T.matrix("y")
    fp, fc = both([x, y], T.inc_subtensor(x[1], y))
    xv = np.arange(12.0).reshape(3, 1, 4)
    yv = np.arange(4.0).reshape(1, 4) * 10
    assert_same(fp(xv, yv), fc(xv, yv))


@pytest.mark.parametrize("shape", [(2, 2, 2), (3, 5, 7), (4, 33, 9)])
@pytest.mark.parametrize(
    "build",
    [
        lambda r: r.dimshuffle(2, 1, 0).sum(axis=1) * 2,
        lambda r: T.exp(r.dimshuffle(2, 1, 0)).sum(axis=1) * 2,
        lambda r: (r[:, ::-1] + 1).sum(axis=1) * T.tanh(r[:, 0, :]),
    ],
    ids=["sum", "exp-sum", "slice"],
)
def test_a_reshaped_copy_lives_as_long_as_its_views(build, shape):
    # reshape of a non-contiguous input copies into a scratch slot, and the
    # nodes after it read that copy only through views of the reshape
    x = T.tensor3("x")
    fp, fc = both([x], build(x.reshape(x.shape)))
    values = np.random.default_rng(0).normal(size=shape)
    strided = np.repeat(values, 2, axis=-1)[..., ::2]
    assert_same(fp(strided), fc(strided))
    assert_same(fp(values), fc(values))


@pytest.mark.parametrize("batch", [(1, None, None), (None, None, None)])
def test_a_batched_op_with_a_static_batch_of_one(batch):
    # Join has no batch rule: vectorising it wraps it in Batched, whose C
    # loop writes each slice's result through a region of the output
    u = T.matrix("u")
    stack = T.tensor("U", dtype="float64", shape=batch)
    (out,) = vectorize_graph([T.concatenate([u, u * 2], axis=0)], {u: stack})
    fp, fc = both([stack], out)
    values = np.arange(24.0).reshape(1 if batch[0] == 1 else 2, 3, -1)
    assert_same(fp(values), fc(values))
