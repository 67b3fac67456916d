"""Every public name of ../shared/API.md that exists so far is importable.

The lists follow API.md; names of later issues (scan, ifelse, RandomStreams,
nn, compat, conv2d, pool) join when those land.
"""

import importlib

import pytest

TOP_LEVEL = [
    "function", "shared", "grad", "jacobian", "hessian", "Rop", "Lop",
    "verify_grad", "config", "printing", "tensor", "sympy",
]
TENSOR = [
    "matrix", "fvector", "iscalar", "tensor", "scalar", "vector", "row", "col",
    "tensor3", "tensor4", "dmatrix", "lvector", "bscalar", "matrices",
    "tanh", "dot", "switch", "zeros", "exp", "log", "sum", "mean", "reshape",
    "set_subtensor", "inc_subtensor", "concatenate", "stack", "arange", "eye",
    "matmul", "outer", "tensordot", "maximum", "minimum", "clip", "cast",
    "sigmoid", "softplus", "argmax", "var", "std", "transpose", "flatten",
]
NNET = [
    "sigmoid", "softplus", "relu", "softmax", "log_softmax",
    "categorical_crossentropy", "binary_crossentropy",
]
PRINTING = ["debugprint", "pp", "dot"]
METHODS = [
    "sum", "mean", "max", "min", "prod", "argmax", "argmin", "var", "std",
    "reshape", "T", "dimshuffle", "astype", "clip", "flatten", "transpose",
]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_names(name):
    sg = importlib.import_module("symgraph")
    assert getattr(sg, name) is not None
    assert name in sg.__all__


@pytest.mark.parametrize("name", TENSOR)
def test_tensor_names(name):
    T = importlib.import_module("symgraph.tensor")
    assert callable(getattr(T, name))


@pytest.mark.parametrize("name", NNET)
def test_nnet_names(name):
    T = importlib.import_module("symgraph.tensor")
    assert callable(getattr(T.nnet, name))


@pytest.mark.parametrize("name", PRINTING)
def test_printing_names(name):
    sg = importlib.import_module("symgraph")
    assert callable(getattr(sg.printing, name))


@pytest.mark.parametrize("name", METHODS)
def test_variable_methods(name):
    import symgraph.tensor as T

    x = T.matrix("x")
    value = getattr(x, name)
    args = {
        "astype": ("float32",),
        "clip": (0, 1),
        "dimshuffle": (1, 0),
        "reshape": ((-1,),),
    }.get(name, ())
    result = value if name == "T" else value(*args)
    assert result is not None
