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
from symgraph.compile.function import function as function
from symgraph.compile.function_object import Function as Function
from symgraph.config import config as config
from symgraph.gradcheck import verify_grad as verify_grad
from symgraph.gradient import grad as grad
from symgraph.graph import Apply as Apply
from symgraph.graph import Constant as Constant
from symgraph.graph import SharedVariable as SharedVariable
from symgraph.graph import TensorType as TensorType
from symgraph.graph import Variable as Variable
from symgraph.op import Op as Op
from symgraph.shared import shared as shared

__all__ = [
    "Apply",
    "Constant",
    "Function",
    "Op",
    "SharedVariable",
    "TensorType",
    "Variable",
    "config",
    "function",
    "grad",
    "printing",
    "shared",
    "tensor",
    "verify_grad",
]
