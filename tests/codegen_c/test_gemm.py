"""Products through BLAS: every operand layout gives what the python backend does.

Dot, Gemm and Matmul call ``sg_cblas_sgemm``/``sg_cblas_dgemm``
(``blas.cblas_source``), which hands BLAS an operand in place when one of its
strides is 1 (transposed if need be) and copies it otherwise. The layouts
below reach each branch: C order, F order, padded rows or columns, strides of
2, negative strides, and sizes 0 and 1 where the strides do not matter.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph.codegen_c import blas
from symgraph.ops.composite import Gemm
from tests.codegen_c.conftest import assert_same, both, needs_cc

pytestmark = [
    needs_cc,
    pytest.mark.skipif(not blas.blas_available(), reason="no scipy-openblas32"),
]

LAYOUTS = ["c", "f", "padded", "padded_f", "step2", "reversed", "rows_reversed"]
TOL = {"float32": {"rtol": 2e-5, "atol": 1e-5}, "float64": {"rtol": 1e-10}}


def layout(a: np.ndarray, how: str) -> np.ndarray:
    """The values of 2-d `a` in memory laid out as `how` says."""
    m, n = a.shape
    if how == "c":
        return np.ascontiguousarray(a)
    if how == "f":
        return np.asfortranarray(a)
    if how == "padded":  # stride 1 along rows, row stride > n
        big = np.zeros((m, n + 3), a.dtype)
        big[:, :n] = a
        return big[:, :n]
    if how == "padded_f":  # stride 1 down columns, column stride > m
        big = np.zeros((n, m + 2), a.dtype)
        big[:, :m] = a.T
        return big[:, :m].T
    if how == "step2":  # no stride is 1: copied
        big = np.zeros((m, 2 * n), a.dtype)
        big[:, ::2] = a
        return big[:, ::2]
    if how == "reversed":
        return np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]
    if how == "rows_reversed":  # stride 1 along rows, negative row stride
        return np.ascontiguousarray(a[::-1])[::-1]
    raise ValueError(how)


def values(shape, dtype, how, seed):
    a = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    out = layout(a, how)
    np.testing.assert_array_equal(out, a)
    return out


@pytest.fixture(scope="module", params=["float32", "float64"])
def dot(request):
    dtype = request.param
    x, y = T.matrix("x", dtype=dtype), T.matrix("y", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    fp, fc = both([x, y, v], [T.dot(x, y), T.dot(x, v), T.dot(v, y)])
    return dtype, fp, fc


@pytest.mark.parametrize("how_b", LAYOUTS)
@pytest.mark.parametrize("how_a", LAYOUTS)
@pytest.mark.parametrize("m, k, n", [(4, 5, 3), (1, 5, 3), (4, 1, 3), (4, 5, 1)])
def test_dot_layouts(dot, how_a, how_b, m, k, n):
    dtype, fp, fc = dot
    a = values((m, k), dtype, how_a, 0)
    b = values((k, n), dtype, how_b, 1)
    v = values((k, 1), dtype, how_b, 2)[:, 0]
    if n == 1:  # x.v and v.y need a vector of size k for both
        b = values((k, 1), dtype, how_b, 1)
        v = b[:, 0]
    assert_same(fp(a, b, v), fc(a, b, v), **TOL[dtype])


def test_dot_of_empty_operands(dot):
    dtype, fp, fc = dot
    for m, k, n in [(0, 3, 2), (3, 0, 2), (3, 2, 0)]:
        a, b, v = np.ones((m, k), dtype), np.ones((k, n), dtype), np.ones(k, dtype)
        assert_same(fp(a, b, v), fc(a, b, v))


@pytest.fixture(scope="module", params=["float32", "float64"])
def gemm(request):
    dtype = request.param
    c, a, b = (T.matrix(n, dtype=dtype) for n in "cab")
    r = T.row("r", dtype=dtype)
    alpha = T.scalar("alpha", dtype=dtype)
    beta = T.scalar("beta", dtype=dtype)
    outs = [
        Gemm()(c, alpha, a, b, beta),
        Gemm()(r, alpha, a, b, beta),  # c broadcast down the rows
        Gemm()(T.constant(np.full((1, 1), 0.5, dtype)), alpha, a, b, beta),
    ]
    fp, fc = both([c, r, alpha, a, b, beta], outs)
    return dtype, fp, fc


@pytest.mark.parametrize("how_c", ["c", "f", "step2", "reversed"])
@pytest.mark.parametrize("how_b", LAYOUTS)
@pytest.mark.parametrize("how_a", LAYOUTS)
def test_gemm_layouts(gemm, how_a, how_b, how_c):
    dtype, fp, fc = gemm
    m, k, n = 4, 6, 3
    a = values((m, k), dtype, how_a, 0)
    b = values((k, n), dtype, how_b, 1)
    c = values((m, n), dtype, how_c, 2)
    r = values((1, n), dtype, "step2", 3)
    scalars = np.asarray(-0.75, dtype), np.asarray(1.5, dtype)
    got = fc(c, r, scalars[0], a, b, scalars[1])
    assert_same(fp(c, r, scalars[0], a, b, scalars[1]), got, **TOL[dtype])


def test_gemm_names_its_own_operands_when_they_do_not_fit():
    # Gemm(c, alpha, a, b, beta): the operands are inputs 2 and 3, not 0 and 1
    x, w, v = T.matrix("x"), T.matrix("w"), T.vector("v")
    _, fc = both([x, w, v], T.dot(x, w) + v)
    with pytest.raises(ValueError, match=r"input 2\) vs 3 \(first axis of input 3"):
        fc(np.ones((2, 2)), np.ones((3, 3)), np.ones(3))


def test_batched_matmul_names_the_axis_it_contracts():
    a, b = T.tensor3("a"), T.tensor3("b")
    _, fc = both([a, b], T.matmul(a, b))
    with pytest.raises(ValueError, match=r"4 \(second-to-last axis of input 1\)"):
        fc(np.ones((2, 2, 3)), np.ones((2, 4, 2)))


def test_gemm_with_c_of_another_dtype():
    c = T.matrix("c", dtype="float32")
    a, b = T.matrix("a"), T.matrix("b")
    fp, fc = both([c, a, b], Gemm()(c, 2.0, a, b, 0.5))
    rng = np.random.default_rng(0)
    cv = rng.normal(size=(3, 2)).astype("float32")
    av, bv = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    assert_same(fp(cv, layout(av, "step2"), bv), fc(cv, layout(av, "step2"), bv))


def stack_layout(x: np.ndarray, how: str) -> np.ndarray:
    """The values of 3-d `x`, each matrix laid out as `how` says."""
    if how == "f":
        return np.ascontiguousarray(x.transpose(0, 2, 1)).transpose(0, 2, 1)
    if how == "step2":
        big = np.zeros(x.shape[:2] + (2 * x.shape[2],), x.dtype)
        big[..., ::2] = x
        return big[..., ::2]
    if how == "reversed":
        return np.ascontiguousarray(x[:, ::-1, ::-1])[:, ::-1, ::-1]
    return np.ascontiguousarray(x)


@pytest.mark.parametrize("how", ["c", "f", "step2", "reversed"])
def test_batched_matmul_layouts(how):
    a, b = T.tensor3("a", dtype="float32"), T.tensor3("b", dtype="float32")
    one = T.tensor("one", dtype="float32", shape=(1, None, None))
    fp, fc = both([a, b, one], [T.matmul(a, b), T.matmul(a, one)])
    rng = np.random.default_rng(0)
    av = rng.normal(size=(3, 4, 5)).astype("float32")
    bv = rng.normal(size=(3, 5, 2)).astype("float32")
    ov = rng.normal(size=(1, 5, 3)).astype("float32")
    args = [stack_layout(av, how), stack_layout(bv, "f"), stack_layout(ov, how)]
    assert_same(fp(*args), fc(*args), rtol=2e-5, atol=1e-5)


def test_source_calls_one_wrapper_per_product_and_defines_only_those_used():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    _, fc = both([x, y], Gemm()(x, 1.0, x, y, 2.0))
    src = fc.source
    assert src.count("sg_cblas_sgemm(st,") == 1
    assert "static int sg_cblas_sgemm(" in src
    assert "sg_fill_matrixf(" in src
    assert "sg_cblas_dgemm" not in src and "sg_fill_matrix(" not in src
    a, b = T.matrix("a"), T.matrix("b")
    _, fd = both([a, b], T.dot(a, b))
    assert "static int sg_cblas_dgemm(" in fd.source
    assert "sg_fill_matrix" not in fd.source


def test_cblas_source_emits_what_the_body_calls():
    body = "if (sg_cblas_dgemm(st, 3, m, n, k, 1.0, a, 2, 1, 0, b, 1, 2, 1, 0.0, c))"
    src = blas.cblas_source(body)
    assert "static int sg_cblas_dgemm(" in src
    assert "static const double *sg_blas_operand(" in src
    assert "sg_cblas_sgemm" not in src and "sg_fill_matrix" not in src
    assert src.startswith("/* OpenBLAS (scipy-openblas32) */")
