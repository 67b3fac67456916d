"""float32 exp, tanh and sigmoid in generated C: error bounds and specials.

On an AVX-512 host these are symgraph's own vector functions (vmath.py),
whose bounds were found by checking every float32; elsewhere libm/libmvec,
held to bounds a little above theirs. Either way the results are measured
against NumPy in float64 on about a million inputs over every binade.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.codegen_c import toolchain, vmath
from tests.codegen_c.conftest import needs_cc

pytestmark = needs_cc

FUNCTIONS = {
    "exp": (T.exp, np.exp),
    "tanh": (T.tanh, np.tanh),
    "sigmoid": (T.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
}
# The exhaustive maxima of vmath.py's functions (see its docstring), and
# bounds for glibc's, whose libmvec reaches 2.64 (exp), 1.37 (tanh) and
# 3.63 ulp (sigmoid through libmvec's exp) on every float32.
VMATH_ULP = {"exp": 1.02, "tanh": 2.50, "sigmoid": 2.40}
LIBM_ULP = {"exp": 3.0, "tanh": 3.0, "sigmoid": 4.0}


def has_vmath() -> bool:
    return toolchain.get_toolchain().has_vmath


@pytest.fixture(scope="module")
def compiled():
    x = T.vector("x", dtype="float32")
    return {name: sg.function([x], sym(x)) for name, (sym, _) in FUNCTIONS.items()}


def _sample() -> np.ndarray:
    """Every 4099th float32 bit pattern: ~1M values, all binades, both signs."""
    bits = np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32)
    return bits.view(np.float32)


def _ulp_error(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in units of the float32 spacing at want (want in float64)."""
    with np.errstate(over="ignore", invalid="ignore"):
        spacing = np.spacing(np.abs(want.astype(np.float32))).astype(np.float64)
        return np.abs(got.astype(np.float64) - want) / spacing


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_error_bound_against_float64(compiled, name):
    x = _sample()
    with np.errstate(all="ignore"):
        want = FUNCTIONS[name][1](x.astype(np.float64))
    got = compiled[name](x)
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan, err_msg=f"{name}: NaN")
    with np.errstate(over="ignore"):
        want32 = want.astype(np.float32)
    big = ~nan & np.isinf(want32)  # beyond float32's range
    np.testing.assert_array_equal(got[big], want32[big])
    finite = ~nan & ~big
    err = _ulp_error(got[finite], want[finite])
    bound = (VMATH_ULP if has_vmath() else LIBM_ULP)[name]
    worst = int(np.argmax(err))
    assert err[worst] <= bound, (
        f"{name}({x[finite][worst]!r}) = {got[finite][worst]!r}: "
        f"{err[worst]:.3f} ulp > {bound}"
    )


SPECIALS = np.array(
    [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, -1e-45, 100.0, -100.0]
    + [-200.0, 20.0, -20.0, 3e38, -3e38],
    dtype=np.float32,
)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_special_values_as_numpy(compiled, name):
    with np.errstate(all="ignore"):  # (float32 would flush sigmoid(-100))
        want = FUNCTIONS[name][1](SPECIALS.astype(np.float64)).astype(np.float32)
    got = compiled[name](SPECIALS)
    exact = np.isnan(want) | np.isinf(want) | (want == 0) | (np.abs(want) == 1)
    np.testing.assert_array_equal(got[exact], want[exact], err_msg=name)
    zero = want == 0
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_result_does_not_depend_on_position(compiled, name):
    # vector body, loop remainder, strided (scalar) loop: the same values
    if not has_vmath():
        pytest.skip("libm and libmvec may round scalar and vector calls apart")
    x = np.random.default_rng(3).standard_normal(1000).astype(np.float32) * 4
    f = compiled[name]
    whole = f(x)
    np.testing.assert_array_equal(f(x[::-1])[::-1], whole)
    np.testing.assert_array_equal(f(x[3:]), whole[3:])
    for k in (0, 17, 999):
        np.testing.assert_array_equal(f(x[k : k + 1]), whole[k : k + 1])


def test_source_uses_vmath_exactly_when_the_toolchain_has_it(compiled):
    for name in ("exp", "tanh", "sigmoid"):
        source = compiled[name].source
        assert ("_ZGVeN16v_sg_vexpf" in source or "sg_vtanhf" in source) == (
            has_vmath()
        ), name
    x = T.vector("x")  # float64 keeps libm's exp
    f64 = sg.function([x], T.exp(x))  # (its source quotes this line)
    assert "_ZGVeN16v" not in f64.source


def test_only_the_functions_called_are_emitted():
    assert vmath.used_functions({"expf", "tanh", "my_expf"}) == ["expf"]
    source = vmath.vmath_source(["tanhf"])
    assert "#define tanhf(x) sg_vtanhf(x)" in source
    assert "sg_vexpf" not in source


TARGET_HELP = """  -mavx512f                   \t\t{avx512}
  -mprefer-avx128             \t\t-mprefer-vector-width=128
  -mprefer-vector-width=      \t\t{width}
"""


@pytest.mark.parametrize(
    "avx512, width, expected",
    [
        ("[enabled]", "none", True),
        ("[enabled]", "512", True),
        ("[enabled]", "256", False),  # GCC's tuning for most Intel CPUs
        ("[disabled]", "none", False),
    ],
)
def test_vmath_needs_zmm_vectorisation(avx512, width, expected):
    text = TARGET_HELP.format(avx512=avx512, width=width)
    assert toolchain._vectorises_avx512(text) is expected
