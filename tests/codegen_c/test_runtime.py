"""The C backend's run time: calls, layouts, updates, fallbacks, threads, caching."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph import Apply, as_tensor_variable
from symgraph.op import Op
from tests.codegen_c.conftest import assert_same, both, needs_cc

pytestmark = needs_cc
rng = np.random.default_rng(0)


# One compiled function per family, shared by the tests below.
@pytest.fixture(scope="module")
def elemwise():
    x, y = T.matrix("x"), T.matrix("y")
    return both([x, y], T.tanh(x * 2.0 - y) + T.exp(-x * x))


@pytest.fixture(scope="module")
def broadcast():
    x, r, c = T.matrix("x"), T.row("r"), T.col("c")
    v = T.vector("v")
    return both(
        [x, r, c, v], [x + r * c - v, (x * v).sum(axis=0), T.max(x - c, axis=1)]
    )


@pytest.fixture(scope="module")
def reductions():
    x = T.tensor3("x")
    outs = [
        x.sum(),
        x.sum(axis=(0, 2)),
        x.prod(axis=1, keepdims=True),
        x.max(axis=0),
        x.min(axis=(1, 2)),
        T.argmax(x, axis=2),
        T.argmin(x, axis=(0, 1)),
        (x > 0).all(axis=1),
        (x > 0.5).any(),
        T.exp(x).sum(axis=-1),
    ]
    return both([x], outs)


def test_default_backend_is_c():
    x = T.vector("x")
    assert sg.function([x], x + 1).backend == "c"


def test_elementwise_matches_python(elemwise):
    fp, fc = elemwise
    a, b = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    assert_same(fp(a, b), fc(a, b))


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a,
        lambda a: a[::-1],
        lambda a: a[:, ::-2],
        lambda a: np.asfortranarray(a),
        lambda a: a.T.copy().T,
        lambda a: a[1:, 1:],
        lambda a: a[:0],
        lambda a: a[::-1, ::-1][:, :0],
    ],
    ids=[
        "contiguous",
        "neg0",
        "neg1-step2",
        "fortran",
        "transposed",
        "offset",
        "empty",
        "empty-neg",
    ],
)
def test_views(elemwise, view):
    fp, fc = elemwise
    a, b = rng.normal(size=(6, 8)), rng.normal(size=(6, 8))
    a, b = view(a), view(b)
    assert_same(fp(a, b), fc(a, b))


def test_big_arrays_take_the_parallel_loops(elemwise):
    fp, fc = elemwise
    a, b = rng.normal(size=(300, 700)), rng.normal(size=(300, 700))
    assert_same(fp(a, b), fc(a, b))
    assert_same(fp(a[::-1], b.T.copy().T), fc(a[::-1], b.T.copy().T))


@pytest.mark.parametrize("shape", [(3, 4), (1, 5), (0, 4), (300, 400)])
def test_broadcasting(broadcast, shape):
    fp, fc = broadcast
    m, n = shape
    args = (
        rng.normal(size=(m, n)),
        rng.normal(size=(1, n)),
        rng.normal(size=(m, 1)),
        rng.normal(size=n),
    )
    if m == 0:
        fp, fc = fp, fc
        out_p, out_c = fp(*args)[:2], fc(*args)[:2]
        assert_same(out_p, out_c)
        return
    assert_same(fp(*args), fc(*args))


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 1, 1), (5, 1, 300), (40, 30, 20)])
def test_reductions(reductions, shape):
    fp, fc = reductions
    a = rng.normal(size=shape)
    assert_same(fp(a), fc(a), rtol=1e-10)
    assert_same(fp(a[::-1, :, ::-1]), fc(a[::-1, :, ::-1]), rtol=1e-10)


def test_nan_propagates_in_max_and_argmax(reductions):
    fp, fc = reductions
    a = rng.normal(size=(2, 3, 4))
    a[1, 2, 3] = np.nan
    assert_same(fp(a), fc(a))


def test_outputs_are_fresh_arrays():
    x = T.vector("x")
    f = sg.function([x], [x, x * 1, x], backend="c")
    a = np.arange(3.0)
    out = f(a)
    assert not any(np.shares_memory(a, o) for o in out)
    assert not np.shares_memory(out[0], out[2])
    again = f(a)
    assert not np.shares_memory(out[1], again[1])
    out[1][0] = 100.0  # the caller owns it
    assert f(a)[1][0] == 0.0


def test_a_dropped_output_is_reused_and_a_kept_one_never_is():
    x = T.vector("x")
    f = sg.function([x], [T.exp(x), x * 2], backend="c")
    a, b = np.arange(3.0), np.arange(3.0) + 10
    held = f.program.fast_call.__globals__["last"]  # what the next call may reuse
    first = f(a)[0]
    assert held[0] is first
    first_id = id(first)
    del first  # dropped: the next call writes into it (held keeps it alive)
    assert id(f(a)[0]) == first_id
    kept = f(a)
    view = f(a)[1][1:]  # a view keeps its base alive
    again = f(b)
    assert not np.shares_memory(kept[0], again[0])
    assert not np.shares_memory(view, again[1])
    np.testing.assert_array_equal(kept[0], np.exp(a))
    np.testing.assert_array_equal(view, a[1:] * 2)
    # another shape: the dropped array is offered, C finds it the wrong
    # shape and allocates; the one after that is reused again
    small = f(b[:2])
    assert small[0].shape == (2,)
    np.testing.assert_array_equal(small[0], np.exp(b[:2]))
    small_id = id(small[0])
    del small
    assert id(f(b[1:])[0]) == small_id
    np.testing.assert_array_equal(f(np.arange(5.0))[1], np.arange(5.0) * 2)


def test_big_outputs_are_aligned_and_reused_like_the_others():
    x = T.vector("x")
    f = sg.function([x], x * 3.0, backend="c")
    a = rng.standard_normal(1 << 18)  # 2 MiB: NumPy's buffer is misaligned
    first = f(a)
    assert first.ctypes.data % 64 == 0  # C refused it and allocated
    first_id = id(first)
    del first
    again = f(a)  # the aligned buffer is offered again
    assert id(again) == first_id
    np.testing.assert_array_equal(again, a * 3.0)
    view = again[::2]  # a view's base is C's buffer, not `again`
    del again
    third = f(a + 1)
    assert not np.shares_memory(view, third)
    np.testing.assert_array_equal(view, a[::2] * 3.0)


def test_reuse_reads_this_interpreters_reference_counts():
    from symgraph.codegen_c import glue

    assert glue.FREE is not None  # else every call would allocate
    x = T.vector("x")
    f = sg.function([x], x + 1, backend="c")
    assert "!= FREE" in f.program.fast_call.source


def _replay_a_call_inside_the_reuse_test(f, other_args):
    """Run ``f(*other_args)`` right after the next call first counts
    references (as another thread could); ``inner`` gets what it returned."""
    env = f.program.fast_call.__globals__
    real, inner, armed = env["refs"], [], [True]

    def refs(obj):
        count = real(obj) - 1  # minus this wrapper's own reference
        if armed[0]:
            armed[0] = False
            inner.append(f(*other_args))
        return count

    env["refs"] = refs
    return env, real, inner


def test_reuse_test_reads_the_previous_output_once():
    # another thread's whole call between the test and the take must not
    # make this call write into that thread's (held) result
    x = T.vector("x")
    f = sg.function([x], x + 1, backend="c")
    a, b = np.zeros(3), np.full(3, 10.0)
    dropped = f(a)
    del dropped
    env, real, inner = _replay_a_call_inside_the_reuse_test(f, [b])
    try:
        mine = f(a)
    finally:
        env["refs"] = real
    assert mine is not inner[0]
    np.testing.assert_array_equal(inner[0], b + 1)
    np.testing.assert_array_equal(mine, a + 1)


def test_reuse_test_never_writes_an_update_into_its_own_input():
    w = sg.shared(np.arange(6.0), name="w")
    f = sg.function([], [], updates=[(w, w[::-1] * 1.0)], backend="c")
    f()
    env, real, inner = _replay_a_call_inside_the_reuse_test(f, [])
    try:
        f()
    finally:
        env["refs"] = real
    # two serial reversals: the original order, never a mix of both
    np.testing.assert_array_equal(w.get_value(), np.arange(6.0))


def test_a_dropped_output_relabelled_in_place_is_not_reused():
    x = T.vector("x")
    f = sg.function([x], x + 1, backend="c")
    a = np.arange(3.0)
    relabelled = f(a)
    relabelled.dtype = np.int64  # same itemsize, so the shape still fits
    del relabelled
    again = f(a)
    assert again.dtype == np.float64
    np.testing.assert_array_equal(again, a + 1)


def test_scalar_and_empty_outputs():
    x = T.vector("x")
    f = sg.function([x], [x.sum(), x[:0] + 1, x.shape], backend="c")
    s, e, shp = f(np.arange(4.0))
    assert s.shape == () and s == 6.0
    assert e.shape == (0,)
    assert shp.tolist() == [4]


def test_updates_are_simultaneous():
    a = sg.shared(np.float64(1.0), name="a")
    b = sg.shared(np.float64(2.0), name="b")
    f = sg.function([], [a + b], updates=[(a, b), (b, a)], backend="c")
    assert f()[0] == 3.0
    assert (a.get_value(), b.get_value()) == (2.0, 1.0)
    f()
    assert (a.get_value(), b.get_value()) == (1.0, 2.0)


def test_sgd_step_updates_in_the_fast_path():
    w = sg.shared(np.ones((3, 2)), name="w")
    x = T.matrix("x")
    loss = T.tanh(x @ w).sum()
    step = sg.function(
        [x], loss, updates=[(w, w - 0.1 * sg.grad(loss, w))], backend="c"
    )
    ref_w = sg.shared(np.ones((3, 2)), name="w")
    ref_loss = T.tanh(x @ ref_w).sum()
    ref = sg.function(
        [x],
        ref_loss,
        updates=[(ref_w, ref_w - 0.1 * sg.grad(ref_loss, ref_w))],
        backend="python",
    )
    data = rng.normal(size=(4, 3))
    for _ in range(3):
        assert_same(ref(data), step(data))
        assert_same(ref_w.get_value(), w.get_value())


def test_arguments_by_keyword_lists_and_casts():
    x, n = T.vector("x"), T.iscalar("n")
    f = sg.function([x, n], x * n, backend="c")
    assert f(x=[1.0, 2.0], n=3).tolist() == [3.0, 6.0]
    assert f(np.arange(3, dtype="int32"), np.int32(2)).tolist() == [0.0, 2.0, 4.0]
    big_endian = np.arange(3.0).astype(">f8")
    assert f(big_endian, 2).tolist() == [0.0, 2.0, 4.0]
    with pytest.raises(TypeError, match="'n'.*test_runtime.py"):
        f(np.arange(3.0), 2.5)


def test_fast_path_skips_the_general_path(monkeypatch):
    x = T.vector("x")
    f = sg.function([x], x + 1, backend="c")
    assert f._fast is not None
    monkeypatch.setattr(
        f.program, "run", lambda args: pytest.fail("took the slow path")
    )
    assert f(np.zeros(3)).tolist() == [1.0, 1.0, 1.0]


def test_scratch_buffers_follow_the_shapes():
    x = T.matrix("x")
    y = T.exp(x).sum(axis=0) + T.tanh(x.T).max(axis=1)
    fp, fc = both([x], [y, (x * 2).T.reshape((-1,)) * 3])
    for shape in [(3, 4), (3, 4), (50, 60), (2, 2), (1, 3), (50, 60)]:
        a = rng.normal(size=shape)
        assert_same(fp(a), fc(a))
    with pytest.raises(ValueError, match="empty"):  # max of nothing, as NumPy
        fc(np.zeros((0, 3)))


def test_shapes_known_only_at_run_time():
    n = T.lscalar("n")
    v = T.vector("v")
    f = sg.function(
        [n, v], [T.alloc(v, n, v.shape[0]) * 2, T.arange(n) + 1], backend="c"
    )
    for k in (3, 0, 5):
        big, ar = f(k, np.arange(2.0))
        assert big.shape == (k, 2) and ar.tolist() == list(range(1, k + 1))
        big[...] = 7  # adopted buffers are ordinary writable arrays
    del f
    assert big.sum() == 70.0


class Halve(Op):
    """A user op with only perform: runs between native segments."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] / 2

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes


def test_ops_without_c_rule_run_between_segments():
    x = T.vector("x")
    y = (Halve()(T.exp(x) + 1) * 3).sum() + Halve()(x).max()
    fp, fc = both([x], [y, Halve()(x)])
    a = rng.normal(size=7)
    assert_same(fp(a), fc(a))
    assert "seg1" in fc.source  # cut into native segments
    with pytest.raises(TypeError, match="'x'"):
        fc("nope")


def test_threads_share_one_function(elemwise):
    fp, fc = elemwise
    a, b = rng.normal(size=(40, 50)), rng.normal(size=(40, 50))
    want = fp(a, b)
    errors = []

    def work():
        for _ in range(300):
            if not np.allclose(fc(a, b), want):
                errors.append("wrong result")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_integer_gemm_runs_the_loops_without_blas():
    from symgraph.ops.composite import Gemm

    c, a, b = (T.matrix(n, dtype="int64") for n in "cab")
    alpha, beta = T.scalar("alpha", dtype="int64"), T.scalar("beta", dtype="int64")
    f = sg.function([c, alpha, a, b, beta], Gemm()(c, alpha, a, b, beta))
    rng = np.random.default_rng(0)
    cv, av, bv = (rng.integers(-5, 5, s) for s in [(3, 4), (3, 5), (5, 4)])
    got = f(cv, np.int64(2), av, bv, np.int64(3))
    np.testing.assert_array_equal(got, 2 * av @ bv + 3 * cv)
    assert "cblas_" not in f.source


def test_integer_semantics_match_numpy():
    a, b = T.bvector("a"), T.bvector("b")
    i, j = T.lvector("i"), T.lvector("j")
    outs = [a + b, a * b, -a, i // j, i % j, abs(i), (i << 3) >> 1, i.sum()]
    fp, fc = both([a, b, i, j], outs)
    va = np.array([100, -128, 127, 5], dtype="int8")
    vi = np.array([7, -7, -(2**63), 2**63 - 1])
    vj = np.array([2, 0, -1, -3])
    with np.errstate(all="ignore"):
        assert_same(fp(va, va, vi, vj), fc(va, va, vi, vj))


def test_second_function_on_an_identical_graph_is_cached():
    def build():
        x = T.matrix("x")
        return sg.function([x], T.tanh(x * 2 + 1).sum(axis=0), backend="c")

    build()
    times = []
    for _ in range(5):  # the best of a few: the machine may be busy
        start = time.perf_counter()
        f = build()
        times.append(time.perf_counter() - start)
    assert min(times) < 0.02, times
    assert f(np.ones((2, 3))).shape == (3,)


def test_threads_with_outputs_allocated_in_c():
    n, v = T.lscalar("n"), T.vector("v")
    f = sg.function(
        [n, v], [T.alloc(v, n, v.shape[0]) * 2, T.arange(n) + 1], backend="c"
    )
    errors = []

    def work(k):
        for _ in range(200):
            big, ar = f(k, np.arange(2.0))
            if big.shape != (k, 2) or ar.tolist() != list(range(1, k + 1)):
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in (3, 5, 0, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


_SPIN = (
    "import os, symgraph; "
    "print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))"
)


@pytest.mark.parametrize(
    "env, want",
    [
        ({}, "20000 None"),  # workers spin a little, then sleep
        ({"OMP_WAIT_POLICY": "PASSIVE"}, "None PASSIVE"),  # the user's choice
        ({"GOMP_SPINCOUNT": "5"}, "5 None"),
    ],
)
def test_openmp_workers_spin_briefly_unless_the_user_says(env, want):
    # set by 'import symgraph': another library may load libgomp before the
    # first compiled function does
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
    }
    out = subprocess.run(
        [sys.executable, "-c", _SPIN],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split("\n")[-2] == want


_KEEP_TO_EXIT = """
import numpy as np, symgraph as sg, symgraph.tensor as T
n = T.lscalar("n")
f = sg.function([n], T.arange(n) * 2.0, backend="c")  # C allocates the output
dropped = [f(1 << 18) for _ in range(2)]
kept = [f(1 << 18)]
kept.append(kept)  # a cycle: freed by the last collection, after the modules
print(kept[0][-1])
"""


def test_arrays_c_allocated_may_outlive_everything_at_exit():
    # freed through the generated library: it must still be loaded when the
    # interpreter's last collection reaches them
    out = subprocess.run(
        [sys.executable, "-c", _KEEP_TO_EXIT], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["524286.0"]
