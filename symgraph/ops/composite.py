"""Ops the optimizer rewrites into: fused scalar expressions, fused reductions, GEMM.

- :class:`Composite`: a scalar op that is a small expression graph over other
  scalar ops. ``Elemwise(Composite(...))`` is what elementwise fusion makes of
  a chain of Elemwise nodes: one loop, one pass over memory. It is hashable by
  structure, so equal fused expressions merge and cache together.
- :class:`FusedReduce`: a reduction that absorbed the Elemwise producing its
  input (``sum(exp(x))`` in one pass); ``perform`` runs the two in turn.
- :class:`Gemm`: ``alpha * dot(A, B) + beta * C`` for 2-d ``A``, ``B``; what
  the specialiser makes of a scaled and shifted matrix product, for backends
  to lower to one BLAS call.

Example
-------
>>> from symgraph.ops import scalar_math as S
>>> c = Composite.build(2, [(S.exp, (0,)), (S.add, (2, 1))])   # exp(i0) + i1
>>> str(c)
'Composite{add(exp(i0), i1)}'
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from symgraph.graph import Apply, TensorType, as_tensor_variable
from symgraph.op import Op
from symgraph.ops.elemwise import (
    Elemwise,
    broadcast_static_shapes,
    check_runtime_broadcast,
)
from symgraph.ops.scalar import ScalarOp, promote


class Composite(ScalarOp):
    """A scalar expression graph as one scalar op.

    ``nodes`` is a tuple of steps ``(scalar_op, args)``; an arg is an int
    (``< nin``: input ``i``; ``>= nin``: the result of step ``i - nin``) or
    ``("const", value, dtype)``. The last step is the output. Intermediate
    results take the dtype their own op gives, exactly as the unfused
    Elemwise nodes would, so fused and unfused graphs agree bit for bit.
    """

    __props__ = ("nin", "nodes")
    float_inputs = False

    def __init__(self, nin: int, nodes: tuple) -> None:
        self.nin = int(nin)
        self.nodes = tuple((op, tuple(args)) for op, args in nodes)
        self._hash = hash((Composite, self.nin, self.nodes))
        if not self.nodes:
            raise ValueError("Composite: an expression needs at least one step")

    @classmethod
    def build(cls, nin: int, nodes) -> Composite:
        return cls(nin, tuple(nodes))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return (
            type(other) is Composite
            and self._hash == other._hash
            and self.nin == other.nin
            and self.nodes == other.nodes
        )

    @property
    def name(self) -> str:
        return "composite"

    @property
    def n_ops(self) -> int:
        return len(self.nodes)

    @property
    def discrete(self) -> bool:  # no gradient flows only if the output is discrete
        return bool(getattr(self.nodes[-1][0], "discrete", False))

    def __str__(self) -> str:
        return f"Composite{{{self.expression()}}}"

    __repr__ = __str__

    def expression(self, names=None) -> str:
        """The expression as text, inputs named ``i0, i1, ...`` unless given."""
        names = list(names or [f"i{k}" for k in range(self.nin)])
        for op, args in self.nodes:
            parts = [self._arg_text(a, names) for a in args]
            names.append(f"{op.name}({', '.join(parts)})")
        return names[-1]

    @staticmethod
    def _arg_text(a, names) -> str:
        if isinstance(a, tuple):
            return repr(a[1])
        return names[a]

    # -- dtypes and evaluation
    def step_dtypes(self, *dtypes) -> list[str]:
        """The dtype of every input and step result, in order."""
        known = list(dtypes)
        for op, args in self.nodes:
            arg_dtypes = tuple(
                [a[2] if isinstance(a, tuple) else known[a] for a in args]
            )
            known.append(_step_dtype(op, arg_dtypes))
        return known

    def output_dtype(self, *dtypes) -> str:
        if len(dtypes) != self.nin:
            raise TypeError(f"{self}: takes {self.nin} inputs, got {len(dtypes)}")
        cache = self.__dict__.setdefault("_dtype_cache", {})
        if dtypes not in cache:
            cache[dtypes] = self.step_dtypes(*dtypes)[-1]
        return cache[dtypes]

    def perform(self, inputs: list, out_dtype: str):
        dtypes = self.step_dtypes(*(np.asarray(x).dtype.name for x in inputs))
        values = list(inputs)
        for k, (op, args) in enumerate(self.nodes):
            vals = [
                np.asarray(a[1], dtype=a[2]) if isinstance(a, tuple) else values[a]
                for a in args
            ]
            dtype = dtypes[self.nin + k]
            values.append(np.asarray(op.perform(vals, dtype), dtype=dtype))
        return values[-1]

    def impl(self, *inputs):
        return self.perform(list(inputs), None)

    def grad(self, inputs, outputs, output_grads):
        # d composite = the gradient of its expansion into Elemwise nodes
        from symgraph.gradient import grad

        expanded = self.expand(inputs)
        return grad(
            None,
            list(inputs),
            known_grads={expanded: output_grads[0]},
            disconnected_inputs="ignore",
            return_disconnected="zero",
        )

    def expand(self, inputs):
        """The expression rebuilt from Elemwise nodes on tensor ``inputs``."""
        values = list(inputs)
        for op, args in self.nodes:
            vals = [
                as_tensor_variable(np.asarray(a[1], dtype=a[2]))
                if isinstance(a, tuple)
                else values[a]
                for a in args
            ]
            values.append(Elemwise(op)(*vals))
        return values[-1]


#: ``(scalar op, input dtypes) -> output dtype``: NumPy's dtype resolution
#: costs microseconds and fused expressions repeat a few combinations.
_STEP_DTYPES: dict = {}


def _step_dtype(op, dtypes: tuple) -> str:
    key = (op, dtypes)
    dtype = _STEP_DTYPES.get(key)
    if dtype is None:
        dtype = _STEP_DTYPES[key] = op.output_dtype(*dtypes)
    return dtype


# ----------------------------------------------------------- fused reduction


class FusedReduce(Op):
    """``reduce_op(Elemwise(scalar_op)(*inputs))`` as one node (one pass).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> from symgraph.ops import scalar_math as S
    >>> from symgraph.ops.reduce import Sum
    >>> x = T.vector("x")
    >>> y = FusedReduce(Sum((0,)), S.exp)(x)     # sum(exp(x))
    """

    __props__ = ("reduce_op", "scalar_op")

    def __init__(self, reduce_op, scalar_op: ScalarOp) -> None:
        self.reduce_op = reduce_op
        self.scalar_op = scalar_op

    def __str__(self) -> str:
        return f"FusedReduce{{{self.reduce_op}, {self.scalar_op}}}"

    __repr__ = __str__

    def make_node(self, *inputs) -> Apply:
        inner = Elemwise(self.scalar_op).make_node(*inputs)
        elem = inner.outputs[0]
        out = TensorType(
            self.reduce_op.output_dtype(elem.dtype),
            self.reduce_op.output_shape(elem.type.shape),
        )
        return Apply(self, list(inner.inputs), [out()])

    def _elem_node(self, node):
        shape = broadcast_static_shapes(self, node.inputs)
        dtype = self.scalar_op.output_dtype(*(v.dtype for v in node.inputs))
        return SimpleNamespace(
            op=self, inputs=node.inputs, outputs=[TensorType(dtype, shape)()]
        )

    def perform(self, node, inputs, output_storage) -> None:
        elem = self._elem_node(node)
        check_runtime_broadcast(elem, inputs)
        dtype = elem.outputs[0].dtype
        with np.errstate(all="ignore"):
            value = np.asarray(self.scalar_op.perform(list(inputs), dtype), dtype=dtype)
        shape = np.broadcast_shapes(*(np.shape(x) for x in inputs))
        value = np.broadcast_to(value, shape)
        fake = SimpleNamespace(inputs=elem.outputs, outputs=node.outputs)
        self.reduce_op.perform(fake, [value], output_storage)

    def infer_shape(self, fgraph, node, input_shapes):
        elem = self._elem_node(node)
        shape = Elemwise.infer_shape(None, fgraph, elem, input_shapes)[0]
        return [self.reduce_op.output_shape(shape)]

    def expand(self, inputs):
        return self.reduce_op(Elemwise(self.scalar_op)(*inputs))

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import grad

        return grad(
            None,
            list(inputs),
            known_grads={self.expand(inputs): output_grads[0]},
            disconnected_inputs="ignore",
        )


# ---------------------------------------------------------------------- GEMM


class Gemm(Op):
    """``alpha * dot(A, B) + beta * C``: a matrix product with its epilogue.

    ``A`` and ``B`` are matrices, ``alpha`` and ``beta`` scalars, ``C``
    broadcasts to the product's shape (a full matrix, a bias row or column).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> A, B, C = T.matrix("A"), T.matrix("B"), T.matrix("C")
    >>> gemm(C, 2.0, A, B, 0.5).type.shape
    (None, None)
    """

    def make_node(self, C, alpha, A, B, beta) -> Apply:
        C, alpha, A, B, beta = (as_tensor_variable(v) for v in (C, alpha, A, B, beta))
        for pos, (v, nd) in enumerate(((C, 2), (alpha, 0), (A, 2), (B, 2), (beta, 0))):
            if v.ndim != nd:
                raise TypeError(
                    f"{self}: input {pos} {v.describe()} must have ndim {nd}, "
                    f"not {v.ndim}"
                )
        ka, kb = A.type.shape[1], B.type.shape[0]
        if ka is not None and kb is not None and ka != kb:
            raise ValueError(
                f"{self}: inner sizes differ: {A.describe()} {ka} vs "
                f"{B.describe()} {kb}"
            )
        dtype = promote(C.dtype, A.dtype, B.dtype)
        shape = broadcast_static_shapes(
            self, [TensorType(dtype, (A.type.shape[0], B.type.shape[1]))(), C]
        )
        return Apply(self, [C, alpha, A, B, beta], [TensorType(dtype, shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        C, alpha, A, B, beta = inputs
        dtype = node.outputs[0].dtype
        product = np.dot(A, B).astype(dtype, copy=False)
        if alpha != 1:
            product = product * alpha
        out = product + (C if beta == 1 else C * beta)
        output_storage[0][0] = np.asarray(out, dtype=dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        sc, _, sa, sb, _ = input_shapes
        C, _, A, B, _ = node.inputs
        rows = sc[0] if A.type.shape[0] == 1 and C.type.shape[0] != 1 else sa[0]
        cols = sc[1] if B.type.shape[1] == 1 and C.type.shape[1] != 1 else sb[1]
        return [(rows, cols)]

    def L_op(self, inputs, outputs, output_grads):
        # d(alpha A.B + beta C) through the expanded expression
        from symgraph.gradient import grad
        from symgraph.ops.linalg import dot

        C, alpha, A, B, beta = inputs
        expanded = alpha * dot(A, B) + beta * C
        return grad(
            None,
            list(inputs),
            known_grads={expanded: output_grads[0]},
            disconnected_inputs="ignore",
        )


_gemm = Gemm()


def gemm(C, alpha, A, B, beta):
    """``alpha * dot(A, B) + beta * C`` as one :class:`Gemm` node."""
    return _gemm(C, alpha, A, B, beta)
