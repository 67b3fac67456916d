"""The Op contract (Theano's, in PyTensor's shape).

An op is one class with ``__props__`` (equality, hashing and printing come
from them, which merging and caching need), and:

- ``make_node(*inputs) -> Apply``: validate the inputs, infer the output
  types (dtype and static shape) so errors surface when the graph is built;
- ``perform(node, inputs, output_storage)``: the NumPy reference; write
  output ``i`` to ``output_storage[i][0]``;
- ``L_op(inputs, outputs, output_grads)`` or ``grad(inputs, output_grads)``:
  the gradient rule (see :mod:`symgraph.gradient` for the markers to return
  for non-differentiable inputs);
- ``R_op(inputs, eval_points)`` (optional; derived from two L-ops otherwise);
- ``infer_shape(fgraph, node, input_shapes)``: output shapes as tuples of
  symbolic int64 scalars, computed from the input shapes alone.

Ops carry no backend code: backends register lowering rules per op class.

Example
-------
>>> import numpy as np
>>> from symgraph.graph import Apply, as_tensor_variable
>>> class Double(Op):
...     def make_node(self, x):
...         x = as_tensor_variable(x)
...         return Apply(self, [x], [x.type()])
...     def perform(self, node, inputs, output_storage):
...         output_storage[0][0] = inputs[0] * 2
...     def grad(self, inputs, output_grads):
...         return [output_grads[0] * 2]
...     def infer_shape(self, fgraph, node, input_shapes):
...         return input_shapes
"""

from __future__ import annotations

from symgraph.graph import Apply, Variable


class Op:
    """Base class of every operation; see the module docstring."""

    __props__: tuple[str, ...] = ()
    #: Which output is returned by ``op(...)`` when there are several.
    default_output: int | None = None
    #: ``{output_index: [input_index]}`` for outputs that may be views of an
    #: input (perform may return ``x.T`` rather than a copy).
    view_map: dict[int, list[int]] = {}
    #: ``{output_index: [input_index]}`` for outputs written over an input.
    destroy_map: dict[int, list[int]] = {}

    # -- identity from __props__
    def _props(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__props__)

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self) -> int:
        # Props never change after __init__, and the optimizer hashes ops a
        # lot (merging, caches): compute the hash once.
        try:
            return self.__dict__["_props_hash"]
        except KeyError:
            value = hash((type(self), self._props()))
            self.__dict__["_props_hash"] = value
            return value

    def __str__(self) -> str:
        if not self.__props__:
            return type(self).__name__
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__props__)
        return f"{type(self).__name__}({args})"

    __repr__ = __str__

    # -- the contract
    def make_node(self, *inputs) -> Apply:
        raise NotImplementedError(f"{type(self).__name__} must define make_node")

    def __call__(self, *inputs, **kwargs):
        """Apply the op; returns the output variable (or a list of them)."""
        node = self.make_node(*inputs, **kwargs)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no perform")

    def L_op(self, inputs: list[Variable], outputs: list[Variable], output_grads: list):
        """Gradient rule with access to the outputs; defaults to :meth:`grad`."""
        return self.grad(inputs, output_grads)

    def grad(self, inputs: list[Variable], output_grads: list):
        from symgraph.gradient import grad_not_implemented

        return [grad_not_implemented(self, i, x) for i, x in enumerate(inputs)]

    def R_op(self, inputs: list[Variable], eval_points: list):
        """Forward-mode rule; ``None`` means: derive it from two L-ops."""
        return None

    def infer_shape(
        self, fgraph, node: Apply, input_shapes: list[tuple]
    ) -> list[tuple]:
        raise NotImplementedError(f"{type(self).__name__} has no infer_shape")

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        """``[input][output]``: does the output depend on the input at all?"""
        return [[True] * len(node.outputs) for _ in node.inputs]

    # -- helpers for subclasses
    def describe_input(self, position: int, var: Variable) -> str:
        """'input 1 (\\'b\\', built at model.py:3 ...)' for error messages."""
        return f"{self}: input {position} {var.describe()}"


def has_gradient_rule(op_class: type) -> bool:
    """True when ``op_class`` defines ``grad`` or ``L_op`` itself."""
    return op_class.grad is not Op.grad or op_class.L_op is not Op.L_op
