"""NumPy's errors where there is nothing to compute.

The C loops check each index and each group as they reach it; with an empty
selection or an empty result they never run, and NumPy (the python backend)
still refuses: an out-of-range index into an array with an empty axis, the
maximum of an empty group.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from tests.codegen_c.conftest import assert_same, both, needs_cc

pytestmark = needs_cc

x = T.matrix("x")
i = T.lvector("i")


def _same_outcome(fp, fc, *args):
    """Both backends give the same array, or both raise the same error type."""
    try:
        want = fp(*args)
    except (IndexError, ValueError) as exc:
        with pytest.raises(type(exc)):
            fc(*args)
        return
    assert_same(want, fc(*args))


@pytest.mark.parametrize(
    "build, shape, index",
    [
        (lambda: x[i], (3, 0), [5]),
        (lambda: x[i], (3, 0), [-4]),
        (lambda: x[i], (3, 0), [2, -3]),
        (lambda: x[i], (0, 4), []),
        (lambda: x[:, i], (0, 3), [3]),
        (lambda: x[:, i], (0, 3), [1]),
        (lambda: x[i, 0], (3, 0), [1]),
        (lambda: T.inc_subtensor(x[i], 1.0), (3, 0), [5]),
        (lambda: T.set_subtensor(x[i], 0.0), (0, 0), [0]),
    ],
    ids=[
        "gather-past-end",
        "gather-before-start",
        "gather-in-range",
        "no-indices",
        "columns-past-end",
        "columns-in-range",
        "index-into-empty-axis",
        "inc-past-end",
        "set-into-empty",
    ],
)
def test_indices_are_checked_when_the_selection_is_empty(build, shape, index):
    fp, fc = both([x, i], build())
    _same_outcome(fp, fc, np.zeros(shape), np.array(index, dtype=np.int64))


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0)])
@pytest.mark.parametrize(
    "build",
    [
        lambda: T.max(x, axis=1),
        lambda: T.max(x, axis=0, keepdims=True),
        lambda: T.argmax(x, axis=1),
        lambda: T.argmax(x, axis=0),
        lambda: T.min(x),
    ],
    ids=["max-1", "max-0-keepdims", "argmax-1", "argmax-0", "min-all"],
)
def test_an_empty_group_is_refused_even_when_the_result_is_empty(build, shape):
    fp, fc = both([x], build())
    _same_outcome(fp, fc, np.zeros(shape))
