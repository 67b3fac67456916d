"""symgraph: a Theano-style symbolic tensor compiler.

Build a graph with :mod:`symgraph.tensor`, differentiate it with
:func:`grad`, compile it with :func:`function` (generated C by default, NumPy
reference with ``backend="python"``).

Example
-------
>>> import numpy as np, symgraph as sg, symgraph.tensor as T
>>> x = T.vector("x")
>>> f = sg.function([x], sg.grad((x ** 2).sum(), x), backend="python")
>>> f([1.0, 2.0])
array([2., 4.])
"""

__version__ = "0.1.0"

from symgraph import printing as printing
from symgraph import tensor as tensor
from symgraph.codegen_c import openmp_env as _openmp_env  # noqa: F401 (sets GOMP_SPINCOUNT)
from symgraph.compile.function import function as function
from symgraph.compile.function_object import Function as Function
from symgraph.config import config as config
from symgraph.derivatives import Lop as Lop
from symgraph.derivatives import Rop as Rop
from symgraph.derivatives import hessian as hessian
from symgraph.derivatives import jacobian as jacobian
from symgraph.gradcheck import verify_grad as verify_grad
from symgraph.gradient import grad as grad
from symgraph.graph import Apply as Apply
from symgraph.graph import Constant as Constant
from symgraph.graph import SharedVariable as SharedVariable
from symgraph.graph import TensorType as TensorType
from symgraph.graph import Variable as Variable
from symgraph.op import Op as Op
from symgraph.ops.gradient_ops import consider_constant as consider_constant
from symgraph.ops.gradient_ops import disconnected_grad as disconnected_grad
from symgraph.ops.gradient_ops import grad_clip as grad_clip
from symgraph.ops.gradient_ops import grad_scale as grad_scale
from symgraph.ops.gradient_ops import zero_grad as zero_grad
from symgraph.shared import shared as shared

__all__ = [
    "Apply",
    "Constant",
    "Function",
    "Lop",
    "Op",
    "Rop",
    "SharedVariable",
    "TensorType",
    "Variable",
    "config",
    "consider_constant",
    "disconnected_grad",
    "function",
    "grad",
    "grad_clip",
    "grad_scale",
    "hessian",
    "jacobian",
    "printing",
    "shared",
    "sympy",
    "tensor",
    "verify_grad",
    "zero_grad",
]


def __getattr__(name: str):
    # The SymPy bridge loads on first use: importing SymPy takes ~0.2 s, most
    # of symgraph's import time, and few programs need it.
    if name == "sympy":
        import importlib

        return importlib.import_module("symgraph.sympy")
    raise AttributeError(f"module 'symgraph' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted((set(globals()) - {"__dir__", "__getattr__"}) | {"sympy"})
