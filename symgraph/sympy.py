"""A bridge to SymPy for elementwise graphs: ``to_sympy`` / ``from_sympy``.

``to_sympy(expr)`` turns an elementwise graph (Elemwise nodes, DimShuffles
and constants over input variables) into a SymPy expression whose symbols
are the inputs' names; ``from_sympy(e, {name: var})`` builds the graph back.
:func:`simplify_composite` lets SymPy simplify a fused Composite's scalar
expression (time-bounded, cached) for the opt-in rewrite
``local_composite_sympy_simplify``.

Example
-------
>>> import symgraph.tensor as T
>>> x = T.vector("x")
>>> to_sympy(T.exp(x) * 2 + 1)
2*exp(x) + 1
>>> y = from_sympy(to_sympy(T.exp(x) * 2 + 1), {"x": x})
"""

from __future__ import annotations

import functools
import threading
import time

import numpy as np
import sympy as sp

from symgraph.graph import Constant, Variable
from symgraph.ops import math as M
from symgraph.ops import scalar_math as S
from symgraph.ops.elemwise import DimShuffle, Elemwise

__all__ = ["to_sympy", "from_sympy", "simplify_composite"]

# scalar op class -> function of SymPy arguments
_TO = {
    S.Add: lambda *a: sp.Add(*a),
    S.Mul: lambda *a: sp.Mul(*a),
    S.Sub: lambda a, b: a - b,
    S.TrueDiv: lambda a, b: a / b,
    S.Neg: lambda a: -a,
    S.Pow: lambda a, b: a**b,
    S.Sqr: lambda a: a**2,
    S.Sqrt: sp.sqrt,
    S.Reciprocal: lambda a: 1 / a,
    S.Abs: sp.Abs,
    S.Sign: sp.sign,
    S.Exp: sp.exp,
    S.Exp2: lambda a: 2**a,
    S.Expm1: lambda a: sp.exp(a) - 1,
    S.Log: sp.log,
    S.Log2: lambda a: sp.log(a, 2),
    S.Log10: lambda a: sp.log(a, 10),
    S.Log1p: lambda a: sp.log(1 + a),
    S.Sin: sp.sin,
    S.Cos: sp.cos,
    S.Tan: sp.tan,
    S.ArcSin: sp.asin,
    S.ArcCos: sp.acos,
    S.ArcTan: sp.atan,
    S.Sinh: sp.sinh,
    S.Cosh: sp.cosh,
    S.Tanh: sp.tanh,
    S.ArcSinh: sp.asinh,
    S.ArcCosh: sp.acosh,
    S.ArcTanh: sp.atanh,
    S.Sigmoid: lambda a: 1 / (1 + sp.exp(-a)),
    S.Softplus: lambda a: sp.log(1 + sp.exp(a)),
    S.Erf: sp.erf,
    S.Erfc: sp.erfc,
    S.Maximum: sp.Max,
    S.Minimum: sp.Min,
    S.Floor: sp.floor,
    S.Ceil: sp.ceiling,
    S.Identity: lambda a: a,
}

# SymPy function class -> tensor function
_FROM = {
    sp.exp: M.exp,
    sp.log: M.log,
    sp.sin: M.sin,
    sp.cos: M.cos,
    sp.tan: M.tan,
    sp.asin: M.arcsin,
    sp.acos: M.arccos,
    sp.atan: M.arctan,
    sp.sinh: M.sinh,
    sp.cosh: M.cosh,
    sp.tanh: M.tanh,
    sp.asinh: M.arcsinh,
    sp.acosh: M.arccosh,
    sp.atanh: M.arctanh,
    sp.Abs: M.abs,
    sp.sign: M.sign,
    sp.erf: M.erf,
    sp.erfc: M.erfc,
    sp.floor: M.floor,
    sp.ceiling: M.ceil,
}


def _symbol(var: Variable, names: dict) -> sp.Symbol:
    if var not in names:
        name = var.name or f"v{len(names)}"
        taken = {str(s) for s in names.values()}
        while name in taken:
            name += "_"
        names[var] = sp.Symbol(name, real=True)
    return names[var]


def to_sympy(expr: Variable, symbols: dict | None = None):
    """The SymPy expression of an elementwise graph.

    Leaves become real symbols named after the variables (``v0, v1...`` for
    unnamed ones); pass ``symbols={var: Symbol}`` to choose them. Constants
    must hold a single value. Raises NotImplementedError for an op without a
    SymPy counterpart.
    """
    names = dict(symbols or {})
    memo: dict = {}
    stack = [expr]
    while stack:  # post-order, iterative
        v = stack[-1]
        if v in memo:
            stack.pop()
            continue
        node = v.owner
        if isinstance(v, Constant):
            stack.pop()
            if v.data.size != 1 and not np.all(v.data == v.data.flat[0]):
                raise NotImplementedError(
                    f"to_sympy: the constant {v} holds several values"
                )
            memo[v] = (
                sp.nsimplify(v.data.flat[0].item())
                if v.dtype.startswith(("int", "uint"))
                else sp.Float(v.data.flat[0].item())
            )
            continue
        if node is None:
            stack.pop()
            memo[v] = _symbol(v, names)
            continue
        missing = [i for i in node.inputs if i not in memo]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        args = [memo[i] for i in node.inputs]
        if isinstance(node.op, DimShuffle):
            memo[v] = args[0]
        elif isinstance(node.op, Elemwise) and type(node.op.scalar_op) in _TO:
            memo[v] = _TO[type(node.op.scalar_op)](*args)
        elif isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, S.Cast):
            memo[v] = args[0]
        else:
            raise NotImplementedError(f"to_sympy: no SymPy form for {node.op}")
    return memo[expr]


def from_sympy(expr, variables: dict, dtype: str | None = None) -> Variable:
    """Build the symgraph graph of a SymPy expression.

    ``variables`` maps symbol names to variables. Numbers become constants
    of ``dtype`` (default: the promoted dtype of the variables).
    """
    from symgraph.ops.scalar import promote

    variables = {str(k): v for k, v in variables.items()}
    if dtype is None:
        dtype = (
            promote(*(v.dtype for v in variables.values())) if variables else "float64"
        )
        if not dtype.startswith("float"):
            dtype = "float64"

    @functools.cache
    def build(e):
        if e.is_Symbol:
            if str(e) not in variables:
                raise KeyError(f"from_sympy: no variable given for the symbol {e}")
            return variables[str(e)]
        if e.is_Number or e in (sp.pi, sp.E):
            return Constant(_scalar_type(dtype), float(e))
        args = [build(a) for a in e.args]
        if e.is_Add:
            return M.add(*args)
        if e.is_Mul:
            num = [
                a for a, raw in zip(args, e.args, strict=True) if not _is_inverse(raw)
            ]
            den = [build(1 / raw) for raw in e.args if _is_inverse(raw)]
            top = (
                num[0]
                if len(num) == 1
                else M.mul(*num)
                if num
                else Constant(_scalar_type(dtype), 1.0)
            )
            if not den:
                return top
            return M.true_div(top, den[0] if len(den) == 1 else M.mul(*den))
        if e.is_Pow:
            base, power = e.args
            if power == -1:
                return M.reciprocal(build(base))
            if power == sp.Rational(1, 2):
                return M.sqrt(build(base))
            if power == 2:
                return M.sqr(build(base))
            return M.pow(args[0], args[1])
        if isinstance(e, (sp.Max, sp.Min)):
            fn = M.maximum if isinstance(e, sp.Max) else M.minimum
            result = args[0]
            for a in args[1:]:
                result = fn(result, a)
            return result
        fn = _FROM.get(e.func)
        if fn is None:
            raise NotImplementedError(f"from_sympy: no symgraph function for {e.func}")
        return fn(*args)

    return build(sp.sympify(expr))


def _is_inverse(e) -> bool:
    return e.is_Pow and e.args[1].is_Number and e.args[1] < 0


def _scalar_type(dtype):
    from symgraph.graph import TensorType

    return TensorType(dtype, ())


# ----------------------------------------------------- composite simplification

#: Seconds SymPy may spend on one expression before the rewrite gives up.
SIMPLIFY_SECONDS = 5.0


@functools.lru_cache(maxsize=1024)
def simplify_composite(composite, dtypes: tuple | list):
    """A SymPy expression cheaper than ``composite`` (inputs ``i0, i1...``), or None.

    SymPy's ``simplify`` runs in a worker thread for at most
    ``SIMPLIFY_SECONDS``; the result is used only when it needs fewer
    operations. Results are cached per (expression, dtypes).
    """
    from symgraph.graph import TensorType

    dtypes = tuple(dtypes)
    inputs = [TensorType(d, ())(f"i{k}") for k, d in enumerate(dtypes)]
    try:
        expr = to_sympy(composite.expand(inputs))
    except NotImplementedError:
        return None
    result: list = []
    worker = threading.Thread(
        target=lambda: result.append(sp.simplify(expr)), daemon=True
    )
    start = time.perf_counter()
    worker.start()
    worker.join(SIMPLIFY_SECONDS)
    if not result or time.perf_counter() - start > SIMPLIFY_SECONDS:
        return None
    simpler = result[0]
    if sp.count_ops(simpler) >= sp.count_ops(expr):
        return None
    return simpler
