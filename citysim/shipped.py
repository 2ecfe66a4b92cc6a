"""Files that ship with citysim: scenarios and validation cases, found by name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from citysim.errors import CitysimError

__all__ = ["resolve_scenario_path", "shipped_scenarios", "shipped_validation_dir"]


def _scenario_roots() -> list[Path]:
    """Where shipped scenarios are, first found first: inside the installed package, beside the package
    in a source checkout (an editable install maps the folder there), and ./scenarios."""
    roots = [
        Path(str(resources.files("citysim") / "scenarios")),
        Path(__file__).resolve().parent.parent / "scenarios",
        Path("scenarios"),
    ]
    return [root for root in roots if root.is_dir()]


def shipped_scenarios() -> dict[str, Path]:
    """Scenario files that ship with citysim, by name."""
    found: dict[str, Path] = {}
    for root in _scenario_roots():
        for path in root.glob("*.toml"):
            found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def shipped_validation_dir() -> Path:
    """Folder of the validation scenarios (shipped in the package, beside it, or ./scenarios/validation)."""
    for root in _scenario_roots():
        if (root / "validation").is_dir():
            return root / "validation"
    return Path("scenarios") / "validation"


def resolve_scenario_path(text: str) -> Path:
    """A scenario file path, or the name of a shipped scenario."""
    path = Path(text)
    try:
        given = path.exists() or path.is_symlink()
    except OSError:  # a name too long, a symlink loop ...: the reader says why it cannot be read
        given = True
    if given:
        return path
    shipped = shipped_scenarios()
    if text in shipped:
        return shipped[text]
    names = ", ".join(shipped) or "none found"
    raise CitysimError(f"{text}: no such file, and not a shipped scenario; shipped scenarios: {names}")
