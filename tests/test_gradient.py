"""sg.grad: semantics, markers, errors, gradient-only ops, growth, second order."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import time

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import (
    DisconnectedInputError,
    GradientError,
    disconnected_type,
    grad_not_implemented,
    grad_undefined,
    is_null,
)
from symgraph.graph import Apply, as_tensor_variable, toposort
from symgraph.op import Op, has_gradient_rule
from symgraph.ops.gradient_ops import (
    consider_constant,
    disconnected_grad,
    grad_clip,
    grad_scale,
    zero_grad,
)
from symgraph.ops.scalar import ScalarOp
from tests.op_db import FLOATS, OP_DB


def run(outputs, inputs, *values):
    return sg.function(inputs, outputs, backend="python", on_unused_input="ignore")(
        *values
    )


def here() -> int:
    """The line number of the caller (to check messages quote the user's line)."""
    return inspect.currentframe().f_back.f_lineno


# ------------------------------------------------------------------ meta-test


def _import_package() -> list[str]:
    """Import every symgraph module so that every Op class is defined.

    Returns the modules that failed to import (their ops cannot be checked).
    """
    failures = []
    for info in pkgutil.walk_packages(sg.__path__, "symgraph."):
        if info.name.rsplit(".", 1)[-1] in ("demo", "__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:  # optional dependencies (pycuda)
            if exc.name and exc.name.startswith("symgraph"):
                failures.append(f"{info.name}: {exc}")
        except ImportError as exc:
            failures.append(f"{info.name}: {exc}")
    return failures


def _leaf_subclasses(base: type) -> list[type]:
    """The concrete (leaf) classes below ``base`` defined in the package.

    Abstract bases (``Reduce``, ``_Comparison``) are checked through their
    subclasses, which inherit or define the rule.
    """
    found, stack = set(), list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("symgraph.") and not [
            s for s in cls.__subclasses__() if s.__module__.startswith("symgraph.")
        ]:
            found.add(cls)
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def test_every_op_has_a_gradient_rule_or_an_explicit_marker():
    # The convention (symgraph/gradient.py): an Op class defines grad or L_op
    # (returning markers or zeros where it is not differentiable); a ScalarOp
    # defines grad or sets discrete = True.
    broken = _import_package()
    ops = _leaf_subclasses(Op)
    scalar_ops = _leaf_subclasses(ScalarOp)
    offenders = [
        f"{c.__module__}.{c.__name__}" for c in ops if not has_gradient_rule(c)
    ]
    offenders += [
        f"{c.__module__}.{c.__name__} (ScalarOp)"
        for c in scalar_ops
        if c.grad is ScalarOp.grad and not c.discrete
    ]
    print(f"checked {len(ops)} Op and {len(scalar_ops)} ScalarOp classes")
    for name in offenders:
        print("no gradient rule and no non-differentiable marker:", name)
    assert not offenders, (
        "these ops have neither a gradient rule (grad / L_op) nor an explicit "
        "non-differentiable marker (a grad returning grad_undefined / zeros, or "
        "ScalarOp.discrete = True): " + ", ".join(offenders)
    )
    assert len(ops) >= 5 and len(scalar_ops) >= 10  # the walk found the library
    assert not broken, "modules that could not be imported: " + "; ".join(broken)


def test_meta_test_catches_an_op_without_rule():
    class NoRule(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

    class WithMarker(NoRule):
        def grad(self, inputs, output_grads):
            return [grad_undefined(self, 0, inputs[0])]

    assert not has_gradient_rule(NoRule)
    assert has_gradient_rule(WithMarker)


# ------------------------------------------------------------- basic results


def test_grad_of_a_list_and_of_shared_variables():
    x = T.vector("x")
    w = sg.shared(np.array([1.0, 2.0, 3.0]), name="w")
    b = sg.shared(np.array(0.5), name="b")
    cost = ((x * w).sum() + b) ** 2
    gw, gb = sg.grad(cost, [w, b])
    xv = np.array([1.0, -1.0, 2.0])
    s = xv @ w.get_value() + 0.5
    got_w, got_b = run([gw, gb], [x], xv)
    np.testing.assert_allclose(got_w, 2 * s * xv)
    np.testing.assert_allclose(got_b, 2 * s)


def test_fan_in_is_summed_and_wrt_may_be_intermediate():
    x = T.scalar("x")
    h = x * x
    cost = h * 3 + T.exp(h)
    gh, gx = sg.grad(cost, [h, x])
    got_h, got_x = run([gh, gx], [x], 1.5)
    np.testing.assert_allclose(got_h, 3 + np.exp(2.25))
    np.testing.assert_allclose(got_x, (3 + np.exp(2.25)) * 3.0)


def test_gradient_dtype_follows_the_variable():
    x32 = T.fvector("x32")
    x64 = T.dvector("x64")
    cost = (x32 * x64).sum().astype("float32")
    g32, g64 = sg.grad(cost, [x32, x64])
    assert (g32.dtype, g64.dtype) == ("float32", "float64")
    got = run(g32, [x32, x64], np.ones(2, "float32"), np.arange(2.0))
    assert got.dtype == np.float32


def test_consider_constant_stops_the_gradient():
    x = T.scalar("x")
    y = x * x
    cost = y * x
    g = sg.grad(cost, x, consider_constant=[y])
    assert float(run(g, [x], 3.0)) == 9.0  # d(y x)/dx with y held: y
    assert float(run(sg.grad(cost, x), [x], 3.0)) == 27.0


def test_consider_constant_of_the_only_path_disconnects():
    x = T.scalar("x")
    y = T.exp(x)
    with pytest.raises(DisconnectedInputError):
        sg.grad(y * 2, x, consider_constant=[y])


def test_known_grads_seed_the_walk():
    x = T.vector("x")
    h = T.tanh(x)
    gh = T.vector("gh")
    g = sg.grad(None, x, known_grads={h: gh})
    xv, ghv = np.array([0.1, -2.0]), np.array([3.0, 0.5])
    np.testing.assert_allclose(run(g, [x, gh], xv, ghv), ghv * (1 - np.tanh(xv) ** 2))
    # with a cost too: the contributions add up
    g2 = sg.grad(h.sum(), x, known_grads={h: gh})
    np.testing.assert_allclose(
        run(g2, [x, gh], xv, ghv), (ghv + 1) * (1 - np.tanh(xv) ** 2)
    )


def test_known_grads_are_cast_and_checked():
    x = T.fvector("x")
    h = x * 2
    g = sg.grad(None, x, known_grads={h: np.ones(3)})
    assert g.dtype == "float32"
    with pytest.raises(ValueError, match="a gradient has its variable's shape"):
        sg.grad(None, x, known_grads={h: 1.0})
    row = T.row("row")
    with pytest.raises(
        ValueError, match=r"static size 1 included: make it with var.type\(\)"
    ):
        sg.grad(None, row, known_grads={row * 2: T.matrix("g")})


class _TwoOutputs(Op):
    """(2x, x^2): an op with two outputs, to check multi-output nodes."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = 2 * inputs[0]
        output_storage[1][0] = inputs[0] ** 2

    def grad(self, inputs, output_grads):
        g_double, g_square = output_grads
        return [g_double * 2 + g_square * 2 * inputs[0]]


def test_multiple_outputs_sum_and_unused_outputs_get_zeros():
    x = T.vector("x")
    double, square = _TwoOutputs()(x)
    xv = np.array([1.0, 3.0])
    both = sg.grad((double + square).sum(), x)
    np.testing.assert_allclose(run(both, [x], xv), 2 + 2 * xv)
    only_square = sg.grad(square.sum(), x)
    np.testing.assert_allclose(run(only_square, [x], xv), 2 * xv)


class _NoRule(Op):
    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0].copy()


def test_null_gradients_raise_or_are_returned():
    x = T.vector("x")
    y = T.vector("y")
    cost = _NoRule()(x).sum() + y.sum()
    with pytest.raises(GradientError, match="_NoRule has no gradient rule for input 0"):
        sg.grad(cost, x)
    marker = sg.grad(cost, x, null_gradients="return")
    assert is_null(marker)
    # a null gradient elsewhere in the graph does not matter for y
    np.testing.assert_allclose(run(sg.grad(cost, y), [x, y], [1.0], [1.0, 2.0]), [1, 1])


def test_markers_have_readable_reasons():
    x = T.vector("x")
    assert "undefined: at zero" in grad_undefined("Op", 0, x, "at zero").type.why
    assert "no gradient rule" in grad_not_implemented("Op", 1, x).type.why
    assert str(disconnected_type().type) == "Disconnected"


def test_integer_paths_give_zero_but_count_as_connected():
    x = T.vector("x")
    k = T.argmax(x)  # integer valued: the gradient through it is zero
    cost = k.astype("float64") * 2.0
    g = sg.grad(cost, x)
    np.testing.assert_array_equal(run(g, [x], [1.0, 5.0, 2.0]), [0.0, 0.0, 0.0])


def test_disconnected_inputs_options():
    x = T.vector("x")
    y = T.vector("y")
    cost = x.sum()
    with pytest.raises(DisconnectedInputError):
        sg.grad(cost, y)
    with pytest.warns(UserWarning, match="does not depend on 'y'"):
        g = sg.grad(cost, y, disconnected_inputs="warn")
    np.testing.assert_array_equal(run(g, [y], [1.0, 2.0]), [0.0, 0.0])
    assert (
        sg.grad(cost, y, disconnected_inputs="ignore", return_disconnected="none")
        is None
    )
    marker = sg.grad(
        cost, y, disconnected_inputs="ignore", return_disconnected="disconnected"
    )
    assert str(marker.type) == "Disconnected"
    with pytest.raises(ValueError, match="disconnected_inputs must be one of"):
        sg.grad(cost, x, disconnected_inputs="maybe")


# ------------------------------------------------------------- clear errors


def test_error_non_scalar_cost_names_variable_and_source_line():
    x = T.matrix("x")
    y = T.tanh(x)
    line_y = here() - 1
    with pytest.raises(TypeError) as info:
        sg.grad(y, x)
    line_call = here() - 1
    message = str(info.value)
    assert "the cost must be a scalar" in message
    assert "float64 matrix of shape (?, ?)" in message
    assert f"test_gradient.py:{line_y} (y = T.tanh(x))" in message
    assert f"called from test_gradient.py:{line_call} (sg.grad(y, x))" in message
    assert "cost.sum()" in message  # a likely fix


def test_error_integer_cost():
    i = T.ivector("i")
    cost = i.sum()
    line = here() - 1
    with pytest.raises(TypeError) as info:
        sg.grad(cost, i)
    assert "integer dtype int64" in str(info.value)
    assert f"test_gradient.py:{line} (cost = i.sum())" in str(info.value)


def test_error_integer_input_names_variable_and_source_line():
    n = T.iscalar("n")
    line = here() - 1
    x = T.vector("x")
    cost = (x * n).sum()
    with pytest.raises(TypeError) as info:
        sg.grad(cost, n)
    message = str(info.value)
    assert "cannot differentiate with respect to 'n'" in message
    assert f'test_gradient.py:{line} (n = T.iscalar("n"))' in message
    assert (
        "int32 scalar" in message and "only float variables have gradients" in message
    )


def test_error_variable_not_in_graph_names_variable_and_source_line():
    x = T.vector("x")
    unused = T.vector("unused")
    line = here() - 1
    cost = (x**2).sum()
    with pytest.raises(DisconnectedInputError) as info:
        sg.grad(cost, [x, unused])
    line_call = here() - 1
    message = str(info.value)
    assert f"does not depend on 'unused' (built at test_gradient.py:{line}" in message
    assert '(unused = T.vector("unused"))' in message
    assert f"test_gradient.py:{line_call}" in message
    assert "disconnected_inputs='ignore'" in message
    gx, gu = sg.grad(cost, [x, unused], disconnected_inputs="ignore")  # told to ignore
    np.testing.assert_array_equal(run(gu, [unused], [1.0, 2.0]), [0.0, 0.0])


def test_error_wrt_not_a_variable():
    x = T.vector("x")
    with pytest.raises(TypeError, match=r"wrt\[1\] must be a symbolic Variable"):
        sg.grad(x.sum(), [x, np.ones(2)])


def test_error_rule_with_wrong_shape_names_the_op():
    class BadRule(_NoRule):
        def grad(self, inputs, output_grads):
            return [output_grads[0].sum()]

    x = T.vector("x")
    with pytest.raises(GradientError, match="BadRule: its gradient rule gave"):
        sg.grad(BadRule()(x).sum(), x)


# --------------------------------------------------------- gradient-only ops


def test_gradient_ops_are_identity_forward():
    x = T.vector("x")
    xv = np.array([1.0, -2.0])
    for out in (
        zero_grad(x),
        disconnected_grad(x),
        grad_clip(x, -1, 1),
        grad_scale(x, 3.0),
    ):
        np.testing.assert_array_equal(run(out, [x], xv), xv)


def test_zero_grad_and_consider_constant():
    x = T.vector("x")
    xv = np.array([1.0, -2.0])
    g = sg.grad((x * zero_grad(x)).sum(), x)
    np.testing.assert_array_equal(run(g, [x], xv), xv)
    g_only = sg.grad(zero_grad(x).sum(), x)  # connected: zeros, no error
    np.testing.assert_array_equal(run(g_only, [x], xv), [0.0, 0.0])
    g_cc = sg.grad((x * consider_constant(x)).sum(), x)
    np.testing.assert_array_equal(run(g_cc, [x], xv), xv)


def test_disconnected_grad():
    x = T.vector("x")
    xv = np.array([1.0, -2.0])
    g = sg.grad((x * disconnected_grad(x)).sum(), x)
    np.testing.assert_array_equal(run(g, [x], xv), xv)
    with pytest.raises(DisconnectedInputError):
        sg.grad(disconnected_grad(x).sum(), x)


def test_grad_clip_and_grad_scale():
    x = T.vector("x")
    xv = np.array([0.1, 2.0, -3.0])
    g = sg.grad((grad_clip(x, -1.0, 1.5) ** 2).sum(), x)  # 2x, clipped
    np.testing.assert_allclose(run(g, [x], xv), np.clip(2 * xv, -1.0, 1.5))
    s = T.scalar("s")
    g = sg.grad((grad_scale(x, s) ** 2).sum(), x)
    np.testing.assert_allclose(run(g, [x, s], xv, 0.5), xv)
    g = sg.grad(
        grad_scale(T.fvector("f"), 2).sum(),
        T.fvector("f2"),
        disconnected_inputs="ignore",
    )
    with pytest.raises(ValueError, match="lower bound"):
        grad_clip(x, 1, -1)
    with pytest.raises(TypeError, match="multiplier must be a scalar"):
        grad_scale(x, x)


def test_gradient_ops_in_forward_mode():
    x, v = T.vector("x"), T.vector("v")
    xv, vv = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    assert np.all(run(sg.Rop(zero_grad(x) * 2, x, v), [x, v], xv, vv) == 0)
    np.testing.assert_allclose(
        run(sg.Rop(grad_scale(x, 3.0), x, v), [x, v], xv, vv), 3 * vv
    )
    np.testing.assert_allclose(
        run(sg.Rop(grad_clip(x, 0, 0), x, v), [x, v], xv, vv), vv
    )


# ------------------------------------------------------------ graph growth


def _chain(n: int):
    x = T.matrix("x")
    h, weights = x, []
    for i in range(n):
        w = T.matrix(f"W{i}")
        b = T.vector(f"b{i}")
        weights.append(w)
        h = T.tanh(h @ w + b)
    return h.sum(), weights


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_gradient_graph_grows_linearly(n):
    cost, weights = _chain(n)
    start = time.perf_counter()
    grads = sg.grad(cost, weights)
    elapsed = time.perf_counter() - start
    nodes = len(toposort(grads))
    assert nodes <= 15 * n, f"{nodes} nodes for {n} layers"
    assert elapsed < 5.0, f"building the gradient of {n} layers took {elapsed:.2f} s"


def test_chain_gradient_is_right():
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=(2, 3))
    biases = [rng.normal(size=3) for _ in range(3)]

    def fun(*weights):
        h = T.constant(x0)
        for w, b in zip(weights, biases, strict=True):
            h = T.tanh(h @ w + b)
        return h.sum()

    sg.verify_grad(fun, [rng.normal(size=(3, 3)) * 0.5 for _ in range(3)])


# -------------------------------------------------------------- second order

SECOND_ORDER = {
    "elemwise": [
        lambda x: T.tanh(x) * T.exp(x / 3),
        lambda x: T.log(x * x + 1) / (x * x + 2),
        lambda x: T.sqrt(x * x + 1) - x**3,
    ],
    "reduce": [
        lambda x: T.tanh(x).sum(axis=0) ** 2,
        lambda x: T.exp(x).mean(axis=1) * x.sum(axis=1),
        lambda x: T.prod(x + 4, axis=1),
        lambda x: T.max(x * x, axis=0),
    ],
    "dot": [
        lambda x: T.dot(T.tanh(x), x.T),
        lambda x: T.dot(x, T.constant(np.arange(6.0).reshape(3, 2))) ** 2,
        lambda x: T.matmul(x.dimshuffle("x", 0, 1), T.exp(x.T).dimshuffle("x", 0, 1)),
    ],
}


@pytest.mark.parametrize(
    "family,index",
    [(fam, i) for fam, fns in SECOND_ORDER.items() for i in range(len(fns))],
)
def test_second_order_gradients(family, index):
    f = SECOND_ORDER[family][index]
    rng = np.random.default_rng(index)
    point = rng.uniform(-1.5, 1.5, size=(2, 3))
    point[np.abs(point) < 0.2] += 0.5  # away from ties and kinks

    def first_order(x):
        proj = T.constant(np.random.default_rng(7).uniform(0.5, 1.5, size=(2, 3)))
        out = f(x)
        return (
            sg.grad(
                (
                    out
                    * np.random.default_rng(3).uniform(0.5, 1.5, size=_shape(f, point))
                ).sum(),
                x,
            )
            * proj
        )

    sg.verify_grad(first_order, [point])


def _shape(f, point):
    x = T.matrix("x")
    return np.shape(run(f(x), [x], point))


def float64_case(info, seed: int = 7):
    """``(shapes, dtypes, values, wrt)``: a record's first gradient case, with
    its float arguments in float64 and ``wrt`` the positions differentiated."""
    cases = info.grad_shapes or [
        s for s in info.shapes if all(np.prod(x) > 0 for x in s)
    ]
    dtypes = (
        info.dtypes[0]
        if isinstance(info.dtypes[0], tuple)
        else ("float64",) * info.nargs
    )
    dtypes = tuple("float64" if d in FLOATS else d for d in info.arg_dtypes(dtypes))
    values = info.make_values(cases[0], dtypes, seed=seed)
    wrt = info.grad_args
    if wrt is None:
        wrt = tuple(i for i, d in enumerate(dtypes) if d in FLOATS)
    return cases[0], dtypes, values, wrt


# Every differentiable op of tests/op_db.py, differentiated twice: the
# gradient of <grad(<f, p>), w> is checked against finite differences.
SECOND_ORDER_XFAIL = {
    "prod_with_zeros": "Prod's rule is exact at zeros, but the rule's own "
    "gradient there is not (it switches on x == 0)",
}


@pytest.mark.parametrize("info", [r for r in OP_DB if r.grad], ids=lambda r: r.name)
def test_second_order_of_every_op_db_record(info):
    if info.name in SECOND_ORDER_XFAIL:
        pytest.xfail(SECOND_ORDER_XFAIL[info.name])
    shapes, dtypes, values, wrt = float64_case(info)
    with np.errstate(all="ignore"):
        out_shape = np.shape(info.ref(*values))
    projection = np.random.default_rng(1).uniform(0.5, 1.5, size=out_shape)

    def first_order(*diff_inputs):
        inputs = list(info.make_inputs(shapes, dtypes))
        for pos in range(info.nargs):
            inputs[pos] = (
                diff_inputs[wrt.index(pos)] if pos in wrt else T.constant(values[pos])
            )
        out = info.fn(*inputs)
        grads = sg.grad(
            (out * projection).sum(), list(diff_inputs), disconnected_inputs="ignore"
        )
        return sum((g * (k + 1.5)).sum() for k, g in enumerate(grads))

    tol = (info.grad_tol or {}).get("float64", {})
    sg.verify_grad(first_order, [values[i] for i in wrt], **tol)
