"""Printing graphs: ``debugprint`` (a tree), ``pp`` (maths), ``dot`` (Graphviz)."""

from __future__ import annotations

import sys

from symgraph.graph import Constant, SharedVariable, Variable


def debugprint(obj, file=None, ids: str = "id", print_type: bool = True) -> str | None:
    """Print the graph below ``obj`` as an indented tree, one node a line.

    ``obj`` is a variable, a list of them, or a compiled function (its
    rewritten graph). Shared sub-trees are printed once and then referred to
    by id. ``file="str"`` returns the text instead of printing it.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> x = T.vector("x")
    >>> print(debugprint(T.exp(x) + 1, file="str"))  # doctest: +SKIP
    Elemwise{add} [id A] <Tensor{float64, (?,)}>
     |Elemwise{exp} [id B] <Tensor{float64, (?,)}>
     | |x [id C] <Tensor{float64, (?,)}>
     |1 [id D] <Tensor{float64, ()}>
    """
    if hasattr(obj, "maker"):
        outputs = list(obj.maker.fgraph.outputs)
    elif isinstance(obj, Variable):
        outputs = [obj]
    else:
        outputs = list(obj)
    names: dict = {}
    lines: list[str] = []
    for out in outputs:
        _print_tree(out, "", names, lines, print_type)
    text = "\n".join(lines)
    if file == "str":
        return text
    print(text, file=file or sys.stdout)
    return None


def _label(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _print_tree(var, prefix, names, lines, print_type) -> None:
    # Iterative (deep graphs exceed Python's recursion limit).
    stack = [(var, prefix)]
    while stack:
        v, pre = stack.pop()
        key = v.owner if v.owner is not None else v
        seen = key in names
        if not seen:
            names[key] = _label(len(names))
        if v.owner is not None:
            text = str(v.owner.op) + (f".{v.index}" if len(v.owner.outputs) > 1 else "")
            if v.name:
                text += f" '{v.name}'"
        else:
            text = str(v) if not isinstance(v, SharedVariable) else f"{v.name or 'shared'}"
        tail = f" <{v.type}>" if print_type else ""
        lines.append(f"{pre}{text} [{'id'} {names[key]}]{tail}{' (seen)' if seen and v.owner else ''}")
        if v.owner is not None and not seen:
            child = pre.replace("|", " ") if False else pre
            for inp in reversed(v.owner.inputs):
                stack.append((inp, child + " |"))


def pp(var) -> str:
    """A one-line mathematical rendering of ``var`` (Theano's ``pp``)."""
    return _pp(var, {})


def _pp(var, memo) -> str:
    if var in memo:
        return memo[var]
    if var.owner is None:
        text = var.name or (str(var) if isinstance(var, Constant) else "?")
    else:
        args = ", ".join(_pp(i, memo) for i in var.owner.inputs)
        text = f"{getattr(var.owner.op, 'name', var.owner.op)}({args})"
    memo[var] = text
    return text


def dot(var) -> str:
    """Graphviz source for the graph below ``var``."""
    raise NotImplementedError("printing.dot arrives with the printing helper")
