"""Scalar ops: the elementwise maths that :class:`~symgraph.ops.elemwise.Elemwise`
lifts to tensors.

A scalar op is small: its NumPy ``impl``, a dtype rule, and a ``grad`` that
builds tensor expressions (Elemwise applies them to the broadcast inputs and
then reduces them back with ``unbroadcast``). Backends print each scalar op
from a table keyed by its class, so this module holds no C.

Dtype rules follow NumPy 2, except that integer inputs to transcendental
functions give float32 (bool/int8/uint8/int16/uint16) or float64 (wider), as
Theano did: float16 is not a supported dtype.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph import FLOAT_DTYPES


def upgrade_to_float(dtype: str) -> str:
    """The float dtype a transcendental function of ``dtype`` returns."""
    if dtype in FLOAT_DTYPES:
        return dtype
    if dtype in ("bool", "int8", "uint8", "int16", "uint16"):
        return "float32"
    return "float64"


def promote(*dtypes: str) -> str:
    """NumPy's result type of ``dtypes`` (float16 is widened to float32)."""
    name = np.result_type(*dtypes).name
    return "float32" if name == "float16" else name


class ScalarOp:
    """Base class of scalar ops (see the module docstring).

    Subclasses set ``nin`` and either ``ufunc`` (a NumPy ufunc that is both
    the reference implementation and the dtype rule) or override ``impl`` and
    ``output_dtype``.
    """

    nin: int = 1
    nout: int = 1
    ufunc: np.ufunc | None = None
    #: "ufunc": NumPy's loop resolution; "float": transcendental (see
    #: upgrade_to_float); "bool": predicates; or override output_dtype.
    output_rule: str = "ufunc"
    #: Integer inputs are cast to the float output dtype before ``impl``.
    float_inputs: bool = True
    commutative: bool = False
    associative: bool = False
    #: Integer-valued results: no gradient flows through (floor, sign, ...).
    discrete: bool = False
    __props__: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return type(self).__name__.lower()

    def output_dtype(self, *dtypes: str) -> str:
        if self.output_rule == "bool":
            return "bool"
        if self.output_rule == "float":
            return upgrade_to_float(promote(*dtypes))
        if self.ufunc is None:
            return promote(*dtypes)
        try:
            resolved = self.ufunc.resolve_dtypes(
                tuple(np.dtype(d) for d in dtypes) + (None,)
            )
        except TypeError as exc:
            raise TypeError(
                f"{self.name} is not defined for dtypes {', '.join(dtypes)}"
            ) from exc
        name = resolved[-1].name
        return "float32" if name == "float16" else name

    def impl(self, *inputs):
        return self.ufunc(*inputs)

    def perform(self, inputs: list, out_dtype: str):
        """Compute on NumPy arrays; the result is cast to ``out_dtype`` by Elemwise."""
        if self.float_inputs and out_dtype in FLOAT_DTYPES:
            inputs = [
                x.astype(out_dtype) if x.dtype.kind in "biu" else x for x in inputs
            ]
        return self.impl(*inputs)

    def grad(self, inputs: list, outputs: list, output_grads: list) -> list:
        """Tensor-level gradient of the elementwise op (before unbroadcast)."""
        raise NotImplementedError(f"scalar op {self.name} has no gradient rule")

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and all(
            getattr(self, p) == getattr(other, p) for p in self.__props__
        )

    def __hash__(self) -> int:
        return hash((type(self), tuple(getattr(self, p) for p in self.__props__)))

    def __str__(self) -> str:
        if not self.__props__:
            return self.name
        return (
            f"{self.name}{{"
            f"{', '.join(str(getattr(self, p)) for p in self.__props__)}}}"
        )

    __repr__ = __str__


# Concrete scalar ops live in symgraph/ops/scalar_math.py.
