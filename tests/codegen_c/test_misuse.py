"""Bad input never crashes the process: each case runs in a child process.

The child prints one line per case (``case|ExceptionType|message``); a crash
(a segfault in generated code) ends it early and fails the test, not the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.codegen_c.conftest import needs_cc

pytestmark = needs_cc
REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import numpy as np, symgraph as sg, symgraph.tensor as T

    def case(name, fn):
        try:
            fn()
        except Exception as exc:
            text = str(exc).replace("\\n", " ")
            print(f"{name}|{type(exc).__name__}|{text}", flush=True)
        else:
            print(f"{name}|ok|", flush=True)

    x = T.vector("x")
    m = T.matrix("m")
    add = sg.function([x, m], x + m, backend="c")
    case("dtype", lambda: add(np.arange(3, dtype="complex64"), np.ones((2, 3))))
    case("ndim", lambda: add(np.ones((2, 3)), np.ones((2, 3))))
    case("string", lambda: add("abc", np.ones((2, 3))))
    case("arity", lambda: add(np.ones(3)))
    case("broadcast", lambda: add(np.ones(4), np.ones((2, 3))))
    s = T.tensor("s", shape=(None, 3))
    fixed = sg.function([s], s * 2, backend="c")
    case("static_shape", lambda: fixed(np.ones((2, 4))))

    n = T.lscalar("n")
    big = sg.function([n], T.alloc(0.0, n, n, n), backend="c")
    case("alloc_huge", lambda: big(10**6))
    case("alloc_negative", lambda: big(-2))
    case("alloc_overflow", lambda: big(2**62))
    case("alloc_ok", lambda: big(2).sum())

    r = sg.function([x, n], x.reshape((n, -1)) + 1, backend="c")
    case("reshape_bad", lambda: r(np.ones(6), 4))
    case("reshape_zero", lambda: r(np.ones(6), 0))
    case("reshape_ok", lambda: r(np.ones(6), 3))
    i = T.lscalar("i")
    idx = sg.function([x, i], x[i] * 2, backend="c")
    case("index_out_of_bounds", lambda: idx(np.ones(3), 5))
    case("index_ok", lambda: idx(np.arange(3.0), -1))

    weird = T.vector('*/ x" \\\\n')
    w = sg.function([weird], T.exp(weird) * 2, backend="c")
    case("weird_name_runs", lambda: print("value", float(w(np.zeros(2)).sum())))
    case("weird_name_error", lambda: w(np.ones((2, 2))))
    """
)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    script = tmp_path_factory.mktemp("misuse") / "misuse.py"
    script.write_text(SCRIPT)
    env = dict(
        os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"the child crashed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    )
    found = {}
    for line in proc.stdout.splitlines():
        if line.startswith("value "):
            found["value"] = line.split()[1]
            continue
        name, kind, message = line.split("|", 2)
        found[name] = (kind, message)
    return found


WHERE = "misuse.py:"


@pytest.mark.parametrize(
    "case, kind, words",
    [
        ("dtype", "TypeError", ["'x'", WHERE, "complex64"]),
        ("ndim", "TypeError", ["'x'", WHERE, "ndim"]),
        ("string", "TypeError", ["'x'", WHERE]),
        ("arity", "TypeError", ["takes 2 arguments"]),
        (
            "broadcast",
            "ValueError",
            ["'x'", "'m'", WHERE, "axis 1", "size 4", "size 3"],
        ),
        ("static_shape", "ValueError", ["'s'", WHERE, "dimension 1 must be 3"]),
        ("alloc_huge", "MemoryError", ["Alloc", WHERE, "'n'", "bytes"]),
        ("alloc_negative", "ValueError", ["Alloc", WHERE, "negative dimension"]),
        ("alloc_overflow", "MemoryError", ["Alloc", WHERE, "too large"]),
        ("reshape_bad", "ValueError", ["Reshape", WHERE, "'x'", "'n'", "6 elements"]),
        ("reshape_zero", "ValueError", ["Reshape", WHERE]),
        (
            "index_out_of_bounds",
            "IndexError",
            [WHERE, "index 5 is out of bounds", "'i'"],
        ),
        ("weird_name_error", "TypeError", [WHERE, "ndim"]),
    ],
)
def test_bad_input_is_a_python_error(results, case, kind, words):
    got_kind, message = results[case]
    assert got_kind == kind, (case, got_kind, message)
    for word in words:
        assert word in message, (case, word, message)


def test_good_input_after_errors(results):
    assert results["alloc_ok"] == ("ok", "")
    assert results["reshape_ok"] == ("ok", "")
    assert results["index_ok"] == ("ok", "")
    assert results["weird_name_runs"] == ("ok", "")
    assert results["value"] == "4.0"
