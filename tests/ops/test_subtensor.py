"""Indexing: x[idx] against NumPy, set/inc_subtensor, errors, gradients, shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph import Constant, TensorType
from symgraph.ops.advanced_subtensor import (
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
)
from symgraph.ops.index_layout import SliceLength
from symgraph.ops.shape import Shape_i, shape_tuple
from symgraph.ops.subtensor import IncSubtensor, Subtensor

RNG = np.random.default_rng(0)
X3 = RNG.standard_normal((3, 4, 5))


def run(out, inputs=(), values=()):
    return sg.function(list(inputs), out, backend="python", on_unused_input="ignore")(
        *values
    )


def ev(out, givens):
    """``out.eval(givens)`` on the python backend."""
    return run(out, list(givens), list(givens.values()))


def check_shapes(out, value, inputs, values):
    """The static shape and infer_shape agree with the computed value."""
    assert out.ndim == value.ndim
    for static, size in zip(out.type.shape, value.shape, strict=True):
        assert static is None or static == size, (out.type.shape, value.shape)
    node = out.owner
    dims = node.op.infer_shape(None, node, [shape_tuple(v) for v in node.inputs])[0]
    got = run([T.as_tensor_variable(d) for d in dims], inputs, values) if dims else []
    assert tuple(int(d) for d in got) == value.shape


def compare(x_value, index, static=False):
    x = T.tensor("x", shape=x_value.shape if static else (None,) * x_value.ndim)
    out = x[index]
    got = run(out, [x], [x_value])
    want = x_value[index]
    assert got.shape == want.shape, (index, got.shape, want.shape)
    np.testing.assert_array_equal(got, want)
    check_shapes(out, got, [x], [x_value])
    return out


# ----------------------------------------------------------------- basic

BASIC = [
    0,
    -1,
    slice(None),
    slice(1, None),
    slice(None, None, -1),
    slice(-1, 0, -2),
    slice(10, -10, -3),
    slice(-100, 100),
    (1, 2),
    (1, slice(None), -2),
    (slice(None), 3, slice(None, None, 2)),
    (Ellipsis, 1),
    (0, Ellipsis),
    (Ellipsis,),
    (None,),
    (None, 1, None, Ellipsis, None),
    (slice(None), None, 2),
    (),
    (2, 3, 4),
    np.int32(1),
    (np.array(1), slice(np.int64(1), None)),
]


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("index", BASIC, ids=repr)
def test_basic_matches_numpy(index, static):
    out = compare(X3, index, static)
    assert isinstance(out.owner.op, Subtensor)


def test_static_shape_of_constant_slices():
    x = T.tensor("x", shape=(4, 5, None))
    assert x[1:, ::-2, 0].type.shape == (3, 3)
    assert x[None, ..., ::-1].type.shape == (1, 4, 5, None)
    assert x[:, 10:].type.shape == (4, 0, None)
    assert x[:, :, 1:3].type.shape == (4, 5, None)
    assert x[:, :, ::-1].type.shape == (4, 5, None)


def test_symbolic_scalar_indices():
    x = T.tensor3("x")
    i, j, k = T.lscalars("i", "j", "k")
    out = x[i, j:k:-1, T.cast(i, "int8")]
    assert isinstance(out.owner.op, Subtensor) and len(out.owner.inputs) == 5
    got = run(out, [x, i, j, k], [X3, 1, 3, 0])
    np.testing.assert_array_equal(got, X3[1, 3:0:-1, 1])
    check_shapes(out, got, [x, i, j, k], [X3, 1, 3, 0])
    assert any(
        isinstance(n.op, SliceLength)
        for n in sg.graph.toposort(
            out.owner.op.infer_shape(
                None, out.owner, [shape_tuple(v) for v in out.owner.inputs]
            )[0][:1]
        )
    )


def test_constant_scalar_variables_fold_into_the_op():
    x = T.vector("x")
    out = x[T.constant(2) :: T.constant(-1)]
    assert out.owner.inputs == [x]
    assert str(out.owner.op) == "Subtensor{2::-1}"


def test_ops_merge_across_symbolic_values():
    x = T.matrix("x")
    i, j = T.lscalars("i", "j")
    assert x[i, 1:].owner.op == x[j, 1:].owner.op
    assert hash(x[i, 1:].owner.op) == hash(x[j, 1:].owner.op)
    assert x[1:, i].owner.op != x[i, 1:].owner.op


@st.composite
def basic_case(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    ndim = len(shape)
    use_ellipsis = draw(st.booleans())
    n_before = draw(st.integers(0, ndim))
    n_after = draw(st.integers(0, ndim - n_before)) if use_ellipsis else 0
    axes = list(range(n_before)) + list(range(ndim - n_after, ndim))
    entries = []
    for axis in axes:
        n = shape[axis]
        if n > 0 and draw(st.booleans()):
            entries.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.none() | st.integers(-n - 2, n + 2)
            step = st.none() | st.integers(-3, 3).filter(bool)
            entries.append(slice(draw(bound), draw(bound), draw(step)))
    if use_ellipsis:
        entries.insert(n_before, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        entries.insert(draw(st.integers(0, len(entries))), None)
    index = tuple(entries)
    if len(index) == 1 and draw(st.booleans()):
        index = index[0]
    return shape, index, draw(st.booleans()), draw(st.booleans())


def _symbolize(index, inputs, values):
    """Replace the ints of an index (and of its slices) with symbolic scalars."""

    def sym(value):
        if value is None:
            return None
        var = TensorType("int64", ())(f"i{len(inputs)}")
        inputs.append(var)
        values.append(value)
        return var

    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, slice):
            out.append(slice(sym(item.start), sym(item.stop), sym(item.step)))
        elif isinstance(item, int):
            out.append(sym(item))
        else:
            out.append(item)
    return tuple(out)


@given(basic_case())
def test_random_basic_indices_match_numpy(case):
    shape, index, static, symbolic = case
    value = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    x = T.tensor("x", shape=shape if static else (None,) * len(shape))
    inputs, values = [x], [value]
    sym_index = _symbolize(index, inputs, values) if symbolic else index
    out = x[sym_index]
    got = run(out, inputs, values)
    want = value[index]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    check_shapes(out, got, inputs, values)
    # set / inc of the same region, with a value of the region's shape
    y_value = np.full(want.shape, 7.0) if want.ndim else 7.0
    expect_set, expect_inc = value.copy(), value.copy()
    expect_set[index] = y_value
    expect_inc[index] += y_value
    y = T.tensor("y", shape=(None,) * np.ndim(y_value))
    got_set, got_inc = run(
        [T.set_subtensor(out, y), T.inc_subtensor(out, y)],
        inputs + [y],
        values + [y_value],
    )
    np.testing.assert_array_equal(got_set, expect_set)
    np.testing.assert_array_equal(got_inc, expect_inc)


# -------------------------------------------------------------- advanced

ADVANCED = [
    ([2, 0, 2], AdvancedSubtensor1),
    (np.array([-1, 0]), AdvancedSubtensor1),
    ((np.array([1, 1]), slice(None)), AdvancedSubtensor1),
    ([[0, 1], [2, 2]], AdvancedSubtensor),
    ([], AdvancedSubtensor1),
    ((slice(None), [3, 0, 3]), AdvancedSubtensor),
    ((slice(None, None, -1), [3, 0], slice(1, None)), AdvancedSubtensor),
    (([0, 2], [1, 3]), AdvancedSubtensor),
    (([[0], [2]], [1, 3, 0]), AdvancedSubtensor),  # broadcast (2, 1) with (3,)
    (
        ([0, 2], slice(None), [1, 4]),
        AdvancedSubtensor,
    ),  # non-adjacent: index dims first
    ((slice(None), [0, 2], [1, 4]), AdvancedSubtensor),  # adjacent: in place
    ((0, slice(None), [1, 2]), AdvancedSubtensor),  # an int counts as advanced
    ((slice(None), 0, [1, 2]), AdvancedSubtensor),
    (([0, 1], None, [1, 2]), AdvancedSubtensor),  # newaxis separates
    (
        (slice(None), [1, 2], Ellipsis, [0, 1]),
        AdvancedSubtensor,
    ),  # Ellipsis of 0 dims separates
    ((Ellipsis, [1, 2]), AdvancedSubtensor),
    ((None, [1, 2], None), AdvancedSubtensor),
    (X3[:, :, 0] > 0, AdvancedSubtensor),
    (X3 > 0, AdvancedSubtensor),
    ((slice(None), X3[0, :, 0] > 0), AdvancedSubtensor),
    ((X3[:, 0, 0] > -10, 1, [0, 0, 4]), AdvancedSubtensor),
    ((Ellipsis, X3[0, 0] > 0), AdvancedSubtensor),
    (True, AdvancedSubtensor),
    ((slice(None), False), AdvancedSubtensor),
    ((np.True_, 0, [1, 2, 3]), AdvancedSubtensor),
    ((1, [[1, 2, 3]], slice(None, None, -2)), AdvancedSubtensor),
    (((0, 1), [2, 3]), AdvancedSubtensor),  # a nested tuple is an array
]


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("index,op", ADVANCED, ids=lambda v: repr(v)[:40])
def test_advanced_matches_numpy(index, op, static):
    out = compare(X3, index, static)
    assert type(out.owner.op) is op


def test_static_shape_of_advanced_indexing():
    x = T.tensor("x", shape=(3, 4, 5))
    assert x[[0, 2], :, [1, 1]].type.shape == (2, 4)
    assert x[:, [[0], [1]], [1, 1, 2]].type.shape == (3, 2, 3)
    assert x[[[0], [1]], 1:, [1, 1, 2]].type.shape == (2, 3, 3)
    assert x[X3 > 0].type.shape == (int(np.sum(X3 > 0)),)
    assert x[T.tensor("m", dtype="bool", shape=(3, 4))].type.shape == (None, 5)
    i = T.lvector("i")
    assert x[i, 1:].type.shape == (None, 3, 5)
    assert x[1:, i, None].type.shape == (2, None, 1, 5)


def test_symbolic_index_arrays():
    x = T.tensor3("x")
    i = T.lvector("i")
    j = T.lcol("j")  # static (?, 1): broadcasts along its second axis
    m = T.tensor("m", dtype="bool", shape=(None,))
    cases = [
        (x[i], [i], [np.array([2, 0, 2])], lambda: X3[[2, 0, 2]]),
        (
            x[j, 1:, i],
            [j, i],
            [np.array([[0], [1]]), np.array([4, 0, 4])],
            lambda: X3[[[0], [1]], 1:, [4, 0, 4]],
        ),
        (x[:, m], [m], [X3[0, :, 0] > 0], lambda: X3[:, X3[0, :, 0] > 0]),
        (
            x[m, 2, i],
            [m, i],
            [np.array([True, False, True]), np.array([1, 3])],
            lambda: X3[[True, False, True], 2, [1, 3]],
        ),
        (
            x[i[:, None], [0, 1]],
            [i],
            [np.array([2, 1])],
            lambda: X3[np.array([2, 1])[:, None], [0, 1]],
        ),
    ]
    for out, ins, vals, want in cases:
        got = run(out, [x, *ins], [X3, *vals])
        np.testing.assert_array_equal(got, want())
        check_shapes(out, got, [x, *ins], [X3, *vals])


@st.composite
def advanced_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    ndim = len(shape)
    kinds = draw(
        st.lists(
            st.sampled_from(["slice", "int", "array", "mask", "newaxis"]),
            min_size=1,
            max_size=ndim + 2,
        )
    )
    if "mask" in kinds:  # one boolean mask; other arrays would need its count
        first = kinds.index("mask")
        kinds = [
            k if k not in ("mask", "array") or i == first else "slice"
            for i, k in enumerate(kinds)
        ]
    mask_ndim = draw(st.integers(1, 2))
    consumed = sum(mask_ndim if k == "mask" else k != "newaxis" for k in kinds)
    if consumed > ndim or ("array" not in kinds and "mask" not in kinds):
        kinds = ["array"] + [k for k in kinds if k == "newaxis"]
    bshapes = iter(
        draw(
            mutually_broadcastable_shapes(
                num_shapes=max(1, kinds.count("array")), max_dims=2, max_side=3
            )
        ).input_shapes
    )
    if draw(st.booleans()):
        kinds.insert(draw(st.integers(0, len(kinds))), "...")
    n_after = 0
    if "..." in kinds:
        n_after = sum(
            mask_ndim if k == "mask" else k not in ("newaxis", "...")
            for k in kinds[kinds.index("...") + 1 :]
        )
    entries, axis = [], 0
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    for k in kinds:
        if k == "...":
            axis = ndim - n_after
            entries.append(Ellipsis)
            continue
        if k == "newaxis":
            entries.append(None)
            continue
        n = shape[axis]
        if k == "slice":
            bound = st.none() | st.integers(-n - 1, n + 1)
            entries.append(
                slice(
                    draw(bound),
                    draw(bound),
                    draw(st.none() | st.integers(-2, 2).filter(bool)),
                )
            )
        elif k == "int":
            entries.append(draw(st.integers(-n, n - 1)))
        elif k == "mask":
            entries.append(
                rng.integers(0, 2, size=shape[axis : axis + mask_ndim]).astype(bool)
            )
            axis += mask_ndim - 1
        else:
            entries.append(rng.integers(-n, n, size=next(bshapes)))
        axis += 1
    return shape, tuple(entries), draw(st.booleans())


@given(advanced_case())
def test_random_advanced_indices_match_numpy(case):
    shape, index, symbolic = case
    value = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    x = T.tensor("x", shape=(None,) * len(shape))
    inputs, values, sym_index = [x], [value], []
    for item in index:
        if symbolic and isinstance(item, np.ndarray):
            static = tuple(
                1 if s == 1 and item.dtype != bool else None for s in item.shape
            )
            var = T.tensor(f"i{len(inputs)}", dtype=item.dtype, shape=static)
            inputs.append(var)
            values.append(item)
            item = var
        sym_index.append(item)
    out = x[tuple(sym_index)]
    got = run(out, inputs, values)
    want = value[index]
    assert got.shape == want.shape, (index, got.shape, want.shape)
    np.testing.assert_array_equal(got, want)
    check_shapes(out, got, inputs, values)
    y_value = np.arange(want.size, dtype="float64").reshape(want.shape) + 100
    expect_inc, expect_set = value.copy(), value.copy()
    np.add.at(expect_inc, index, y_value)
    expect_set[index] = y_value
    y = T.tensor("y", shape=(None,) * y_value.ndim)
    got_inc, got_set = run(
        [T.inc_subtensor(out, y), T.set_subtensor(out, y)],
        inputs + [y],
        values + [y_value],
    )
    np.testing.assert_array_equal(got_inc, expect_inc)
    np.testing.assert_array_equal(got_set, expect_set)


# ------------------------------------------------------------ set and inc


def test_set_and_inc_return_new_arrays():
    x = T.matrix("x")
    value = np.arange(6.0).reshape(2, 3)
    before = value.copy()
    outs = [
        T.set_subtensor(x[0], 9.0),
        T.inc_subtensor(x[:, ::-1], 1.0),
        T.set_subtensor(x[[1, 1]], 5.0),
        T.inc_subtensor(x[x > 2], 1.0),
        T.inc_subtensor(x[[0, 1], [2, 2]], 1.0),
    ]
    got = run(outs, [x], [value])
    np.testing.assert_array_equal(value, before)
    np.testing.assert_array_equal(got[0], [[9, 9, 9], [3, 4, 5]])
    np.testing.assert_array_equal(got[1], value + 1)
    np.testing.assert_array_equal(got[2], [[0, 1, 2], [5, 5, 5]])
    np.testing.assert_array_equal(got[3], np.where(value > 2, value + 1, value))
    np.testing.assert_array_equal(got[4], [[0, 1, 3], [3, 4, 6]])
    assert [type(o.owner.op) for o in outs] == [
        IncSubtensor,
        IncSubtensor,
        AdvancedIncSubtensor1,
        AdvancedIncSubtensor,
        AdvancedIncSubtensor,
    ]


def test_shared_variable_value_is_not_modified():
    w = sg.shared(np.zeros(3), name="w")
    f = sg.function([], T.inc_subtensor(w[[0, 0]], 1.0), backend="python")
    np.testing.assert_array_equal(f(), [2, 0, 0])
    np.testing.assert_array_equal(w.get_value(), [0, 0, 0])


def test_subtensor_output_does_not_alias_the_input():
    x = T.vector("x")
    value = np.arange(4.0)
    out = run(x[1:], [x], [value])
    out[0] = 100
    assert value[1] == 1


def test_inc_subtensor_repeated_indices_accumulate_like_add_at():
    x, y = T.vector("x"), T.vector("y")
    idx = [0, 3, 0, 0, -1]
    y_value = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    got = run(T.inc_subtensor(x[idx], y), [x, y], [np.zeros(4), y_value])
    want = np.zeros(4)
    np.add.at(want, idx, y_value)
    np.testing.assert_array_equal(got, want)


def test_set_subtensor_broadcasts_y_and_casts_weak_constants():
    x = T.fmatrix("x")
    out = T.set_subtensor(x[:, 1:], T.frow("r"))
    assert out.dtype == "float32"
    got = ev(T.set_subtensor(x[1], 2), {x: np.zeros((2, 2), "float32")})
    assert got.dtype == np.float32 and got.tolist() == [[0, 0], [2, 2]]
    d = T.dvector("d")  # float64 into float32: same kind, cast
    assert T.set_subtensor(x[0], d).dtype == "float32"
    i = T.ivector("i")  # int into float: fine
    assert T.inc_subtensor(x[0], i).dtype == "float32"


def test_indexing_a_shape():
    x = T.tensor("x", shape=(None, 3, 4))
    assert isinstance(x.shape[1], Constant) and int(x.shape[1].data) == 3
    assert (
        isinstance(x.shape[0].owner.op, Shape_i)
        and x.shape[-3].owner.op == x.shape[0].owner.op
    )
    tail = x.shape[1:]
    assert tail.type.shape == (2,)
    np.testing.assert_array_equal(run(tail, [x], [np.zeros((2, 3, 4))]), [3, 4])
    if hasattr(T, "reshape"):
        flat = x.reshape((x.shape[0], -1))
        assert run(flat, [x], [np.zeros((2, 3, 4))]).shape == (2, 12)


def test_take():
    m = T.matrix("m")
    value = np.arange(12.0).reshape(3, 4)
    for indices, axis in [([2, 0], 1), ([[2], [0]], -2), (1, 1), ((0, 0), 0)]:
        got = ev(T.take(m, indices, axis=axis), {m: value})
        np.testing.assert_array_equal(got, np.take(value, indices, axis=axis))
    i = T.lvector("i")
    got = run(T.take(m, i, axis=0), [m, i], [value, [2, 2]])
    np.testing.assert_array_equal(got, value[[2, 2]])
    if hasattr(T, "flatten"):
        got = ev(T.take(m, [5, 0]), {m: value})
        np.testing.assert_array_equal(got, np.take(value, [5, 0]))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.take(m, [0], axis=2)
    with pytest.raises(NotImplementedError, match="mode='clip'"):
        T.take(m, [0], axis=0, mode="clip")


def test_op_names():
    x = T.tensor3("x")
    i = T.lscalar("i")
    assert str(x[1:i, ::-1, None].owner.op) == "Subtensor{1:?, ::-1, newaxis}"
    assert str(x[[0], ..., i].owner.op) == "AdvancedSubtensor{[?], ..., ?}"
    assert str(T.set_subtensor(x[0], 1.0).owner.op) == "SetSubtensor{0}"
    assert str(T.inc_subtensor(x[[0]], 1.0).owner.op) == "AdvancedIncSubtensor1"
    assert str(T.set_subtensor(x[[0]], 1.0).owner.op) == "AdvancedSetSubtensor1"


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "index,error,match",
    [
        ((0, 0, 0, 0), IndexError, "too many indices.*'x'"),
        ((Ellipsis, 0, Ellipsis), IndexError, "single ellipsis"),
        (0.5, IndexError, "float"),
        (np.array([0.5]), IndexError, "float64"),
        ("a", IndexError, "str"),
        (slice(0.5, None), IndexError, "slice bound"),
        (slice(None, None, 0), ValueError, "step cannot be zero"),
        ((0, 4), IndexError, "index 4 is out of bounds for axis 1 with size 4"),
        ((-4,), IndexError, "index -4 is out of bounds for axis 0"),
        (([0, 3],), IndexError, "index 3 is out of bounds"),
        ((np.ones(2, bool),), IndexError, "boolean index did not match"),
        (([0, 1], [0, 1, 2]), IndexError, "could not be broadcast"),
        (([[0, 1, 2]], np.ones((4, 5), bool)), IndexError, "could not be broadcast"),
    ],
    ids=repr,
)
def test_build_time_errors(index, error, match):
    x = T.tensor("x", shape=(3, 4, 5))
    with pytest.raises(error, match=match):
        x[index]


def test_build_time_errors_of_symbolic_indices():
    x = T.matrix("x")
    with pytest.raises(IndexError, match="dtype float64; cast it"):
        x[T.scalar("f")]
    with pytest.raises(IndexError, match="float"):
        x[T.vector("v")]
    with pytest.raises(IndexError, match="too many indices"):
        x[T.tensor("m", dtype="bool", shape=(None, None, None))]


def test_set_subtensor_build_time_errors():
    x = T.tensor("x", shape=(3, 4))
    with pytest.raises(ValueError, match="cannot broadcast.*shape \\(2, 4\\)"):
        T.set_subtensor(x[1:], np.ones(3))
    with pytest.raises(ValueError, match="cannot broadcast"):
        T.inc_subtensor(x[[0, 1]], T.tensor("y", shape=(2, 3)))
    with pytest.raises(ValueError, match="cannot broadcast"):
        T.set_subtensor(x[0], T.matrix("y"))
    with pytest.raises(TypeError, match="kind of number.*astype"):
        T.set_subtensor(T.imatrix("k")[0], T.vector("v"))
    with pytest.raises(TypeError, match="kind of number"):
        T.set_subtensor(T.imatrix("k")[0], 1.5)
    with pytest.raises(TypeError, match="result of indexing"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError, match="result of indexing"):
        T.inc_subtensor(x + 1, 1.0)


def test_run_time_index_errors_name_the_input_and_line():
    x = T.matrix("x")
    i = T.lscalar("i")
    v = T.lvector("v")
    m = T.tensor("m", dtype="bool", shape=(None,))
    value = np.zeros((3, 4))
    cases = [
        (x[i], [i], [3], "index 3 is out of bounds for axis 0 with size 3"),
        (x[:, i], [i], [-5], "index -5 is out of bounds for axis 1 with size 4"),
        (x[v], [v], [[0, 7]], "index 7 is out of bounds"),
        (x[1:, v], [v], [[0, -9]], "index -9 is out of bounds"),
        (x[m], [m], [[True, False]], "boolean index did not match"),
        (T.inc_subtensor(x[v], 1.0), [v], [[3]], "out of bounds"),
        (T.set_subtensor(x[i, 1:], 1.0), [i], [5], "out of bounds"),
        (T.inc_subtensor(x[m, 0], 1.0), [m], [[True]], "boolean index"),
    ]
    for out, ins, vals, match in cases:
        f = sg.function([x, *ins], out, backend="python")
        with pytest.raises(IndexError, match=match) as info:
            f(value, *vals)
        text = str(info.value)
        assert "'x' (built at test_subtensor.py" in text, text
        assert (
            "while computing" in text
            and "test_subtensor.py" in text.split("while computing")[1]
        )


def test_run_time_shape_errors():
    x = T.matrix("x")
    y = T.vector("y")
    value = np.zeros((3, 4))
    f = sg.function([x, y], T.set_subtensor(x[0], y), backend="python")
    with pytest.raises(
        ValueError, match="'y'.*shape \\(3,\\).*region of shape \\(4,\\)"
    ):
        f(value, np.ones(3))
    with pytest.raises(ValueError, match="static size 1"):
        f(value, np.ones(1))  # y's static shape is (?,): no silent broadcast
    f = sg.function([x, y], T.inc_subtensor(x[[0, 0]], y), backend="python")
    with pytest.raises(ValueError, match="region of shape \\(2, 4\\)"):
        f(value, np.ones(3))
    step = T.lscalar("s")
    with pytest.raises(ValueError, match="step cannot be zero.*'x'"):
        sg.function([x, step], x[::step], backend="python")(value, 0)
    i, j = T.lvectors("i", "j")
    with pytest.raises(IndexError, match="static size 1"):
        sg.function([x, i, j], x[i, j], backend="python")(value, [0], [0, 1])


# --------------------------------------------------------------- gradients

GRAD_CASES = {
    "basic": lambda x: x[1:, ::-2] * 3,
    "int_newaxis": lambda x: x[-1, None, ::-1],
    "repeated_gather": lambda x: x[[0, 2, 0, 0]],
    "mixed": lambda x: x[[2, 0, 2], 1::2],
    "non_adjacent_3d": lambda x: x.dimshuffle(0, 1, "x")[[0, 1], :, [0, 0]],
    "broadcast_arrays": lambda x: x[[[0], [2]], [1, 1, 3]],
    "bool_mask": lambda x: x[x > 0] ** 2,
    "set_basic": lambda x: T.set_subtensor(x[1:, 1], x[0, :2] * 2),
    "inc_repeated": lambda x: T.inc_subtensor(x[[1, 1, 0]], x[:, ::-1][[0, 1, 2]] ** 2),
    "set_mask": lambda x: T.set_subtensor(x[x < 0], 0.0) * x,
    "inc_mask_scalar": lambda x: T.inc_subtensor(x[x > 0], x[0, 0]),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradients(name):
    value = np.random.default_rng(1).uniform(-2, 2, size=(3, 4))
    value[np.abs(value) < 0.1] = 0.5  # keep the masks away from their edges
    sg.verify_grad(GRAD_CASES[name], [value])


def test_gradients_with_respect_to_y_and_x_separately():
    idx = ([0, 0, 2], [1, 1, 3])

    def inc(x, y):
        return T.inc_subtensor(x[idx], y)

    def set_(x, y):
        return T.set_subtensor(x[::-1, 1:][[0, 2]], y) * x[::-1, 1:][[0, 2]].sum()

    x_value = RNG.standard_normal((3, 4))
    sg.verify_grad(inc, [x_value, RNG.standard_normal(3)])
    sg.verify_grad(inc, [x_value, RNG.standard_normal(())])
    sg.verify_grad(set_, [x_value, RNG.standard_normal((2, 3))])
    # gz[idx] summed over repeated positions and over y's broadcast axes
    x, y = T.matrix("x"), T.row("y")
    g = sg.grad(T.inc_subtensor(x[[1, 1, 0]], y).sum(), y)
    np.testing.assert_array_equal(
        run(g, [x, y], [np.zeros((2, 4)), np.zeros((1, 4))]), np.full((1, 4), 3.0)
    )
    gx = sg.grad((T.set_subtensor(x[:, 0], 1.0) * 2).sum(), x)
    np.testing.assert_array_equal(run(gx, [x], [np.zeros((2, 2))]), [[0, 2], [0, 2]])


def test_index_inputs_are_disconnected():
    x = T.vector("x")
    i = T.lscalar("i")
    out = x[i:]
    assert out.owner.op.connection_pattern(out.owner) == [[True], [False]]
    grads = out.owner.op.L_op(out.owner.inputs, out.owner.outputs, [T.vector("g")])
    assert isinstance(grads[1].type, sg.gradient.DisconnectedType)
    y = T.lvector("v")
    inc = T.inc_subtensor(x[y], 1.0)
    assert inc.owner.op.connection_pattern(inc.owner) == [[True], [True], [False]]


def test_integer_tensors_get_zero_gradient():
    x = T.vector("x")
    k = T.cast(x, "int64")
    cost = T.cast(T.set_subtensor(k[0], 3), "float64").sum() + x.sum()
    np.testing.assert_array_equal(run(sg.grad(cost, x), [x], [np.ones(2)]), [1, 1])


def test_infer_shape_of_boolean_index_uses_the_count():
    x = T.matrix("x")
    m = T.tensor("m", dtype="bool", shape=(None, None))
    out = x[m]
    dims = out.owner.op.infer_shape(
        None, out.owner, [shape_tuple(v) for v in out.owner.inputs]
    )[0]
    mask = RNG.standard_normal((3, 4)) > 0
    assert int(run(dims[0], [m], [mask])) == int(mask.sum())


def test_inc_ops_infer_shape_and_r_op():
    x = T.matrix("x")
    out = T.inc_subtensor(x[[0]], 1.0)
    assert out.owner.op.infer_shape(None, out.owner, [("a", "b"), (), (1,)]) == [
        ("a", "b")
    ]
    sub = x[1:]
    e = T.matrix("e")
    (r,) = sub.owner.op.R_op(sub.owner.inputs, [e])
    np.testing.assert_array_equal(run(r, [e], [np.ones((3, 2))]), np.ones((2, 2)))


def test_advanced_subtensor1_rejects_other_indices():
    op = AdvancedSubtensor1()
    with pytest.raises(TypeError, match="integer vector"):
        op(T.matrix("x"), T.lmatrix("i"))
    with pytest.raises(ValueError):
        AdvancedSubtensor1((0,))
    assert AdvancedIncSubtensor1(True).set_instead_of_inc
    with pytest.raises(TypeError, match="advanced indexing op"):
        Subtensor(
            AdvancedSubtensor((None,)).idx_list + (AdvancedSubtensor1().idx_list[0],)
        )(T.vector("x"), T.lvector("i"))
