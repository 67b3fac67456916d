"""NNet ops beyond the op table: extreme inputs, errors, gradients, T.nnet."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.ops.nnet import PickLabel, Softmax, SoftmaxCrossentropyWithLogits

EXTREME = np.array(
    [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -1000.0]]
)


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, backend="python")(*values)


def test_t_nnet_namespace():
    import symgraph.ops.math as M

    for name in [
        "sigmoid",
        "softplus",
        "relu",
        "softmax",
        "log_softmax",
        "categorical_crossentropy",
        "binary_crossentropy",
        "softmax_crossentropy_with_logits",
    ]:
        assert callable(getattr(T.nnet, name)), name
    assert T.nnet.sigmoid is M.sigmoid and T.nnet.softplus is M.softplus
    assert T.nnet.logsoftmax is T.nnet.log_softmax


# --------------------------------------------------------------- extreme logits


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_and_log_softmax_of_extreme_logits_are_exact(dtype):
    x = T.matrix("x", dtype=dtype)
    sm, ls = run([x], [T.nnet.softmax(x), T.nnet.log_softmax(x)], EXTREME.astype(dtype))
    np.testing.assert_array_equal(
        sm, np.array([[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0]], dtype)
    )
    np.testing.assert_array_equal(ls[0], np.array([0, -2000, -1000], dtype))
    np.testing.assert_allclose(ls[1], np.full(3, -np.log(3)), rtol=1e-6)
    np.testing.assert_allclose(
        ls[2], [-np.log(2), -np.log(2), -2000 - np.log(2)], rtol=1e-6
    )
    assert sm.dtype == ls.dtype == dtype


def test_gradients_at_extreme_logits_are_finite_and_right():
    x = T.matrix("x")
    w = np.arange(9.0).reshape(3, 3)
    g_sm = run([x], sg.grad((T.nnet.softmax(x) * w).sum(), x), EXTREME)
    g_ls = run([x], sg.grad((T.nnet.log_softmax(x) * w).sum(), x), EXTREME)
    assert np.all(np.isfinite(g_sm)) and np.all(np.isfinite(g_ls))
    # log_softmax: gz - softmax * sum(gz); row 0 has softmax (1, 0, 0)
    np.testing.assert_allclose(g_ls[0], w[0] - np.array([1, 0, 0]) * w[0].sum())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_crossentropy_is_finite_at_extreme_logits(dtype):
    x, y = T.matrix("x", dtype=dtype), T.lvector("y")
    loss = T.nnet.softmax_crossentropy_with_logits(x, y)
    g = sg.grad(loss.sum(), x)
    lv, gv = run([x, y], [loss, g], EXTREME.astype(dtype), np.array([1, 2, 2]))
    np.testing.assert_allclose(lv, [2000, np.log(3), 2000 + np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(
        gv, [[1, -1, 0], [1 / 3, 1 / 3, -2 / 3], [0.5, 0.5, -1]], rtol=1e-6
    )
    assert lv.dtype == gv.dtype == dtype
    # dense targets: the same numbers
    t = T.matrix("t", dtype=dtype)
    dense = T.nnet.softmax_crossentropy_with_logits(x, t)
    onehot = np.eye(3, dtype=dtype)[[1, 2, 2]]
    lv2, gv2 = run(
        [x, t], [dense, sg.grad(dense.sum(), x)], EXTREME.astype(dtype), onehot
    )
    np.testing.assert_allclose(lv2, lv, rtol=1e-6)
    np.testing.assert_allclose(gv2, gv, rtol=1e-6, atol=1e-7)


def test_fused_matches_unfused_at_moderate_logits():
    rng = np.random.default_rng(0)
    x, y, t = T.matrix("x"), T.lvector("y"), T.matrix("t")
    xv, yv = rng.normal(size=(4, 6)), rng.integers(0, 6, size=4)
    tv = rng.dirichlet(np.ones(6), size=4)
    fused = [
        T.nnet.softmax_crossentropy_with_logits(x, y),
        T.nnet.softmax_crossentropy_with_logits(x, t),
    ]
    plain = [
        T.nnet.categorical_crossentropy(T.nnet.softmax(x), y),
        T.nnet.categorical_crossentropy(T.nnet.softmax(x), t),
    ]
    got = run([x, y, t], fused + [sg.grad(f.sum(), x) for f in fused], xv, yv, tv)
    want = run([x, y, t], plain + [sg.grad(p.sum(), x) for p in plain], xv, yv, tv)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-10)


# ------------------------------------------------------------------ gradients


def test_relu_gradient_at_zero():
    x = T.vector("x")
    xv = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(
        run([x], sg.grad(T.nnet.relu(x).sum(), x), xv), [0, 0, 1]
    )
    leaky = run([x], sg.grad(T.nnet.relu(x, alpha=0.1).sum(), x), xv)
    np.testing.assert_allclose(leaky, [0.1, 0.1, 1])
    a = T.scalar("a")  # a learned slope (parametric relu)
    ga = run([x, a], sg.grad(T.nnet.relu(x, alpha=a).sum(), a), xv, 0.3)
    np.testing.assert_allclose(ga, -1.0)


def test_second_order_gradients_through_labels_and_softmax():
    # PickLabel and ScatterLabel are each other's gradient, so Hessians work.
    y = T.constant(np.array([2, 0, 1]))

    def hess_vec(x):
        loss = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y).sum()
        return sg.grad(loss, x)

    def fused(x):
        return sg.grad(T.nnet.softmax_crossentropy_with_logits(x, y).sum(), x)

    rng = np.random.default_rng(1)
    for fun in (hess_vec, fused):
        sg.verify_grad(fun, [rng.normal(size=(3, 4))])


def test_gradient_wrt_dense_targets():
    rng = np.random.default_rng(2)
    sg.verify_grad(
        T.nnet.softmax_crossentropy_with_logits,
        [rng.normal(size=(3, 4)), rng.uniform(size=(3, 4))],
    )


# ------------------------------------------------------------------- errors


def test_label_errors_are_clear():
    p = T.matrix("p")
    with pytest.raises(TypeError, match="integer class indices.*astype"):
        T.nnet.categorical_crossentropy(p, T.vector("y"))
    with pytest.raises(TypeError, match="expected ndim 2 .* or 1"):
        T.nnet.categorical_crossentropy(p, T.lscalar("y"))
    with pytest.raises(ValueError, match="axis 0"):
        T.nnet.categorical_crossentropy(
            T.matrix("q", shape=(3, 4)), T.lvector("y", shape=(2,))
        )
    y = T.lvector("y")
    f = sg.function([p, y], T.nnet.categorical_crossentropy(p, y), backend="python")
    with pytest.raises(ValueError, match="'y'.*hold 4.*0..3"):
        f(np.full((2, 4), 0.25), np.array([0, 4]))
    with pytest.raises(ValueError, match="hold -1"):
        f(np.full((2, 4), 0.25), np.array([-1, 0]))
    with pytest.raises(ValueError, match="expected labels of shape"):
        f(np.full((2, 4), 0.25), np.array([0, 1, 2]))


def test_fused_op_errors():
    x = T.matrix("x")
    with pytest.raises(TypeError, match="integer class indices"):
        T.nnet.softmax_crossentropy_with_logits(x, T.vector("y"))
    with pytest.raises(ValueError, match="must agree on axis 1"):
        T.nnet.softmax_crossentropy_with_logits(
            T.matrix("a", shape=(2, 3)), T.matrix("t", shape=(2, 4))
        )
    t = T.matrix("t")
    f = sg.function(
        [x, t], T.nnet.softmax_crossentropy_with_logits(x, t), backend="python"
    )
    with pytest.raises(ValueError, match="'t'.*shape"):
        f(np.zeros((2, 3)), np.zeros((2, 4)))
    y = T.lvector("y")
    g = sg.function([x, y], SoftmaxCrossentropyWithLogits()(x, y), backend="python")
    with pytest.raises(ValueError, match="hold 3"):
        g(np.zeros((2, 3)), np.array([0, 3]))


def test_softmax_errors_and_axes():
    with pytest.raises(TypeError, match="scalar"):
        T.nnet.softmax(T.scalar("s"))
    with pytest.raises(ValueError, match="out of range"):
        T.nnet.softmax(T.matrix("m"), axis=2)
    with pytest.raises(TypeError, match="boolean"):
        T.nnet.log_softmax(T.tensor("b", dtype="bool", ndim=1))
    i = T.ivector("i")
    out = T.nnet.softmax(i)
    assert out.dtype == "float64" and isinstance(out.owner.op, Softmax)
    np.testing.assert_allclose(run([i], out, np.array([0, 0], "int32")), [0.5, 0.5])
    m = T.tensor3("m")
    v = np.random.default_rng(0).normal(size=(2, 3, 4))
    for axis in (0, 1, -1, None):
        total = run([m], T.nnet.softmax(m, axis=axis).sum(axis=axis), v)
        np.testing.assert_allclose(total, np.ones_like(total))


def test_pick_label_static_shape():
    out = PickLabel()(
        T.tensor("p", shape=(None, 3, 5)), T.tensor("y", dtype="int32", shape=(4, None))
    )
    assert out.type.shape == (4, 3)


def test_jacobian_of_softmax():
    x = T.vector("x")
    xv = np.array([0.5, -1.0, 2.0])
    jac = run([x], sg.jacobian(T.nnet.softmax(x), x), xv)
    s = np.exp(xv) / np.exp(xv).sum()
    np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), rtol=1e-12)
