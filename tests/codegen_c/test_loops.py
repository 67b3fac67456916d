"""Loop shapes of the generated C: unit-stride copies, blocked float sums.

Strides of arrays passed in are unknown when generating; a vectorised loop
along an array's last axis is written twice, for unit stride and in general.
Both copies must give the python backend's results, and arrays that cannot
have unit stride along the loop must not get a dead copy. float32 sums add
floats block by block and the blocks in double: as accurate as NumPy. A
large softmax streams its rows to memory from a buffer on the stack.
"""

from __future__ import annotations

import math
import platform
import shlex
import subprocess

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.codegen_c import toolchain
from symgraph.codegen_c.helpers import helper_source
from tests.codegen_c.conftest import assert_same, both, needs_cc

pytestmark = needs_cc

RNG = np.random.default_rng(7)


def _views(shape):
    """The same values contiguous, strided, reversed and transposed."""
    base = RNG.standard_normal([2 * s for s in shape]).astype(np.float32)
    strided = base[tuple(slice(None, None, 2) for _ in shape)]
    views = {
        "contiguous": np.ascontiguousarray(strided),
        "strided": strided,
        "reversed": np.ascontiguousarray(strided)[..., ::-1],
    }
    if len(shape) == 2:
        views["transposed"] = np.ascontiguousarray(strided.T).T
    return views


@pytest.fixture(scope="module")
def sum_exp():
    x = T.vector("x", dtype="float32")
    return both([x], T.exp(x).sum())


@pytest.fixture(scope="module")
def softmax_rows():
    x = T.fmatrix("x")
    return both([x], T.nnet.softmax(x))


def test_a_sum_of_exp_has_a_unit_stride_copy(sum_exp):
    source = sum_exp[1].source
    assert source.count("if (x_stride0 == 1) {") == 1
    assert source.count("expf(x[i0])") == 1
    assert source.count("expf(x[i0 * x_stride0])") == 1


@pytest.mark.parametrize("view", ["contiguous", "strided", "reversed"])
def test_both_copies_of_a_sum_of_exp_agree(sum_exp, view):
    # 3e5 elements: the parallel kernel, not the serial loop
    x = _views((300_001,))[view]
    assert_same(sum_exp[0](x), sum_exp[1](x), rtol=1e-5)


@pytest.mark.parametrize("view", ["contiguous", "strided", "reversed", "transposed"])
def test_both_copies_of_a_softmax_agree(softmax_rows, view):
    x = _views((257, 129))[view]
    assert_same(softmax_rows[0](x), softmax_rows[1](x), rtol=1e-5, atol=1e-7)


def test_softmax_passes_over_the_input_have_unit_stride_copies(softmax_rows):
    source = softmax_rows[1].source
    # the max and the exp-sum passes read x; the scaling pass reads the output
    assert source.count("if (x_stride1 == 1) {") == 2


@pytest.mark.parametrize(
    "dtype, shape",
    [
        ("float32", (2100, 1000)),  # 8.4 MB: streamed, rows not 64-byte aligned
        ("float32", (1100, 2047)),  # rows of 2047: a vector remainder each
        ("float32", (700, 3001)),  # rows too long for the buffer: in place
        ("float64", (1050, 1001)),
    ],
)
def test_a_large_softmax_streams_its_rows_and_agrees(dtype, shape):
    x = T.matrix("x", dtype=dtype)
    fp, fc = both([x], T.nnet.softmax(x))
    assert "sg_stream_scale" in fc.source and "sg_stream_fence();" in fc.source
    a = RNG.standard_normal(shape).astype(dtype)
    a[3, 5] = np.nan  # a NaN row stays NaN
    a[4] = -np.inf
    a[5, 7] = np.inf
    for view in (a, a[::-1], a[:, 1:]):  # reversed rows; rows misaligned
        want = fp(view)
        assert_same(want, fc(view), rtol=1e-5 if dtype == "float32" else 1e-12)
    assert np.isnan(want[3]).all()


_STREAM_CHECK = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
%s
int main(void)
{
    static float sf[300], df[300];
    static double sd[300], dd[300];
    for (int i = 0; i < 300; i++)
        sf[i] = sd[i] = i + 0.5;
    for (int start = 0; start < 17; start++)      /* every alignment */
        for (int n = 0; n < 40 * 7; n += 7) {      /* heads, bodies, tails */
            memset(df, 0, sizeof df);
            memset(dd, 0, sizeof dd);
            sg_stream_scalef(df + start, sf, n, 2.0f);
            sg_stream_scale(dd + start, sd, n, 2.0);
            sg_stream_fence();
            for (int i = 0; i < 300; i++) {
                int in = i >= start && i < start + n;
                double want = in ? 2 * (i - start + 0.5) : 0;
                if (df[i] != (float)want || dd[i] != want) {
                    printf("start %%d n %%d i %%d\n", start, n, i);
                    return 1;
                }
            }
        }
    return 0;
}
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 only")
@pytest.mark.parametrize("march", ["x86-64", "x86-64-v3", "native"])
def test_streaming_stores_write_every_element_at_every_vector_width(march, tmp_path):
    # SSE, AVX2 and this machine's widest (AVX-512 where it has it)
    calls = "sg_stream_scalef( sg_stream_scale( sg_stream_fence("
    source = _STREAM_CHECK % helper_source(calls)
    (tmp_path / "check.c").write_text(source)
    cc = shlex.split(toolchain.get_toolchain().cc)
    build = subprocess.run(
        [*cc, "-O2", f"-march={march}", "check.c", "-o", "check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(tmp_path / "check")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def test_a_loop_across_rows_gets_no_unit_stride_copy():
    x = T.fmatrix("x")
    fp, fc = both([x], x.sum(axis=0))
    assert "x_stride0 == 1" not in fc.source
    for v in _views((65, 33)).values():
        assert_same(fp(v), fc(v), rtol=1e-5, atol=1e-6)


def test_elementwise_loops_test_every_unknown_inner_stride():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    fp, fc = both([x, y], T.tanh(x) * y + 1)
    assert "x_stride1 == 1 && y_stride1 == 1" in fc.source
    views = _views((40, 50))
    for a in views.values():
        for b in views.values():
            assert_same(fp(a, b), fc(a, b), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("axis", [None, 1])
def test_float32_sums_are_as_accurate_as_numpy(axis):
    # all positive, so a float accumulator's rounding errors pile up
    x = T.fmatrix("x")
    f = sg.function([x], x.sum(axis=axis))
    v = RNG.uniform(0, 1, (3, 400_003)).astype(np.float32)
    got = np.asarray(f(v), dtype=np.float64).reshape(-1)
    rows = [v.reshape(-1)] if axis is None else list(v)
    for g, row in zip(got, rows, strict=True):
        exact = math.fsum(row.astype(np.float64))
        numpy_error = abs(float(row.sum()) - exact)
        assert abs(g - exact) <= max(numpy_error, np.spacing(np.float32(exact)))
    assert "float acc" in f.source and "_b = 0;" in f.source  # blocked


def test_a_helpers_math_call_gets_its_vector_declaration():
    # sg_sigmoid calls exp: without libmvec's declaration its loop stays scalar
    if "exp" not in toolchain.get_toolchain().mvec_functions:
        pytest.skip("no libmvec exp here")
    x = T.vector("x")
    source = sg.function([x], T.sigmoid(x)).source
    assert 'double exp(double) __attribute__((simd("notinbranch")));' in source
