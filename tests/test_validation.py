"""``citysim validate``: quick run passes, and a broken engine is caught."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

import citysim.engine
import citysim.model
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
