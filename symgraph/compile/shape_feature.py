"""Shape inference for a FunctionGraph: ``x.shape`` without computing ``x``.

:class:`ShapeFeature` builds, for any variable of the graph, its shape as
int64 scalar variables computed from the shapes of the graph inputs through
each op's ``infer_shape`` (constants where the static shape knows the size).

Example
-------
>>> import symgraph.tensor as T
>>> from symgraph.compile.fgraph import FunctionGraph
>>> x = T.matrix("x")
>>> fg = FunctionGraph([x], [T.exp(x).T])
>>> [str(d) for d in fg.shape_of(fg.outputs[0])]
['Shape_i(i=1).out', 'Shape_i(i=0).out']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from symgraph.graph import Constant, TensorType, Variable

if TYPE_CHECKING:
    from symgraph.compile.fgraph import FunctionGraph


class ShapeFeature:
    """Symbolic shapes from ``infer_shape``: ``x.shape`` without computing ``x``.

    ``shape_of(var)`` is a tuple of int64 scalar variables (constants where the
    static shape knows the size) built from the shapes of the graph inputs
    through each op's ``infer_shape``. Results are memoised per variable;
    variables never change, so the memo stays true.
    """

    def __init__(self, fgraph: FunctionGraph) -> None:
        self.fgraph = fgraph
        self.memo: dict[Variable, tuple] = {}

    def shape_of(self, var: Variable) -> tuple:
        memo = self.memo
        if var in memo:
            return memo[var]
        # Post-order over owners whose outputs lack a shape (iterative).
        stack = [var]
        while stack:
            v = stack[-1]
            if v in memo:
                stack.pop()
                continue
            node = v.owner
            if node is None:
                memo[v] = self.leaf_shape(v)
                stack.pop()
                continue
            missing = [i for i in node.inputs if i not in memo]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            self._infer(node)
        return memo[var]

    def leaf_shape(self, var: Variable) -> tuple:
        from symgraph.ops.shape import shape_i

        if isinstance(var, Constant):
            return tuple(_int_constant(s) for s in var.data.shape)
        return tuple(shape_i(var, i) for i in range(var.ndim))

    def _infer(self, node) -> None:
        from symgraph.ops.shape import shape_i

        in_shapes = [self.memo[i] for i in node.inputs]
        try:
            out_shapes = node.op.infer_shape(self.fgraph, node, in_shapes)
        except Exception:  # no rule, or one that needs more than shapes
            out_shapes = None
        for k, out in enumerate(node.outputs):
            if not isinstance(out.type, TensorType):
                continue
            dims = []
            for axis in range(out.ndim):
                static = out.type.shape[axis]
                if static is not None:
                    dims.append(_int_constant(static))
                elif out_shapes is None:
                    dims.append(shape_i(out, axis))
                else:
                    dims.append(_as_size(out_shapes[k][axis]))
            self.memo[out] = tuple(dims)


def _int_constant(value: int) -> Constant:
    return Constant(TensorType("int64", ()), int(value))


def _as_size(dim) -> Variable:
    if isinstance(dim, Variable):
        if dim.dtype != "int64":
            from symgraph.ops.math import cast

            return cast(dim, "int64")
        return dim
    return _int_constant(int(dim))
