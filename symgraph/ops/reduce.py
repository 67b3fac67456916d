"""Reductions over axes: sum, prod, max, min, argmax, argmin, all, any, and
the composites mean, var and std.

Every reduction op holds ``axis`` (a sorted tuple of non-negative axes; the
functions accept None, an int or a tuple, negatives included) and
``keepdims``, with NumPy's semantics and dtypes: sum and prod of bools and
integers accumulate in int64 (uint64 for unsigned), mean/var/std of integers
are float64, all/any give bool, argmax/argmin give int64.

Gradients:

- sum: the output gradient broadcast back over the reduced axes;
- prod: the product of the *other* elements, exact where the input has
  zeros (one zero in a reduced group: only that element gets a gradient;
  two or more: none does). Without zeros it is computed as ``prod / x_i``,
  which overflows to inf only where ``prod`` itself does. Second
  derivatives are exact with up to one zero per group;
- max/min: the gradient is split equally among the elements tied for the
  extremum, so it sums to the output gradient (a subgradient; JAX, TF and
  PyTorch's ``amax`` do the same; PyTensor gives each tie the full gradient);
- argmax/argmin/all/any are piecewise constant: their gradient is zero
  (connected, like comparisons), never an error.

Example
-------
>>> import symgraph.tensor as T
>>> m = T.matrix("m")
>>> T.max(m, axis=-1, keepdims=True).type.shape
(None, 1)
"""

from __future__ import annotations

import builtins

import numpy as np

from symgraph.graph import (
    FLOAT_DTYPES,
    Apply,
    Constant,
    TensorType,
    Variable,
    as_tensor_variable,
    normalize_dtype,
)
from symgraph.op import Op

__all__ = [
    "sum",
    "prod",
    "max",
    "min",
    "argmax",
    "argmin",
    "max_and_argmax",
    "all",
    "any",
    "mean",
    "var",
    "std",
    "normalize_axes",
]


def normalize_axes(
    axis, ndim: int, what: str, x: Variable | None = None
) -> tuple[int, ...]:
    """``axis`` (None, int or sequence, negatives allowed) as sorted positives.

    ``x``, when given, is named in the error messages.
    """
    if axis is None:
        return tuple(range(ndim))
    if (
        isinstance(axis, Constant)
        and axis.ndim <= 1
        and axis.dtype.startswith(("int", "uint"))
    ):
        axis = axis.data.tolist()
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(axes, (tuple, list)):
        raise TypeError(
            f"{what}: axis must be None, an int or a tuple of ints, got {axis!r} "
            "(a symbolic axis is not supported: axes must be known when the graph "
            "is built)"
        )
    subject = f"the input {x.describe()}" if x is not None else "the input"
    result = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(
                f"{what}: axis must be an int or a tuple of ints, got {axis!r}"
            )
        if not -ndim <= a < ndim:
            valid = f"-{ndim}..{ndim - 1}" if ndim else "none: it is 0-d"
            raise ValueError(
                f"{what}: axis {a} is out of range for {subject}, which has ndim "
                f"{ndim} (valid axes: {valid})"
            )
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{what}: repeated axis in {axis!r} for {subject}")
    return tuple(sorted(result))


def accumulate_dtype(dtype: str) -> str:
    """The dtype NumPy's sum and prod give: int64 / uint64 for integers and bools."""
    if dtype == "bool" or dtype.startswith("int"):
        return "int64"
    if dtype.startswith("uint"):
        return "uint64"
    return dtype


class Reduce(Op):
    """Base of reductions: ``axis`` (sorted tuple) and ``keepdims`` props.

    Subclasses set ``np_fn`` (the NumPy reference) and ``output_dtype``.
    """

    __props__ = ("axis", "keepdims")
    name = "reduce"
    np_fn = None

    def __init__(self, axis: tuple[int, ...], keepdims: bool = False) -> None:
        self.axis = tuple(axis)
        self.keepdims = bool(keepdims)

    def __str__(self) -> str:
        axis = self.axis[0] if len(self.axis) == 1 else self.axis
        extra = "".join(
            f", {p}={getattr(self, p)}"
            for p in self.__props__[2:]
            if getattr(self, p) is not None
        )
        return (
            f"{type(self).__name__}{{axis={axis}"
            f"{', keepdims' if self.keepdims else ''}{extra}}}"
        )

    __repr__ = __str__

    def output_dtype(self, dtype: str) -> str:
        return dtype

    def output_shape(self, shape) -> tuple:
        if self.keepdims:
            return tuple(1 if i in self.axis else s for i, s in enumerate(shape))
        return tuple(s for i, s in enumerate(shape) if i not in self.axis)

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        if builtins.any(a >= x.ndim for a in self.axis):
            raise ValueError(
                f"{self}: axis out of range for {x.describe()} (ndim {x.ndim})"
            )
        out = TensorType(self.output_dtype(x.dtype), self.output_shape(x.type.shape))
        return Apply(self, [x], [out()])

    def perform(self, node, inputs, output_storage) -> None:
        (x,) = inputs
        try:
            result = self.np_fn(x, axis=self.axis, keepdims=self.keepdims)
        except ValueError as exc:  # max/argmax of an empty group
            raise ValueError(
                f"{self}: cannot reduce {node.inputs[0].describe()} of shape {x.shape} "
                f"over axis {self.axis}: {exc}"
            ) from None
        output_storage[0][0] = np.asarray(result, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [self.output_shape(input_shapes[0])]

    def with_reduced_axes(self, g: Variable, ndim: int) -> Variable:
        """``g`` (shaped like the output) with the reduced axes back, as size 1."""
        if self.keepdims:
            return g
        from symgraph.ops.elemwise import DimShuffle

        order, j = [], 0
        for i in range(ndim):
            if i in self.axis:
                order.append("x")
            else:
                order.append(j)
                j += 1
        return DimShuffle(g.ndim, order)(g)


class _Accumulate(Reduce):
    """Sum and prod: integers and bools accumulate in int64 (uint64), as NumPy.

    ``acc_dtype`` (when set) is the dtype the reduction runs in and returns.
    """

    __props__ = ("axis", "keepdims", "acc_dtype")

    def __init__(self, axis, keepdims=False, acc_dtype=None) -> None:
        super().__init__(axis, keepdims)
        self.acc_dtype = acc_dtype

    def output_dtype(self, dtype: str) -> str:
        return self.acc_dtype or accumulate_dtype(dtype)

    def perform(self, node, inputs, output_storage) -> None:
        dtype = node.outputs[0].dtype
        result = self.np_fn(
            inputs[0], axis=self.axis, keepdims=self.keepdims, dtype=dtype
        )
        output_storage[0][0] = np.asarray(result, dtype=dtype)


class Sum(_Accumulate):
    """Sum over ``axis``; integers and bools accumulate in int64 (uint64), as NumPy."""

    name = "sum"
    np_fn = staticmethod(np.sum)

    def grad(self, inputs, output_grads):
        # d sum(x) / dx = 1, broadcast back over the summed axes
        from symgraph.gradient import zeros_like_grad
        from symgraph.ops.creation import alloc
        from symgraph.ops.math import cast
        from symgraph.ops.shape import shape_tuple

        (x,) = inputs
        if x.dtype not in FLOAT_DTYPES:
            return [zeros_like_grad(x)]
        gz = self.with_reduced_axes(cast(output_grads[0], x.dtype), x.ndim)
        return [alloc(gz, *shape_tuple(x))]

    def R_op(self, inputs, eval_points):
        return [self(eval_points[0])]


class Prod(_Accumulate):
    """Product over ``axis``; dtypes as :class:`Sum`; exact gradient with zeros."""

    name = "prod"
    np_fn = staticmethod(np.prod)

    def grad(self, inputs, output_grads):
        # d prod(x) / dx_i = prod_{j != i} x_j, exact where x has zeros:
        #   x_i != 0: prod(non-zeros) / x_i * prod(zeros)  (0 if the group has a zero)
        #   x_i == 0: prod(non-zeros) if it is the group's only zero, else 0
        # prod(zeros) is 0 or 1 but carries the derivative with respect to the
        # zero, so second derivatives are exact with up to one zero per group.
        from symgraph.gradient import zeros_like_grad
        from symgraph.ops.math import cast, eq, mul, switch, true_div

        (x,) = inputs
        if x.dtype not in FLOAT_DTYPES:
            return [zeros_like_grad(x)]
        gz = self.with_reduced_axes(cast(output_grads[0], x.dtype), x.ndim)
        is_zero = eq(x, 0)
        x_nonzero = switch(is_zero, 1, x)
        prod_nonzero = prod(x_nonzero, axis=self.axis, keepdims=True)
        prod_zeros = prod(switch(is_zero, x, 1), axis=self.axis, keepdims=True)
        only_zero = eq(sum(is_zero, axis=self.axis, keepdims=True), 1)
        others = switch(
            is_zero,
            switch(only_zero, prod_nonzero, 0),
            mul(true_div(prod_nonzero, x_nonzero), prod_zeros),
        )
        return [mul(gz, others)]


class _Extremum(Reduce):
    """Max and min: the gradient is shared equally by the tied extrema."""

    def L_op(self, inputs, outputs, output_grads):
        # d max(x) / dx_i = [x_i == max(x)] / (number of ties)
        from symgraph.gradient import zeros_like_grad
        from symgraph.ops.math import cast, eq, switch, true_div

        (x,) = inputs
        if x.dtype not in FLOAT_DTYPES:
            return [zeros_like_grad(x)]
        gz = self.with_reduced_axes(cast(output_grads[0], x.dtype), x.ndim)
        hit = eq(x, self.with_reduced_axes(outputs[0], x.ndim))
        ties = cast(sum(hit, axis=self.axis, keepdims=True), x.dtype)
        return [switch(hit, true_div(gz, ties), 0)]


class Max(_Extremum):
    """Maximum over ``axis`` (NumPy ``max``; NaN propagates)."""

    name = "max"
    np_fn = staticmethod(np.max)


class Min(_Extremum):
    """Minimum over ``axis`` (NumPy ``min``; NaN propagates)."""

    name = "min"
    np_fn = staticmethod(np.min)


class _PiecewiseConstant(Reduce):
    """Reductions whose value is locally constant in ``x``: zero gradient."""

    def grad(self, inputs, output_grads):
        # piecewise constant: d f(x) / dx = 0
        from symgraph.gradient import zeros_like_grad

        return [zeros_like_grad(inputs[0])]


def _arg_reduce(np_fn):
    def reduce(x, axis, keepdims):
        # NumPy's argmax takes one axis: move the reduced axes last and merge
        # them, so the index is a flat (C-order) index into the reduced axes.
        kept = [i for i in range(x.ndim) if i not in axis]
        group = int(np.prod([x.shape[i] for i in axis]))
        merged = x.transpose(kept + list(axis)).reshape(
            [x.shape[i] for i in kept] + [group]
        )
        result = np_fn(merged, axis=-1)
        if keepdims:
            result = result.reshape(
                [1 if i in axis else x.shape[i] for i in range(x.ndim)]
            )
        return result

    return reduce


class Argmax(_PiecewiseConstant):
    """Index of the maximum over ``axis`` (several axes: a flat index into them),
    int64."""

    name = "argmax"
    np_fn = staticmethod(_arg_reduce(np.argmax))

    def output_dtype(self, dtype: str) -> str:
        return "int64"


class Argmin(_PiecewiseConstant):
    """Index of the minimum over ``axis``, int64."""

    name = "argmin"
    np_fn = staticmethod(_arg_reduce(np.argmin))

    def output_dtype(self, dtype: str) -> str:
        return "int64"


class All(_PiecewiseConstant):
    """True where every element over ``axis`` is non-zero (bool)."""

    name = "all"
    np_fn = staticmethod(np.all)

    def output_dtype(self, dtype: str) -> str:
        return "bool"


class Any(_PiecewiseConstant):
    """True where some element over ``axis`` is non-zero (bool)."""

    name = "any"
    np_fn = staticmethod(np.any)

    def output_dtype(self, dtype: str) -> str:
        return "bool"


# -------------------------------------------------------------- the functions


def _acc(dtype, acc_dtype, what):
    if acc_dtype is not None:
        return normalize_dtype(acc_dtype, f"{what} acc_dtype")
    return normalize_dtype(dtype, f"{what} dtype") if dtype is not None else None


def _reduce(op_class, what, x, axis, keepdims, *args):
    x = as_tensor_variable(x)
    return op_class(normalize_axes(axis, x.ndim, what, x), keepdims, *args)(x)


def sum(x, axis=None, dtype=None, keepdims=False, acc_dtype=None) -> Variable:  # noqa: A001
    """Sum of ``x`` over ``axis`` (all axes by default), as ``np.sum``.

    Integers and bools sum to int64 (unsigned: uint64) unless ``dtype``
    says otherwise.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.sum(T.matrix("m"), axis=1).ndim
    1
    """
    out = _reduce(Sum, "sum", x, axis, keepdims, _acc(dtype, acc_dtype, "sum"))
    return _cast_to(out, dtype)


def prod(
    x, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False
):
    """Product of ``x`` over ``axis``, as ``np.prod`` (dtypes as :func:`sum`).

    The gradient is exact with zeros in ``x``; ``no_zeros_in_input`` is
    accepted for Theano code and ignored.

    Example
    -------
    >>> import numpy as np, symgraph as sg, symgraph.tensor as T
    >>> v = T.vector("v")
    >>> sg.grad(T.prod(v), v).eval({v: np.array([2.0, 0.0, 3.0])})
    array([0., 6., 0.])
    """
    out = _reduce(Prod, "prod", x, axis, keepdims, _acc(dtype, acc_dtype, "prod"))
    return _cast_to(out, dtype)


def _cast_to(out, dtype):
    from symgraph.ops.math import cast

    return out if dtype is None else cast(out, dtype)


def max(x, axis=None, keepdims=False) -> Variable:  # noqa: A001
    """Maximum of ``x`` over ``axis``, as ``np.max``.

    Tied maxima share the gradient equally.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> T.max(T.tensor3("t"), axis=(0, -1)).type.shape
    (None,)
    """
    return _reduce(Max, "max", x, axis, keepdims)


def min(x, axis=None, keepdims=False) -> Variable:  # noqa: A001
    """Minimum of ``x`` over ``axis``, as ``np.min`` (ties share the gradient)."""
    return _reduce(Min, "min", x, axis, keepdims)


def argmax(x, axis=None, keepdims=False) -> Variable:
    """Index of the maximum over ``axis`` (int64), as ``np.argmax``.

    Several axes give a flat (C-order) index into those axes. The gradient
    is zero.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> v = T.vector("v")
    >>> T.argmax(v).eval({v: np.array([1.0, 3.0, 2.0])})
    array(1)
    """
    return _reduce(Argmax, "argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False) -> Variable:
    """Index of the minimum over ``axis`` (int64), as ``np.argmin``; zero gradient."""
    return _reduce(Argmin, "argmin", x, axis, keepdims)


def max_and_argmax(x, axis=None, keepdims=False) -> list[Variable]:
    """``[max(x, axis), argmax(x, axis)]`` (Theano's name)."""
    return [max(x, axis, keepdims), argmax(x, axis, keepdims)]


def all(x, axis=None, keepdims=False) -> Variable:  # noqa: A001
    """True where all elements over ``axis`` are non-zero (bool), as ``np.all``."""
    return _reduce(All, "all", x, axis, keepdims)


def any(x, axis=None, keepdims=False) -> Variable:  # noqa: A001
    """True where some element over ``axis`` is non-zero (bool), as ``np.any``."""
    return _reduce(Any, "any", x, axis, keepdims)


def _float_dtype(x: Variable, dtype, what: str) -> str:
    if dtype is None:
        return x.dtype if x.dtype in FLOAT_DTYPES else "float64"
    dtype = normalize_dtype(dtype, f"{what} dtype")
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{what}: dtype must be float32 or float64, got {dtype}")
    return dtype


def _count(x: Variable, axes: tuple[int, ...], dtype: str) -> Variable:
    """The number of elements in the reduced axes, as a ``dtype`` scalar."""
    from symgraph.ops.math import cast, mul
    from symgraph.ops.shape import shape_tuple

    sizes = [shape_tuple(x)[a] for a in axes]
    if builtins.all(isinstance(s, Constant) for s in sizes):
        return Constant(TensorType(dtype, ()), np.prod([int(s.data) for s in sizes]))
    n = sizes[0] if len(sizes) == 1 else mul(*sizes)
    return cast(n, dtype)


def mean(x, axis=None, dtype=None, keepdims=False, acc_dtype=None) -> Variable:
    """Arithmetic mean over ``axis``, as ``np.mean`` (integers give float64).

    Built as ``sum(x, axis) / n``. An empty reduction gives NaN, as NumPy.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> m = T.matrix("m")
    >>> T.mean(m, axis=0).eval({m: np.array([[1.0, 2.0], [3.0, 5.0]])})
    array([2. , 3.5])
    """
    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, "mean", x)
    dtype = _float_dtype(x, dtype, "mean")
    acc = _acc(None, acc_dtype, "mean") or dtype
    return _cast_to(_mean(x, axes, keepdims, acc, _count(x, axes, acc)), dtype)


def _mean(x, axes, keepdims, dtype, n):
    from symgraph.ops.math import true_div

    acc = None if dtype == accumulate_dtype(x.dtype) else dtype
    return true_div(Sum(axes, keepdims, acc)(x), n)


def var(x, axis=None, ddof=0, keepdims=False, corrected=False) -> Variable:
    """Variance over ``axis``, as ``np.var`` (divides by ``n - ddof``).

    Built as ``sum((x - mean(x))**2) / max(n - ddof, 0)``; integers give
    float64. ``corrected`` is accepted for Theano code: the variance is
    always computed in two passes (the mean is subtracted first).

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> v = T.vector("v")
    >>> T.var(v, ddof=1).eval({v: np.array([1.0, 2.0, 3.0, 4.0])})
    array(1.66666667)
    """
    from symgraph.ops.math import cast, maximum, sqr, sub, true_div

    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, "var", x)
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof < 0:
        raise TypeError(f"var: ddof must be a non-negative int, got {ddof!r}")
    x = cast(x, _float_dtype(x, None, "var"))
    n = _count(x, axes, x.dtype)
    centred = sub(x, _mean(x, axes, True, x.dtype, n))
    if isinstance(n, Constant):
        dof = Constant(n.type, builtins.max(float(n.data) - ddof, 0.0))
    else:
        dof = maximum(sub(n, ddof), 0) if ddof else n
    return true_div(sum(sqr(centred), axis=axes, keepdims=keepdims), dof)


def std(x, axis=None, ddof=0, keepdims=False, corrected=False) -> Variable:
    """Standard deviation over ``axis``: ``sqrt(var(x, axis, ddof))``, as ``np.std``."""
    from symgraph.ops.math import sqrt

    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected))
