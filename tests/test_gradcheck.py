"""sg.verify_grad: passes right gradients, reports wrong ones with numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradcheck import TOLERANCES
from symgraph.gradient import GradientError
from symgraph.graph import Apply, as_tensor_variable
from symgraph.op import Op


class WrongSquare(Op):
    """x ** 2 with the gradient 2x + bias: wrong unless bias is 0."""

    __props__ = ("bias",)

    def __init__(self, bias=0.0):
        self.bias = bias

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] ** 2

    def grad(self, inputs, output_grads):
        return [output_grads[0] * (2 * inputs[0] + self.bias)]


def test_right_gradients_pass_for_several_inputs_and_dtypes():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    sg.verify_grad(lambda x, y: T.tanh(x * y) + x / (y * y + 1), [a, b])
    sg.verify_grad(lambda x: T.exp(x).sum(), [a.astype("float32")])
    sg.verify_grad(lambda x: x**3, [[1.0, -2.0]])  # nested lists become float64
    sg.verify_grad(lambda x: WrongSquare()(x), [a])
    sg.verify_grad(lambda x: (x * 2).sum(), [np.array(1.5)])  # a scalar point


def test_wrong_gradient_reports_position_values_and_errors():
    point = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with pytest.raises(GradientError) as info:
        sg.verify_grad(
            lambda x: WrongSquare(0.5)(x), [point], rng=np.random.default_rng(1)
        )
    message = str(info.value)
    assert "input 0 (float64 matrix of shape (?, ?))" in message
    assert re.search(r"wrong at \(\d, \d\)", message)
    analytic = float(re.search(r"analytic (\S+),", message).group(1))
    numeric = float(re.search(r"numeric (\S+),", message).group(1))
    abs_err = float(re.search(r"abs error (\S+) ", message).group(1))
    rel_err = float(re.search(r"rel error (\S+) ", message).group(1))
    assert abs(analytic - numeric) == pytest.approx(abs_err, rel=1e-2)
    assert rel_err == pytest.approx(abs_err / (abs(analytic) + abs(numeric)), rel=1e-2)
    # the projection weights are in [0.5, 1.5]: the error is bias * weight
    assert 0.25 <= abs_err <= 0.75
    assert "6 of 6 entries out of tolerance" in message


def test_the_failing_position_is_the_worst_entry():
    class WrongAtOne(WrongSquare):
        def grad(self, inputs, output_grads):
            x = inputs[0]
            return [output_grads[0] * 2 * x + T.eq(x, 3.0) * 10.0]

    with pytest.raises(GradientError, match=r"wrong at \(2,\)"):
        sg.verify_grad(lambda x: WrongAtOne()(x), [np.array([1.0, 2.0, 3.0, 4.0])])


def test_large_inputs_are_checked_along_random_directions():
    big = np.random.default_rng(0).normal(size=(30, 20))
    sg.verify_grad(lambda x: T.tanh(x), [big], max_elements=100)
    with pytest.raises(GradientError, match="along a random direction"):
        sg.verify_grad(lambda x: WrongSquare(1.0)(x), [big], max_elements=100)


def test_tolerances_default_per_dtype_and_can_be_given():
    point = np.array([0.5, 1.5])
    bias = 1e-4  # too much for float64, within the float32 tolerances
    with pytest.raises(GradientError):
        sg.verify_grad(lambda x: WrongSquare(bias)(x), [point])
    sg.verify_grad(lambda x: WrongSquare(bias)(x), [point.astype("float32")])
    sg.verify_grad(lambda x: WrongSquare(bias)(x), [point], abs_tol=1e-3, rel_tol=1e-3)
    assert TOLERANCES["float32"]["abs_tol"] > TOLERANCES["float64"]["abs_tol"]


def test_eps_and_rng_are_used():
    point = np.array([0.3, -0.7])
    # a huge step makes central differences of x^3 wrong by eps^2
    with pytest.raises(GradientError):
        sg.verify_grad(lambda x: x**3, [point], eps=0.1)
    for rng in (None, 3, np.random.default_rng(3)):
        sg.verify_grad(lambda x: x**3, [point], rng=rng, n_tests=2)


def test_non_finite_gradients_fail():
    with pytest.raises(GradientError, match="analytic"):
        sg.verify_grad(lambda x: T.sqrt(x), [np.array([0.0, 1.0])])


def test_bad_arguments():
    with pytest.raises(TypeError, match="point 0 has dtype int64"):
        sg.verify_grad(lambda x: x * 2, [np.array([1, 2])])
    with pytest.raises(TypeError, match="must return one symbolic Variable"):
        sg.verify_grad(lambda x: [x, x], [np.array([1.0])])
