"""Focused tests of shape and join ops: static shapes, symbolic shapes, errors
(at build time when static, at run time otherwise), views and gradients.
Forward values, infer_shape and gradients per op are in tests/opinfo/shape.py."""

import importlib.util

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.ops import creation as C
from symgraph.ops import join as J
from symgraph.ops import shape as S

needs_indexing = pytest.mark.skipif(
    importlib.util.find_spec("symgraph.ops.subtensor") is None,
    reason="needs symgraph.ops.subtensor",
)


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, backend="python", on_unused_input="ignore")(
        *values
    )


# ------------------------------------------------------------------ reshape


def test_reshape_infers_static_shapes():
    t = T.tensor("t", shape=(2, 3, 4))
    assert T.reshape(t, (3, -1)).type.shape == (3, 8)
    assert T.reshape(t, (-1,)).type.shape == (24,)
    assert t.reshape(4, 6).type.shape == (4, 6)
    m = T.tensor("m", shape=(None, 3))
    assert T.reshape(m, (-1, 1)).type.shape == (None, 1)
    assert T.reshape(m, (S.shape_i(m, 0), 3, 1)).type.shape == (None, 3, 1)
    n = T.lscalar("n")
    assert T.reshape(m, (n, -1)).type.shape == (None, None)


def test_reshape_size_mismatch_fails_at_build_time_when_static():
    t = T.tensor("t", shape=(2, 3, 4))
    with pytest.raises(
        ValueError,
        match=r"cannot reshape 't' \(built at .*\) of shape \(2, 3, 4\) "
        r"\(24 elements\) into shape \(5, 5\)",
    ):
        T.reshape(t, (5, 5))
    with pytest.raises(
        ValueError, match="24 elements do not divide into 5-element parts"
    ):
        T.reshape(t, (5, -1))
    with pytest.raises(ValueError, match="-1 appears 2 times"):
        T.reshape(t, (-1, -1))
    with pytest.raises(ValueError, match="sizes must be >= 0"):
        T.reshape(T.matrix("m"), (-2, 3))


def test_reshape_size_mismatch_at_run_time_names_input_and_line():
    m = T.matrix("features")
    out = T.reshape(m, (4, -1))  # the line the error points at
    f = sg.function([m], out, backend="python")
    with pytest.raises(ValueError) as info:
        f(np.ones((3, 3)))
    message = str(info.value)
    assert "cannot reshape 'features'" in message
    assert "of shape (3, 3) (9 elements) into shape (4, -1)" in message
    assert "test_shape.py" in message and "out = T.reshape(m, (4, -1))" in message


def test_reshape_refuses_minus_one_that_arrives_at_run_time():
    t, n = T.tensor3("t"), T.lscalar("n")
    f = sg.function([t, n], T.reshape(t, (4, n)), backend="python")
    with pytest.raises(
        ValueError,
        match=r"entry 1 is -1 at run time"
        r".*-1 \('the rest'\) is allowed only as a constant",
    ):
        f(np.ones((2, 3, 4)), -1)


def test_reshape_with_symbolic_entries_and_ndim():
    t = T.tensor3("t")
    n = T.lscalar("n")
    out = T.reshape(t, (n, -1))
    np.testing.assert_array_equal(
        run([t, n], out, np.arange(24.0).reshape(2, 3, 4), 4),
        np.arange(24.0).reshape(4, 6),
    )
    with pytest.raises(ValueError, match="pass ndim="):
        T.reshape(t, T.lvector("s"))
    with pytest.raises(ValueError, match="the shape has 2 entries but ndim=3"):
        T.reshape(t, (2, -1), ndim=3)
    with pytest.raises(TypeError, match="integer scalar"):
        T.reshape(t, (2.0, -1))


def test_reshape_to_another_variables_shape():
    a, b = T.matrix("a"), T.tensor3("b")
    out = T.reshape(a, b.shape)
    assert out.ndim == 3
    got = run([a, b], out, np.arange(6.0).reshape(2, 3), np.zeros((1, 3, 2)))
    assert got.shape == (1, 3, 2)
    assert T.zeros(b.shape).owner.inputs[1].owner.op == S.Shape_i(0)


@needs_indexing
def test_reshape_with_x_shape_entries():
    t = T.tensor3("t")
    out = t.reshape((t.shape[0], -1))
    assert out.ndim == 2
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(run([t], out, x), x.reshape(2, 12))
    out = T.reshape(t, T.concatenate([t.shape[:1], [-1]]))
    np.testing.assert_array_equal(run([t], out, x), x.reshape(2, 12))
    s = T.lvector("s")
    np.testing.assert_array_equal(
        run([t, s], T.reshape(t, s, ndim=2), x, np.array([6, 4])), x.reshape(6, 4)
    )
    sg.verify_grad(lambda a: a.reshape((a.shape[1], -1)) * 2, [x])


def test_reshape_returns_a_view():
    m = T.matrix("m")
    node = T.reshape(m, (-1,)).owner
    assert node.op.view_map == {0: [0]}
    x = np.ones((2, 3))
    storage = [[None]]
    node.op.perform(node, [x, np.int64(-1)], storage)
    assert np.shares_memory(storage[0][0], x)
    # the function still hands back an array of its own
    assert not np.shares_memory(run([m], T.reshape(m, (-1,)), x), x)


def test_flatten_keeps_the_first_ndim_minus_one_dims():
    t = T.tensor("t", shape=(2, None, 4))
    assert T.flatten(t).type.shape == (None,)
    assert T.flatten(t, 2).type.shape == (2, None)
    assert T.flatten(T.tensor("u", shape=(2, 3, 4)), 2).type.shape == (2, 12)
    assert T.flatten(t, outdim=3).type.shape == (2, None, 4)
    assert T.flatten(T.scalar("s")).type.shape == (1,)
    with pytest.raises(ValueError, match="ndim must be between 1 and 3 for 't'"):
        T.flatten(t, 4)
    with pytest.raises(ValueError, match="ndim must be between"):
        T.flatten(t, 0)
    x = np.zeros((2, 0, 4))
    assert run([t], [t.flatten(2), t.ravel()], x)[0].shape == (2, 0)


# ---------------------------------------------------------- axis juggling


def test_transpose_swapaxes_dimshuffle():
    t = T.tensor("t", shape=(2, 3, 4))
    assert t.T.type.shape == (4, 3, 2)
    assert t.transpose(1, 2, 0).type.shape == (3, 4, 2)
    assert T.transpose(t, (-1, 0, 1)).type.shape == (4, 2, 3)
    assert t.swapaxes(0, -1).type.shape == (4, 3, 2)
    assert t.dimshuffle(2, "x", 0, 1).type.shape == (4, 1, 2, 3)
    assert T.dimshuffle(t, ["x", 0, 1, 2]).type.shape == (1, 2, 3, 4)
    with pytest.raises(ValueError, match="axes \\(0, 1\\) do not match 't'"):
        T.transpose(t, (0, 1))
    with pytest.raises(ValueError, match="repeated axis .* for 't'"):
        T.transpose(t, (0, 1, -2))
    with pytest.raises(ValueError, match="axis 3 is out of range for the input 't'"):
        T.swapaxes(t, 0, 3)
    with pytest.raises(ValueError, match="not valid for a 3-d input.*the input is 't'"):
        T.dimshuffle(t, (0, 0, 1))


def test_squeeze_and_expand_dims():
    x = T.tensor("x", shape=(1, None, 1))
    assert T.squeeze(x).type.shape == (None,)
    assert x.squeeze(axis=-1).type.shape == (1, None)
    with pytest.raises(
        ValueError, match="axis 1 of 'x' .* has static size unknown, not 1"
    ):
        T.squeeze(x, axis=1)
    assert T.expand_dims(x, 0).type.shape == (1, 1, None, 1)
    assert T.expand_dims(T.vector("v"), (0, -1)).type.shape == (1, None, 1)
    assert T.shape_padaxis(T.vector("v"), 1).type.shape == (None, 1)
    with pytest.raises(ValueError, match="axis 5 is out of range"):
        T.expand_dims(T.vector("v"), 5)


# ------------------------------------------------------ joining, splitting


def test_concatenate_static_shapes_and_theano_join():
    a = T.tensor("a", shape=(2, 3))
    b = T.tensor("b", shape=(None, 3))
    assert T.concatenate([a, a]).type.shape == (4, 3)
    assert T.concatenate([a, b], axis=0).type.shape == (None, 3)
    assert T.concatenate([a, b], axis=-1).type.shape == (2, 6)
    assert T.concatenate([a, T.matrix("c")], axis=-1).type.shape == (2, None)
    assert T.join(0, a, b).owner.op == J.Join(0)
    assert T.join(1, [a, a]).type.shape == (2, 6)


def test_concatenate_errors():
    a = T.tensor("a", shape=(2, 3))
    c = T.tensor("c", shape=(2, 4))
    with pytest.raises(
        ValueError,
        match=r"input 1 'c' .* has size 4 on axis 1, but input 0 'a' .* has size 3",
    ):
        T.concatenate([a, c])
    with pytest.raises(ValueError, match="input 1 'v' .* has ndim 1, but input 0 'a'"):
        T.concatenate([a, T.vector("v")])
    with pytest.raises(ValueError, match="0-d tensors cannot be concatenated"):
        T.concatenate([T.scalar("s"), T.scalar("r")])
    with pytest.raises(TypeError, match="expected a list of tensors"):
        T.concatenate(a)
    with pytest.raises(ValueError, match="axis 2 is out of range for the input 'a'"):
        T.concatenate([a, a], axis=2)


def test_concatenate_mismatch_at_run_time_names_inputs():
    a, b = T.matrix("left"), T.matrix("right")
    f = sg.function([a, b], T.concatenate([a, b], axis=1), backend="python")
    with pytest.raises(
        ValueError,
        match=r"input 1 'right' .* has size 3 on axis 0, "
        r"but input 0 'left' .* has size 2",
    ):
        f(np.ones((2, 2)), np.ones((3, 2)))


def test_concatenate_mixed_dtypes_and_gradients():
    i, x = T.ivector("i"), T.fvector("x")
    out = T.concatenate([i, x, [0.5]])
    assert out.dtype == "float64"
    assert (
        T.concatenate([x, T.constant(np.float32(1.0)).dimshuffle("x")]).dtype
        == "float32"
    )
    g = sg.grad((T.concatenate([x, x * 2]) * T.arange(4)).sum(), x)
    np.testing.assert_allclose(
        run([x], g, np.ones(2, "float32")), [0 + 2 * 2, 1 + 2 * 3]
    )


def test_stack_forms_and_dtypes():
    a, b = T.scalars("a", "b")
    n = T.iscalar("n")
    assert T.stack([a, b]).type.shape == (2,)
    assert T.stack(a, b, a).type.shape == (3,)
    assert T.stack([n, 3]).dtype == "int32"  # Python numbers adapt
    m = T.tensor("m", shape=(2, 3))
    assert T.stack([m, m], 1).type.shape == (2, 2, 3)
    assert T.stack([m, m], axis=-1).type.shape == (2, 3, 2)
    assert sg.tensor.as_tensor_variable([a, 1.0]).type.shape == (2,)
    with pytest.raises(ValueError, match="has ndim 1, but input 0"):
        T.stack([a, T.vector("v")])
    with pytest.raises(
        ValueError, match=r"size 4 on axis 2, but input 0 .* has size 3"
    ):
        T.stack([m, T.tensor("k", shape=(2, 4))])


def test_split_theano_and_numpy_forms():
    x = T.matrix("x")
    parts = T.split(x, [1, 2], 2, axis=0)
    assert isinstance(parts, list) and len(parts) == 2
    assert T.split(x, [3], 1, axis=1)[0].ndim == 2
    t = T.tensor("t", shape=(6, 4))
    assert [p.type.shape for p in T.split(t, [2, 4], 2)] == [(2, 4), (4, 4)]
    assert [p.type.shape for p in T.split(t, 3)] == [(2, 4)] * 3
    assert [p.type.shape for p in T.split(t, [1, 4], axis=0)] == [
        (1, 4),
        (3, 4),
        (2, 4),
    ]
    with pytest.raises(
        ValueError,
        match=r"the sizes \[2, 3\] must be >= 0 and add up to 6, "
        r"the size of axis 0 of 't'",
    ):
        T.split(t, [2, 3], 2)
    with pytest.raises(
        ValueError, match="size 4, which does not divide into 3 equal parts"
    ):
        T.split(t, 3, axis=1)
    with pytest.raises(ValueError, match="ndim=3"):
        T.split(t, [1, 2], 3)


def test_split_errors_at_run_time_and_gradient_of_one_part():
    x = T.matrix("x")
    f = sg.function([x], T.split(x, [1, 2], 2), backend="python")
    with pytest.raises(
        ValueError,
        match=r"the sizes \[1, 2\] must be >= 0 and add up to 4, "
        r"the size of axis 0 of 'x'",
    ):
        f(np.ones((4, 2)))
    g = sg.grad(T.split(x, [1, 2], 2)[1].sum(), x)
    np.testing.assert_array_equal(
        run([x], g, np.ones((3, 2))), [[0, 0], [1, 1], [1, 1]]
    )
    odd = sg.function([x], T.split(x, 2), backend="python")
    with pytest.raises(ValueError, match="add up to 5"):
        odd(np.ones((5, 2)))


def test_repeat():
    m = T.tensor("m", shape=(2, 3))
    assert T.repeat(m, 2, axis=1).type.shape == (2, 6)
    assert m.repeat([1, 2], axis=0).type.shape == (3, 3)
    assert T.repeat(m, 2).type.shape == (12,)
    assert T.repeat(m, [2], axis=0).type.shape == (4, 3)
    with pytest.raises(ValueError, match="3 repeat counts for axis 0 of 'm'"):
        T.repeat(m, [1, 2, 3], axis=0)
    with pytest.raises(ValueError, match="negative repeat count"):
        T.repeat(m, -1)
    with pytest.raises(TypeError, match="integer scalar or vector"):
        T.repeat(m, 1.5)
    x, r = T.matrix("x"), T.lvector("r")
    f = sg.function([x, r], T.repeat(x, r, axis=0), backend="python")
    with pytest.raises(
        ValueError, match=r"repeat: cannot repeat 'x' .* of shape \(2, 2\)"
    ):
        f(np.ones((2, 2)), np.array([1, 2, 3]))
    cost = (T.repeat(x, [2, 0, 1], axis=1) * T.arange(3.0)).sum()
    np.testing.assert_array_equal(
        run([x], sg.grad(cost, x), np.ones((2, 3))), [[1, 0, 2], [1, 0, 2]]
    )


def test_tile_pads_like_numpy():
    v = T.tensor("v", shape=(2,))
    assert T.tile(v, (2, 3)).type.shape == (2, 6)
    assert T.tile(T.matrix("m"), (2,)).ndim == 2
    x = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(
        run([v], T.tile(v, (2, 1, 2)), x[0]), np.tile(x[0], (2, 1, 2))
    )


# ------------------------------------------------------------ constructors


def test_allocation_constructors():
    m = T.matrix("m")
    assert T.zeros((2, 3)).type.shape == (2, 3)
    assert T.zeros((2, 3)).dtype == sg.config.floatX
    assert T.ones(4, dtype="int8").dtype == "int8"
    assert T.zeros(m.shape).ndim == 2
    assert T.full((2,), 3).dtype == "int64"
    assert T.full((2,), np.float32(3)).dtype == "float32"
    f32 = T.fmatrix("f")
    assert T.fill(f32, 2).dtype == "float32"
    assert T.fill(f32, T.iscalar("i")).dtype == "int32"
    assert T.full_like(f32, 1).dtype == "float32"
    assert T.alloc(1.0, 2, 3).type.shape == (2, 3)
    n = T.lscalar("n")
    np.testing.assert_array_equal(run([n], T.zeros((n, 2)), 3), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="negative dimension"):
        T.zeros((2, -1))
    with pytest.raises(TypeError, match="integer scalar"):
        T.zeros((2.5, 1))


def test_arange_and_eye():
    assert T.arange(5).type.shape == (5,)
    assert T.arange(1, 2, 0.25).type.shape == (4,)
    assert T.arange(5).dtype == "int64"
    assert T.arange(T.fscalar("a")).dtype == "float32"
    assert T.arange(0, 1, 0.5, dtype="float32").dtype == "float32"
    with pytest.raises(ValueError, match="step must not be 0"):
        T.arange(0, 5, 0)
    s = T.lscalar("s")
    f = sg.function([s], T.arange(0, 5, s), backend="python")
    with pytest.raises(ValueError, match="step is 0 at run time"):
        f(0)
    with pytest.raises(TypeError, match="numeric scalar"):
        T.arange(T.vector("v"))
    assert T.eye(3).type.shape == (3, 3)
    assert T.eye(2, 4, k=-1, dtype="int8").type.shape == (2, 4)
    assert T.identity_like(T.tensor("m", shape=(2, 5))).type.shape == (2, 5)
    n = T.lscalar("n")
    np.testing.assert_array_equal(run([n], T.eye(n, k=1), 3), np.eye(3, k=1))


def test_arange_gradient_with_respect_to_start_and_step():
    a, s = T.scalars("a", "s")
    out = T.arange(a, 3.0, s)
    cost = (out * out).sum()
    ga, gs = run([a, s], sg.grad(cost, [a, s]), 0.5, 0.75)
    values = np.arange(0.5, 3.0, 0.75)
    np.testing.assert_allclose(
        [ga, gs], [2 * values.sum(), 2 * (values * np.arange(len(values))).sum()]
    )


# ------------------------------------------- helpers others build on


def test_shape_helpers_still_work():
    m = T.tensor("m", shape=(None, 3))
    dims = S.shape_tuple(m)
    assert isinstance(dims[1], sg.Constant) and int(dims[1].data) == 3
    assert dims[0].owner.op == S.Shape_i(0)
    assert S.as_index_scalar(T.constant(np.int32(4))).dtype == "int64"
    assert S.static_value(S.as_index_scalar(T.constant(np.int32(4)))) == 4
    like = C.alloc_like(0, m)
    assert like.type.shape == (None, 3)
    np.testing.assert_array_equal(
        run([m], [T.shape(m), m.shape], np.zeros((2, 3)))[0], [2, 3]
    )


def test_shape_vectors_are_read_without_indexing():
    m, n = T.matrix("m"), T.lscalar("n")
    entries = S.as_dims(T.concatenate([m.shape, T.stack([n, 4])]), "test")
    assert [S.static_value(e) for e in entries] == [None, None, None, 4]
    assert entries[2] is n
