"""The repository stands alone: the figures its scenarios cite are in it, and nothing points outside it."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "scenarios" / "sources"


def _tracked_text_files() -> list[Path]:
    try:
        names = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / n for n in names if n.endswith((".py", ".md", ".toml", ".txt", ".csv", ".cfg")) or "/" not in n]


@pytest.fixture(scope="module")
def make_city_files():
    spec = importlib.util.spec_from_file_location(
        "make_city_files", ROOT / "scenarios" / "tools" / "make_city_files.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_nothing_tracked_refers_outside_the_repository():
    outside = "/".join(("..", "shared"))  # spelled apart, so this file does not name it
    offenders = []
    for path in _tracked_text_files():
        if path.is_file():
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if outside in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert offenders == []


def test_sourced_figures_ship_with_their_sources():
    with (SOURCES / "city_facts.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["city", "item", "value", "unit", "year", "source"]
    assert len(rows) > 300
    assert all(r["source"].strip() for r in rows), "every figure names its source"
    assert "Where these files came from" in (SOURCES / "README.md").read_text(encoding="utf-8")


def test_city_files_regenerate_byte_identically_from_the_sources(make_city_files):
    assert make_city_files.FACTS == SOURCES / "city_facts.csv"
    facts = make_city_files._facts()
    assert facts is not None
    for city in make_city_files.CITIES:
        text = make_city_files.render(city)
        assert (ROOT / "scenarios" / f"{city.key}.toml").read_bytes() == text.encode("utf-8"), city.key
        assert make_city_files.check_citations(text, facts) == []
