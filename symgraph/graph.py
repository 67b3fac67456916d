"""The graph core: types, variables, constants, shared variables and Apply nodes.

A graph is made of :class:`Variable` objects (typed symbolic values) and
:class:`Apply` nodes (one application of an :class:`~symgraph.op.Op` to input
variables, producing output variables). Graphs are immutable once built:
rewrites and gradients build new nodes, never edit old ones.

Every variable remembers the line of *user* code that created it, so error
messages and generated source can point there.

Example
-------
>>> import symgraph.tensor as T
>>> x = T.matrix("x")
>>> y = (x + 1).sum()
>>> y.owner.op
Sum{axis=(0, 1)}
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Iterable, Sequence

import numpy as np

from symgraph.config import config
from symgraph.variable_methods import TensorMethods, _tensor

SUPPORTED_DTYPES = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
)
FLOAT_DTYPES = ("float32", "float64")
_SUPPORTED = frozenset(SUPPORTED_DTYPES)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def normalize_dtype(dtype, what: str = "dtype") -> str:
    """Return the canonical name of ``dtype``; refuse unsupported ones clearly."""
    if dtype.__class__ is str and dtype in _SUPPORTED:
        return dtype  # the common case, without NumPy's (slow) dtype parsing
    if dtype == "floatX":
        return config.floatX
    try:
        name = np.dtype(dtype).name
    except TypeError as exc:
        raise TypeError(f"{what}: {dtype!r} is not a NumPy dtype") from exc
    if name not in SUPPORTED_DTYPES:
        raise TypeError(
            f"{what}: dtype {name!r} is not supported; use one of "
            f"{', '.join(SUPPORTED_DTYPES)}"
        )
    return name


# ---------------------------------------------------------------- source lines


class SourceLocation:
    """Where user code created a variable: file name and line number."""

    __slots__ = ("filename", "lineno")

    def __init__(self, filename: str, lineno: int) -> None:
        self.filename = filename
        self.lineno = lineno

    @property
    def code(self) -> str:
        """The source text of that line, stripped ('' when unavailable)."""
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self) -> str:
        code = self.code
        where = f"{os.path.basename(self.filename)}:{self.lineno}"
        return f"{where} ({code})" if code else where

    def __repr__(self) -> str:
        return f"SourceLocation({self.filename!r}, {self.lineno})"


def user_location() -> SourceLocation | None:
    """The innermost stack frame outside the symgraph package, if any."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return SourceLocation(frame.f_code.co_filename, frame.f_lineno)


# ----------------------------------------------------------------------- types


class TensorType:
    """The type of a tensor variable: a dtype and a static shape.

    ``shape`` holds an ``int`` where the size is known when the graph is built
    and ``None`` where it is not. A dimension of static size 1 broadcasts.

    Example
    -------
    >>> t = TensorType("float32", (None, 3))
    >>> t.ndim, t.broadcastable
    (2, (False, False))
    >>> x = t("x")
    """

    __slots__ = ("dtype", "shape", "_hash")

    def __init__(self, dtype, shape: Sequence[int | None] = ()) -> None:
        self.dtype = normalize_dtype(dtype)
        dims = []
        for i, size in enumerate(shape):
            if size is not None:
                if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
                    raise TypeError(
                        f"TensorType shape[{i}] must be an int or None, got {size!r}"
                    )
                if size < 0:
                    raise ValueError(f"TensorType shape[{i}] is negative: {size}")
                size = int(size)
            dims.append(size)
        self.shape = tuple(dims)
        self._hash = hash((self.dtype, self.shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        """Theano's view of the static shape: True where the size is 1."""
        return tuple(s == 1 for s in self.shape)

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOAT_DTYPES

    def __eq__(self, other) -> bool:
        return (
            type(other) is TensorType
            and self.dtype == other.dtype
            and self.shape == other.shape
        )

    def __hash__(self) -> int:
        return self._hash

    def __call__(self, name: str | None = None) -> Variable:
        """Make a fresh input variable of this type."""
        return Variable(self, name=name)

    def clone(self, dtype=None, shape=None) -> TensorType:
        return TensorType(
            self.dtype if dtype is None else dtype,
            self.shape if shape is None else shape,
        )

    def is_super(self, other: TensorType) -> bool:
        """True when every value of ``other`` is also a value of this type."""
        return (
            isinstance(other, TensorType)
            and self.dtype == other.dtype
            and self.ndim == other.ndim
            and all(
                s is None or s == o
                for s, o in zip(self.shape, other.shape, strict=True)
            )
        )

    def describe(self) -> str:
        """Plain words for messages: 'float64 matrix of shape (?, 3)'."""
        kind = {0: "scalar", 1: "vector", 2: "matrix"}.get(
            self.ndim, f"{self.ndim}-d tensor"
        )
        dims = ", ".join("?" if s is None else str(s) for s in self.shape)
        if self.ndim == 0:
            return f"{self.dtype} {kind}"
        if self.ndim == 1:
            dims += ","
        return f"{self.dtype} {kind} of shape ({dims})"

    def __str__(self) -> str:
        dims = ", ".join("?" if s is None else str(s) for s in self.shape)
        return f"Tensor{{{self.dtype}, ({dims}{',' if self.ndim == 1 else ''})}}"

    __repr__ = __str__

    def filter(self, value, *, allow_downcast: bool | None = None) -> np.ndarray:
        """Convert ``value`` to an ndarray of this type, or raise a clear error.

        The message describes only the value; :func:`symgraph.function` adds
        which input it was. ``allow_downcast=None`` (the default) lets Python
        floats and lists of them become float32, as Theano did; ``True``
        allows any lossy cast; ``False`` allows only exact dtypes and safe
        casts.
        """
        if isinstance(value, np.ndarray):
            arr = value
            from_python = False
        else:
            if isinstance(value, (Variable, str, bytes)) or value is None:
                raise TypeError(
                    f"expected {_article(self.describe())}, "
                    f"got {_describe_value(value)}"
                )
            try:
                arr = np.asarray(value)
            except (ValueError, TypeError) as exc:
                raise TypeError(
                    f"expected {_article(self.describe())}, "
                    f"got {_describe_value(value)} "
                    f"that NumPy cannot turn into an array ({exc})"
                ) from None
            from_python = True
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"expected {_article(self.describe())}, got {_describe_value(value)}"
            )
        if arr.ndim != self.ndim:
            raise TypeError(
                f"expected {_article(self.describe())} (ndim {self.ndim}), got "
                f"{_describe_value(value)} (ndim {arr.ndim})"
            )
        if arr.dtype.name != self.dtype:
            arr = self._cast(arr, value, from_python, allow_downcast)
        for axis, (want, got) in enumerate(zip(self.shape, arr.shape, strict=True)):
            if want is not None and want != got:
                raise ValueError(
                    f"expected {_article(self.describe())}, got shape {arr.shape}: "
                    f"dimension {axis} must be {want}, not {got}"
                )
        return arr

    def _cast(self, arr, value, from_python, allow_downcast) -> np.ndarray:
        target = np.dtype(self.dtype)
        if allow_downcast or np.can_cast(arr.dtype, target, "safe"):
            return arr.astype(target)
        if from_python and allow_downcast is None:
            # Python numbers carry no dtype of their own: accept them when the
            # values survive (2.0 -> int is fine, 2.5 -> int is not), and
            # Python floats into float32, as Theano did.
            cast = arr.astype(target)
            if target.kind == "f" and arr.dtype.kind == "f":
                return cast
            if np.array_equal(cast, arr):
                return cast
        raise TypeError(
            f"expected {_article(self.describe())}, got {_describe_value(value)}; "
            f"casting {arr.dtype.name} to {self.dtype} may lose information. Pass "
            f"value.astype({self.dtype!r}), or allow_input_downcast=True to "
            "sg.function"
        )


def _article(text: str) -> str:
    return ("an " if text[0] in "aeio" else "a ") + text


def _describe_value(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-d {value.dtype.name} array of shape {value.shape}"
    if isinstance(value, Variable):
        return (
            f"the symbolic variable {value} (pass NumPy values when calling a function)"
        )
    if value is None:
        return "None"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


# ------------------------------------------------------------------- variables


class Variable(TensorMethods):
    """A typed symbolic value: an input, a constant, or an output of an Apply.

    Variables support NumPy-style operators and methods (``x + 1``,
    ``x.sum(axis=0)``, ``x.T``, ``x[1:, ::-1]``). ``x.shape`` is symbolic;
    the static shape is ``x.type.shape``.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> x = T.vector("x")
    >>> (x * 2).eval({x: [1.0, 2.0]})
    array([2., 4.])
    """

    __slots__ = ("type", "owner", "index", "name", "trace", "_tag", "__weakref__")
    # ndarray + Variable must reach Variable.__radd__ (not build an object
    # array element by element): tell NumPy to hand over.
    __array_ufunc__ = None

    def __init__(self, type, owner=None, index=None, name=None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"a variable name must be a str, got {name!r}")
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.trace = user_location()
        self._tag = None

    # -- plain properties
    @property
    def tag(self):
        """A free namespace for annotations (Theano's ``var.tag``)."""
        if self._tag is None:
            from types import SimpleNamespace

            self._tag = SimpleNamespace()
        return self._tag

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    @property
    def static_shape(self) -> tuple[int | None, ...]:
        return self.type.shape

    def describe(self) -> str:
        """'x' (built at model.py:12 (x = T.matrix("x"))) for error messages."""
        label = repr(self.name) if self.name else str(self)
        return f"{label} (built at {self.trace})" if self.trace else label

    def clone(self, name=None) -> Variable:
        """A new, ownerless variable of the same type (and name)."""
        new = type(self).__new__(type(self))
        Variable.__init__(
            new, self.type, None, None, self.name if name is None else name
        )
        return new

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = str(self.owner.op)
            if len(self.owner.outputs) > 1:
                return f"{op}.{self.index}"
            return f"{op}.out"
        return f"<{self.type}>"

    def __repr__(self) -> str:
        return str(self)

    def eval(self, inputs_to_values: dict | None = None, backend: str | None = None):
        """Compile and evaluate this variable (cached per input set).

        ``inputs_to_values`` maps input variables to values.
        """
        from symgraph.compile.function import function

        inputs_to_values = inputs_to_values or {}
        inputs = list(inputs_to_values)
        key = (tuple(id(i) for i in inputs), backend)
        cache = self.tag.__dict__.setdefault("_eval_cache", {})
        if key not in cache:
            cache[key] = function(
                inputs, self, backend=backend, on_unused_input="ignore"
            )
        return cache[key](*inputs_to_values.values())


class Constant(Variable):
    """A variable with a fixed value, folded into the graph.

    ``weak`` marks constants made from plain Python numbers: as in NumPy 2
    (NEP 50) they take the dtype of the tensors they meet (``x_f32 * 2.0``
    stays float32).
    """

    __slots__ = ("data", "weak", "_signature")

    def __init__(self, type, data, name=None, weak=False) -> None:
        super().__init__(type, None, None, name)
        data = np.array(data, dtype=type.dtype)  # private copy
        data.setflags(write=False)
        self.data = data
        self.weak = weak
        self._signature = None

    def signature(self) -> tuple:
        """Equal for constants of equal type and value (used by merging)."""
        if self._signature is None:
            self._signature = (self.type, self.data.shape, self.data.tobytes())
        return self._signature

    @property
    def value(self):
        return self.data

    def clone(self, name=None) -> Constant:
        return Constant(
            self.type, self.data, self.name if name is None else name, self.weak
        )

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.data.size <= 6:
            text = np.array2string(self.data, separator=", ")
            return text if self.data.ndim else str(self.data.item())
        return f"Constant{{{self.type}}}"


class SharedVariable(Variable):
    """A variable whose value lives between calls (model parameters, state).

    Made with :func:`symgraph.shared`. Functions read it implicitly and can
    update it through ``updates=``.
    """

    __slots__ = ("_value", "allow_downcast", "default_update")

    def __init__(self, type, value, name=None, allow_downcast=None) -> None:
        super().__init__(type, None, None, name)
        self.allow_downcast = allow_downcast
        self.default_update = None
        self._value = type.filter(value, allow_downcast=allow_downcast)

    def get_value(self, borrow: bool = False, return_internal_type: bool = False):
        """The current value; a copy unless ``borrow=True``."""
        return self._value if borrow else self._value.copy()

    def set_value(self, value, borrow: bool = False) -> None:
        """Replace the value; checked against the variable's type."""
        try:
            new = self.type.filter(value, allow_downcast=self.allow_downcast)
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                f"set_value of shared variable {self.describe()}: {exc}"
            ) from None
        if not borrow and new is value:
            new = new.copy()
        self._value = new

    @property
    def value(self):
        return self._value

    def clone(self, name=None):
        raise TypeError(f"shared variable {self.describe()} cannot be cloned")


def as_tensor_variable(x, name: str | None = None, ndim: int | None = None, dtype=None):
    """Turn ``x`` (a Variable, number, array or nested list) into a Variable.

    Python numbers become *weak* constants (NumPy 2 promotion); NumPy arrays
    and NumPy scalars keep their dtype; nested lists that hold symbolic
    variables are stacked.
    """
    if isinstance(x, Variable):
        var = x
    elif type(x) in (int, float, bool):
        if dtype is None:
            dtype = {bool: "bool", int: "int64", float: config.floatX}[type(x)]
        try:
            value = np.asarray(x, dtype=dtype)
        except OverflowError as exc:
            raise TypeError(f"the Python number {x!r} does not fit in {dtype}") from exc
        var = Constant(TensorType(value.dtype, ()), value, name=name, weak=True)
    elif isinstance(x, (list, tuple)) and _holds_variable(x):
        var = _tensor().stack([as_tensor_variable(item) for item in x])
    else:
        if isinstance(x, (str, bytes)) or x is None:
            raise TypeError(f"cannot make a tensor from {_describe_value(x)}")
        try:
            value = np.asarray(x, dtype=dtype)
        except (ValueError, TypeError) as exc:
            raise TypeError(
                f"cannot make a tensor from {_describe_value(x)}: {exc}"
            ) from None
        if value.dtype.kind not in "biuf":
            raise TypeError(f"cannot make a tensor from {_describe_value(x)}")
        if value.dtype.kind == "f" and value.dtype.name not in FLOAT_DTYPES:
            value = value.astype(config.floatX)
        var = Constant(TensorType(value.dtype, value.shape), value, name=name)
    if ndim is not None and var.ndim != ndim:
        raise TypeError(f"expected a {ndim}-d tensor, got {var} with ndim {var.ndim}")
    return var


def _holds_variable(items) -> bool:
    return any(
        isinstance(i, Variable) or (isinstance(i, (list, tuple)) and _holds_variable(i))
        for i in items
    )


# ----------------------------------------------------------------------- apply


class Apply:
    """One application of an op to input variables, making output variables.

    Built by ``Op.make_node``; sets ``owner`` and ``index`` on its outputs.
    Never edited after construction: rewrites build new Apply nodes.
    """

    __slots__ = ("op", "inputs", "outputs", "_tag", "__weakref__")

    def __init__(
        self, op, inputs: Iterable[Variable], outputs: Iterable[Variable]
    ) -> None:
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self._tag = None
        for i, var in enumerate(self.inputs):
            if not isinstance(var, Variable):
                raise TypeError(f"{op}: input {i} is not a Variable: {var!r}")
        for i, out in enumerate(self.outputs):
            if out.owner is not None:
                raise ValueError(f"{op}: output {i} already belongs to another node")
            out.owner = self
            out.index = i

    @property
    def tag(self):
        if self._tag is None:
            from types import SimpleNamespace

            self._tag = SimpleNamespace()
        return self._tag

    @property
    def out(self) -> Variable:
        """The single output (Theano's ``node.out``)."""
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs, not one")
        return self.outputs[0]

    def clone_with_new_inputs(self, inputs: Sequence[Variable]) -> Apply:
        """Rebuild this node on new inputs through ``op.make_node``."""
        return self.op.make_node(*inputs)

    def __str__(self) -> str:
        return f"{self.op}({', '.join(map(str, self.inputs))})"

    __repr__ = __str__


# ----------------------------------------------------------------------- walks


def ancestors(
    outputs: Iterable[Variable], blockers: Iterable[Variable] = ()
) -> list[Variable]:
    """Every variable the outputs depend on (outputs included), each once.

    The walk stops at ``blockers``. Iterative, so deep graphs are fine.
    """
    blocked = set(blockers)
    seen: set[Variable] = set()
    order: list[Variable] = []
    stack = list(outputs)[::-1]
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        order.append(var)
        if var.owner is not None and var not in blocked:
            stack.extend(reversed(var.owner.inputs))
    return order


def graph_inputs(
    outputs: Iterable[Variable], blockers: Iterable[Variable] = ()
) -> list[Variable]:
    """The leaves (variables with no owner, or blockers) below ``outputs``."""
    blocked = set(blockers)
    return [v for v in ancestors(outputs, blocked) if v.owner is None or v in blocked]


def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """The Apply nodes between ``inputs`` and ``outputs``, in dependency order.

    Inputs may be intermediate variables: their owners are not included.
    """
    stop = set(inputs)
    order: list[Apply] = []
    done: set[Apply] = set()
    # Iterative post-order DFS: a node is emitted after all its inputs' owners.
    for out in outputs:
        if out in stop or out.owner is None or out.owner in done:
            continue
        stack = [(out.owner, False)]
        while stack:
            node, expanded = stack.pop()
            if node in done:
                continue
            if expanded:
                done.add(node)
                order.append(node)
                continue
            stack.append((node, True))
            for var in reversed(node.inputs):
                if var.owner is not None and var not in stop and var.owner not in done:
                    stack.append((var.owner, False))
    return order


def toposort(outputs: Iterable[Variable]) -> list[Apply]:
    """Every Apply node below ``outputs``, in dependency order."""
    return io_toposort((), outputs)


def clone_replace(
    outputs: Variable | Sequence[Variable],
    replace: dict[Variable, Variable] | None = None,
):
    """Rebuild ``outputs`` with variables substituted per ``replace``.

    Nodes that depend on a replaced variable are rebuilt through their op's
    ``make_node`` (so types are re-checked); untouched subgraphs are shared,
    not copied. Returns a variable or a list, matching ``outputs``.
    """
    single = isinstance(outputs, Variable)
    outs = [outputs] if single else list(outputs)
    memo: dict[Variable, Variable] = dict(replace or {})
    for old, new in memo.items():
        _check_replacement(old, new)
    for node in toposort(outs):
        new_inputs = [memo.get(v, v) for v in node.inputs]
        if all(n is o for n, o in zip(new_inputs, node.inputs, strict=True)):
            continue
        if all(o in memo for o in node.outputs):
            continue
        new_node = node.clone_with_new_inputs(new_inputs)
        for old, new in zip(node.outputs, new_node.outputs, strict=True):
            memo.setdefault(old, new)
    result = [memo.get(v, v) for v in outs]
    return result[0] if single else result


def _check_replacement(old: Variable, new: Variable) -> None:
    if not isinstance(new, Variable):
        raise TypeError(
            f"replacement for {old.describe()} must be a Variable, got {new!r}"
        )
    if old.type.ndim != new.type.ndim or old.type.dtype != new.type.dtype:
        raise TypeError(
            f"cannot replace {old.describe()} ({old.type.describe()}) with "
            f"{new.describe()} ({new.type.describe()}): dtype and ndim must match"
        )


def is_constant_value(var: Variable, value) -> bool:
    """True when ``var`` is a constant whose every element equals ``value``."""
    return (
        isinstance(var, Constant)
        and var.data.size > 0
        and bool(np.all(var.data == value))
    )
