"""Op classes by name, wherever in ``symgraph.ops`` they are defined.

Lowering rules name the op classes they lower (``rule("Reshape")``) instead
of importing them from a module: op families move between modules as the
library grows, and a rule must follow its op, not break the backend. A
class that no module defines is simply not registered (the meta-test in
``tests/codegen_c/test_source.py`` lists every op left without a rule).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache


@cache
def op_classes() -> dict[str, type]:
    """``{class name: class}`` of the Op and ScalarOp classes in symgraph.ops."""
    import symgraph.ops
    from symgraph.op import Op
    from symgraph.ops.scalar import ScalarOp

    found: dict[str, type] = {}
    for info in sorted(
        pkgutil.iter_modules(symgraph.ops.__path__), key=lambda i: i.name
    ):
        try:
            module = importlib.import_module(f"symgraph.ops.{info.name}")
        except Exception:  # a family that does not import is a family without rules
            continue
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, (Op, ScalarOp))
                and obj.__module__ == module.__name__
            ):
                found.setdefault(name, obj)
    return found


def find_op(name: str) -> type | None:
    """The op class called ``name``, or None."""
    return op_classes().get(name)


def rule(*names: str):
    """Register the decorated function as the C rule of the named op classes."""
    from .lower import c_lower

    def register(fn):
        for name in names:
            cls = find_op(name)
            if cls is not None:
                c_lower.register(cls)(fn)
        return fn

    return register


def classes(*names: str) -> list[type]:
    """The op classes among ``names`` that exist."""
    return [c for c in (find_op(n) for n in names) if c is not None]
