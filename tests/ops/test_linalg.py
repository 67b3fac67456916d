"""Linear algebra beyond the op table: errors, static shapes, dtypes, gradients."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.ops.linalg import Dot, Matmul


def run(inputs, outputs, *values):
    return sg.function(inputs, outputs, backend="python")(*values)


# ------------------------------------------------------------ build-time checks


def test_static_inner_mismatch_names_both_inputs_and_shapes():
    x = T.matrix("x", shape=(None, 3))
    w = T.matrix("w", shape=(4, 5))
    with pytest.raises(ValueError) as info:
        T.dot(x, w)
    msg = str(info.value)
    assert "'x'" in msg and "'w'" in msg and "(?, 3)" in msg and "(4, 5)" in msg
    assert "test_linalg.py" in msg  # the user's line where each was built
    with pytest.raises(ValueError, match="inner dimensions"):
        T.matmul(T.tensor("a", shape=(2, 2, 3)), T.tensor("b", shape=(2, 4, 1)))
    with pytest.raises(ValueError, match="inner dimensions"):
        T.tensordot(T.tensor("a", shape=(2, 3)), T.tensor("b", shape=(4, 2)), axes=1)


def test_static_batch_mismatch_is_refused():
    a = T.tensor("a", shape=(2, 3, 4))
    b = T.tensor("b", shape=(5, 4, 6))
    with pytest.raises(ValueError, match="batch axes"):
        a @ b


@pytest.mark.parametrize(
    "a, b, shape",
    [
        ((None, 3), (3, 5), (None, 5)),
        ((2, None), (None,), (2,)),
        ((None,), (None, 7), (7,)),
        ((4,), (4,), ()),
    ],
)
def test_dot_static_shape(a, b, shape):
    out = T.dot(T.tensor("a", shape=a), T.tensor("b", shape=b))
    assert isinstance(out.owner.op, Dot) and out.type.shape == shape


@pytest.mark.parametrize(
    "a, b, shape",
    [
        ((1, 2, 3), (4, 3, 5), (4, 2, 5)),
        ((None, 2, 3), (3, 5), (None, 2, 5)),
        ((6, 1, 2, 3), (4, 3, 5), (6, 4, 2, 5)),
        ((3,), (2, 3, 4), (2, 4)),
        ((2, 5, 3), (3,), (2, 5)),
    ],
)
def test_matmul_static_shape(a, b, shape):
    assert (T.tensor("a", shape=a) @ T.tensor("b", shape=b)).type.shape == shape


@pytest.mark.parametrize(
    "da, db, out",
    [
        ("float32", "float32", "float32"),
        ("float32", "float64", "float64"),
        ("int32", "float32", "float64"),
        ("int8", "int16", "int16"),
        ("uint8", "int8", "int16"),
        ("bool", "bool", "bool"),
    ],
)
def test_dtype_promotion_follows_numpy(da, db, out):
    a, b = T.tensor("a", dtype=da, ndim=2), T.tensor("b", dtype=db, ndim=2)
    assert T.dot(a, b).dtype == out == np.result_type(da, db).name
    a3 = T.tensor("a3", dtype=da, ndim=3)
    assert T.matmul(a3, b).dtype == out
    value = run([a, b], T.dot(a, b), np.ones((2, 3), da), np.ones((3, 2), db))
    assert value.dtype == out


def test_wrong_ranks_and_scalars():
    with pytest.raises(TypeError, match="1-d or 2-d"):
        Dot()(T.tensor3("a"), T.matrix("b"))
    with pytest.raises(TypeError, match="stacks of matrices"):
        Matmul()(T.vector("a"), T.matrix("b"))
    with pytest.raises(TypeError, match="scalar"):
        T.matmul(T.scalar("s"), T.matrix("b"))
    # dot of a 0-d operand multiplies, as np.dot
    s, m = T.scalar("s"), T.matrix("m")
    np.testing.assert_allclose(
        run([s, m], T.dot(s, m), 2.0, np.ones((2, 3))), np.full((2, 3), 2.0)
    )
    with pytest.raises(TypeError, match="batch of vectors"):
        T.batched_dot(T.vector("a"), T.matrix("b"))


def test_tensordot_axes_errors():
    a, b = T.tensor3("a"), T.matrix("b")
    with pytest.raises(ValueError, match="between 0"):
        T.tensordot(a, b, 3)
    with pytest.raises(ValueError, match="equal in number"):
        T.tensordot(a, b, [[0, 1], [0]])
    with pytest.raises(ValueError, match="out of range"):
        T.tensordot(a, b, [[3], [0]])
    with pytest.raises(ValueError, match="repeated"):
        T.tensordot(a, b, [[0, 0], [0, 1]])
    with pytest.raises(TypeError, match="pair of axis lists"):
        T.tensordot(a, b, "x")


# ------------------------------------------------------------- run-time checks


def test_runtime_inner_mismatch_names_inputs():
    x, w = T.matrix("x"), T.matrix("w")
    f = sg.function([x, w], T.dot(x, w), backend="python")
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 5)))
    msg = str(info.value)
    assert "'x'" in msg and "'w'" in msg and "(2, 3)" in msg and "(4, 5)" in msg
    a, b = T.tensor3("a"), T.tensor3("b")
    g = sg.function([a, b], a @ b, backend="python")
    with pytest.raises(ValueError, match="'a'.*'b'"):
        g(np.ones((2, 2, 3)), np.ones((2, 4, 2)))
    m = T.matrix("m")
    h = sg.function([a, m], a @ m, backend="python")
    with pytest.raises(ValueError, match="'a'.*'m'"):  # named behind the padding
        h(np.ones((2, 2, 3)), np.ones((4, 2)))


def test_runtime_batch_of_one_needs_a_static_declaration():
    # np.matmul would broadcast the size-1 batch, but the gradient of `a`
    # would then have the wrong shape: symgraph asks for a static 1.
    a, b = T.tensor3("a"), T.tensor3("b")
    f = sg.function([a, b], a @ b, backend="python")
    with pytest.raises(ValueError, match="static size 1"):
        f(np.ones((1, 2, 3)), np.ones((4, 3, 2)))
    a1 = T.tensor("a1", shape=(1, None, None))
    out = run([a1, b], a1 @ b, np.ones((1, 2, 3)), np.ones((4, 3, 2)))
    assert out.shape == (4, 2, 2)


# ------------------------------------------------------------------ gradients


def test_dot_gradients_are_dots():
    x, w = T.matrix("x"), T.matrix("w")
    gx, gw = sg.grad(T.dot(x, w).sum(), [x, w])
    xv, wv = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    gxv, gwv = run([x, w], [gx, gw], xv, wv)
    np.testing.assert_allclose(gxv, np.ones((2, 4)) @ wv.T)
    np.testing.assert_allclose(gwv, xv.T @ np.ones((2, 4)))


def test_matmul_gradient_sums_broadcast_batches():
    a = T.tensor("a", shape=(1, None, None))
    b = T.tensor3("b")
    w = T.matrix("w")
    ga, gb = sg.grad((a @ b).sum(), [a, b])
    av, bv = np.ones((1, 2, 3)), np.ones((4, 3, 5))
    gav, gbv = run([a, b], [ga, gb], av, bv)
    assert gav.shape == (1, 2, 3) and gbv.shape == (4, 3, 5)
    np.testing.assert_allclose(gav, np.full((1, 2, 3), 20.0))  # 4 batches x 5 columns
    gw = sg.grad((b @ w).sum(), w)  # a matrix shared by the whole batch
    np.testing.assert_allclose(
        run([b, w], gw, bv, np.ones((5, 2))), np.full((5, 2), 12.0)
    )


def test_second_order_gradient_of_dot():
    def fun(x, w):
        return sg.grad((T.tanh(T.dot(x, w)) ** 2).sum(), w)

    rng = np.random.default_rng(0)
    sg.verify_grad(fun, [rng.normal(size=(2, 3)), rng.normal(size=(3, 4))])


def test_integer_operand_gets_no_gradient_but_float_one_does():
    x, i = T.matrix("x"), T.imatrix("i")
    g = sg.grad(T.dot(x, i).sum(), x)
    np.testing.assert_allclose(
        run([x, i], g, np.ones((2, 3)), np.ones((3, 4), "int32")), np.full((2, 3), 4.0)
    )


def test_methods_and_operators():
    x, w = T.matrix("x"), T.matrix("w")
    xv, wv = np.ones((2, 3)), np.ones((3, 2))
    np.testing.assert_allclose(run([x, w], x.dot(w), xv, wv), xv @ wv)
    np.testing.assert_allclose(run([x, w], x @ w, xv, wv), xv @ wv)


def test_rop_of_dot():
    x, w = T.matrix("x"), T.matrix("w")
    vx, vw = T.matrix("vx"), T.matrix("vw")
    jv = sg.Rop(T.dot(x, w), [x, w], [vx, vw])
    rng = np.random.default_rng(3)
    xv, wv, vxv, vwv = (rng.normal(size=s) for s in [(2, 3), (3, 4), (2, 3), (3, 4)])
    got = run([x, w, vx, vw], jv, xv, wv, vxv, vwv)
    np.testing.assert_allclose(got, vxv @ wv + xv @ vwv)


# ---------------------------------------- gradients keep the operands' static types

# An operand's shape: 1 is a static 1, H a run-time 1 its type does not know
# (e.g. the matrix in dot(x.sum(0, keepdims=True), M)), n >= 2 a size unknown
# statically. The products' rules build each gradient from the other operand
# and the output gradient, which may not know the 1s: the gradient must
# still have the operand's type (the sizes agree at run time).
H = "H"


def _gemm(a, b):
    from symgraph.ops.composite import gemm

    return gemm(np.ones((2, 3)), 1.5, a, b, 0.5)  # 1.5 a.b + 0.5 C, a (2, k)


PRODUCTS = [
    ("dot", T.dot, (1,), (H, 3)),  # the fuzzer's case: dot(v, M)
    ("dot", T.dot, (3, H), (1,)),
    ("dot", T.dot, (H,), (1, 3)),
    ("dot", T.dot, (1,), (H,)),
    ("dot", T.dot, (2, 1), (H, 3)),
    ("dot", T.dot, (1, 1), (H, 3)),
    ("dot", T.dot, (2, H), (1, 1)),
    ("dot", T.dot, (2, 3, H), (1,)),
    ("dot", T.dot, (1,), (2, H, 3)),
    ("dot", T.dot, (1, 2, H), (1, 3)),
    ("matmul", T.matmul, (1,), (H, 3)),
    ("matmul", T.matmul, (3, H), (1,)),
    ("matmul", T.matmul, (1,), (2, H, 3)),
    ("matmul", T.matmul, (2, 3, H), (1,)),
    ("matmul", T.matmul, (1, 2, H), (3, 1, 4)),
    ("batched_dot", T.batched_dot, (2, 1), (2, H)),
    ("batched_dot", T.batched_dot, (2, 3, 1), (2, H, 4)),
    ("batched_dot", T.batched_dot, (1, 2, H), (1, 1, 3)),
    ("tensordot", lambda a, b: T.tensordot(a, b, 1), (1,), (H, 3)),
    ("tensordot", lambda a, b: T.tensordot(a, b, [[1], [0]]), (2, H, 3), (1, 4)),
    ("tensordot", lambda a, b: T.tensordot(a, b, 2), (2, H, H), (1, 1, 3)),
    ("gemm", _gemm, (2, H), (1, 3)),
]


def _operand(spec):
    """The symbolic operand, and (point, slicer) making it for verify_grad."""
    static = tuple(1 if s == 1 else None for s in spec)
    point_shape = tuple(2 if s == H else s for s in spec)
    index = tuple(slice(0, 1) if s == H else slice(None) for s in spec)
    return T.tensor("x", shape=static), point_shape, index


@pytest.mark.parametrize(
    "name, fun, a_spec, b_spec",
    PRODUCTS,
    ids=[f"{n}-{a}-{b}" for n, _, a, b in PRODUCTS],
)
def test_product_gradients_have_the_operands_static_types(name, fun, a_spec, b_spec):
    (a, pa, ia), (b, pb, ib) = _operand(a_spec), _operand(b_spec)
    out = fun(a, b)
    ga, gb = sg.grad(out.sum(), [a, b])
    assert (ga.type, gb.type) == (a.type, b.type)
    rng = np.random.default_rng(0)
    sg.verify_grad(
        lambda x, y: fun(x[ia], y[ib]),
        [rng.normal(size=pa), rng.normal(size=pb)],
        backend="python",
    )


def test_dot_of_a_vector_summed_with_keepdims():
    x, m = T.vector("x"), T.matrix("m")
    gx, gm = sg.grad(T.dot(x.sum(axis=0, keepdims=True), m).sum(), [x, m])
    assert (gx.type, gm.type) == (x.type, m.type)
    xv, mv = np.array([1.0, 2.0]), np.array([[1.0, 2.0, 4.0]])
    gxv, gmv = run([x, m], [gx, gm], xv, mv)
    np.testing.assert_allclose(gxv, [7.0, 7.0])
    np.testing.assert_allclose(gmv, [[3.0, 3.0, 3.0]])


def test_gradient_types_over_static_shapes_of_every_product():
    # every rank pair and pattern of static 1s the products accept
    shapes = {
        1: [(1,), (None,)],
        2: [(1, None), (None, 1), (1, 1), (None, None)],
        3: [(1, None, 1), (None, 1, None), (1, 1, 1), (None, None, None)],
    }
    products = {
        "dot": T.dot,
        "matmul": T.matmul,
        "outer": T.outer,
        "batched_dot": T.batched_dot,
        "tensordot": lambda a, b: T.tensordot(a, b, [[a.ndim - 1], [0]]),
    }
    wrong = []
    for name, fun in products.items():
        for sa in (s for n in shapes for s in shapes[n]):
            for sb in (s for n in shapes for s in shapes[n]):
                a, b = T.tensor("a", shape=sa), T.tensor("b", shape=sb)
                try:
                    out = fun(a, b)
                except (TypeError, ValueError):
                    continue  # ranks or static sizes the product refuses
                try:
                    grads = sg.grad(out.sum(), [a, b])
                except sg.GradientError as err:
                    wrong.append((name, sa, sb, str(err)[:60]))
                    continue
                got = tuple(g.type.shape for g in grads)
                if got != (sa, sb):
                    wrong.append((name, sa, sb, got))
    assert not wrong, wrong
