"""The per-function fast call: Python source generated for one signature.

For ``f = sg.function([x], x + 1)`` it reads::

    def fast_call(args):
        try:
            (a0,) = args
        except ValueError:
            return slow(args)
        if type(a0) is not ND:
            return slow(args)
        try:
            o0 = last[0]
            if refs(o0) != FREE or o0.base is not None and (
                refs(o0.base) != FREE_BASE
            ):
                o0 = empty(a0.shape, dt0)
        except Exception:
            return slow(args)
        rc = call(state, id(a0), id(o0))
        if rc:
            return finish(rc, args, [o0])
        last[0] = o0
        return o0

``last[0]`` is the array the previous call returned (for an update: the
shared variable's previous value): when nothing but ``last`` refers to it
(the caller dropped it, no view of it lives), it is written again instead
of allocating; an array the caller keeps is never touched. Its shape is
left to the C side (``sg_output``), which allocates a fresh buffer when it
does not fit: comparing shapes here cost ~0.1 us a call. A buffer C
allocated is a view of the memory it owns, and any view of that view has
the same ``base``; so the base, too, must be referred to by that view alone.

``FREE`` (``FREE_BASE``) is what ``sys.getrefcount`` reads for such an
object (its base), measured at import on the same expressions
(`_free_counts`): CPython 3.14 borrows references on the operand stack, so
a hard-coded count would be off by one there and reuse an array the caller
still holds.

``last[0]`` is read once, into the local that the test then counts: between
two reads another thread may run a whole call and put its own result (held
by its caller) there. Two threads that read the same array both count the
other's local, and neither writes into it.

Everything else (conversions, error messages, threads) is ``slow``, the
general path of :class:`~symgraph.codegen_c.runtime.CProgram`. The generated
text holds no user text: only positional names.
"""

from __future__ import annotations

import re
import sys

import numpy as np

from . import prelude


def _free_counts() -> tuple[int, int] | None:
    """What the fast call's reuse test reads for an unshared array and for
    its base, or None.

    Runs the generated expressions on a view whose base nothing else holds,
    then checks that one more holder of either raises its count: where it
    does not, telling a dropped output from a kept one is not possible and
    the fast call always allocates.
    """
    env = {"refs": sys.getrefcount}
    exec(
        "def probe(last):\n    o0 = last[0]\n    return refs(o0), refs(o0.base)\n",
        env,
    )
    probe = env["probe"]
    last = [np.empty(2)[1:]]
    free, free_base = probe(last)
    held = last[0]
    held_count = probe(last)[0]
    del held
    held_base = last[0].base
    held_base_count = probe(last)[1]
    del held_base
    if held_count != free + 1 or held_base_count != free_base + 1:
        return None
    return free, free_base


FREE, FREE_BASE = _free_counts() or (None, None)


def _local(expr: str, names: dict) -> str:
    return re.sub(r"c\[(\d+)\]", lambda m: names[int(m.group(1))], expr)


def make_fast_call(program, function):
    """Build ``fast_call(args)`` returning what ``Function.__call__`` returns."""
    compiled = program.compiled
    seg = compiled.steps[0][1]
    n_args = len(function.inputs)
    n_out = function.n_outputs
    names = {}
    for j, cell in enumerate(compiled.input_cells):
        names[cell] = f"a{j}" if j < n_args else f"s{j - n_args}"
    for j, (cell, _) in enumerate(compiled.const_cells):
        names[cell] = f"k{j}"
    env = {
        "ND": np.ndarray,
        "empty": np.empty,
        "call": seg.call,
        "state": program.state,
        "slow": None,
        "finish": None,
    }
    lines = ["def fast_call(args):"]
    args = [f"a{j}" for j in range(n_args)]
    if args:
        lines += [
            "    try:",
            f"        ({', '.join(args)},) = args",
            "    except ValueError:",
            "        return slow(args)",
            f"    if {' or '.join(f'type({a}) is not ND' for a in args)}:",
            "        return slow(args)",
        ]
    else:
        lines += ["    if args:", "        return slow(args)"]
    for j, var in enumerate(program.shared):
        env[f"shared{j}"] = var
        lines.append(f"    s{j} = shared{j}._value")
    for j, (_, data) in enumerate(compiled.const_cells):
        env[f"k{j}"] = data
    outs, allocs = [], []
    # last[k]: what output k held before this call: the array returned last
    # time, or an updated variable's previous value. When nothing else refers
    # to it any more, it is written again instead of allocating: fresh memory
    # costs a page fault per 4 KiB on first touch (about 1.5 ms per 40 MB).
    last = env["last"] = [None] * len(seg.out_dtypes)
    env["refs"], env["FREE"], env["FREE_BASE"] = sys.getrefcount, FREE, FREE_BASE
    for k, (pred, dtype) in enumerate(
        zip(seg.prediction_text, seg.out_dtypes, strict=False)
    ):
        env[f"dt{k}"] = dtype
        if pred is None:
            outs.append("None")
            continue
        shape = _local(pred, names)
        if FREE is None:
            allocs.append(f"        o{k} = empty({shape}, dt{k})")
        else:
            allocs += [
                f"        o{k} = last[{k}]",
                f"        if refs(o{k}) != FREE or o{k}.base is not None and ("
                f"refs(o{k}.base) != FREE_BASE):",
                f"            o{k} = empty({shape}, dt{k})",
            ]
        outs.append(f"o{k}")
    if allocs:  # a shape guessed from a wrong argument may not be valid
        lines += [
            "    try:",
            *allocs,
            "    except Exception:",
            "        return slow(args)",
        ]
    ids = [f"id({names[c]})" for c in seg.in_cells] + [
        f"id({o})" if o != "None" else "0" for o in outs
    ]
    lines.append(f"    rc = call(state, {', '.join(ids)})")
    lines += ["    if rc:", f"        return finish(rc, args, [{', '.join(outs)}])"]
    for j in range(len(program.updated)):
        env[f"updated{j}"] = program.updated[j]
        lines.append(f"    last[{n_out + j}] = updated{j}._value")
        lines.append(f"    updated{j}._value = o{n_out + j}")
    lines += [f"    last[{k}] = o{k}" for k in range(n_out) if outs[k] != "None"]
    if function.single:
        lines.append("    return o0")
    else:
        lines.append(f"    return [{', '.join(f'o{k}' for k in range(n_out))}]")
    source = "\n".join(lines) + "\n"

    def deliver(values):
        for var, value in zip(program.updated, values[n_out:], strict=False):
            var._value = value
        last[:] = [None] * len(last)
        return values[0] if function.single else list(values[:n_out])

    def slow(args):
        return deliver(program.run(args))

    def finish(rc, args, outs):
        if rc != prelude.SG_FRESH:
            return slow(args)
        # C allocated some outputs: they, too, may be reused next time.
        values = program.finish_fresh(seg, outs, program.state)
        previous = [var._value for var in program.updated]
        result = deliver(values)
        kept = zip(values[:n_out], outs[:n_out], strict=True)
        last[:] = [v if o is not None else None for v, o in kept] + previous
        return result

    env["slow"], env["finish"] = slow, finish
    exec(compile(source, f"<symgraph fast call of {function.label}>", "exec"), env)
    fast = env["fast_call"]
    fast.source = source
    return fast
