"""The op table: one record per op, driving forward, shape and gradient tests.

Each family lists its records in ``tests/opinfo/<family>.py``; this module
defines the record type, the input samplers and gathers the families into
``OP_DB``. ``tests/ops/test_op_db.py`` generates the tests from it (and the
C/CUDA backend tests reuse the same table).

A record's ``shapes`` is a list of cases, each a tuple with one shape per
argument. Symbolic inputs get static size 1 where the sample shape has 1 and
None elsewhere, so the cases also exercise broadcasting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FLOATS = ("float64", "float32")
INTS = ("int64", "int32", "int8", "uint8")
# Non-square, with broadcasting variants (scalar, (1, n), (m, 1)).
UNARY_SHAPES = [(s,) for s in [(), (3,), (2, 3), (1, 4), (3, 1), (2, 3, 4), (0, 3)]]
BINARY_SHAPES = [
    ((2, 3), (2, 3)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((1, 3), (2, 3)),
    ((2, 1), (2, 3)),
    ((3,), (2, 3)),
    ((2, 1), (1, 3)),
    ((4,), (4,)),
    ((0, 3), (1, 3)),
]


def sample(domain, shape, dtype, rng) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` drawn from ``domain``.

    Domains: "real" (-3..3), "positive" (0.1..3), "unit" (-0.9..0.9),
    "nonzero" (|x| in 0.5..3), "above1" (1.1..4), "prob" (0.05..0.95),
    a ``(low, high)`` tuple, "int" (-5..5 or 0..9 for unsigned), "bool",
    or a callable ``(shape, dtype, rng) -> array``.
    """
    if callable(domain):
        return np.asarray(domain(shape, dtype, rng), dtype=dtype)
    if dtype == "bool" or domain == "bool":
        return rng.integers(0, 2, size=shape).astype(dtype)
    if np.dtype(dtype).kind in "iu":
        low, high = (0, 10) if np.dtype(dtype).kind == "u" else (-5, 6)
        if domain == "positive":
            low = 1
        elif domain == "nonzero":
            values = rng.integers(1, high, size=shape) * rng.choice(
                [-1, 1] if low < 0 else [1], size=shape
            )
            return values.astype(dtype)
        elif isinstance(domain, tuple):
            low, high = int(domain[0]), int(domain[1]) + 1
        return rng.integers(low, high, size=shape).astype(dtype)
    ranges = {
        "real": (-3, 3),
        "positive": (0.1, 3),
        "unit": (-0.9, 0.9),
        "nonzero": (0.5, 3),
        "above1": (1.1, 4),
        "prob": (0.05, 0.95),
    }
    low, high = domain if isinstance(domain, tuple) else ranges[domain]
    values = rng.uniform(low, high, size=shape)
    if domain == "nonzero":
        values *= rng.choice([-1, 1], size=shape)
    return values.astype(dtype)


@dataclass
class OpInfo:
    """One op under test.

    fn       symbolic function of the inputs (``lambda x, y: T.add(x, y)``)
    ref      NumPy reference of the same arguments
    domains  one domain per argument (see :func:`sample`)
    dtypes   dtype cases: a dtype for all args, or a tuple with one per arg
    shapes   shape cases: a tuple with one shape per argument
    grad     differentiable (checked with verify_grad) or not
    grad_args  which arguments the gradient is checked for (default: the
             float ones)
    ops      the Op / ScalarOp classes this record covers (meta-tests)
    """

    name: str
    fn: Callable
    ref: Callable
    domains: tuple
    dtypes: tuple = FLOATS
    shapes: list = field(default_factory=lambda: list(UNARY_SHAPES))
    grad: bool = True
    grad_args: tuple | None = None
    grad_shapes: list | None = None
    rtol: dict = field(default_factory=lambda: {"float64": 1e-10, "float32": 1e-5})
    atol: dict = field(default_factory=lambda: {"float64": 1e-12, "float32": 1e-6})
    grad_tol: dict | None = None
    ops: tuple = ()
    check_infer_shape: bool = True
    notes: str = ""

    @property
    def nargs(self) -> int:
        return len(self.domains)

    def arg_dtypes(self, dtype) -> tuple:
        return dtype if isinstance(dtype, tuple) else (dtype,) * self.nargs

    def make_inputs(self, shapes, dtypes):
        """Symbolic inputs for one case (static size 1 where the shape has 1)."""
        from symgraph.graph import TensorType

        return [
            TensorType(d, tuple(1 if s == 1 else None for s in shp))(f"a{i}")
            for i, (shp, d) in enumerate(zip(shapes, dtypes, strict=True))
        ]

    def make_values(self, shapes, dtypes, seed=0):
        rng = np.random.default_rng(seed)
        return [
            sample(dom, shp, d, rng)
            for dom, shp, d in zip(self.domains, shapes, dtypes, strict=True)
        ]

    def cases(self):
        """(shapes, dtypes) pairs for the forward tests."""
        for dtype in self.dtypes:
            for shapes in self.shapes:
                yield shapes, self.arg_dtypes(dtype)

    def tolerance(self, dtype) -> dict:
        base = dtype if dtype in FLOATS else "float64"
        return {"rtol": self.rtol.get(base, 1e-10), "atol": self.atol.get(base, 1e-12)}


def _load() -> list[OpInfo]:
    import importlib

    records: list[OpInfo] = []
    for family in ("elemwise", "reduce", "shape", "subtensor", "linalg", "nnet"):
        try:
            module = importlib.import_module(f"tests.opinfo.{family}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.opinfo.{family}":
                raise
            continue
        records.extend(module.RECORDS)
    names = [r.name for r in records]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"op_db: duplicate record names {sorted(duplicates)}")
    return records


OP_DB: list[OpInfo] = _load()
