"""Neural-network ops: activations, softmax, and the cross-entropies.

``sigmoid`` and ``softplus`` are scalar ops of :mod:`symgraph.ops.math`,
re-exported here; ``relu`` and ``binary_crossentropy`` are elementwise
compositions. The rest are dedicated ops:

- :class:`Softmax` and :class:`LogSoftmax` along one axis, computed with the
  maximum shifted out, so logits of +-1000 give exact, finite results;
- :class:`PickLabel` (``p[..., y]``: one entry per label along the last
  axis) and :class:`ScatterLabel` (its transpose); each is the other's
  gradient. ``categorical_crossentropy(p, int_labels)`` is
  ``-log(PickLabel(p, y))``;
- :class:`SoftmaxCrossentropyWithLogits`: the cross-entropy of
  ``softmax(logits)``, fused and stable (log-sum-exp minus the picked
  logit); its gradient is ``softmax(logits) - onehot``.

Graphs the stabilising rewrites look for (built by the functions here):
``categorical_crossentropy(softmax(x), y)`` is ``neg(log(PickLabel(Softmax(x), y)))``
(int labels) or ``neg(sum(mul(t, log(Softmax(x))), axis=-1))`` (dense), and
both become ``SoftmaxCrossentropyWithLogits(x, y)`` when ``Softmax`` works on
the last axis.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, TensorType, as_tensor_variable
from symgraph.op import Op
from symgraph.ops import math as M
from symgraph.ops.elemwise import DimShuffle
from symgraph.ops.math import sigmoid, softplus
from symgraph.ops.reduce import sum as sum_
from symgraph.ops.scalar import promote, upgrade_to_float

__all__ = [
    "sigmoid",
    "softplus",
    "relu",
    "softmax",
    "log_softmax",
    "categorical_crossentropy",
    "binary_crossentropy",
    "softmax_crossentropy_with_logits",
]


def _float_input(op, x, pos=0):
    x = as_tensor_variable(x)
    if x.dtype == "bool":
        raise TypeError(
            f"{op}: input {pos} {x.describe()} is boolean; cast it to a float dtype"
        )
    return x


def _log_softmax(x, axis, dtype):
    """NumPy log-softmax in ``dtype``, the maximum shifted out (the op's reference)."""
    x = x.astype(dtype, copy=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _add_last_axis(x):
    """``x[..., None]``: a trailing axis of static size 1 (broadcasts)."""
    return DimShuffle(x.ndim, list(range(x.ndim)) + ["x"])(x)


# ------------------------------------------------------------------ softmax


class _AxisOp(Op):
    """Base of the softmax ops: one ``axis`` (None: all of them)."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None = -1) -> None:
        self.axis = None if axis is None else int(axis)

    def make_node(self, x) -> Apply:
        x = _float_input(self, x)
        if x.ndim == 0:
            raise TypeError(
                f"{self}: input 0 {x.describe()} is a scalar; softmax needs an axis"
            )
        if self.axis is not None and not -x.ndim <= self.axis < x.ndim:
            raise ValueError(
                f"{self}: axis {self.axis} is out of range for input 0 {x.describe()} "
                f"(ndim {x.ndim})"
            )
        return Apply(self, [x], [TensorType(upgrade_to_float(x.dtype), x.type.shape)()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class Softmax(_AxisOp):
    """``exp(x) / sum(exp(x))`` along ``axis``, with the maximum shifted out.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x = T.vector("x")
    >>> T.nnet.softmax(x).eval({x: np.array([1000.0, 0.0])})
    array([1., 0.])
    """

    def perform(self, node, inputs, output_storage) -> None:
        output_storage[0][0] = np.exp(
            _log_softmax(inputs[0], self.axis, node.outputs[0].dtype)
        )

    def L_op(self, inputs, outputs, output_grads):
        # d softmax: gx = sm * (gz - sum(gz * sm))
        (sm,), (gz,) = outputs, output_grads
        return [sm * (gz - sum_(gz * sm, axis=self.axis, keepdims=True))]


class LogSoftmax(_AxisOp):
    """``x - log(sum(exp(x)))`` along ``axis``, with the maximum shifted out.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x = T.vector("x")
    >>> T.nnet.log_softmax(x).eval({x: np.array([1000.0, -1000.0])})
    array([    0., -2000.])
    """

    def perform(self, node, inputs, output_storage) -> None:
        output_storage[0][0] = _log_softmax(inputs[0], self.axis, node.outputs[0].dtype)

    def L_op(self, inputs, outputs, output_grads):
        # d log_softmax: gx = gz - softmax * sum(gz), softmax = exp(output)
        (ls,), (gz,) = outputs, output_grads
        return [gz - M.exp(ls) * sum_(gz, axis=self.axis, keepdims=True)]


def softmax(x, axis=-1):
    """Softmax along ``axis`` (the last by default; None: over all elements).

    Numerically stable: the maximum is subtracted before exponentiating.
    """
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` along ``axis``, computed stably (log-sum-exp).

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x = T.matrix("x")
    >>> T.nnet.log_softmax(x).eval({x: np.zeros((1, 4))})
    array([[-1.38629436, -1.38629436, -1.38629436, -1.38629436]])
    """
    return LogSoftmax(axis)(x)


def relu(x, alpha=0):
    """Rectified linear unit: ``x`` where ``x > 0``, else ``alpha * x``.

    The gradient at 0 is ``alpha`` (0 for the plain relu). ``alpha`` may be
    a number or a tensor (a leaky or parametric relu).

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x = T.vector("x")
    >>> T.nnet.relu(x, alpha=0.1).eval({x: np.array([-2.0, 3.0])})
    array([-0.2,  3. ])
    """
    x = as_tensor_variable(x)
    negative = 0 if isinstance(alpha, (int, float)) and alpha == 0 else alpha * x
    return M.switch(M.gt(x, 0), x, negative)


# ------------------------------------------------------------------ labels


def _check_labels(op, node, p, y) -> None:
    """Run-time check of class labels against the last axis of ``p``."""
    pv, yv = node.inputs[0], node.inputs[1]
    if p.shape[:-1] != y.shape:
        raise ValueError(
            f"{op}: input 0 {pv.describe()} has shape {p.shape} and the labels, "
            f"input 1 {yv.describe()}, have shape {y.shape}; expected labels of "
            f"shape {p.shape[:-1]}"
        )
    _check_label_range(op, yv, y, p.shape[-1])


def _check_label_range(op, yv, y, k) -> None:
    if y.size and (y.min() < 0 or y.max() >= k):
        bad = y[(y < 0) | (y >= k)].flat[0]
        raise ValueError(
            f"{op}: the labels, {yv.describe()}, hold {bad}, outside the {k} classes "
            f"0..{k - 1}"
        )


def _label_inputs(op, y, lead_shape, owner: str):
    """Validate int labels at build time against ``lead_shape`` (the shape of
    ``owner`` without its class axis); returns the labels and the unified shape."""
    y = as_tensor_variable(y)
    if y.dtype == "bool" or y.dtype.startswith("float"):
        raise TypeError(
            f"{op}: the labels, input 1 {y.describe()}, must be integer class indices, "
            f"not {y.dtype} (cast them: y.astype('int64'), or pass one-hot targets of "
            f"the shape of {owner})"
        )
    if y.ndim != len(lead_shape):
        raise TypeError(
            f"{op}: the labels, input 1 {y.describe()}, have ndim {y.ndim}; expected "
            f"ndim {len(lead_shape)}, one less than {owner}"
        )
    return y, _unify(op, lead_shape, y.type.shape, owner, f"the labels {y.describe()}")


def _unify(op, shape_a, shape_b, what_a, what_b) -> tuple:
    """Two static shapes that must agree: the known size of each axis."""
    shape = []
    for axis, (sa, sb) in enumerate(zip(shape_a, shape_b, strict=True)):
        if sa is not None and sb is not None and sa != sb:
            raise ValueError(
                f"{op}: {what_a} and {what_b} must agree on axis {axis}, but one has "
                f"size {sa} and the other {sb}"
            )
        shape.append(sa if sa is not None else sb)
    return tuple(shape)


class PickLabel(Op):
    """``out[...] = p[..., y[...]]``: the entry of each label along the last axis.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> p, y = T.matrix("p"), T.lvector("y")
    >>> pv = np.array([[0.1, 0.9], [0.8, 0.2]])
    >>> PickLabel()(p, y).eval({p: pv, y: np.array([1, 0])})
    array([0.9, 0.8])
    """

    def make_node(self, p, y) -> Apply:
        p = as_tensor_variable(p)
        if p.ndim < 1:
            raise TypeError(
                f"{self}: input 0 {p.describe()} is a scalar; it needs a class axis"
            )
        y, shape = _label_inputs(
            self, y, p.type.shape[:-1], f"input 0 {p.describe()} ({p.type.describe()})"
        )
        return Apply(self, [p, y], [TensorType(p.dtype, shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        p, y = inputs
        _check_labels(self, node, p, y)
        output_storage[0][0] = np.take_along_axis(p, y[..., None], axis=-1)[
            ..., 0
        ].copy()

    def grad(self, inputs, output_grads):
        # d p[..., y] / dp = onehot(y): scatter gz back
        from symgraph.gradient import disconnected_type
        from symgraph.ops.shape import shape_i

        p, y = inputs
        return [
            scatter_label(output_grads[0], y, shape_i(p, p.ndim - 1)),
            disconnected_type(),
        ]

    def connection_pattern(self, node):
        return [[True], [False]]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0][:-1])]


class ScatterLabel(Op):
    """``zeros(g.shape + (k,))`` with ``g`` at the labels: :class:`PickLabel`.T."""

    def make_node(self, g, y, k) -> Apply:
        from symgraph.ops.shape import as_index_scalar, static_value

        g = as_tensor_variable(g)
        k = as_index_scalar(k, f"{self} number of classes")
        y, shape = _label_inputs(
            self, y, (*g.type.shape,), f"input 0 {g.describe()} plus a class axis"
        )
        out = TensorType(g.dtype, (*shape, static_value(k)))
        return Apply(self, [g, y, k], [out()])

    def perform(self, node, inputs, output_storage) -> None:
        g, y, k = inputs
        if g.shape != y.shape:
            raise ValueError(
                f"{self}: gradient shape {g.shape} and label shape {y.shape} differ"
            )
        _check_label_range(self, node.inputs[1], y, int(k))
        out = np.zeros((*g.shape, int(k)), dtype=node.outputs[0].dtype)
        np.put_along_axis(out, y[..., None], g[..., None], axis=-1)
        output_storage[0][0] = out

    def grad(self, inputs, output_grads):
        # scatter is linear: its transpose picks the labelled entries
        from symgraph.gradient import disconnected_type

        g, y, k = inputs
        return [
            PickLabel()(output_grads[0], y),
            disconnected_type(),
            disconnected_type(),
        ]

    def connection_pattern(self, node):
        return [[True], [False], [False]]

    def infer_shape(self, fgraph, node, input_shapes):
        return [(*input_shapes[0], node.inputs[2])]


def pick_label(p, y):
    """``p[..., y]`` along the last axis (see :class:`PickLabel`)."""
    return PickLabel()(p, y)


def scatter_label(g, y, k):
    """``g`` scattered into zeros of shape ``g.shape + (k,)`` at the labels."""
    return ScatterLabel()(g, y, k)


# ------------------------------------------------------------ cross-entropy


class SoftmaxCrossentropyWithLogits(Op):
    """Cross-entropy of ``softmax(logits)`` (last axis) against targets, fused.

    Targets are integer labels (one fewer axis than the logits) or a
    distribution of the logits' shape. The loss is ``logsumexp(x) - x[y]``
    (or ``-sum(t * (x - logsumexp(x)))``), finite for logits of any size.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> x, y = T.matrix("x"), T.lvector("y")
    >>> loss = T.nnet.softmax_crossentropy_with_logits(x, y)
    >>> loss.eval({x: np.array([[1000.0, -1000.0]]), y: np.array([1])})
    array([2000.])
    """

    def make_node(self, x, t) -> Apply:
        x = _float_input(self, x)
        t = as_tensor_variable(t)
        if x.ndim < 1:
            raise TypeError(
                f"{self}: input 0 {x.describe()} is a scalar; logits need a class axis"
            )
        owner = f"the logits, input 0 {x.describe()} ({x.type.describe()})"
        if t.ndim == x.ndim:
            what = f"the targets, input 1 {t.describe()} ({t.type.describe()})"
            shape = _unify(self, x.type.shape, t.type.shape, owner, what)[:-1]
            dtype = upgrade_to_float(promote(x.dtype, t.dtype))
        else:
            t, shape = _label_inputs(self, t, x.type.shape[:-1], owner)
            dtype = upgrade_to_float(x.dtype)
        return Apply(self, [x, t], [TensorType(dtype, shape)()])

    def perform(self, node, inputs, output_storage) -> None:
        x, t = inputs
        dtype = node.outputs[0].dtype
        log_sm = _log_softmax(x, -1, dtype)
        if t.ndim == x.ndim:
            if t.shape != x.shape:
                raise ValueError(
                    f"{self}: the targets, {node.inputs[1].describe()}, have shape "
                    f"{t.shape}; expected the logits' shape {x.shape}"
                )
            loss = -np.sum(t * log_sm, axis=-1)
        else:
            _check_labels(self, node, x, t)
            loss = -np.take_along_axis(log_sm, t[..., None], axis=-1)[..., 0]
        output_storage[0][0] = np.asarray(loss, dtype=dtype)

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type, unbroadcast
        from symgraph.ops.shape import shape_i

        x, t = inputs
        (gz,) = output_grads
        gz_col = _add_last_axis(gz)
        sm = softmax(x, axis=-1)
        if t.ndim < x.ndim:
            # d(lse - x[y]) = softmax - onehot(y)
            return [
                gz_col * sm - scatter_label(gz, t, shape_i(x, x.ndim - 1)),
                disconnected_type(),
            ]
        # d(-sum(t * log_softmax(x))) = (softmax * sum(t) - t, -log_softmax(x))
        gx = gz_col * (sm * sum_(t, axis=-1, keepdims=True) - t)
        gt = -(gz_col * log_softmax(x, axis=-1))
        return [unbroadcast(gx, x), unbroadcast(gt, t)]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0][:-1])]


_softmax_xent = SoftmaxCrossentropyWithLogits()


def softmax_crossentropy_with_logits(logits, targets):
    """Cross-entropy of ``softmax(logits)`` (last axis), computed stably in one op.

    ``targets`` are integer class labels (one axis fewer than ``logits``) or
    a distribution with the shape of ``logits``. Equals
    ``categorical_crossentropy(softmax(logits), targets)`` but stays finite
    for logits of any magnitude.
    """
    return _softmax_xent(logits, targets)


def categorical_crossentropy(coding_dist, true_dist):
    """Cross-entropy between predicted probabilities and targets (Theano's).

    ``coding_dist`` holds probabilities along its last axis. ``true_dist`` is
    either integer class labels with one axis fewer (``-log p[..., y]``) or a
    one-hot / probability tensor of the same shape (``-sum(t * log p)``).

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> p, y = T.matrix("p"), T.lvector("y")
    >>> T.nnet.categorical_crossentropy(p, y).eval(
    ...     {p: np.array([[0.5, 0.5], [0.25, 0.75]]), y: np.array([0, 1])})
    array([0.69314718, 0.28768207])
    """
    p = as_tensor_variable(coding_dist)
    t = as_tensor_variable(true_dist)
    if t.ndim == p.ndim:
        return M.neg(sum_(t * M.log(p), axis=-1))
    if t.ndim == p.ndim - 1:
        return M.neg(M.log(pick_label(p, t)))
    raise TypeError(
        f"categorical_crossentropy: true_dist {t.describe()} has ndim {t.ndim}; "
        f"expected ndim {p.ndim} (one-hot or probabilities) or {p.ndim - 1} (integer "
        f"labels) for coding_dist {p.describe()} of ndim {p.ndim}"
    )


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))``, elementwise.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> o, t = T.vector("o"), T.vector("t")
    >>> T.nnet.binary_crossentropy(o, t).eval({o: np.array([0.5]), t: np.array([1.0])})
    array([0.69314718])
    """
    o, t = as_tensor_variable(output), as_tensor_variable(target)
    return M.neg(t * M.log(o) + (1 - t) * M.log(1 - o))
