"""Elemwise (a scalar op lifted to tensors, owning broadcasting) and DimShuffle.

Broadcasting is decided when the graph is built, from static shapes, as in
Theano and PyTensor: a dimension broadcasts only where its static size is 1
(``T.row``, ``shape=(1, None)``, ``keepdims=True``, constants). Inputs of lower
rank are padded on the left, NumPy style. A dimension that is unknown
statically and turns out to be 1 at run time while the others are not is an
error, not a silent broadcast: gradients depend on knowing which dimensions
broadcast.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, Constant, TensorType, Variable, as_tensor_variable
from symgraph.op import Op
from symgraph.ops.scalar import ScalarOp


def resolve_weak_constants(inputs: list[Variable], ufunc=None) -> list[Variable]:
    """Give Python-number constants the dtype NumPy 2 would (NEP 50).

    With the op's ufunc, NumPy's own loop resolution decides (so
    ``uint8_x / -1`` is float64, as in NumPy); otherwise the constant takes
    the result type of the tensors it meets.
    """
    weak = [isinstance(x, Constant) and x.weak for x in inputs]
    if not any(weak):
        return inputs
    strong = [x.dtype for x, w in zip(inputs, weak, strict=True) if not w]
    if not strong:
        return inputs
    loop = None
    if ufunc is not None and ufunc.nin == len(inputs) and ufunc.nout == 1:
        signature = tuple(
            type(x.data.item()) if w and x.dtype != "bool" else np.dtype(x.dtype)
            for x, w in zip(inputs, weak, strict=True)
        )
        try:
            loop = ufunc.resolve_dtypes(signature + (None,))
        except (TypeError, ValueError):
            loop = None  # NumPy refuses too; the dtype rule will say why
    resolved = []
    for pos, (x, is_weak) in enumerate(zip(inputs, weak, strict=True)):
        if is_weak:
            value = x.data.item()
            dtype = (
                loop[pos].name
                if loop is not None
                else np.result_type(*strong, value).name
            )
            dtype = "float32" if dtype == "float16" else dtype
            try:
                data = np.asarray(value, dtype=dtype)
            except OverflowError as exc:
                raise TypeError(
                    f"the Python number {value!r} does not fit in {dtype}, the dtype "
                    f"of the tensors it is combined with ({', '.join(strong)})"
                ) from exc
            x = Constant(TensorType(dtype, ()), data, name=x.name)
        resolved.append(x)
    return resolved


def broadcast_static_shapes(op, inputs: list[Variable]) -> tuple[int | None, ...]:
    """The output's static shape; conflicting known sizes fail here."""
    shape = []
    for axis in range(inputs[0].ndim):
        sizes = {x.type.shape[axis] for x in inputs} - {1}
        known = sizes - {None}
        if len(known) > 1:
            parts = ", ".join(
                f"input {i} {x.describe()} has shape {_fmt_shape(x.type.shape)}"
                for i, x in enumerate(inputs)
            )
            raise ValueError(
                f"{op}: shapes cannot be broadcast together on axis {axis} "
                f"(sizes {sorted(known)}): {parts}"
            )
        if known:
            shape.append(known.pop())
        elif None in sizes:
            shape.append(None)
        else:
            shape.append(1)
    return tuple(shape)


def _fmt_shape(shape) -> str:
    return (
        "("
        + ", ".join("?" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


class Elemwise(Op):
    """Apply a scalar op elementwise, with broadcasting.

    Example
    -------
    >>> from symgraph.ops import scalar_math
    >>> add = Elemwise(scalar_math.add)
    """

    __props__ = ("scalar_op",)

    def __init__(self, scalar_op: ScalarOp, name: str | None = None) -> None:
        self.scalar_op = scalar_op
        self.name = name or scalar_op.name

    def __str__(self) -> str:
        return f"Elemwise{{{self.scalar_op}}}"

    __repr__ = __str__

    def _output_dtype(self, dtypes: tuple[str, ...]) -> str:
        # Dtype resolution goes through NumPy and costs microseconds; graphs
        # repeat the same few combinations.
        cache = self.__dict__.setdefault("_dtype_cache", {})
        if dtypes not in cache:
            cache[dtypes] = self.scalar_op.output_dtype(*dtypes)
        return cache[dtypes]

    def make_node(self, *inputs) -> Apply:
        nin = self.scalar_op.nin
        if nin >= 0 and len(inputs) != nin:
            raise TypeError(f"{self.name} takes {nin} inputs, got {len(inputs)}")
        inputs = resolve_weak_constants(
            [as_tensor_variable(x) for x in inputs], self.scalar_op.ufunc
        )
        try:
            out_dtype = self._output_dtype(tuple(x.dtype for x in inputs))
        except TypeError as exc:
            names = ", ".join(f"input {i} {x.describe()}" for i, x in enumerate(inputs))
            raise TypeError(f"{self}: {exc} ({names}); cast the inputs first") from None
        ndim = max(x.ndim for x in inputs)
        inputs = [
            x
            if x.ndim == ndim
            else DimShuffle(x.ndim, ("x",) * (ndim - x.ndim) + tuple(range(x.ndim)))(x)
            for x in inputs
        ]
        shape = broadcast_static_shapes(self, inputs)
        outputs = [TensorType(out_dtype, shape)() for _ in range(self.scalar_op.nout)]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage) -> None:
        check_runtime_broadcast(node, inputs)
        dtype = node.outputs[0].dtype
        with np.errstate(all="ignore"):
            result = self.scalar_op.perform(inputs, dtype)
        if self.scalar_op.nout == 1:
            result = (result,)
        for storage, value, out in zip(
            output_storage, result, node.outputs, strict=True
        ):
            storage[0] = np.asarray(value, dtype=out.dtype)

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type, unbroadcast, zeros_like_grad

        if self.scalar_op.discrete or outputs[0].dtype not in ("float32", "float64"):
            # Piecewise-constant or integer results: the gradient is zero.
            return [zeros_like_grad(x) for x in inputs]
        grads = self.scalar_op.grad(list(inputs), list(outputs), list(output_grads))
        result = []
        for x, g in zip(inputs, grads, strict=True):
            if g is None:
                result.append(disconnected_type())
            elif isinstance(g, Variable) and not isinstance(g.type, TensorType):
                result.append(g)  # a marker (disconnected / undefined)
            else:
                result.append(unbroadcast(g, x))
        return result

    def infer_shape(self, fgraph, node, input_shapes):
        out_shape = []
        for axis, size in enumerate(node.outputs[0].type.shape):
            if size is not None:
                out_shape.append(size)
                continue
            # The first input not broadcasting on this axis has the size.
            for x, shp in zip(node.inputs, input_shapes, strict=True):
                if x.type.shape[axis] != 1:
                    out_shape.append(shp[axis])
                    break
        return [tuple(out_shape)] * len(node.outputs)


def check_runtime_broadcast(node: Apply, values: list[np.ndarray]) -> None:
    """Refuse run-time sizes that static broadcasting did not plan for."""
    for axis, static in enumerate(node.outputs[0].type.shape):
        if static == 1:
            continue
        size = None
        for i, (var, value) in enumerate(zip(node.inputs, values, strict=True)):
            if var.type.shape[axis] == 1:
                continue
            if size is None:
                size, first = value.shape[axis], i
            elif value.shape[axis] != size:
                a, b = node.inputs[first], var
                hint = ""
                if 1 in (size, value.shape[axis]):
                    hint = (
                        "; symgraph broadcasts only dimensions of static size 1: "
                        "declare them, e.g. T.row(), shape=(1, None), or "
                        "keepdims=True"
                    )
                where = node.outputs[0].trace
                raise ValueError(
                    f"{node.op}{' at ' + str(where) if where else ''}: input "
                    f"{first} {a.describe()} has size {size} on axis {axis} but "
                    f"input {i} {b.describe()} has size {value.shape[axis]}{hint}"
                )


class DimShuffle(Op):
    """Reorder axes, insert broadcastable axes ('x') and drop size-1 axes.

    ``new_order`` lists input axes in output order, with ``'x'`` for a new
    axis of size 1; input axes left out must have static size 1.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> m = T.matrix("m")
    >>> m.dimshuffle(1, "x", 0).type.shape
    (None, 1, None)
    """

    __props__ = ("input_ndim", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_ndim: int, new_order) -> None:
        self.input_ndim = int(input_ndim)
        self.new_order = tuple(a if a == "x" else int(a) for a in new_order)
        axes = [a for a in self.new_order if a != "x"]
        if len(set(axes)) != len(axes) or any(
            not 0 <= a < self.input_ndim for a in axes
        ):
            raise ValueError(
                f"dimshuffle pattern {self.new_order} is not valid for a "
                f"{self.input_ndim}-d input: each axis 0..{self.input_ndim - 1} at "
                "most once, plus 'x' for new axes"
            )
        self.kept = tuple(axes)
        self.dropped = tuple(a for a in range(self.input_ndim) if a not in axes)

    def __str__(self) -> str:
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"

    __repr__ = __str__

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise TypeError(
                f"{self}: expected a {self.input_ndim}-d input, got {x.describe()} "
                f"with ndim {x.ndim}"
            )
        for axis in self.dropped:
            if x.type.shape[axis] != 1:
                raise ValueError(
                    f"{self}: cannot drop axis {axis} of {x.describe()}: its static "
                    f"size is {x.type.shape[axis] or 'unknown'}, not 1"
                )
        shape = tuple(1 if a == "x" else x.type.shape[a] for a in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        (x,) = inputs
        result = x.transpose(self.dropped + self.kept).reshape(
            tuple(x.shape[a] for a in self.kept)
        ) if self.dropped else x.transpose(self.kept)
        index = tuple(np.newaxis if a == "x" else slice(None) for a in self.new_order)
        output_storage[0][0] = result[index]

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        # Undo: drop the inserted axes, put dropped (size-1) axes back, invert
        # the permutation.
        kept_positions = [i for i, a in enumerate(self.new_order) if a != "x"]
        g = (
            DimShuffle(len(self.new_order), kept_positions)(gz)
            if len(kept_positions) != len(self.new_order)
            else gz
        )
        order = []
        for axis in range(self.input_ndim):
            order.append("x" if axis in self.dropped else self.kept.index(axis))
        return [DimShuffle(len(self.kept), order)(g)]

    def R_op(self, inputs, eval_points):
        return [self(eval_points[0])]

    def infer_shape(self, fgraph, node, input_shapes):
        (shp,) = input_shapes
        return [tuple(1 if a == "x" else shp[a] for a in self.new_order)]
