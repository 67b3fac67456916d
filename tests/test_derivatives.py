"""Lop, Rop, jacobian and hessian against finite-difference Jacobians in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph import Apply, as_tensor_variable, toposort
from symgraph.op import Op
from symgraph.ops.batched import Batched, vectorize_graph
from tests.op_db import OP_DB
from tests.test_gradient import float64_case


def run(outputs, inputs, *values):
    return sg.function(inputs, outputs, backend="python", on_unused_input="ignore")(
        *values
    )


def fd_jacobian(f, points, i, eps=1e-6):
    """d f / d points[i] by central differences: shape f.shape + points[i].shape."""
    base = [np.asarray(p, "float64") for p in points]
    out_shape = np.shape(f(*base))
    cols = []
    for j in range(base[i].size):
        e = np.zeros(base[i].size)
        e[j] = eps
        plus = list(base)
        minus = list(base)
        plus[i] = base[i] + e.reshape(base[i].shape)
        minus[i] = base[i] - e.reshape(base[i].shape)
        cols.append((np.asarray(f(*plus)) - np.asarray(f(*minus))).ravel() / (2 * eps))
    return np.stack(cols, axis=-1).reshape(out_shape + base[i].shape)


def fd_hessian(f, x, h=1e-4):
    """Second differences of the scalar function f at x: shape x.shape * 2."""
    x = np.asarray(x, "float64")
    n = x.size
    hess = np.zeros((n, n))
    unit = np.eye(n) * h
    for i in range(n):
        for j in range(n):
            ei, ej = unit[i].reshape(x.shape), unit[j].reshape(x.shape)
            hess[i, j] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h * h)
    return hess.reshape(x.shape + x.shape)


# Small functions, each with its symbolic form, a NumPy reference, and the
# shapes of its inputs (non-square, with broadcasting).
CASES = {
    "elemwise": (
        lambda x, y: T.tanh(x) * T.exp(y) + x / (y * y + 1),
        lambda x, y: np.tanh(x) * np.exp(y) + x / (y * y + 1),
        [(2, 3), (2, 3)],
    ),
    "broadcast_reduce": (
        lambda x, y: (x * y).sum(axis=0) + T.max(x, axis=0) * T.prod(y),
        lambda x, y: (x * y).sum(axis=0) + np.max(x, axis=0) * np.prod(y),
        [(2, 3), (3,)],
    ),
    "dot": (
        lambda x, w: T.tanh(T.dot(x, w)),
        lambda x, w: np.tanh(x @ w),
        [(2, 3), (3, 4)],
    ),
    "matvec": (
        lambda x, v: T.dot(x, v) ** 2,
        lambda x, v: (x @ v) ** 2,
        [(2, 3), (3,)],
    ),
    "batched_matmul": (
        lambda a, b: T.matmul(a, T.exp(b)),
        lambda a, b: np.matmul(a, np.exp(b)),
        [(2, 2, 3), (2, 3, 1)],
    ),
    "softmax": (
        lambda x, y: T.nnet.softmax(x * y),
        lambda x, y: np.exp(x * y) / np.exp(x * y).sum(axis=-1, keepdims=True),
        [(2, 3), (1, 3)],
    ),
    "indexing": (
        lambda x, y: x[1:, ::-1] * y[[0, 0, 2]],
        lambda x, y: x[1:, ::-1] * y[[0, 0, 2]],
        [(3, 3), (4,)],
    ),
    "set_subtensor": (
        lambda x, y: T.set_subtensor(x[0], y) * x,
        lambda x, y: np.concatenate([y[None], x[1:]]) * x,
        [(2, 3), (3,)],
    ),
}


def _sample(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.3, 1.5, size=s) * rng.choice([-1, 1], size=s) for s in shapes]


def _symbolic(shapes):
    return [
        T.tensor(f"x{i}", shape=tuple(1 if d == 1 else None for d in s))
        for i, s in enumerate(shapes)
    ]


@pytest.mark.parametrize("name", list(CASES))
def test_rop_matches_jacobian_times_vector(name):
    fn, ref, shapes = CASES[name]
    values = _sample(shapes, 0)
    tangents = _sample(shapes, 1)
    inputs = _symbolic(shapes)
    vs = _symbolic(shapes)
    jv = run(sg.Rop(fn(*inputs), inputs, vs), inputs + vs, *values, *tangents)
    want = sum(
        np.tensordot(fd_jacobian(ref, values, i), t, axes=t.ndim)
        for i, t in enumerate(tangents)
    )
    np.testing.assert_allclose(jv, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(CASES))
def test_lop_matches_vector_times_jacobian(name):
    fn, ref, shapes = CASES[name]
    values = _sample(shapes, 0)
    inputs = _symbolic(shapes)
    out = fn(*inputs)
    u_value = _sample([np.shape(ref(*values))], 2)[0]
    u = out.type()
    got = run(sg.Lop(out, inputs, u), inputs + [u], *values, u_value)
    for i, g in enumerate(got):
        want = np.tensordot(u_value, fd_jacobian(ref, values, i), axes=u_value.ndim)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(CASES))
def test_jacobian_matches_finite_differences(name):
    fn, ref, shapes = CASES[name]
    values = _sample(shapes, 0)
    inputs = _symbolic(shapes)
    jacobians = sg.jacobian(fn(*inputs), inputs)
    got = run(jacobians, inputs, *values)
    for i, J in enumerate(got):
        np.testing.assert_allclose(J, fd_jacobian(ref, values, i), rtol=1e-6, atol=1e-8)


def test_lop_and_rop_with_several_outputs():
    x, y = T.vector("x"), T.vector("y")
    vx, vy = T.vector("vx"), T.vector("vy")
    f1, f2 = x * y, T.exp(x).sum()
    xv, yv, tx, ty = _sample([(3,)] * 4, 5)
    got1, got2 = run(sg.Rop([f1, f2], [x, y], [vx, vy]), [x, y, vx, vy], xv, yv, tx, ty)
    np.testing.assert_allclose(got1, tx * yv + xv * ty)
    np.testing.assert_allclose(got2, np.exp(xv) @ tx)
    u1, u2 = T.vector("u1"), T.scalar("u2")
    gx, gy = sg.Lop([f1, f2], [x, y], [u1, u2])
    got_x, got_y = run([gx, gy], [x, y, u1, u2], xv, yv, tx, 2.0)
    np.testing.assert_allclose(got_x, tx * yv + 2.0 * np.exp(xv))
    np.testing.assert_allclose(got_y, tx * xv)


def test_rop_uses_an_ops_own_r_op():
    class Double(Op):
        def make_node(self, x):
            x = as_tensor_variable(x)
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = 2 * inputs[0]

        def grad(self, inputs, output_grads):
            raise AssertionError("Rop must use R_op here")

        def R_op(self, inputs, eval_points):
            return [eval_points[0] * 2]

    x, v = T.vector("x"), T.vector("v")
    np.testing.assert_allclose(
        run(sg.Rop(Double()(x), x, v), [x, v], [1.0], [3.0]), [6.0]
    )


def test_rop_errors_and_disconnected_outputs():
    x, y, v = T.vector("x"), T.vector("y"), T.vector("v")
    with pytest.raises(ValueError, match="does not depend on 'x'"):
        sg.Rop(y * 2, x, v)
    zeros = sg.Rop(y * 2, x, v, disconnected_outputs="ignore")
    np.testing.assert_array_equal(run(zeros, [y], [1.0, 2.0]), [0.0, 0.0])
    with pytest.raises(ValueError, match="they must have the same shape"):
        sg.Rop(x * 2, x, T.matrix("m"))
    with pytest.raises(ValueError, match="2 eval_points for 1"):
        sg.Lop(x * 2, x, [v, v])


# ------------------------------------------------------------------ hessian

HESSIAN_CASES = {
    "elemwise": (
        lambda x: (T.tanh(x) * x**2).sum(),
        lambda x: np.sum(np.tanh(x) * x**2),
        (3,),
    ),
    "logsumexp": (
        lambda x: T.log(T.exp(x).sum()),
        lambda x: np.log(np.exp(x).sum()),
        (2, 3),
    ),
    "quadratic_dot": (
        lambda x: (
            T.dot(x, T.dot(T.constant(np.arange(9.0).reshape(3, 3)), x))
            * T.exp(x).sum()
        ),
        lambda x: (x @ np.arange(9.0).reshape(3, 3) @ x) * np.exp(x).sum(),
        (3,),
    ),
    "matrix_product": (
        lambda x: T.tanh(T.dot(x, x.T)).sum(),
        lambda x: np.tanh(x @ x.T).sum(),
        (2, 3),
    ),
    "prod_max": (
        lambda x: T.prod(x) + T.max(x * x),
        lambda x: np.prod(x) + np.max(x * x),
        (4,),
    ),
    "softmax_ce": (
        lambda x: -T.log(T.nnet.softmax(x)[:, 0]).sum(),
        lambda x: -np.sum(np.log(np.exp(x)[:, 0] / np.exp(x).sum(axis=1))),
        (2, 3),
    ),
}


@pytest.mark.parametrize("name", list(HESSIAN_CASES))
def test_hessian_matches_finite_differences(name):
    fn, ref, shape = HESSIAN_CASES[name]
    value = _sample([shape], 3)[0]
    x = T.tensor("x", shape=(None,) * len(shape))
    H = run(sg.hessian(fn(x), x), [x], value)
    np.testing.assert_allclose(H, fd_hessian(ref, value), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        H, np.swapaxes(H.reshape(value.size, -1), 0, 1).reshape(H.shape), atol=1e-10
    )


def test_hessian_of_a_list_and_of_a_linear_cost():
    x, y = T.vector("x"), T.vector("y")
    hx, hy = sg.hessian((x * y).sum() + (x**3).sum(), [x, y])
    got_x, got_y = run([hx, hy], [x, y], [1.0, 2.0], [3.0, 4.0])
    np.testing.assert_allclose(got_x, np.diag([6.0, 12.0]))
    np.testing.assert_allclose(got_y, np.zeros((2, 2)))


def test_jacobian_of_a_scalar_is_the_gradient_and_errors():
    x = T.vector("x")
    np.testing.assert_allclose(
        run(sg.jacobian((x**2).sum(), x), [x], [1.0, 3.0]), [2.0, 6.0]
    )
    with pytest.raises(Exception, match="does not depend on 'y'"):
        sg.jacobian(x * 2, T.vector("y"))
    with pytest.raises(TypeError, match="symbolic Variable"):
        sg.jacobian([x], x)


def test_jacobian_of_an_empty_output():
    x = T.vector("x")
    J = run(sg.jacobian(x[:0] * 2, x), [x], [1.0, 2.0])
    assert J.shape == (0, 2)


# ------------------------------------------------------------ vectorisation


def _op_names(outputs):
    return {type(node.op).__name__ for node in toposort(outputs)}


def test_jacobian_is_vectorised_without_fallback_or_loop():
    x, w = T.matrix("x"), T.matrix("w")
    out = T.tanh(T.dot(x, w) + 1).sum(axis=0) * T.max(x)
    J = sg.jacobian(out, [x, w])
    assert "Batched" not in _op_names(J)
    # the graph is the same whatever the output size: no per-row copies
    small = len(toposort(J))
    x2 = T.matrix("x2", shape=(50, 40))
    J2 = sg.jacobian(T.tanh(T.dot(x2, w) + 1).sum(axis=0) * T.max(x2), [x2, w])
    assert len(toposort(J2)) <= small + 5


class CumSum(Op):
    """A running sum along axis 0 with no batch rule: exercises the fallback."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.cumsum(inputs[0], axis=0)

    def grad(self, inputs, output_grads):
        # d cumsum(x) = reversed cumsum of the gradient
        return [CumSum()(output_grads[0][::-1])[::-1]]

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes


def test_ops_without_batch_rule_use_the_batched_fallback():
    x = T.vector("x")
    f = CumSum()(T.sin(x) * x)
    J = sg.jacobian(f, x)
    assert "Batched" in _op_names([J])
    value = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(
        run(J, [x], value),
        fd_jacobian(lambda v: np.cumsum(np.sin(v) * v), [value], 0),
        rtol=1e-6,
    )
    # its gradient is the vectorised gradient of the op: second order works
    H = sg.hessian((CumSum()(x**3) * x).sum(), x)
    ref = lambda v: np.sum(np.cumsum(v**3) * v)  # noqa: E731
    np.testing.assert_allclose(run(H, [x], value), fd_hessian(ref, value), rtol=1e-5)


def test_batched_op_forward_and_shape():
    x = T.matrix("x")
    node = Batched(CumSum(), (True,)).make_node(x)
    value = np.arange(6.0).reshape(2, 3)
    out = node.outputs[0]
    np.testing.assert_array_equal(run(out, [x], value), np.cumsum(value, axis=1))
    shape = node.op.infer_shape(None, node, [(T.constant(2), T.constant(3))])
    assert len(shape[0]) == 2
    sg.verify_grad(lambda v: Batched(CumSum(), (True,))(v) ** 2, [value])


def test_vectorize_graph_matches_a_loop():
    u = T.vector("u")
    w = T.matrix("w")
    g = T.dot(w, T.tanh(u) * u.sum()) + T.exp(u[0])
    U = T.matrix("U")
    (stacked,) = vectorize_graph([g], {u: U})
    rng = np.random.default_rng(0)
    Uv, wv = rng.normal(size=(4, 3)), rng.normal(size=(2, 3))
    got = run(stacked, [U, w], Uv, wv)
    want = np.stack([wv @ (np.tanh(r) * r.sum()) + np.exp(r[0]) for r in Uv])
    np.testing.assert_allclose(got, want)
    (const,) = vectorize_graph([T.exp(w)], {u: U})  # independent: broadcast
    assert run(const, [U, w], Uv, wv).shape == (4, 2, 3)


@pytest.mark.parametrize("target", [(-1,), (3, -1), (-1, 2)])
@pytest.mark.parametrize("batch", [2, 1, 0])
def test_vectorized_reshape_infers_minus_one_from_a_slice(target, batch):
    # with an empty batch the stack has no elements to infer the -1 from
    x = T.matrix("x")
    stack = T.tensor3("U")
    (out,) = vectorize_graph([T.reshape(x, target)], {x: stack})
    value = np.arange(batch * 12.0).reshape(batch, 3, 4)
    want_shape = (batch, *np.empty((3, 4)).reshape(target).shape)
    got = run(out, [stack], value)
    assert got.shape == want_shape
    np.testing.assert_array_equal(got, value.reshape(want_shape))


# ------------------------------------------------------- every op of op_db


@pytest.mark.parametrize("info", [r for r in OP_DB if r.grad], ids=lambda r: r.name)
def test_rop_and_lop_of_every_op_db_record(info):
    """J v and u^T J of each op against the finite-difference Jacobian of its
    NumPy reference (in float64: float32 results get a coarser check)."""
    shapes, dtypes, values, wrt = float64_case(info)
    inputs = info.make_inputs(shapes, dtypes)
    out = info.fn(*inputs)
    coarse = out.dtype != "float64"
    rng = np.random.default_rng(3)
    tangents = [rng.normal(size=np.shape(values[i])) for i in wrt]
    tangent_vars = [inputs[i].type() for i in wrt]
    u = out.type()

    def ref(*diff_values):
        full = list(values)
        for pos, v in zip(wrt, diff_values, strict=True):
            full[pos] = v
        with np.errstate(all="ignore"):
            return np.asarray(info.ref(*full), "float64")

    points = [values[i] for i in wrt]
    eps = 1e-3 if coarse else 1e-6
    jacobians = [fd_jacobian(ref, points, k, eps) for k in range(len(wrt))]
    u_value = rng.normal(size=np.shape(ref(*points))).astype(out.dtype)
    jv = sg.Rop(out, [inputs[i] for i in wrt], tangent_vars)
    vj = sg.Lop(out, [inputs[i] for i in wrt], u)
    got_jv, *got_vj = run(
        [jv, *vj], list(inputs) + tangent_vars + [u], *values, *tangents, u_value
    )
    tol = {"rtol": 2e-2, "atol": 2e-2} if coarse else {"rtol": 1e-5, "atol": 1e-6}
    want_jv = sum(
        np.tensordot(J, t, axes=t.ndim)
        for J, t in zip(jacobians, tangents, strict=True)
    )
    np.testing.assert_allclose(got_jv, want_jv, err_msg="Rop", **tol)
    for J, g in zip(jacobians, got_vj, strict=True):
        want = np.tensordot(u_value, J, axes=u_value.ndim)
        np.testing.assert_allclose(g, want, err_msg="Lop", **tol)


# ------------------------------------------------------ the default backend


@pytest.mark.parametrize("name", list(CASES))
def test_derivative_graphs_agree_on_the_c_backend(name):
    """Gradient, Rop and jacobian graphs, compiled to C, match the python oracle."""
    fn, _, shapes = CASES[name]
    values, tangents = _sample(shapes, 0), _sample(shapes, 1)
    inputs, vs = _symbolic(shapes), _symbolic(shapes)
    out = fn(*inputs)
    outputs = [*sg.jacobian(out, inputs), sg.Rop(out, inputs, vs)]
    outputs += sg.grad((out**2).sum(), inputs)
    args = inputs + vs
    want = sg.function(args, outputs, backend="python", on_unused_input="ignore")
    got = sg.function(args, outputs, backend="c", on_unused_input="ignore")
    for a, b in zip(got(*values, *tangents), want(*values, *tangents), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_jacobian_with_constant_cotangents_on_the_c_backend():
    # the output's size is static: the identity cotangents fold to a constant,
    # which the Batched fallback (advanced indexing's gradient) then stacks
    x = T.vector("x")
    J = sg.jacobian(x[np.array([0, 2])] * 3, x)
    value = np.arange(4.0)
    np.testing.assert_array_equal(
        sg.function([x], J, backend="c")(value),
        sg.function([x], J, backend="python")(value),
    )


def test_hessian_through_the_batched_fallback_on_the_c_backend():
    x = T.vector("x")
    H = sg.hessian((CumSum()(x**3) * x).sum(), x)
    value = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(
        sg.function([x], H, backend="c")(value),
        sg.function([x], H, backend="python")(value),
    )
