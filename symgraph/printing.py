"""Printing graphs: ``debugprint`` (a tree), ``pp`` (maths), ``dot`` (Graphviz)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from symgraph.graph import Constant, SharedVariable, Variable, ancestors, toposort

__all__ = ["debugprint", "pp", "dot"]


def _outputs_of(obj) -> list[Variable]:
    if hasattr(obj, "maker"):  # a compiled Function: its rewritten graph
        return list(obj.maker.fgraph.outputs)
    if isinstance(obj, Variable):
        return [obj]
    return list(obj)


def debugprint(obj, file=None, print_type: bool = True) -> str | None:
    """Print the graph below ``obj`` as an indented tree, one node a line.

    ``obj`` is a variable, a list of them, or a compiled function (its
    rewritten graph). A node met again is printed once more with ``(seen)``
    and not expanded. ``file="str"`` returns the text instead of printing.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> x = T.vector("x")
    >>> print(debugprint(T.exp(x) * 2, file="str"))
    Elemwise{mul} [id A] <Tensor{float64, (?,)}>
     |Elemwise{exp} [id B] <Tensor{float64, (?,)}>
     | |x [id C] <Tensor{float64, (?,)}>
     |DimShuffle{x} [id D] <Tensor{float64, (1,)}>
       |2.0 [id E] <Tensor{float64, ()}>
    """
    ids: dict = {}
    lines: list[str] = []
    for out in _outputs_of(obj):
        _print_tree(out, ids, lines, print_type)
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


def _describe_leaf(var: Variable) -> str:
    if isinstance(var, SharedVariable):
        return f"{var.name or 'shared'} (shared)"
    return str(var)


def _print_tree(root, ids, lines, print_type) -> None:
    # Iterative, since deep graphs exceed Python's recursion limit. Each
    # stack entry: the variable, the prefix of its line, the prefix of its
    # children's lines.
    stack = [(root, "", "")]
    while stack:
        var, prefix, child_prefix = stack.pop()
        key = var.owner if var.owner is not None else var
        seen = key in ids
        if not seen:
            ids[key] = _label(len(ids))
        if var.owner is not None:
            text = str(var.owner.op)
            if len(var.owner.outputs) > 1:
                text += f".{var.index}"
            if var.name:
                text += f" '{var.name}'"
        else:
            text = _describe_leaf(var)
        suffix = f" <{var.type}>" if print_type else ""
        mark = " (seen)" if seen and var.owner is not None else ""
        lines.append(f"{prefix}{text} [id {ids[key]}]{suffix}{mark}")
        if var.owner is None or seen:
            continue
        inputs = var.owner.inputs
        for i in reversed(range(len(inputs))):
            last = i == len(inputs) - 1
            stack.append(
                (
                    inputs[i],
                    child_prefix + " |",
                    child_prefix + ("  " if last else " |"),
                )
            )


_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "pow": "**"}


def pp(obj) -> str:
    """A one-line mathematical rendering (Theano's ``pp``).

    Example
    -------
    >>> import symgraph.tensor as T
    >>> x = T.vector("x")
    >>> pp(T.exp(x) + 1)
    '(exp(x) + 1.0)'
    """
    memo: dict = {}
    return "\n".join(_pp(v, memo) for v in _outputs_of(obj))


def _pp(root, memo) -> str:
    # Post-order without recursion.
    stack = [(root, False)]
    while stack:
        var, ready = stack.pop()
        if var in memo:
            continue
        if var.owner is None:
            memo[var] = var.name or (str(var) if isinstance(var, Constant) else "?")
            continue
        if not ready:
            stack.append((var, True))
            stack.extend((i, False) for i in var.owner.inputs if i not in memo)
            continue
        op = var.owner.op
        args = [memo[i] for i in var.owner.inputs]
        name = getattr(getattr(op, "scalar_op", None), "name", None)
        if name in _INFIX and len(args) >= 2:
            text = "(" + f" {_INFIX[name]} ".join(args) + ")"
        elif (
            type(op).__name__ == "DimShuffle"
            and op.kept == tuple(range(op.input_ndim))
        ):
            text = args[0]  # only inserts broadcast axes: invisible in maths
        else:
            text = f"{name or op}({', '.join(args)})"
        memo[var] = f"{text}.{var.index}" if len(var.owner.outputs) > 1 else text
    return memo[root]


def dot(obj, outfile: str | None = None, format: str = "svg") -> str:
    """Graphviz source of the graph; also renders ``outfile`` if Graphviz is installed.

    Variables are ellipses (inputs green, shared blue, constants grey), ops
    are boxes; edges are labelled with the input position when an op has
    several inputs.

    Example
    -------
    >>> import symgraph.tensor as T
    >>> x = T.vector("x")
    >>> dot(T.exp(x)).splitlines()[0]
    'digraph symgraph {'
    """
    outputs = _outputs_of(obj)
    lines = [
        "digraph symgraph {",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=10];',
    ]
    source: dict = {}  # variable -> the DOT id its edges start from
    for var in ancestors(outputs):
        if var.owner is None:
            color = (
                "lightgrey" if isinstance(var, Constant)
                else "lightblue" if isinstance(var, SharedVariable)
                else "palegreen"
            )
            source[var] = f"v{len(source)}"
            label = f"{_escape(_describe_leaf(var))}\\n{_escape(str(var.type))}"
            lines.append(
                f'  {source[var]} [label="{label}", style=filled, fillcolor={color}];'
            )
    for k, node in enumerate(toposort(outputs)):
        box = f"n{k}"
        lines.append(f'  {box} [shape=box, label="{_escape(str(node.op))}"];')
        for pos, inp in enumerate(node.inputs):
            label = f' [label="{pos}"]' if len(node.inputs) > 1 else ""
            lines.append(f"  {source[inp]} -> {box}{label};")
        for out in node.outputs:
            if out in outputs or out.name:
                source[out] = f"v{len(source)}"
                label = f"{_escape(out.name or '')}\\n{_escape(str(out.type))}"
                lines.append(f'  {source[out]} [label="{label}"];')
                lines.append(f"  {box} -> {source[out]};")
            else:
                source[out] = box
    lines.append("}")
    text = "\n".join(lines)
    if outfile is not None:
        _render(text, outfile, format)
    return text


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _render(source: str, outfile: str, format: str) -> None:
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "printing.dot: rendering needs Graphviz's `dot` program "
            "(apt install graphviz); the source is returned either way"
        )
    subprocess.run(
        [exe, f"-T{format}", "-o", outfile], input=source.encode(), check=True
    )
