"""Many runs over worker processes give the same numbers as one after another."""

from __future__ import annotations

import json
from pathlib import Path

from citysim.experiments import RunSpec, run_many

SMALL = str(Path(__file__).resolve().parents[1] / "scenarios" / "small.toml")


def test_run_many_is_independent_of_the_number_of_workers():
    specs = [RunSpec(SMALL, regime, seed, 3, (), 0, 0) for regime in ("fragmented", "integrated") for seed in (1, 2)]
    here = run_many(specs, workers=0)
    one = run_many(specs, workers=1)
    two = run_many(specs, workers=2)
    assert json.dumps(one, sort_keys=True, default=str) == json.dumps(two, sort_keys=True, default=str)
    assert json.dumps(here, sort_keys=True, default=str) == json.dumps(two, sort_keys=True, default=str)
    assert [m["run"]["seed"] for m in two] == [1, 2, 1, 2]
    assert one[0]["response"] != one[1]["response"]  # different seeds, different runs
