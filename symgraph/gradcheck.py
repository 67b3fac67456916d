"""``sg.verify_grad``: check symbolic gradients against central differences.

The output of ``fun`` is projected on a random direction (a scalar cost
``sum(out * p)``, so every output element counts), then the gradient of that
cost is compared with central differences computed in float64, on a float64
copy of the graph, whatever the dtype of the points. Small inputs are
differenced element by element, so a failure names the element; large ones
along random directions. Tolerances default per dtype.
"""

from __future__ import annotations

import numpy as np

from symgraph.gradient import GradientError, grad
from symgraph.graph import TensorType, Variable

__all__ = ["verify_grad", "GradientError", "TOLERANCES"]

#: Per dtype of the points: the finite-difference step and the tolerances.
#: An entry fails when both its absolute and its relative error exceed them.
TOLERANCES = {
    "float64": {"eps": 1e-6, "abs_tol": 1e-6, "rel_tol": 1e-5},
    "float32": {"eps": 1e-6, "abs_tol": 3e-3, "rel_tol": 3e-3},
}


def verify_grad(
    fun,
    points,
    n_tests: int = 1,
    rng=None,
    eps: float | None = None,
    *,
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    backend: str | None = "python",
    max_elements: int = 400,
) -> None:
    """Raise :class:`GradientError` unless the gradient of ``fun`` is right.

    Parameters
    ----------
    fun : function of symbolic inputs (one per point) returning one Variable
    points : arrays (or nested lists) where the gradient is checked; their
        dtypes (float32 or float64) give the inputs' dtypes
    n_tests : how many random projections to check
    rng : a ``np.random.Generator``, a seed, or None (seed 42): draws the
        projection of the output and the directions for large inputs
    eps : finite-difference step (default per dtype, see ``TOLERANCES``)
    abs_tol, rel_tol : tolerances (default per dtype)
    backend : the backend that evaluates both sides ("python": the oracle)
    max_elements : inputs with more elements are checked along
        ``n_tests`` random directions instead of element by element

    Example
    -------
    >>> import numpy as np, symgraph as sg, symgraph.tensor as T
    >>> sg.verify_grad(lambda x: T.tanh(x) * x, [np.array([0.3, -1.2])])
    """
    from symgraph.compile.function import function

    rng = np.random.default_rng(42 if rng is None else rng)
    points = [_as_point(i, p) for i, p in enumerate(points)]
    dtype = "float32" if any(p.dtype == np.float32 for p in points) else "float64"
    eps = TOLERANCES[dtype]["eps"] if eps is None else eps
    abs_tol = TOLERANCES[dtype]["abs_tol"] if abs_tol is None else abs_tol
    rel_tol = TOLERANCES[dtype]["rel_tol"] if rel_tol is None else rel_tol

    inputs, out = _build(fun, points, [p.dtype.name for p in points])
    inputs64, out64 = _build(fun, points, ["float64"] * len(points))
    probe = function(inputs64, out64, backend=backend, on_unused_input="ignore")
    shape = np.shape(probe(*points))
    base = [p.astype("float64") for p in points]
    for _ in range(max(n_tests, 1)):
        projection = rng.uniform(0.5, 1.5, size=shape)
        cost = (out * projection.astype(out.dtype)).sum() if out.ndim else out
        cost64 = (out64 * projection).sum() if out64.ndim else out64
        grads = grad(cost, inputs, disconnected_inputs="ignore")
        analytic_fn = function(inputs, grads, backend=backend, on_unused_input="ignore")
        analytic = [np.asarray(g, "float64") for g in analytic_fn(*points)]
        cost_fn = function(inputs64, cost64, backend=backend, on_unused_input="ignore")

        for i, (p, g) in enumerate(zip(base, analytic, strict=True)):
            var = inputs[i]
            if p.size <= max_elements:
                units = np.eye(p.size).reshape(p.size, *p.shape)
                num = [_central_difference(cost_fn, base, i, e, eps) for e in units]
                _compare(var, i, g, np.reshape(num, p.shape), abs_tol, rel_tol)
            else:
                d = rng.standard_normal(p.shape)
                num = np.asarray(_central_difference(cost_fn, base, i, d, eps))
                _compare(var, i, np.sum(g * d), num, abs_tol, rel_tol, directional=True)


def _as_point(i: int, p) -> np.ndarray:
    p = np.array(p, dtype=p.dtype if isinstance(p, np.ndarray) else "float64")
    if p.dtype.name not in ("float32", "float64"):
        raise TypeError(
            f"verify_grad: point {i} has dtype {p.dtype}; only float32 and float64 "
            "inputs can be checked (integer inputs have no gradient)"
        )
    return p


def _build(fun, points, dtypes):
    """Symbolic inputs like the points (static size 1 where they have 1)."""
    inputs = [
        TensorType(d, tuple(1 if s == 1 else None for s in p.shape))(f"x{i}")
        for i, (d, p) in enumerate(zip(dtypes, points, strict=True))
    ]
    out = fun(*inputs)
    if not isinstance(out, Variable):
        raise TypeError(
            f"verify_grad: fun must return one symbolic Variable, got {out!r}"
        )
    return inputs, out


def _central_difference(cost_fn, base, i, direction, eps) -> float:
    """(cost(x + eps d) - cost(x - eps d)) / 2 eps, moving input ``i`` only."""
    plus, minus = list(base), list(base)
    plus[i] = base[i] + eps * direction
    minus[i] = base[i] - eps * direction
    return (float(cost_fn(*plus)) - float(cost_fn(*minus))) / (2 * eps)


def _compare(var, i, analytic, numeric, abs_tol, rel_tol, directional=False) -> None:
    analytic = np.asarray(analytic, dtype="float64")
    with np.errstate(all="ignore"):
        abs_err = np.abs(analytic - numeric)
        rel_err = abs_err / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
    finite = np.isfinite(analytic) & np.isfinite(numeric)
    bad = ~finite | ((abs_err > abs_tol) & (rel_err > rel_tol))
    if not np.any(bad):
        return
    # the worst entry: a non-finite one first, else the largest absolute error
    score = np.where(finite, np.where(bad, abs_err, -1.0), np.inf)
    pos = np.unravel_index(np.argmax(score), analytic.shape) if analytic.ndim else ()
    where = "along a random direction" if directional else f"at {tuple(map(int, pos))}"
    raise GradientError(
        f"verify_grad: the gradient with respect to input {i} ({var.type.describe()}) "
        f"is wrong {where}: analytic {analytic[pos]:.10g}, numeric "
        f"{numeric[pos]:.10g}, abs error {abs_err[pos]:.3g} (tol {abs_tol:.3g}), "
        f"rel error {rel_err[pos]:.3g} (tol {rel_tol:.3g}); {int(np.sum(bad))} of "
        f"{bad.size} entries out of tolerance"
    )
