"""Backend registry: each backend turns a FunctionGraph into a program.

A program has ``backend``, ``source``, ``bind(function)`` (called once with
the Function, for argument checking and shared inputs) and ``run(args)``,
which returns the values of the outputs followed by the update values.
"""

from __future__ import annotations

import warnings

from symgraph.config import config

_FACTORIES: dict = {}
_AVAILABLE: dict = {}


def register_backend(name: str, factory, available=lambda: True) -> None:
    """Register ``factory(fgraph, name=...) -> program`` under ``name``."""
    _FACTORIES[name] = factory
    _AVAILABLE[name] = available


_loaded = False


def _load_builtin_backends() -> None:
    global _loaded
    if _loaded:
        return
    import importlib

    import symgraph.compile.python_backend  # noqa: F401

    # A backend whose own module or third-party package is missing is simply
    # not available; any other import error is a bug and must show.
    for module, packages in (
        ("symgraph.codegen_c.backend", ("cffi",)),
        ("symgraph.codegen_cuda.backend", ("pycuda",)),
    ):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            if exc.name != module and (exc.name or "").split(".")[0] not in packages:
                raise
    _loaded = True


def start_backend(backend: str | None) -> None:
    """Start the slow set-up of the backend `resolve_backend` will choose.

    For the C backend: the compiler's probe, whose compiler runs (separate
    processes) overlap the graph rewrites (``sg.function`` calls this before
    rewriting).
    """
    if (backend or config.backend) not in ("auto", "c"):
        return
    try:
        from symgraph.codegen_c.toolchain import probe_in_background
    except ImportError:  # resolve_backend reports what is missing
        return
    probe_in_background()


_warned_no_c = False


def resolve_backend(backend: str | None) -> str:
    """The backend to use: the one asked for, or the best one available."""
    global _warned_no_c
    _load_builtin_backends()
    backend = backend or config.backend
    if backend == "auto":
        if "c" in _FACTORIES and _AVAILABLE["c"]():
            return "c"
        if "c" in _FACTORIES and not _warned_no_c:
            _warned_no_c = True
            warnings.warn(
                "symgraph: no working C compiler found; falling back to the (slow) "
                "python backend. Install gcc to get compiled code.",
                stacklevel=3,
            )
        return "python"
    if backend not in _FACTORIES:
        known = ", ".join(sorted(_FACTORIES))
        raise ValueError(f"unknown backend {backend!r}; available: {known}")
    if not _AVAILABLE[backend]():
        raise RuntimeError(f"the {backend!r} backend is not available on this machine")
    return backend


def make_program(backend: str, fgraph, name=None):
    return _FACTORIES[backend](fgraph, name=name)
