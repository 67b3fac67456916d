"""Operators and NumPy-style methods of symbolic variables (``x + 1``, ``x.sum()``).

Sugar over the ``symgraph.tensor`` functions of the same names, kept apart
from the graph core: :class:`symgraph.graph.Variable` inherits it.
"""

from __future__ import annotations

import numpy as np


def _tensor():
    # The operator methods below are sugar for the tensor namespace, which is
    # built on top of this module; import it late to keep dependencies one-way.
    import symgraph.tensor as tensor

    return tensor


class TensorMethods:
    """Python operators and methods of a Variable; each calls ``T.<name>``."""

    __slots__ = ()

    # -- no truth value, no iteration: these are common Python traps
    def __bool__(self):
        raise TypeError(
            f"the symbolic variable {self} has no truth value; use "
            "T.switch(cond, a, b) or sg.ifelse(cond, a, b) instead of "
            "`if` / `and` / `or`"
        )

    def __iter__(self):
        raise TypeError(
            f"cannot iterate over the symbolic variable {self}; index it (x[i]) or use "
            "sg.scan"
        )

    def __len__(self):
        raise TypeError(
            f"len() of the symbolic variable {self} is not known when the graph is "
            "built; use x.shape[0]"
        )

    def __setitem__(self, key, value):
        raise TypeError(
            "symbolic variables are immutable; use T.set_subtensor(x[idx], value) or "
            "T.inc_subtensor(x[idx], value)"
        )

    # -- operators (NumPy semantics; see symgraph.tensor)
    def __add__(self, other):
        return _tensor().add(self, other)

    def __radd__(self, other):
        return _tensor().add(other, self)

    def __sub__(self, other):
        return _tensor().sub(self, other)

    def __rsub__(self, other):
        return _tensor().sub(other, self)

    def __mul__(self, other):
        return _tensor().mul(self, other)

    def __rmul__(self, other):
        return _tensor().mul(other, self)

    def __truediv__(self, other):
        return _tensor().true_div(self, other)

    def __rtruediv__(self, other):
        return _tensor().true_div(other, self)

    def __floordiv__(self, other):
        return _tensor().floor_div(self, other)

    def __rfloordiv__(self, other):
        return _tensor().floor_div(other, self)

    def __mod__(self, other):
        return _tensor().mod(self, other)

    def __rmod__(self, other):
        return _tensor().mod(other, self)

    def __pow__(self, other):
        return _tensor().pow(self, other)

    def __rpow__(self, other):
        return _tensor().pow(other, self)

    def __neg__(self):
        return _tensor().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _tensor().abs(self)

    def __invert__(self):
        return _tensor().invert(self)

    def __and__(self, other):
        return _tensor().and_(self, other)

    def __rand__(self, other):
        return _tensor().and_(other, self)

    def __or__(self, other):
        return _tensor().or_(self, other)

    def __ror__(self, other):
        return _tensor().or_(other, self)

    def __xor__(self, other):
        return _tensor().xor(self, other)

    def __rxor__(self, other):
        return _tensor().xor(other, self)

    def __lshift__(self, other):
        return _tensor().left_shift(self, other)

    def __rlshift__(self, other):
        return _tensor().left_shift(other, self)

    def __rshift__(self, other):
        return _tensor().right_shift(self, other)

    def __rrshift__(self, other):
        return _tensor().right_shift(other, self)

    def __lt__(self, other):
        return _tensor().lt(self, other)

    def __le__(self, other):
        return _tensor().le(self, other)

    def __gt__(self, other):
        return _tensor().gt(self, other)

    def __ge__(self, other):
        return _tensor().ge(self, other)

    # == and != stay identity comparisons (variables are dict keys); use T.eq.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __matmul__(self, other):
        return _tensor().matmul(self, other)

    def __rmatmul__(self, other):
        return _tensor().matmul(other, self)

    def __getitem__(self, index):
        return _tensor().getitem(self, index)

    # -- methods (each is the T.* function of the same name)
    @property
    def shape(self):
        """The symbolic shape: an int64 vector (``x.shape[0]`` is a scalar)."""
        return _tensor().shape(self)

    @property
    def size(self):
        return _tensor().prod(self.shape)

    @property
    def T(self):
        return _tensor().transpose(self)

    def sum(self, axis=None, keepdims=False, dtype=None):
        return _tensor().sum(self, axis=axis, keepdims=keepdims, dtype=dtype)

    def prod(self, axis=None, keepdims=False, dtype=None):
        return _tensor().prod(self, axis=axis, keepdims=keepdims, dtype=dtype)

    def mean(self, axis=None, keepdims=False):
        return _tensor().mean(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return _tensor().var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        return _tensor().std(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def max(self, axis=None, keepdims=False):
        return _tensor().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _tensor().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _tensor().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _tensor().argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _tensor().all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _tensor().any(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape, ndim=None):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        return _tensor().reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1):
        return _tensor().flatten(self, ndim)

    def ravel(self):
        return _tensor().flatten(self, 1)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = axes[0]
        return _tensor().transpose(self, axes or None)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = pattern[0]
        return _tensor().dimshuffle(self, pattern)

    def swapaxes(self, axis1, axis2):
        return _tensor().swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return _tensor().squeeze(self, axis=axis)

    def repeat(self, repeats, axis=None):
        return _tensor().repeat(self, repeats, axis=axis)

    def astype(self, dtype):
        return _tensor().cast(self, dtype)

    def clip(self, a_min, a_max):
        return _tensor().clip(self, a_min, a_max)

    def dot(self, other):
        return _tensor().dot(self, other)

    def round(self):
        return _tensor().round(self)

    def copy(self, name=None):
        return _tensor().tensor_copy(self, name=name)
