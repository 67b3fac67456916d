"""``sg.verify_grad``: check symbolic gradients against central differences."""

from __future__ import annotations

import numpy as np

from symgraph.gradient import GradientError, grad
from symgraph.graph import TensorType, Variable

# Per-dtype defaults: the step, and absolute / relative tolerances.
_EPS = {"float64": 1e-6, "float32": 1e-6}
_ABS_TOL = {"float64": 1e-6, "float32": 3e-3}
_REL_TOL = {"float64": 1e-5, "float32": 3e-3}


def verify_grad(
    fun,
    points,
    n_tests: int = 1,
    rng=None,
    eps: float | None = None,
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    backend: str | None = "python",
    max_elements: int = 400,
) -> None:
    """Raise :class:`GradientError` unless ``grad`` of ``fun`` matches numbers.

    ``fun`` maps symbolic inputs (one per array in ``points``) to an output;
    a non-scalar output is projected on a random direction first. The
    numeric gradient uses central differences in float64 (on a float64 copy
    of the graph), element by element for small inputs, else along random
    directions. Tolerances default per dtype of the inputs.

    Example
    -------
    >>> import numpy as np, symgraph.tensor as T
    >>> verify_grad(lambda x: T.tanh(x) * x, [np.array([0.3, -1.2])])
    """
    from symgraph.compile.function import function

    rng = rng if rng is not None else np.random.default_rng(42)
    points = [np.array(p, dtype=p.dtype if isinstance(p, np.ndarray) else "float64") for p in points]
    for i, p in enumerate(points):
        if p.dtype.kind != "f":
            raise TypeError(f"verify_grad: point {i} has dtype {p.dtype}; only float inputs can be checked")
    dtype = "float32" if any(p.dtype == np.float32 for p in points) else "float64"
    eps = eps or _EPS[dtype]
    abs_tol = _ABS_TOL[dtype] if abs_tol is None else abs_tol
    rel_tol = _REL_TOL[dtype] if rel_tol is None else rel_tol

    def build(dtypes):
        inputs = [TensorType(d, tuple(1 if s == 1 else None for s in p.shape))(f"x{i}") for i, (d, p) in enumerate(zip(dtypes, points))]
        out = fun(*inputs)
        if not isinstance(out, Variable):
            raise TypeError(f"verify_grad: fun must return one symbolic variable, got {out!r}")
        return inputs, out

    inputs, out = build([p.dtype.name for p in points])
    projection = rng.uniform(0.5, 1.5, size=_eval_shape(inputs, out, points)).astype(out.dtype) if out.ndim else None
    cost = (out * projection).sum() if projection is not None else out
    analytic_fn = function(inputs, grad(cost, inputs), backend=backend, on_unused_input="ignore")
    analytic = [np.asarray(g, dtype="float64") for g in analytic_fn(*points)]

    inputs64, out64 = build(["float64"] * len(points))
    cost64 = (out64 * projection.astype("float64")).sum() if projection is not None else out64
    cost_fn = function(inputs64, cost64, backend=backend, on_unused_input="ignore")
    base = [p.astype("float64") for p in points]

    for i, (p, g) in enumerate(zip(base, analytic)):
        if p.size <= max_elements:
            numeric = np.zeros_like(p)
            flat = numeric.reshape(-1)
            for j in range(p.size):
                flat[j] = _central_difference(cost_fn, base, i, _unit(p, j), eps)
            _compare(i, g, numeric, abs_tol, rel_tol)
        else:
            for _ in range(max(n_tests, 1)):
                direction = rng.standard_normal(p.shape)
                numeric = _central_difference(cost_fn, base, i, direction, eps)
                _compare(i, np.sum(g * direction), np.asarray(numeric), abs_tol, rel_tol, directional=True)


def _eval_shape(inputs, out, points):
    from symgraph.compile.function import function

    value = function(inputs, out, backend="python", on_unused_input="ignore")(*points)
    return np.shape(value)


def _unit(p, j):
    e = np.zeros(p.size)
    e[j] = 1.0
    return e.reshape(p.shape)


def _central_difference(cost_fn, base, i, direction, eps) -> float:
    plus = list(base)
    minus = list(base)
    plus[i] = base[i] + eps * direction
    minus[i] = base[i] - eps * direction
    return (float(cost_fn(*plus)) - float(cost_fn(*minus))) / (2 * eps)


def _compare(i, analytic, numeric, abs_tol, rel_tol, directional=False) -> None:
    analytic = np.asarray(analytic, dtype="float64")
    abs_err = np.abs(analytic - numeric)
    rel_err = abs_err / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
    bad = (abs_err > abs_tol) & (rel_err > rel_tol)
    if not np.any(bad) and np.all(np.isfinite(analytic) == np.isfinite(numeric)):
        return
    pos = np.unravel_index(np.argmax(np.where(bad, abs_err, -1)), analytic.shape) if analytic.ndim else ()
    what = "directional derivative" if directional else f"element {tuple(int(k) for k in pos)}"
    raise GradientError(
        f"verify_grad: gradient of input {i} is wrong at {what}: analytic "
        f"{analytic[pos]!r}, numeric {numeric[pos]!r}, abs error {abs_err[pos]:.3g} "
        f"(tol {abs_tol:.3g}), rel error {rel_err[pos]:.3g} (tol {rel_tol:.3g}); "
        f"{int(np.sum(bad))} of {bad.size} entries out of tolerance"
    )
