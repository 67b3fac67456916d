"""op_db records: elementwise ops."""

import numpy as np

import symgraph.tensor as T
from symgraph.ops import scalar_math as S
from tests.op_db import BINARY_SHAPES, INTS, OpInfo

RECORDS = [
    OpInfo("add", lambda a, b: a + b, np.add, ("real", "real"), shapes=BINARY_SHAPES, dtypes=("float64", "float32", "int64", ("int8", "float32")), ops=(S.Add,)),
    OpInfo("mul", lambda a, b: a * b, np.multiply, ("real", "real"), shapes=BINARY_SHAPES, dtypes=("float64", "float32", "int32"), ops=(S.Mul,)),
    OpInfo("sub", lambda a, b: a - b, np.subtract, ("real", "real"), shapes=BINARY_SHAPES, dtypes=("float64", "float32", *INTS), ops=(S.Sub,)),
    OpInfo("true_div", lambda a, b: a / b, np.true_divide, ("real", "nonzero"), shapes=BINARY_SHAPES, dtypes=("float64", "float32", "int32"), ops=(S.TrueDiv,)),
    OpInfo("exp", T.exp, np.exp, ("real",), ops=(S.Exp,)),
    OpInfo("log", T.log, np.log, ("positive",), ops=(S.Log,)),
    OpInfo("tanh", T.tanh, np.tanh, ("real",), ops=(S.Tanh,)),
]
