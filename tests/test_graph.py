"""The graph core: types, variables, constants, source lines, walks."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph import (
    Apply,
    Constant,
    TensorType,
    ancestors,
    as_tensor_variable,
    clone_replace,
    graph_inputs,
    io_toposort,
    toposort,
)


def test_tensor_type_validation_and_equality():
    t = TensorType("float32", (None, 3))
    assert t == TensorType(np.float32, [None, 3]) and (
        hash(t) == hash(TensorType("float32", (None, 3)))
    )
    assert t.ndim == 2 and t.broadcastable == (False, False)
    assert TensorType("float64", (1, None)).broadcastable == (True, False)
    with pytest.raises(TypeError, match="not supported"):
        TensorType("complex128", ())
    with pytest.raises(TypeError, match="not a NumPy dtype"):
        TensorType("floaty", ())
    with pytest.raises(ValueError, match="negative"):
        TensorType("float64", (-1,))
    with pytest.raises(TypeError, match="int or None"):
        TensorType("float64", (2.5,))


def test_constructors_and_prefixes():
    assert T.matrix("m").type == TensorType(sg.config.floatX, (None, None))
    assert T.fvector().dtype == "float32" and T.iscalar().dtype == "int32"
    assert T.lmatrix().dtype == "int64" and T.bvector().dtype == "int8"
    assert T.dtensor3().ndim == 3 and T.ftensor4().ndim == 4
    assert T.row().type.shape == (1, None) and T.col().type.shape == (None, 1)
    a, b = T.matrices("a", "b")
    assert (a.name, b.name) == ("a", "b")
    z = T.tensor("z", dtype="float32", shape=(None, 3))
    assert z.type.shape == (None, 3)
    assert T.tensor("u", ndim=2).type.shape == (None, None)


def test_variables_record_the_user_source_line():
    x = T.matrix("x")  # the line recorded
    y = x + 1
    assert x.trace.filename == __file__ and "x = T.matrix" in x.trace.code
    assert y.trace.filename == __file__ and "y = x + 1" in y.trace.code
    assert "test_graph.py" in x.describe() and "'x'" in x.describe()


def test_python_numbers_are_weak_constants():
    f = T.fvector("f")
    assert (f * 2.0).dtype == "float32"
    assert (f + 1).dtype == "float32"
    assert (T.bvector() + 1).dtype == "int8"
    assert (T.ivector() / 2).dtype == "float64"
    assert (f + np.float64(1.0)).dtype == "float64"  # NumPy scalars are strong
    with pytest.raises(TypeError, match="does not fit in int8"):
        T.bvector() + 1000


def test_conflicting_static_shapes_fail_at_build_time():
    a = T.tensor("a", shape=(2, 3))
    b = T.tensor("b", shape=(4, 3))
    with pytest.raises(ValueError) as info:
        a + b
    message = str(info.value)
    assert "axis 0" in message and "'a'" in message and "'b'" in message
    assert "test_graph.py" in message


def test_conflicting_dtypes_fail_at_build_time():
    with pytest.raises(
        TypeError, match="sub is not defined for dtypes bool, bool.*'flag'.*'other'"
    ):
        T.vector("flag", dtype="bool") - T.vector("other", dtype="bool")


def test_symbolic_variables_refuse_python_traps():
    x = T.vector("x")
    with pytest.raises(TypeError, match="no truth value"):
        bool(x > 0)
    with pytest.raises(TypeError, match="iterate"):
        list(x)
    with pytest.raises(TypeError, match="immutable"):
        x[0] = 1
    assert (x == x) is True and x != T.vector()  # identity, so variables are dict keys


def test_as_tensor_variable():
    c = as_tensor_variable([[1, 2], [3, 4]])
    assert isinstance(c, Constant) and c.type == TensorType("int64", (2, 2))
    assert as_tensor_variable(np.float32(2)).dtype == "float32"
    assert as_tensor_variable(1.5).weak
    for bad in ("text", None, object()):
        with pytest.raises(TypeError, match="cannot make a tensor"):
            as_tensor_variable(bad)
    with pytest.raises(TypeError, match="expected a 2-d tensor"):
        as_tensor_variable([1.0], ndim=2)
    data = np.arange(3.0)
    c = as_tensor_variable(data)
    data[0] = 9
    assert c.data[0] == 0 and not c.data.flags.writeable


def test_walks_and_clone_replace():
    x, y = T.vector("x"), T.vector("y")
    a = T.exp(x)
    b = a * y
    out = b + a
    nodes = toposort([out])
    assert nodes.index(a.owner) < nodes.index(b.owner) < nodes.index(out.owner)
    assert set(graph_inputs([out])) >= {x, y}
    assert (
        io_toposort([a], [out]) == [b.owner, out.owner]
        or io_toposort([a], [out])[-1] is out.owner
    )
    assert a in ancestors([out])
    z = T.vector("z")
    new = clone_replace(out, {y: z})
    assert z in graph_inputs([new]) and y not in graph_inputs([new])
    assert y in graph_inputs([out])  # the original is untouched
    f = sg.function([x, z], new, backend="python")
    np.testing.assert_allclose(f([0.0], [2.0]), [3.0])


def test_deep_graphs_do_not_hit_the_recursion_limit():
    x = T.scalar("x")
    y = x
    for _ in range(5000):
        y = y + 1
    f = sg.function([x], y, backend="python")
    assert float(f(0.0)) == 5000.0
    assert len(toposort([y])) >= 5000


def test_apply_refuses_non_variables_and_reused_outputs():
    x = T.vector("x")
    op = (x + 1).owner.op
    with pytest.raises(TypeError, match="not a Variable"):
        Apply(op, [x, 3], [x.type()])
    out = x + 1
    with pytest.raises(ValueError, match="already belongs"):
        Apply(op, [x, x], [out])


def test_config_validates_values():
    with pytest.raises(ValueError, match="floatX"):
        sg.config.floatX = "float16"
    old = sg.config.floatX
    try:
        sg.config.floatX = "float32"
        assert T.matrix().dtype == "float32" and (T.fvector() * 1.5).dtype == "float32"
    finally:
        sg.config.floatX = old


def test_numpy_arrays_on_the_left_hand_over_to_variables():
    x = T.vector("x")
    y = np.ones(2) + x
    z = np.ones((3, 2)) @ x
    assert y.ndim == 1 and z.ndim == 1
    f = sg.function([x], [y, z], backend="python")
    np.testing.assert_allclose(f([1.0, 2.0])[0], [2.0, 3.0])
    np.testing.assert_allclose(f([1.0, 2.0])[1], [3.0, 3.0, 3.0])
