"""Metrics accumulated as the run goes agree with the exact computation from the whole tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import citysim
from citysim.cli import main
from citysim.metrics import compute_metrics
from citysim.metrics.bins import RESOLUTION, BinnedSurvival, TimeBins, binned_quantiles
from citysim.metrics.survival import kaplan_meier

from .conftest import SMALL, town

TIME_KEYS = ("median", "p90", "p95", "median_h", "p90_h", "rmean_h", "median_resolve_min")
"""Leaves that are times read off binned curves: within the bins' 1%."""

SHARE_TOLERANCE = 0.002
"""Shares read off binned Kaplan-Meier curves at a bin edge: censorings counted after the bin's events."""


def _leaves(a, b, path=""):
    if isinstance(b, dict):
        assert isinstance(a, dict) and set(a) == set(b), (path, set(a or {}) ^ set(b))
        for k in b:
            yield from _leaves(a[k], b[k], f"{path}.{k}")
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _leaves(x, y, f"{path}[{i}]")
    else:
        yield path, a, b


def assert_agree(streamed: dict, exact: dict) -> int:
    """Every figure agrees: times within 1% (0.01 min below 1 min), shares within 0.002, the rest exactly."""
    compared = 0
    for path, a, b in _leaves(streamed, exact):
        compared += 1
        if b is None or isinstance(b, str | bool):
            assert a == b, path
        elif path.rsplit(".", 1)[-1].endswith(TIME_KEYS):
            assert a == pytest.approx(b, rel=RESOLUTION, abs=0.01), path
        elif path.startswith((".survival", ".headline", ".targets.resolution", ".inclusion", ".coverage.detected")):
            assert a == pytest.approx(b, rel=1e-9, abs=SHARE_TOLERANCE), path
        else:
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    return compared


@pytest.mark.parametrize(
    ("days", "window"),
    [(7, {}), (4, {"warmup_days": 0, "follow_up_days": 0})],
    ids=["with-follow-up", "open-cases-censored"],
)
def test_streamed_metrics_agree_with_the_exact_ones(days, window):
    run = citysim.simulate(SMALL, regime="fragmented", seed=5, days=days, **window)
    exact = {"run": run.metrics["run"], **compute_metrics(run.tables, run.window, run.scenario, regime=run.regime)}
    assert assert_agree(run.metrics, exact) > 1000


def test_streamed_metrics_agree_on_a_busier_town_under_integrated(small_dict):
    busy = town(small_dict, 6.0)
    run = citysim.simulate(busy, regime="integrated", seed=2, days=3, warmup_days=2, follow_up_days=2)
    exact = {"run": run.metrics["run"], **compute_metrics(run.tables, run.window, run.scenario, regime=run.regime)}
    assert run.metrics["counts"]["incidents"] > 2000
    assert_agree(run.metrics, exact)


def test_a_run_without_tables_has_the_same_metrics(tmp_path):
    kept = citysim.simulate(SMALL, seed=4, days=3)
    bare = citysim.simulate(SMALL, seed=4, days=3, keep_tables=False)
    assert bare.metrics == kept.metrics
    with pytest.raises(ValueError, match="kept no tables"):
        bare.incidents  # noqa: B018


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
def test_the_streams_kernels_give_numpys_metrics_to_the_last_bit(monkeypatch, small_dict):
    from citysim.metrics import calls, incident_pass, response, stream

    busy = town(small_dict, 4.0)
    compiled = citysim.simulate(busy, regime="fragmented", seed=6, days=3, keep_tables=False)
    assert stream.incident_pass is not incident_pass._incident_pass_numpy  # numba's, where installed
    assert response._stage_parts_kernel is not None
    monkeypatch.setattr(stream, "incident_pass", incident_pass._incident_pass_numpy)
    for module, name in ((stream, "_add_rows"), (stream, "_cost_tally"), (calls, "_count_calls")):
        monkeypatch.setattr(module, name, getattr(module, f"{name}_numpy"))
    monkeypatch.setattr(response, "_stage_parts_kernel", None)
    in_numpy = citysim.simulate(busy, regime="fragmented", seed=6, days=3, keep_tables=False)
    assert compiled.metrics["decomposition"]["overall"]["n"] > 100
    assert json.dumps(compiled.metrics, sort_keys=True) == json.dumps(in_numpy.metrics, sort_keys=True)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
def test_the_streams_kernels_add_what_their_numpy_twins_add_to_the_last_bit(monkeypatch, small_dict):
    """A run's writes replayed into a stream counting with the kernels and one counting in numpy: every array
    they keep is the same, bit for bit (sums added in the same order)."""
    from citysim.metrics import calls, chunk, incident_pass, stream

    writes = []
    write = stream.MetricsStream.write
    monkeypatch.setattr(stream.MetricsStream, "write", lambda s, name, data: writes.append((name, data)))
    run = citysim.simulate(town(small_dict, 4.0), regime="fragmented", seed=6, days=3, keep_tables=False)
    monkeypatch.setattr(stream.MetricsStream, "write", write)
    twins = {
        (stream, "incident_pass"): incident_pass._incident_pass_numpy,
        (calls, "_count_calls"): calls._count_calls_numpy,
        (stream, "_add_rows"): stream._add_rows_numpy,
        (stream, "_cost_tally"): stream._cost_tally_numpy,
        (chunk, "_look_up"): chunk._look_up_numpy,
    }
    assert all(getattr(module, name) is not twin for (module, name), twin in twins.items())  # numba's
    kept = []
    for numpy_twins in (False, True):
        for (module, name), twin in twins.items() if numpy_twins else ():
            monkeypatch.setattr(module, name, twin)
        s = stream.MetricsStream.for_scenario(run.scenario, run.window)
        for name, data in writes:
            s.write(name, data)
        s.close()
        km = [s.km[clock][part] for clock in stream.CLOCKS for part in ("events", "censored", "never")]
        firsts = list(s.first_start.values())
        per_group = [s.incidents, s.gave_up, *s.hist.values(), *s.sums.values(), s.decomposition]
        opened = [a for o in s.open_short for a in o]
        kept.append([s.calls.counts, *km, *firsts, *per_group, s.unmet_cell, *opened, np.array(list(s.tally.values()))])
    compiled, in_numpy = kept
    assert sum(1 for name, _ in writes if name == "incidents") >= 3
    assert compiled[0][0, [0, 1, 3]].min() > 0  # calls, answered, phone items
    assert compiled[1].sum() > 1000 and compiled[2].sum() > 10  # resolutions and censorings counted
    assert compiled[-1].min() > 0  # every cost sum (items, calls, hang-ups, transfers, reopenings ...) counted
    assert len(compiled) == len(in_numpy) > 25  # and open cases weighed later
    for a, b in zip(compiled, in_numpy, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_citysim_metrics_recomputes_a_run_folder(tmp_path):
    out = tmp_path / "run"
    done = CliRunner().invoke(main, ["run", str(SMALL), "--days", "3", "--quiet", "--no-figures", "--out", str(out)])
    assert done.exit_code == 0, done.output
    written = json.loads((out / "metrics.json").read_text())
    (out / "metrics.json").unlink()
    again = CliRunner().invoke(main, ["metrics", str(out)])
    assert again.exit_code == 0, again.output
    assert json.loads((out / "metrics.json").read_text()) == written


def test_citysim_metrics_refuses_a_folder_that_is_not_a_run(tmp_path):
    done = CliRunner().invoke(main, ["metrics", str(tmp_path)])
    assert done.exit_code == 2
    assert "is not a run folder (citysim run writes one): no run.toml, incidents.parquet" in done.output


def test_bins_hold_each_time_exactly_where_they_say():
    bins = TimeBins([1440.0, 4320.0, 30.0])
    x = np.concatenate([np.random.default_rng(1).lognormal(4, 3, 100_000), [0.0, 0.01, 1440.0, 4320.0, 3e7]])
    idx = bins.index(x)
    assert (idx == np.searchsorted(bins.edges, x, side="left")).all()
    finite = bins.edges[1:-1]
    assert np.all(finite[1:] / finite[:-1] <= 1 + RESOLUTION + 1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_binned_kaplan_meier_reads_within_the_resolution(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    duration = rng.lognormal(5, 2, n)
    followed = rng.uniform(0, 3e4, n)
    observed = duration <= followed
    time = np.where(observed, duration, followed)
    exact = kaplan_meier(time, observed, followed=float(followed.max()))
    bins = TimeBins([60.0, 1440.0])
    ev, ce = bins.count(time[observed], None)[0], bins.count(time[~observed], None)[0]
    binned = BinnedSurvival(bins.edges, ev, ce, 0, float(followed.max()))
    for p in (0.1, 0.5, 0.7):
        assert binned.quantile(p) == pytest.approx(exact.quantile(p), rel=RESOLUTION)
    for t in (60.0, 1440.0):
        assert binned.share_within(t) == pytest.approx(exact.share_within(t), abs=SHARE_TOLERANCE)
    assert binned.restricted_mean(1440.0) == pytest.approx(exact.restricted_mean(1440.0), rel=RESOLUTION)
    x = duration[:301]
    q = binned_quantiles(bins.edges, bins.count(x, None)[0], (0.5, 0.9, 0.95))
    assert q == pytest.approx(list(np.percentile(x, [50, 90, 95])), rel=RESOLUTION)


def test_the_figure_of_resolution_times_comes_from_the_stream():
    run = citysim.simulate(SMALL, seed=1, days=2, keep_tables=False)
    curves = run.stream.resolution_curves(max_lines=4)
    assert len(curves) == 4 and curves[-1][0] == "other types"
    assert sum(n for _, n, _, _ in curves) == run.metrics["counts"]["incidents"]
    for _, _, _hours, share in curves:
        assert np.all(np.diff(share) >= -1e-12) and share.max() <= 1.0


def test_figures_are_drawn_without_reading_the_tables(tmp_path):
    run = citysim.simulate(SMALL, seed=1, days=2, keep_tables=False)
    out = run.save(tmp_path / "out")
    assert len(list(Path(out / "figures").glob("*.png"))) == 4
    assert not list(out.glob("*.parquet")) and (out / "metrics.json").exists()
