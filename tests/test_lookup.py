"""Small codes looked up in a table give np.isin's answers and a mapping's values."""

import numpy as np
import pytest

from citysim.lookup import mapped, one_of


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int64])
def test_one_of_is_numpys_isin(dtype):
    codes = np.random.default_rng(0).integers(-1, 40, 5000).astype(dtype)  # -1: none; some past every value
    for values in [(1, 2, 3), (0,), (5, 11), (), (30,), range(40)]:
        np.testing.assert_array_equal(one_of(codes, values), np.isin(codes, list(values)))


def test_mapped_gives_the_default_outside_the_mapping():
    codes = np.array([-1, 0, 1, 2, 3, 99])
    np.testing.assert_array_equal(mapped(codes, {1: 10, 3: 30}, default=-5), [-5, -5, 10, -5, 30, -5])
    with pytest.raises(ValueError, match="non-negative"):
        mapped(codes, {-1: 0})
