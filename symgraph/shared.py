"""``sg.shared``: variables whose value persists between function calls."""

from __future__ import annotations

import numpy as np

from symgraph.graph import SharedVariable, TensorType


def shared(
    value,
    name: str | None = None,
    *,
    borrow: bool = False,
    shape=None,
    allow_downcast=None,
) -> SharedVariable:
    """A shared variable holding ``value`` (copied unless ``borrow=True``).

    Its static shape is unknown (values may change size with ``set_value``)
    unless ``shape`` is given; Python floats become ``config.floatX``.

    Example
    -------
    >>> import numpy as np, symgraph as sg
    >>> w = sg.shared(np.zeros((3, 4), "float32"), name="w")
    >>> w.get_value().shape
    (3, 4)
    """
    if isinstance(value, SharedVariable):
        raise TypeError("shared: the value is already a shared variable")
    if type(value) in (int, float, bool):
        from symgraph.graph import as_tensor_variable

        array = as_tensor_variable(value).data.copy()
    else:
        if value is None or isinstance(value, (str, bytes)):
            raise TypeError(f"shared: cannot hold {value!r}; give a number or an array")
        array = np.asarray(value)
        if array is value and not borrow:
            array = array.copy()
    if shape is None:
        shape = (None,) * array.ndim
    type_ = TensorType(array.dtype, shape)
    return SharedVariable(type_, array, name=name, allow_downcast=allow_downcast)
