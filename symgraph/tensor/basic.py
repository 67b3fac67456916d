"""Constructors of symbolic tensors: ``T.matrix("x")``, ``T.fvector()``, ...

Each constructor makes an input variable. As in Theano, a one-letter prefix
fixes the dtype: ``b`` int8, ``w`` int16, ``i`` int32, ``l`` int64, ``f``
float32, ``d`` float64; without one the dtype is ``config.floatX``. ``row``
and ``col`` are matrices with a static size-1 dimension that broadcasts.
"""

from __future__ import annotations

from symgraph.config import config
from symgraph.graph import Constant, TensorType, Variable, as_tensor_variable

_PREFIXES = {
    "b": "int8",
    "w": "int16",
    "i": "int32",
    "l": "int64",
    "f": "float32",
    "d": "float64",
}


def tensor(
    name: str | None = None, dtype=None, shape=None, ndim: int | None = None
) -> Variable:
    """A symbolic input of ``dtype`` (default floatX) and static ``shape``.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> z = T.tensor("z", dtype="float32", shape=(None, 3))
    >>> z.type
    Tensor{float32, (?, 3)}
    """
    if isinstance(name, TensorType):  # Theano's T.tensor(type) spelling
        return name()
    if shape is None:
        shape = (None,) * (ndim or 0)
    elif ndim is not None and ndim != len(shape):
        raise ValueError(f"tensor: ndim={ndim} does not match shape={shape}")
    return TensorType(dtype or config.floatX, shape)(name)


def _maker(shape_fn, doc):
    def make(name: str | None = None, dtype=None, shape=None) -> Variable:
        base = shape_fn()
        if shape is not None:
            if len(shape) != len(base):
                raise ValueError(
                    f"shape {shape} has {len(shape)} dims, expected {len(base)}"
                )
            base = tuple(shape)
        return TensorType(dtype or config.floatX, base)(name)

    make.__doc__ = doc
    return make


scalar = _maker(lambda: (), "A symbolic 0-d input (dtype floatX unless given).")
vector = _maker(lambda: (None,), "A symbolic 1-d input.")
matrix = _maker(lambda: (None, None), "A symbolic 2-d input.")
row = _maker(lambda: (1, None), "A 1 x n matrix input that broadcasts along rows.")
col = _maker(lambda: (None, 1), "An n x 1 matrix input that broadcasts along columns.")
tensor3 = _maker(lambda: (None,) * 3, "A symbolic 3-d input.")
tensor4 = _maker(lambda: (None,) * 4, "A symbolic 4-d input.")
tensor5 = _maker(lambda: (None,) * 5, "A symbolic 5-d input.")

_KINDS = {
    "scalar": scalar,
    "vector": vector,
    "matrix": matrix,
    "row": row,
    "col": col,
    "tensor3": tensor3,
    "tensor4": tensor4,
    "tensor5": tensor5,
}


def _prefixed(kind, dtype):
    base = _KINDS[kind]

    def make(name: str | None = None, shape=None) -> Variable:
        return base(name, dtype=dtype, shape=shape)

    make.__doc__ = f"A symbolic {dtype} {kind} input."
    make.__name__ = kind
    return make


def _plural_n(single):
    def make(*names):
        if len(names) == 1 and isinstance(names[0], int):
            return [single() for _ in range(names[0])]
        if len(names) == 1:
            names = names[0].replace(",", " ").split()
        return [single(n) for n in names]

    make.__doc__ = (
        f"Several {single.__name__} inputs: ``a, b = {single.__name__}s('a', 'b')``."
    )
    return make


_exported = {}
for _kind in _KINDS:
    for _p, _dtype in _PREFIXES.items():
        _exported[_p + _kind] = _prefixed(_kind, _dtype)
for _name, _fn in list(_KINDS.items()) + list(_exported.items()):
    _plural_name = _name[:-1] + "ces" if _name.endswith("matrix") else _name + "s"
    _exported[_plural_name] = _plural_n(_fn)
globals().update(_exported)


def constant(value, name: str | None = None, dtype=None) -> Constant:
    """A constant tensor holding ``value`` (copied)."""
    var = as_tensor_variable(value, name=name, dtype=dtype)
    if not isinstance(var, Constant):
        raise TypeError(f"constant: {value!r} is not a constant value")
    if var.weak:  # explicit constants have a definite dtype
        var = Constant(var.type, var.data, name=name)
    return var


__all__ = [
    "tensor",
    "constant",
    "as_tensor_variable",
    "TensorType",
    *_KINDS,
    *_exported,
]
