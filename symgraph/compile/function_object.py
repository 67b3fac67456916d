"""The callable that ``sg.function`` returns, and argument checking."""

from __future__ import annotations

import numpy as np

from symgraph.graph import Variable


class Function:
    """A compiled function: call it with NumPy values, get NumPy arrays back.

    Attributes
    ----------
    backend : "c", "cuda" or "python"
    source : the generated source (C / CUDA), or a listing of the program
    maker : carries ``fgraph``, the rewritten graph (Theano's ``f.maker.fgraph``)
    optimized_graph : the rewritten output variables, for ``debugprint``
    rewrite_stats : per-rewrite counters (applications, time)
    """

    def __init__(
        self,
        *,
        program,
        fgraph,
        inputs,
        shared_inputs,
        n_outputs,
        updated,
        single,
        name,
        allow_input_downcast,
        backend,
        rewrite_stats,
    ) -> None:
        self.program = program
        self.inputs = inputs
        self.shared_inputs = shared_inputs
        self.n_outputs = n_outputs
        self.updated = updated
        self.single = single
        self.name = name
        self.allow_input_downcast = allow_input_downcast
        self.backend = backend
        self.rewrite_stats = rewrite_stats
        self.maker = _Maker(fgraph)
        self._names = {v.name: i for i, v in enumerate(inputs) if v.name}
        self._checker = ArgumentChecker(self.label, inputs, allow_input_downcast)
        program.bind(self)
        # A program may offer fast_call(args) -> what __call__ returns, with the
        # updates applied (simultaneously); the C backend does, to stay near 1 us.
        self._fast = getattr(program, "fast_call", None)

    @property
    def label(self) -> str:
        return f"sg.function {self.name!r}" if self.name else "sg.function"

    @property
    def source(self) -> str:
        return self.program.source

    @property
    def optimized_graph(self) -> list[Variable]:
        return list(self.maker.fgraph.outputs[: self.n_outputs])

    def __call__(self, *args, **kwargs):
        if kwargs:
            args = self._merge_keywords(args, kwargs)
        if self._fast is not None:
            return self._fast(args)
        values = self.program.run(args)
        for var, value in zip(self.updated, values[self.n_outputs :], strict=False):
            var._value = value
        outputs = values[: self.n_outputs]
        if self.single:
            return outputs[0]
        return outputs

    def check_arguments(self, args) -> list[np.ndarray]:
        """Validate and convert the positional arguments (used by programs)."""
        return self._checker(args)

    def _merge_keywords(self, args, kwargs) -> tuple:
        merged = list(args) + [_MISSING] * (len(self.inputs) - len(args))
        for key, value in kwargs.items():
            if key not in self._names:
                raise TypeError(
                    f"{self.label} has no input named {key!r}; its inputs are "
                    f"{', '.join(v.name or '?' for v in self.inputs) or 'none'}"
                )
            pos = self._names[key]
            if pos < len(args):
                raise TypeError(
                    f"{self.label} got input {key!r} twice (by position and by name)"
                )
            merged[pos] = value
        for pos, value in enumerate(merged):
            if value is _MISSING:
                missing = self.inputs[pos].describe()
                raise TypeError(f"{self.label}: input {pos} {missing} is missing")
        return tuple(merged)

    def __repr__(self) -> str:
        ins = ", ".join(v.name or "?" for v in self.inputs)
        return f"<Function {self.name or ''}({ins}) backend={self.backend}>"


_MISSING = object()


class _Maker:
    def __init__(self, fgraph) -> None:
        self.fgraph = fgraph


class ArgumentChecker:
    """Turns call arguments into arrays of the inputs' types, or explains why not."""

    def __init__(self, label: str, inputs: list[Variable], allow_downcast) -> None:
        self.label = label
        self.inputs = inputs
        self.types = [v.type for v in inputs]
        self.allow_downcast = allow_downcast

    def __call__(self, args) -> list[np.ndarray]:
        if len(args) != len(self.inputs):
            self.raise_arity(args)
        out = []
        for pos, (t, value) in enumerate(zip(self.types, args, strict=False)):
            if (
                type(value) is np.ndarray
                and value.dtype.name == t.dtype
                and value.ndim == t.ndim
                and all(
                    s is None or s == n
                    for s, n in zip(t.shape, value.shape, strict=False)
                )
            ):
                out.append(value)  # the common case, without the general filter
                continue
            try:
                out.append(t.filter(value, allow_downcast=self.allow_downcast))
            except (TypeError, ValueError) as exc:
                raise type(exc)(
                    f"{self.label}: input {pos} {self.inputs[pos].describe()}: {exc}"
                ) from None
        return out

    def raise_arity(self, args):
        names = ", ".join(v.name or f"<input {i}>" for i, v in enumerate(self.inputs))
        plural = "s" if len(self.inputs) != 1 else ""
        raise TypeError(
            f"{self.label} takes {len(self.inputs)} argument{plural} "
            f"({names or 'none'}), got {len(args)}"
        )
