"""Files that ship with citysim: scenarios and validation cases, found by name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from citysim.errors import CitysimError

__all__ = ["resolve_scenario_path", "shipped_scenarios", "shipped_validation_dir"]


def shipped_scenarios() -> dict[str, Path]:
    """Scenario files that ship with citysim, by name."""
    root = resources.files("citysim") / "scenarios"
    found = {}
    try:
        for entry in root.iterdir():
            if entry.name.endswith(".toml"):
                found[entry.name[:-5]] = Path(str(entry))
    except (FileNotFoundError, NotADirectoryError):
        pass
    local = Path("scenarios")
    if local.is_dir():
        for path in local.glob("*.toml"):
            found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def shipped_validation_dir() -> Path:
    """Folder of the validation scenarios (shipped in the package, or ./scenarios/validation)."""
    packaged = Path(str(resources.files("citysim") / "scenarios" / "validation"))
    return packaged if packaged.is_dir() else Path("scenarios") / "validation"


def resolve_scenario_path(text: str) -> Path:
    """A scenario file path, or the name of a shipped scenario."""
    path = Path(text)
    if path.exists():
        return path
    shipped = shipped_scenarios()
    if text in shipped:
        return shipped[text]
    names = ", ".join(shipped) or "none found"
    raise CitysimError(f"{text}: no such file, and not a shipped scenario; shipped scenarios: {names}")
