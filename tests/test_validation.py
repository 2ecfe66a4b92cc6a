"""``citysim validate``: quick run passes, and a broken engine is caught."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

import citysim.batch
import citysim.engine
import citysim.model
import citysim.processes.plan
import citysim.validate
from citysim.distributions import Exponential
from citysim.validate import CASES, Case, run_validation, theory_of


def case(name: str, checks: tuple[str, ...], days: float) -> Case:
    return Case(name, {"quick": checks}, {"quick": days})


def check(report: dict, text: str) -> dict:
    return next(c for c in report["checks"] if text in c["quantity"])


def test_citysim_validate_quick_passes(tmp_path):
    """What CI runs: ``citysim validate --quick`` exits 0 and writes its report."""
    import json

    from click.testing import CliRunner

    from citysim.cli import main

    result = CliRunner().invoke(main, ["validate", "--quick", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "validation.json").read_text())
    failed = [c for c in report["checks"] if not c["pass"]]
    assert failed == [] and result.exit_code == 0, result.output
    assert (tmp_path / "validation.png").is_file()
    assert report["checks_count"] >= 30
    assert report["per_check_confidence"] == pytest.approx(1 - 0.01 / report["checks_count"])


def test_theory_is_read_from_the_scenario_file():
    from pathlib import Path

    from citysim.scenario import load_scenario

    root = Path(__file__).resolve().parents[1] / "scenarios" / "validation"
    (node,) = theory_of(load_scenario(root / "mm5_rho80.toml"))["nodes"]
    assert node.servers == 5 and node.lam == pytest.approx(10.0)
    assert node.theory["p_wait"] == pytest.approx(0.5541, abs=1e-4)
    jack = theory_of(load_scenario(root / "jackson.toml"))["nodes"]
    assert [round(n.lam, 3) for n in jack] == [7.152, 5.146, 3.744]
    assert {c.name for c in CASES} == {p.stem for p in root.glob("*.toml")} - {"common"}


class LifoDeque(deque):
    """A queue that serves the last arrival first."""

    def popleft(self):
        return self.pop()


def test_serving_the_queue_lifo_is_caught_by_the_waiting_time_distribution(monkeypatch):
    monkeypatch.setenv("CITYSIM_ENGINE", "python")  # the engine whose queue we break
    mm1 = case("mm1_rho80", ("wq", "gof"), 8)
    fifo = run_validation("quick", cases=(mm1,), workers=1)
    monkeypatch.setattr(citysim.engine, "deque", LifoDeque)
    lifo = run_validation("quick", cases=(mm1,), workers=1)
    assert check(fifo, "distribution")["pass"]
    assert not check(lifo, "distribution")["pass"]
    assert check(lifo, "distribution")["simulated"] < 1e-6  # rejected outright
    assert not lifo["passed"]


def test_silently_dropping_one_staff_member_is_caught(monkeypatch):
    mm5 = case("mm5_rho50", ("w", "l"), 4)
    build = citysim.model.build_units

    def one_short(scenario, city, regime):
        units = build(scenario, city, regime)
        units.servers_by_hour[units.team[0, 0]] -= 1
        return units

    assert run_validation("quick", cases=(mm5,), workers=1)["passed"]
    monkeypatch.setattr(citysim.model, "build_units", one_short)
    report = run_validation("quick", cases=(mm5,), workers=1)
    assert not report["passed"]
    assert check(report, "time in system")["simulated"] > 1.05 * check(report, "time in system")["theory"]


def test_swapping_a_rate_for_a_mean_is_caught(monkeypatch):
    mm1 = case("mm1_rho50", ("w",), 2)
    monkeypatch.setattr(Exponential, "_ppf", staticmethod(lambda u, mean: -np.log1p(-u) / mean))
    report = run_validation("quick", cases=(mm1,), workers=1)
    assert not report["passed"]


# --- how calls and cases queue: small runs (4 replications, 3 days) of the full-run cases, theory vs sabotage


def small_run(monkeypatch, name: str, checks: tuple[str, ...]) -> dict:
    monkeypatch.setitem(citysim.validate.REPLICATIONS, "quick", 4)
    return run_validation("quick", cases=(case(name, checks, 3),), workers=1)


def close_to_theory(row: dict) -> bool:
    return "outside" not in row["note"] and row["rel_error"] < 0.1


class BatchWithout(citysim.batch.Batch):
    """A batch whose plans lose one field (``patience`` or ``prio``): the engine never sees it."""

    drop = ""

    def __init__(self, *args, **kwargs):
        kwargs[self.drop] = None
        super().__init__(*args, **kwargs)


def test_erlang_a_callers_abandon_as_theory_says_and_never_abandoning_is_caught(monkeypatch):
    ok = small_run(monkeypatch, "erlang_a", ("p_abandon", "wq_all"))
    assert close_to_theory(check(ok, "hang up")) and close_to_theory(check(ok, "all callers"))
    monkeypatch.setattr(BatchWithout, "drop", "patience")
    monkeypatch.setattr(citysim.processes.plan, "Batch", BatchWithout)
    never = small_run(monkeypatch, "erlang_a", ("p_abandon", "wq_all"))
    assert check(never, "hang up")["simulated"] == 0 and not never["passed"]
    assert check(never, "all callers")["simulated"] > 2 * check(never, "all callers")["theory"]  # an endless queue


def test_priority_classes_wait_as_cobham_says_and_serving_in_arrival_order_is_caught(monkeypatch):
    ok = small_run(monkeypatch, "priority_mm5", ("wq",))
    assert all(close_to_theory(check(ok, f"class {k}")) for k in range(3))
    monkeypatch.setattr(BatchWithout, "drop", "prio")
    monkeypatch.setattr(citysim.processes.plan, "Batch", BatchWithout)
    fifo = small_run(monkeypatch, "priority_mm5", ("wq",))
    urgent, routine = check(fifo, "class 0"), check(fifo, "class 2")
    assert not fifo["passed"]
    assert urgent["simulated"] > 2 * urgent["theory"] and routine["simulated"] < 0.7 * routine["theory"]


def test_theory_of_the_queueing_cases():
    from pathlib import Path

    from citysim.scenario import load_scenario
    from citysim.theory import cobham, erlang_a, mmc

    root = Path(__file__).resolve().parents[1] / "scenarios" / "validation"
    (line,) = theory_of(load_scenario(root / "erlang_a.toml"))["nodes"]
    assert line.unit == "city_intake" and line.servers == 5 and line.lam == pytest.approx(2.0)
    q = erlang_a(2.0, 0.4, 5, 0.25)
    # the chain obeys Little (Lq = lam Wq) and the abandonment identity (theta Lq = lam P(abandon))
    assert q.lq == pytest.approx(2.0 * q.wq_all) and 0.25 * q.lq == pytest.approx(2.0 * q.p_abandon)
    assert erlang_a(2.0, 0.4, 6, 1e-6).wq_all == pytest.approx(mmc(2.0, 0.4, 6).wq, rel=1e-3)  # patient: Erlang C
    classes = theory_of(load_scenario(root / "priority_mm5.toml"))["nodes"]
    waits = [n.theory["wq"] for n in classes]
    assert waits == sorted(waits) and waits == pytest.approx(cobham([3.0, 3.0, 2.0], 2.5, 5).tolist())
    # work conservation: the classes' mean wait, weighted by arrivals, is the FIFO queue's
    assert np.dot([3, 3, 2], waits) / 8 == pytest.approx(mmc(8.0, 2.5, 5).wq)
