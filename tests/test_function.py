"""sg.function: inputs, outputs, updates, givens, and clear errors at call time."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.fgraph import MissingInputError
from symgraph.compile.function import UnusedInputError

BACKEND = "python"


@pytest.fixture(scope="module")
def xy():
    x = T.matrix("x")
    y = T.vector("y")
    f = sg.function([x, y], x * y + 1, backend=BACKEND)
    return x, y, f


def test_single_and_list_outputs():
    x = T.vector("x")
    assert isinstance(sg.function([x], x * 2, backend=BACKEND)([1.0]), np.ndarray)
    out = sg.function([x], [x * 2, x + 1], backend=BACKEND)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_array_equal(out[1], [2.0, 3.0])
    assert sg.function([x], [], backend=BACKEND, on_unused_input="ignore")([1.0]) == []


def test_python_lists_and_scalars_are_accepted(xy):
    x, y, f = xy
    np.testing.assert_allclose(f([[1, 2], [3, 4]], [10, 20]), [[11, 41], [31, 81]])
    s = T.scalar("s")
    assert float(sg.function([s], s * 3, backend=BACKEND)(2)) == 6.0


def test_keyword_arguments(xy):
    x, y, f = xy
    np.testing.assert_allclose(f(y=[1.0, 1.0], x=np.ones((1, 2))), [[2.0, 2.0]])
    with pytest.raises(TypeError, match="no input named 'z'"):
        f(np.ones((1, 2)), z=1)


def test_wrong_ndim_names_input_and_source_line(xy):
    x, y, f = xy
    with pytest.raises(TypeError) as info:
        f(np.ones(3), np.ones(3))
    message = str(info.value)
    assert "input 0 'x'" in message and "ndim 2" in message and "ndim 1" in message
    assert "test_function.py" in message and 'T.matrix("x")' in message


def test_wrong_dtype_is_refused_with_a_fix(xy):
    x, y, f = xy
    with pytest.raises(TypeError, match="input 1 'y'.*int64 to float64|input 1 'y'"):
        f(np.ones((1, 2)), np.array(["a", "b"]))
    fx = T.fvector("fx")
    g = sg.function([fx], fx * 2, backend=BACKEND)
    with pytest.raises(TypeError, match="allow_input_downcast=True"):
        g(np.ones(2, dtype="float64"))
    g_down = sg.function([fx], fx * 2, backend=BACKEND, allow_input_downcast=True)
    assert g_down(np.ones(2)).dtype == np.float32
    assert g([1.5, 2.5]).dtype == np.float32  # Python floats may become float32
    i = T.ivector("i")
    h = sg.function([i], i + 1, backend=BACKEND)
    with pytest.raises(TypeError, match="input 0 'i'"):
        h([1.5])  # a fraction would be lost
    np.testing.assert_array_equal(h([1.0, 2.0]), [2, 3])


@pytest.mark.parametrize("bad", ["abc", None, object(), {"a": 1}, [[1, 2], [3]]])
def test_non_numeric_values_are_refused_cleanly(xy, bad):
    x, y, f = xy
    with pytest.raises(TypeError, match="input 0 'x'"):
        f(bad, [1.0, 2.0])


def test_static_shape_is_checked_at_call_time():
    z = T.tensor("z", dtype="float64", shape=(None, 3))
    f = sg.function([z], z.sum(), backend=BACKEND)
    with pytest.raises(ValueError, match=r"input 0 'z'.*dimension 1 must be 3, not 4"):
        f(np.ones((2, 4)))


def test_argument_count(xy):
    x, y, f = xy
    with pytest.raises(TypeError, match=r"takes 2 arguments \(x, y\), got 3"):
        f(np.ones((1, 2)), np.ones(2), 3)
    with pytest.raises(TypeError, match=r"takes 2 arguments \(x, y\), got 1"):
        f(np.ones((1, 2)))


def test_runtime_broadcast_mismatch_is_an_error_not_a_silent_broadcast(xy):
    x, y, f = xy
    with pytest.raises(ValueError, match="size 3 on axis 1"):
        f(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="static size 1"):
        f(np.ones((2, 3)), np.ones(1))


def test_updates_are_simultaneous():
    a = sg.shared(np.array(1.0), name="a")
    b = sg.shared(np.array(2.0), name="b")
    swap = sg.function([], [], updates=[(a, b), (b, a)], backend=BACKEND)
    swap()
    assert (float(a.get_value()), float(b.get_value())) == (2.0, 1.0)
    x = T.scalar("x")
    acc = sg.function([x], a * 1, updates={a: a + x}, backend=BACKEND)
    assert float(acc(5.0)) == 2.0  # outputs see the values before the update
    assert float(a.get_value()) == 7.0


def test_update_errors_name_the_shared_variable():
    w = sg.shared(np.zeros(3, dtype="float32"), name="w")
    x = T.dvector("x")
    with pytest.raises(TypeError, match=r"update of 'w'.*float64.*float32"):
        sg.function([x], [], updates=[(w, w + x)], backend=BACKEND)
    with pytest.raises(TypeError, match="not a shared variable"):
        sg.function([x], [], updates=[(x, x + 1)], backend=BACKEND)
    with pytest.raises(TypeError, match="ndim"):
        sg.function([], [], updates=[(w, w.sum())], backend=BACKEND)
    f = sg.function([], [], updates=[(w, w + 1.5)], backend=BACKEND)  # weak constant
    f()
    assert w.get_value().dtype == np.float32 and w.get_value()[0] == 1.5


def test_shared_variable_get_set_value_borrow():
    value = np.arange(3.0)
    s = sg.shared(value, name="s")
    value[0] = 100
    assert s.get_value()[0] == 0  # copied on the way in
    out = s.get_value()
    out[1] = 50
    assert s.get_value()[1] == 1  # copied on the way out
    assert s.get_value(borrow=True) is s.get_value(borrow=True)
    s.set_value([7.0, 8.0, 9.0, 10.0])  # the static shape is not fixed
    assert s.get_value().shape == (4,)
    with pytest.raises(TypeError, match="set_value of shared variable 's'"):
        s.set_value(np.ones((2, 2)))


def test_givens_replace_variables():
    x = T.vector("x")
    y = T.vector("y")
    w = sg.shared(np.array([1.0, 2.0]), name="w")
    f = sg.function([y], (x * w).sum(), givens={x: y * 2}, backend=BACKEND)
    assert float(f([1.0, 1.0])) == 6.0
    with pytest.raises(TypeError, match="dtype and ndim must match"):
        sg.function([y], x.sum(), givens={x: T.matrix()}, backend=BACKEND)


def test_missing_and_unused_inputs():
    x, y = T.vector("x"), T.vector("y")
    with pytest.raises(MissingInputError, match="'y'.*not among the inputs"):
        sg.function([x], x + y, backend=BACKEND)
    with pytest.raises(UnusedInputError, match="input 1 'y'"):
        sg.function([x, y], x * 2, backend=BACKEND)
    with pytest.warns(UserWarning, match="not used"):
        sg.function([x, y], x * 2, backend=BACKEND, on_unused_input="warn")


def test_bad_input_lists():
    x = T.vector("x")
    with pytest.raises(TypeError, match="list of variables"):
        sg.function(x, x, backend=BACKEND)
    with pytest.raises(TypeError, match="computed from other variables"):
        sg.function([x * 2], x, backend=BACKEND)
    with pytest.raises(ValueError, match="listed twice"):
        sg.function([x, x], x, backend=BACKEND)
    with pytest.raises(TypeError, match="shared variables are implicit"):
        sg.function([sg.shared(1.0)], x, backend=BACKEND)


def test_outputs_are_fresh_arrays():
    x = T.matrix("x")
    data = np.ones((2, 3))
    from symgraph.ops.elemwise import DimShuffle

    f = sg.function([x], [x, DimShuffle(2, (1, 0))(x)], backend=BACKEND)
    same, transposed = f(data)
    same[0, 0] = 5
    transposed[0, 0] = 7
    assert data[0, 0] == 1.0
    s = sg.shared(np.zeros(2), name="s")
    value = sg.function([], s, backend=BACKEND)()
    value[0] = 3
    assert s.get_value()[0] == 0


def test_eval_and_function_repr():
    x = T.vector("x")
    np.testing.assert_array_equal((x + 1).eval({x: [1.0, 2.0]}), [2.0, 3.0])
    f = sg.function([x], x + 1, name="inc", backend=BACKEND)
    assert "inc" in repr(f) and f.backend == "python"
    with pytest.raises(TypeError, match="sg.function 'inc'"):
        f("nope")
