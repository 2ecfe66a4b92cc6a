"""Columns handed to Arrow (citysim.events): the same arrays as pyarrow's own conversion makes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from citysim.events import Codes, _table, _with_nulls


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 1000])
def test_floats_with_nan_become_the_arrays_pyarrow_makes(n):
    rng = np.random.default_rng(n)
    for share in (0.0, 0.3, 1.0):
        x = rng.normal(size=2 * n)
        x[rng.random(2 * n) < share] = np.nan
        x[:1] = np.inf if n else x[:1]
        for values in (x, x[::2]):  # contiguous and strided
            mine = _with_nulls(values, np.isnan(values), pa.float64())
            theirs = pa.array(values, type=pa.float64(), from_pandas=True)
            assert mine.equals(theirs) and mine.null_count == theirs.null_count


def test_name_codes_become_the_dictionary_pyarrow_makes_and_out_of_range_codes_are_refused():
    names = ["a", "b", "c"]
    codes = np.array([0, -1, 2, 1, -1, 0, 2, 2, 1], dtype=np.int64)
    mine = Codes(codes, names).arrow()
    theirs = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=codes < 0), pa.array(names))
    assert mine.equals(theirs) and mine.to_pylist() == ["a", None, "c", "b", None, "a", "c", "c", "b"]
    with pytest.raises(ValueError, match="name codes up to 3 for 3 names"):
        Codes(np.array([0, 3]), names).arrow()


def test_a_table_of_rows_keeps_nulls_where_values_are_missing_and_refuses_them_where_never_missing():
    from citysim.events import COLUMNS, NEVER_NULL

    data = {"raised_at": np.array([1.0, 3.0]), "verified_at": [np.nan, 2.0]}  # an array and a list
    cols = {c: data.get(c, np.zeros(2, dtype=np.int64)) for c in COLUMNS["alerts"]}
    for c, (typ, _, _) in COLUMNS["alerts"].items():
        if pa.types.is_dictionary(typ):
            cols[c] = Codes(np.array([0, 0]), ["x"])
        elif pa.types.is_boolean(typ):
            cols[c] = np.array([True, False])
        elif pa.types.is_string(typ):
            cols[c] = np.array(["t1", "f0-1"], dtype=object)
    table = _table("alerts", cols)
    assert table["raised_at"].to_pylist() == [1.0, 3.0]
    assert table["verified_at"].to_pylist() == [None, 2.0]
    assert not table.schema.field("raised_at").nullable and table.schema.field("verified_at").nullable
    assert {f.name for f in table.schema if not f.nullable} == NEVER_NULL["alerts"]
    cols["verified_at"] = np.array([1.0, np.nan])
    cols["outcome"] = Codes(np.array([0, -1]), ["x"])
    assert _table("alerts", {**cols, "outcome": Codes(np.array([0, 0]), ["x"])})["verified_at"].null_count == 1
    with pytest.raises(ValueError, match="alerts.outcome: 1 missing values in a column that always holds one"):
        _table("alerts", cols)
    cols["outcome"], cols["raised_at"] = Codes(np.array([0, 0]), ["x"]), np.array([np.nan, 1.0])
    with pytest.raises(ValueError, match="alerts.raised_at: 1 missing"):
        _table("alerts", cols)
