"""The generated reference documents are up to date with the code."""

from __future__ import annotations

from pathlib import Path

from citysim.docs import column_dictionary, scenario_reference

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_scenario_reference_is_current():
    assert (DOCS / "scenario-reference.md").read_text(encoding="utf-8") == scenario_reference(), (
        "run: python -m citysim.docs"
    )


def test_column_dictionary_is_current():
    assert (DOCS / "output-columns.md").read_text(encoding="utf-8") == column_dictionary(), (
        "run: python -m citysim.docs"
    )


def test_every_lever_and_output_column_is_documented():
    ref = scenario_reference()
    for lever in ("intake", "sensor_fusion", "paperwork_share", "staff_digital_skill"):
        assert f"| `{lever}` |" in ref
    cols = column_dictionary()
    for col in ("detected_by", "harmed_at", "busy_field_min", "patrol_cycle_min"):
        assert f"| `{col}` |" in cols
