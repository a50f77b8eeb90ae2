"""fastnn draws each epoch's permutation exactly as scikit-learn does."""

import numpy as np
import pytest
from sklearn.utils import check_random_state, shuffle

from fastnn._engine import _shuffled


@pytest.mark.parametrize("n", [1, 2, 10, 1000])
def test_shuffled_draws_the_same_permutations_as_sklearns_shuffle(n):
    ours, theirs = check_random_state(42), check_random_state(42)
    a = b = np.arange(n, dtype=np.int64)
    for _ in range(5):  # successive epochs compose permutations, as in sklearn's loop
        a = _shuffled(a, ours)
        b = shuffle(b, random_state=theirs)
        assert np.array_equal(a, b)
        assert a.dtype == b.dtype
    assert ours.randint(1 << 30) == theirs.randint(1 << 30)  # same state afterwards
