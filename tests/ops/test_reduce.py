"""Focused tests of reductions: dtypes, axis errors, gradients at zeros and ties,
ddof, and the methods on variables. Forward values over many axes are in
tests/opinfo/reduce.py."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.ops import reduce as R


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, backend="python", on_unused_input="ignore")(
        *values
    )


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "fn, dtype, expected",
    [
        (T.sum, "int8", "int64"),
        (T.sum, "uint16", "uint64"),
        (T.sum, "bool", "int64"),
        (T.sum, "float32", "float32"),
        (T.prod, "int32", "int64"),
        (T.prod, "uint8", "uint64"),
        (T.mean, "int32", "float64"),
        (T.mean, "bool", "float64"),
        (T.mean, "float32", "float32"),
        (T.var, "int8", "float64"),
        (T.std, "float32", "float32"),
        (T.max, "int8", "int8"),
        (T.min, "bool", "bool"),
        (T.argmax, "float32", "int64"),
        (T.argmin, "uint8", "int64"),
        (T.all, "float64", "bool"),
        (T.any, "int16", "bool"),
    ],
)
def test_output_dtype_follows_numpy(fn, dtype, expected):
    x = T.tensor("x", dtype=dtype, shape=(None, 3))
    assert fn(x, axis=0).dtype == expected
    np_fn = {T.argmax: np.argmax, T.argmin: np.argmin}.get(fn, getattr(np, fn.__name__))
    assert np_fn(np.ones((2, 3), dtype), axis=0).dtype.name == expected


def test_sum_dtype_and_acc_dtype():
    x = T.ivector("x")
    assert T.sum(x, dtype="float32").dtype == "float32"
    assert T.sum(x, acc_dtype="float64").dtype == "float64"
    out = T.sum(x, dtype="int8", acc_dtype="int64")
    assert out.dtype == "int8"
    assert run([x], out, np.array([100, 100, -100], "int32")) == 100


def test_static_shapes_with_axes_and_keepdims():
    t = T.tensor("t", shape=(2, None, 4))
    assert T.sum(t, axis=(0, -1)).type.shape == (None,)
    assert T.max(t, axis=-1, keepdims=True).type.shape == (2, None, 1)
    assert T.mean(t, keepdims=True).type.shape == (1, 1, 1)
    assert T.argmax(t, axis=(2, 0), keepdims=True).type.shape == (1, None, 1)
    assert T.var(t, axis=()).type.shape == (2, None, 4)


# ------------------------------------------------------------ bad axes


@pytest.mark.parametrize(
    "fn", [T.sum, T.prod, T.max, T.argmin, T.all, T.mean, T.var, T.std]
)
def test_axis_out_of_range_names_the_input_and_the_axis(fn):
    x = T.matrix("weights")
    with pytest.raises(
        ValueError,
        match=r"axis 2 is out of range for the input 'weights' "
        r"\(built at test_reduce.py",
    ):
        fn(x, axis=2)
    with pytest.raises(ValueError, match=r"axis -3 .*'weights'.*valid axes: -2..1"):
        fn(x, axis=(0, -3))


def test_bad_axis_kinds():
    x = T.matrix("x")
    with pytest.raises(ValueError, match="repeated axis"):
        T.sum(x, axis=(1, -1))
    with pytest.raises(TypeError, match="axis must be"):
        T.max(x, axis=1.0)
    with pytest.raises(TypeError, match="symbolic axis is not supported"):
        T.sum(x, axis=T.lscalar("a"))
    with pytest.raises(ValueError, match="none: it is 0-d"):
        T.sum(T.scalar("s"), axis=0)


def test_constant_axis_is_accepted():
    x = T.matrix("x")
    assert T.sum(x, axis=T.constant(1)).owner.op.axis == (1,)


# ---------------------------------------------------------- gradients


def _prod_of_others(x, axis):
    # brute force: for each element, the product of the rest of its group
    moved = np.moveaxis(x, axis, -1)
    out = np.empty_like(moved)
    for i in range(moved.shape[-1]):
        out[..., i] = np.prod(np.delete(moved, i, axis=-1), axis=-1)
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize(
    "values",
    [
        [2.0, 3.0, 4.0],  # no zero
        [2.0, 0.0, 4.0],  # one zero: only it gets a gradient
        [0.0, 3.0, 0.0],  # two zeros: no gradient
        [0.0, 0.0, 0.0],
        [0.0],
    ],
)
def test_prod_gradient_is_the_product_of_the_others(values):
    v = T.vector("v")
    x = np.array(values)
    got = run([v], sg.grad(T.prod(v), v), x)
    np.testing.assert_array_equal(got, _prod_of_others(x, 0))
    assert np.all(np.isfinite(got))


def test_prod_gradient_with_zeros_per_group_and_axis():
    m = T.matrix("m")
    x = np.array([[1.0, 0.0, 2.0, 3.0], [0.0, 5.0, 0.0, 2.0], [1.5, -2.0, 0.5, 4.0]])
    for axis in (0, 1, -1):
        got = run([m], sg.grad(T.prod(m, axis=axis).sum(), m), x)
        np.testing.assert_allclose(got, _prod_of_others(x, axis), rtol=1e-12)
    got = run([m], sg.grad(T.prod(m, axis=(0, 1), keepdims=True).sum(), m), x)
    np.testing.assert_array_equal(
        got, np.zeros_like(x)
    )  # several zeros in the one group


@pytest.mark.parametrize("values", [[1.5, -2.0, 0.7], [1.5, 0.0, 0.7], [0.0, 2.0]])
def test_prod_second_derivative(values):
    # exact with up to one zero per group (with two, d2/dx_k dx_m is not)
    sg.verify_grad(lambda v: sg.grad(T.prod(v), v), [np.array(values)])


def test_max_ties_share_the_gradient_equally():
    v = T.vector("v")
    got = run([v], sg.grad(T.max(v), v), np.array([1.0, 3.0, 3.0, 2.0, 3.0]))
    np.testing.assert_allclose(got, [0, 1 / 3, 1 / 3, 0, 1 / 3])
    got = run([v], sg.grad(T.min(v) * 4, v), np.array([1.0, 3.0, 1.0]))
    np.testing.assert_allclose(got, [2, 0, 2])


@pytest.mark.parametrize("keepdims", [False, True])
def test_max_ties_along_an_axis(keepdims):
    m = T.matrix("m")
    x = np.array([[5.0, 5.0, 1.0], [0.0, 2.0, 2.0], [7.0, 1.0, 3.0]])
    w = np.array([1.0, 2.0, 3.0]).reshape((3, 1) if keepdims else (3,))
    cost = (T.max(m, axis=1, keepdims=keepdims) * w).sum()
    got = run([m], sg.grad(cost, m), x)
    np.testing.assert_allclose(got, [[0.5, 0.5, 0], [0, 1, 1], [3, 0, 0]])
    # the gradient of max(x + c) with respect to c is 1 whatever the ties
    c = T.scalar("c")
    assert run([m, c], sg.grad(T.max(m + c), c), x, 0.0) == 1.0


def test_max_of_integers_and_nan():
    v = T.vector("v")
    assert np.isnan(run([v], T.max(v), np.array([1.0, np.nan])))
    i = T.ivector("i")
    assert run([i], T.max(i) + T.min(i), np.array([3, -4, 2], "int32")) == -1


@pytest.mark.parametrize("fn", [T.argmax, T.argmin, T.all, T.any])
def test_piecewise_constant_reductions_have_zero_gradient(fn):
    m = T.matrix("m")
    cost = T.cast(fn(m, axis=0), "float64").sum()
    got = run([m], sg.grad(cost, m), np.array([[1.0, 2.0], [3.0, -1.0]]))
    np.testing.assert_array_equal(got, np.zeros((2, 2)))


def test_max_and_argmax():
    m = T.matrix("m")
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    mx, am = T.max_and_argmax(m, axis=1)
    got = run([m], [mx, am], x)
    np.testing.assert_array_equal(got[0], [5, 7])
    np.testing.assert_array_equal(got[1], [1, 0])


def test_argmax_over_several_axes_is_a_flat_index_into_them():
    t = T.tensor3("t")
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    got = run([t], T.argmax(t, axis=(0, 2)), x)
    flat = np.transpose(x, (1, 0, 2)).reshape(3, 8)
    np.testing.assert_array_equal(got, flat.argmax(axis=1))


# ------------------------------------------------------- mean, var, std


@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("static", [True, False])
def test_var_std_ddof(ddof, static):
    x = np.random.default_rng(1).normal(size=(3, 5))
    m = T.tensor("m", shape=(3, 5) if static else (None, None))
    got = run(
        [m],
        [T.var(m, axis=1, ddof=ddof), T.std(m, axis=0, ddof=ddof), T.var(m, ddof=ddof)],
        x,
    )
    np.testing.assert_allclose(got[0], np.var(x, axis=1, ddof=ddof), rtol=1e-12)
    np.testing.assert_allclose(got[1], np.std(x, axis=0, ddof=ddof), rtol=1e-12)
    np.testing.assert_allclose(got[2], np.var(x, ddof=ddof), rtol=1e-12)
    sg.verify_grad(lambda a: T.std(a, axis=1, ddof=ddof), [x])


@pytest.mark.parametrize("static", [True, False])
def test_var_with_ddof_at_least_n_is_inf_or_nan_like_numpy(static):
    m = T.tensor("m", shape=(2, 3) if static else (None, None))
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    got = run([m], T.var(m, axis=1, ddof=3), x)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.var(x, axis=1, ddof=3)
    np.testing.assert_array_equal(got, want)  # [inf, nan]


def test_var_rejects_bad_ddof():
    with pytest.raises(TypeError, match="ddof"):
        T.var(T.vector("v"), ddof=-1)
    with pytest.raises(TypeError, match="ddof"):
        T.std(T.vector("v"), ddof=0.5)


def test_mean_of_empty_is_nan_and_mean_of_ints_is_float64():
    m = T.matrix("m")
    assert np.isnan(run([m], T.mean(m), np.zeros((0, 3))))
    i = T.ivector("i")
    got = run([i], T.mean(i), np.array([1, 2], "int32"))
    assert got.dtype == np.float64 and got == 1.5
    with pytest.raises(TypeError, match="float32 or float64"):
        T.mean(i, dtype="int32")


def test_composites_read_well_in_debugprint():
    m = T.matrix("m")
    text = sg.printing.debugprint(T.mean(m, axis=1), file="str")
    assert text.splitlines()[:2] == [
        "Elemwise{truediv} [id A] <Tensor{float64, (?,)}>",
        " |Sum{axis=1} [id B] <Tensor{float64, (?,)}>",
    ]
    assert (
        str(T.max(T.tensor3("t"), axis=(0, 2), keepdims=True).owner.op)
        == "Max{axis=(0, 2), keepdims}"
    )
    assert (
        str(T.sum(T.imatrix("i"), acc_dtype="float64").owner.op)
        == "Sum{axis=(0, 1), acc_dtype=float64}"
    )


def test_empty_max_fails_at_run_time_naming_the_input():
    m = T.matrix("scores")
    with pytest.raises(
        ValueError, match=r"Max\{axis=0\}: cannot reduce 'scores'.*shape \(0, 3\)"
    ):
        run([m], T.max(m, axis=0), np.zeros((0, 3)))
    np.testing.assert_array_equal(
        run([m], T.max(m, axis=0), np.zeros((3, 0))), np.zeros(0)
    )


# ------------------------------------------------------------- the ops


def test_sum_props_and_distinct_op_classes():
    assert R.Sum((0,), False, None) == R.Sum((0,), False, None)
    assert hash(R.Sum((0,), True)) == hash(R.Sum((0,), True))
    assert R.Sum((0,)) != R.Prod((0,))
    assert R.Sum.__props__ == ("axis", "keepdims", "acc_dtype")
    # backends dispatch on the op class: no reduction may subclass another
    ops = [R.Sum, R.Prod, R.Max, R.Min, R.Argmax, R.Argmin, R.All, R.Any]
    for a in ops:
        assert not any(issubclass(a, b) for b in ops if b is not a)


def test_methods_on_variables():
    m = T.matrix("m")
    x = np.array([[1.0, -2.0, 3.0], [4.0, 0.5, -6.0]])
    outs = [
        m.sum(axis=1, keepdims=True), m.prod(), m.mean(axis=0), m.var(ddof=1),
        m.std(axis=-1), m.max(-1), m.min(axis=0), m.argmax(), m.argmin(axis=1),
        (m > 0).all(axis=1), (m > 5).any(),
    ]  # fmt: skip
    want = [
        x.sum(axis=1, keepdims=True), x.prod(), x.mean(axis=0), x.var(ddof=1),
        x.std(axis=-1), x.max(-1), x.min(axis=0), x.argmax(), x.argmin(axis=1),
        (x > 0).all(axis=1), (x > 5).any(),
    ]  # fmt: skip
    for got, expected in zip(run([m], outs, x), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        assert got.dtype == np.asarray(expected).dtype
    assert m.size.dtype == "int64"
    assert run([m], m.size, x) == 6
