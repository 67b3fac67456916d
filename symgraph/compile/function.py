"""``sg.function``: compile symbolic inputs -> outputs into a callable.

The steps: collect inputs, outputs, updates and givens into a
FunctionGraph; rewrite it; hand it to a backend, which returns a program;
wrap the program in a :class:`Function` that checks arguments and applies
shared-variable updates after each call (all updates see the old values).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from symgraph.compile.backends import make_program, resolve_backend, start_backend
from symgraph.compile.fgraph import FunctionGraph
from symgraph.config import config
from symgraph.graph import (
    Constant,
    SharedVariable,
    Variable,
    as_tensor_variable,
    clone_replace,
    graph_inputs,
)


class UnusedInputError(ValueError):
    """An input of sg.function does not reach any output."""


def function(
    inputs,
    outputs=None,
    updates=None,
    givens=None,
    name: str | None = None,
    on_unused_input: str = "raise",
    allow_input_downcast: bool | None = None,
    backend: str | None = None,
    optimizer: str | None = None,
    no_default_updates: bool = False,
    mode=None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Function:
    """Compile a function from symbolic ``inputs`` to ``outputs``.

    Parameters
    ----------
    inputs : list of input Variables (not shared variables: those are implicit)
    outputs : a Variable, a list of them, or None
    updates : ``[(shared, new_value), ...]`` or a dict, applied after each call
    givens : ``[(var, replacement), ...]`` or a dict, substituted before compiling
    name : shown in error messages and in the generated source
    on_unused_input : "raise", "warn" or "ignore"
    allow_input_downcast : allow lossy input casts (None: Python floats only)
    backend : "c", "python" or "cuda" (default: ``config.backend``)
    optimizer : "fast_run", "fast_compile" or "none" (default ``config.optimizer``)
    include, exclude : rewrite names to add or skip

    Example
    -------
    >>> import numpy as np, symgraph as sg, symgraph.tensor as T
    >>> x = T.vector("x")
    >>> f = sg.function([x], (x ** 2).sum(), backend="python")
    >>> float(f([1.0, 2.0]))
    5.0
    """
    if isinstance(inputs, Variable):
        raise TypeError("sg.function: inputs must be a list of variables, e.g. [x]")
    inputs = list(inputs)
    _check_inputs(inputs)
    start_backend(backend)  # e.g. probe the C compiler while the graph is rewritten
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    output_list = [] if outputs is None else [outputs] if single else list(outputs)
    output_list = [_as_output(o, i) for i, o in enumerate(output_list)]
    update_pairs = _normalize_updates(updates)
    replace = _normalize_givens(givens)

    if replace:
        rebuilt = clone_replace(output_list + [u for _, u in update_pairs], replace)
        output_list = rebuilt[: len(output_list)]
        update_pairs = list(
            zip([s for s, _ in update_pairs], rebuilt[len(output_list) :], strict=False)
        )
    if not no_default_updates:
        update_pairs += _default_updates(
            output_list + [u for _, u in update_pairs], update_pairs
        )

    graph_outputs = output_list + [u for _, u in update_pairs]
    leaves = graph_inputs(graph_outputs, inputs)
    shared_inputs = [v for v in leaves if isinstance(v, SharedVariable)]
    for s, _ in update_pairs:
        if s not in shared_inputs:
            shared_inputs.append(s)
    _check_unused(inputs, set(leaves), on_unused_input)

    fgraph = FunctionGraph(inputs + shared_inputs, graph_outputs)
    from symgraph.rewrite import optimize_graph

    stats = optimize_graph(fgraph, optimizer or config.optimizer, include, exclude)
    backend = resolve_backend(backend)
    program = make_program(backend, fgraph, name=name)
    return Function(
        program=program,
        fgraph=fgraph,
        inputs=inputs,
        shared_inputs=shared_inputs,
        n_outputs=len(output_list),
        updated=[s for s, _ in update_pairs],
        single=single,
        name=name,
        allow_input_downcast=allow_input_downcast,
        backend=backend,
        rewrite_stats=stats,
    )


def _check_inputs(inputs) -> None:
    seen = set()
    for i, var in enumerate(inputs):
        if not isinstance(var, Variable):
            raise TypeError(
                f"sg.function: input {i} must be a symbolic variable, got {var!r}"
            )
        if isinstance(var, SharedVariable):
            raise TypeError(
                f"sg.function: input {i} {var.describe()} is a shared variable; shared "
                "variables are implicit inputs, leave it out of the list"
            )
        if isinstance(var, Constant):
            raise TypeError(
                f"sg.function: input {i} {var.describe()} is a constant, not an input"
            )
        if var.owner is not None:
            raise TypeError(
                f"sg.function: input {i} {var.describe()} is computed from other "
                "variables; inputs must be leaves (T.matrix(...)), or use givens="
            )
        if var in seen:
            raise ValueError(f"sg.function: input {i} {var.describe()} is listed twice")
        seen.add(var)


def _as_output(out, position: int) -> Variable:
    if isinstance(out, Variable):
        return out
    try:
        return as_tensor_variable(out)
    except TypeError as exc:
        raise TypeError(
            f"sg.function: output {position} is not a variable: {exc}"
        ) from None


def _normalize_updates(updates) -> list[tuple[SharedVariable, Variable]]:
    if updates is None:
        return []
    pairs = list(updates.items()) if isinstance(updates, Mapping) else list(updates)
    result, seen = [], set()
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(
                f"sg.function: updates[{i}] must be a (shared_variable, new_value) pair"
            )
        shared, value = pair
        if not isinstance(shared, SharedVariable):
            raise TypeError(
                f"sg.function: updates[{i}] updates {shared!r}, which is not a shared "
                "variable; only sg.shared(...) variables keep state between calls"
            )
        if shared in seen:
            raise ValueError(f"sg.function: {shared.describe()} is updated twice")
        seen.add(shared)
        result.append((shared, _coerce_update(shared, value)))
    return result


def _coerce_update(shared: SharedVariable, value) -> Variable:
    from symgraph.ops.math import cast

    value = as_tensor_variable(value) if not isinstance(value, Variable) else value
    want = shared.type
    if value.ndim != want.ndim:
        raise TypeError(
            f"sg.function: the update of {shared.describe()} has ndim {value.ndim} "
            f"({value.type.describe()}); the shared variable is a {want.describe()}"
        )
    if value.dtype != want.dtype:
        lossless = np.can_cast(value.dtype, want.dtype, "safe")
        weak = isinstance(value, Constant) and value.weak
        if not (lossless or weak or shared.allow_downcast):
            raise TypeError(
                f"sg.function: the update of {shared.describe()} has dtype "
                f"{value.dtype}, but the shared variable holds {want.dtype}; cast the "
                f"update, e.g. new_value.astype({want.dtype!r})"
            )
        value = cast(value, want.dtype)
    for axis, (a, b) in enumerate(zip(want.shape, value.type.shape, strict=False)):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"sg.function: the update of {shared.describe()} has size {b} on axis "
                f"{axis}; the shared variable has {a}"
            )
    return value


def _normalize_givens(givens) -> dict[Variable, Variable]:
    if not givens:
        return {}
    pairs = list(givens.items()) if isinstance(givens, Mapping) else list(givens)
    result = {}
    for old, new in pairs:
        if not isinstance(old, Variable):
            raise TypeError(f"sg.function: givens keys must be variables, got {old!r}")
        new = as_tensor_variable(
            new, dtype=old.dtype if not isinstance(new, Variable) else None
        )
        result[old] = new
    return result


def _default_updates(outputs, explicit) -> list:
    done = {s for s, _ in explicit}
    pairs = []
    for var in graph_inputs(outputs):
        if (
            isinstance(var, SharedVariable)
            and var.default_update is not None
            and var not in done
        ):
            pairs.append((var, _coerce_update(var, var.default_update)))
            done.add(var)
    return pairs


def _check_unused(inputs, used: set, policy: str) -> None:
    if policy not in ("raise", "warn", "ignore"):
        raise ValueError(
            f"on_unused_input must be raise, warn or ignore, not {policy!r}"
        )
    for i, var in enumerate(inputs):
        if var not in used and policy != "ignore":
            message = (
                f"sg.function: input {i} {var.describe()} is not used to compute any "
                "output; remove it, or pass on_unused_input='ignore'"
            )
            if policy == "raise":
                raise UnusedInputError(message)
            warnings.warn(message, stacklevel=3)


from symgraph.compile.function_object import Function  # noqa: E402
