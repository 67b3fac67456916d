"""``import symgraph`` leaves SymPy unloaded until ``sg.sympy`` is used."""

import subprocess
import sys


def _run(code: str) -> str:
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return res.stdout.strip()


def test_import_does_not_load_sympy():
    code = "import sys, symgraph; print('sympy' in sys.modules)"
    assert _run(code) == "False"


def test_sg_sympy_loads_the_bridge():
    code = (
        "import sys, symgraph as sg, symgraph.tensor as T\n"
        "x = T.vector('x')\n"
        "print(sg.sympy.to_sympy(T.exp(x)))\n"
        "print(sg.sympy is sys.modules['symgraph.sympy'])"
    )
    assert _run(code).splitlines() == ["exp(x)", "True"]


def test_import_of_submodule_and_star_import():
    code = (
        "import symgraph.sympy as m\n"
        "import symgraph as sg\n"
        "ns = {}\n"
        "exec('from symgraph import *', ns)\n"
        "print(sg.sympy is m, ns['sympy'] is m)"
    )
    assert _run(code) == "True True"


def test_dir_lists_sympy_before_it_loads():
    code = (
        "import sys, symgraph as sg\n"
        "names = dir(sg)\n"
        "print('sympy' in names, '__getattr__' in names, 'sympy' in sys.modules)"
    )
    assert _run(code) == "True False False"


def test_unknown_attribute_still_raises():
    import pytest

    import symgraph as sg

    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        sg.no_such_name  # noqa: B018
