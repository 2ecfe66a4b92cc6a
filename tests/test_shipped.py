"""Every shipped scenario file runs through ``citysim run`` to the end, with tables that hang together.

Each file (the cities, the small town and every validation case) is run once, for
one day, by ``citysim run`` itself, and the tests share those runs (a session
fixture): a city at full population costs a few seconds and 0.8 GB, so it is not
run again per test. The four presets each run once on a city at full scale (one
preset a city) and all four on the small town.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import citysim
from citysim.cli import main
from citysim.figures import FIGURES
from citysim.regimes import presets
from citysim.report import TABLES

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
CITY_PRESET = {
    "chongqing": "integrated",
    "beijing": "fragmented",
    "shanghai": "tech_only",
    "chengdu": "institution_only",
    "chongqing_storm": "fragmented",
}
"""The preset each city runs under: every preset once at full scale."""

SHIPPED = sorted(SCENARIOS.glob("*.toml")) + sorted((SCENARIOS / "validation").glob("*.toml"))
RUNS = [
    *((f"small@{regime}", SCENARIOS / "small.toml", regime) for regime in presets()),
    *((path.stem, path, CITY_PRESET[path.stem]) for path in SHIPPED if path.stem in CITY_PRESET),
    *((f"validation/{path.stem}", path, None) for path in SHIPPED if path.parent.name == "validation"),
]
CITIES = [key for key, *_ in RUNS if not key.startswith("validation/")]


def test_every_shipped_file_is_run():
    assert {path for _, path, _ in RUNS} == set(SHIPPED)
    assert set(CITY_PRESET.values()) == set(presets())


@dataclass
class Run:
    """What one ``citysim run`` printed and wrote."""

    exit_code: int
    stdout: str
    stderr: str
    out: Path

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.out / f"{name}.parquet")


@pytest.fixture(scope="session")
def shipped_runs(tmp_path_factory) -> dict[str, Run]:
    """Each of :data:`RUNS` through ``citysim run --days 1`` (no warm-up or follow-up), once per test session."""
    root = tmp_path_factory.mktemp("shipped")
    runs = {}
    for key, path, regime in RUNS:
        out = root / key.replace("/", "-").replace("@", "-")
        args = ["run", str(path), "--days", "1", "--warmup-days", "0", "--follow-up-days", "0", "--out", str(out)]
        result = CliRunner().invoke(main, [*args, "--quiet", *(("--regime", regime) if regime else ())])
        runs[key] = Run(result.exit_code, result.stdout, result.stderr, out)
    return runs


@pytest.mark.parametrize("key", [key for key, *_ in RUNS])
def test_runs_to_the_end_and_writes_everything(shipped_runs, key):
    run = shipped_runs[key]
    assert run.exit_code == 0, run.stderr
    assert "error" not in run.stderr.lower(), run.stderr
    written = {p.name for p in run.out.iterdir()} | {f"figures/{p.name}" for p in (run.out / "figures").iterdir()}
    expected = {f"{t}.parquet" for t in TABLES} | {"metrics.json", "run.toml"} | {f"figures/{f}" for f in FIGURES}
    assert expected <= written
    json.loads((run.out / "metrics.json").read_text(encoding="utf-8"))
    assert "outputs in" in run.stdout.splitlines()[-1]


@pytest.mark.parametrize("key", [key for key, *_ in RUNS])
def test_busiest_staff_are_units_not_kinds(shipped_runs, key):
    run = shipped_runs[key]
    line = next(x for x in run.stdout.splitlines() if x.strip().startswith("busiest units (utilisation)"))
    named = [entry.rsplit(" ", 1)[0] for entry in line.split("(utilisation)", 1)[1].strip().split("  ")]
    assert named and set(named) <= set(run.table("units").unit), line


@pytest.mark.parametrize("key", CITIES)
def test_tables_hang_together(shipped_runs, key):
    run = shipped_runs[key]
    i, s = run.table("incidents"), run.table("stages")
    assert len(i) > 0
    assert set(i.status) <= {"resolved", "in_progress", "undetected", "gave_up"}
    assert i.id.is_unique and set(s.incident_id) <= set(i.id)
    seen = i[i.detected_at.notna()]
    assert (seen.detected_at >= seen.occurred_at).all()
    done = i[i.resolved_at.notna()]
    assert (done.resolved_at >= done.detected_at).all()
    util = run.table("units").utilisation.dropna()
    assert ((util >= 0) & (util <= 1 + 1e-9)).all()
    metrics = json.loads((run.out / "metrics.json").read_text(encoding="utf-8"))
    assert np.isfinite(metrics["response"]["overall"]["resolution"]["mean"])


@pytest.mark.parametrize("key", [key for key in CITIES if not key.startswith("small")])
def test_a_city_at_full_population_has_its_volume(shipped_runs, key):
    people = sum(d.population for d in citysim.load_scenario(SCENARIOS / f"{key}.toml").city.districts)
    # at least 0.3 reported items per 1000 residents a day
    assert len(shipped_runs[key].table("incidents")) > 0.0003 * people * 0.9
