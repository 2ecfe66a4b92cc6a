"""Reference documents generated from the code: scenario fields, levers, output columns.

``python -m citysim.docs`` rewrites ``docs/scenario-reference.md`` and
``docs/output-columns.md``; a test fails when they are out of date, so the
documents cannot drift from the pydantic models they describe.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from citysim.distributions import Deterministic, Exponential, Gamma, Lognormal, Uniform
from citysim.events import COLUMNS, NEVER_NULL
from citysim.regimes import LEVERS, Regime, presets
from citysim.scenario import PerKind, RunRecord, Scenario

__all__ = ["column_dictionary", "scenario_reference", "write_docs"]

_DISTS = (Exponential, Deterministic, Lognormal, Gamma, Uniform)
_STOP_FIELDS = {name for name, f in RunRecord.model_fields.items() if f.default is None}


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        if set(names) == {"distribution"} or all(n == "distribution" for n in names):
            return "distribution"
        out = " or ".join(dict.fromkeys(names))
        return out + (" (optional)" if type(None) in args else "")
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        inner = ", ".join(_type_name(a) for a in args if a is not Ellipsis)
        return f"list of {inner}" if origin is list else f"[{inner}]"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, _DISTS):
        return "distribution"
    if isinstance(annotation, type) and issubclass(annotation, PerKind):
        return "per district kind"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return getattr(annotation, "__name__", str(annotation))


def _number(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return f"{v:,}" if isinstance(v, int) and abs(v) >= 10_000 else str(v)


def _bounds(metadata: list) -> list[str]:
    parts = []
    for m in metadata:
        for attr, sym in (
            ("ge", "≥"),
            ("gt", ">"),
            ("le", "≤"),
            ("lt", "<"),
            ("min_length", "at least"),
            ("max_length", "at most"),
        ):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {_number(v)}" + (" items" if "length" in attr else ""))
    return parts


def _inner_bounds(annotation) -> str:
    """Bounds on each number inside a field: a per-kind table's, or a table of bounded numbers'."""
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, PerKind) and annotation is not PerKind:
        return "each " + ", ".join(_bounds(annotation.model_fields["core"].metadata))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return next((b for b in map(_inner_bounds, args) if b), "")
    if typing.get_origin(annotation) is dict and typing.get_origin(args[1]) is typing.Annotated:
        inner = [b for m in typing.get_args(args[1])[1:] for b in _bounds(getattr(m, "metadata", [m]))]
        return "each " + ", ".join(inner) if inner else ""
    return ""


def _range(field: FieldInfo) -> str:
    parts = _bounds(field.metadata)
    inner = _inner_bounds(field.annotation)
    return ", ".join([*parts, inner] if inner else parts)


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.default if field.default is not PydanticUndefined else field.default_factory()
    if isinstance(value, BaseModel):
        return "`" + ", ".join(f"{k} = {v}" for k, v in value.model_dump().items()) + "`"
    if value in ({}, []):
        return "empty"
    return f"`{value}`"


def _models_in(annotation) -> list[type[BaseModel]]:
    """Models (tables) an annotation may hold, other than distributions and per-kind values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [] if issubclass(annotation, (PerKind, *_DISTS)) else [annotation]
    out = []
    for a in typing.get_args(annotation):
        out.extend(_models_in(a))
    return list(dict.fromkeys(out))


def _rows(model: type[BaseModel], prefix: str, out: list[str], seen: set) -> None:
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        ann = field.annotation
        origin = typing.get_origin(ann)
        key = path
        if origin is dict:
            key = f"{path}.NAME"
        elif origin is list:
            key = f"{path}[]"
        desc = (field.description or "").replace("|", "\\|")
        out.append(f"| `{key}` | {_type_name(ann)} | {_default(field)} | {_range(field)} | {desc} |")
        for sub in _models_in(ann):
            if (sub, key) in seen:
                continue
            seen.add((sub, key))
            sub_prefix = key
            if len(_models_in(ann)) > 1:
                kind = sub.model_fields.get("kind")
                tag = typing.get_args(kind.annotation) if kind is not None else ()
                sub_prefix = f"{key} ({' / '.join(tag)})" if tag else key
            _rows(sub, sub_prefix, out, seen)


def scenario_reference() -> str:
    """Every scenario field: type, default, allowed range and meaning."""
    lines = [
        "# Scenario reference",
        "",
        "Generated from the pydantic models in `citysim/scenario.py` by `python -m citysim.docs`; do not edit.",
        "",
        "Times are minutes unless a field's name gives another unit (`_h` hours, `_km2` km², `_kmh` km/h).",
        "Shares are numbers from 0 to 1. `NAME` stands for a name you choose (a cohort, a department ...).",
        "Every number must be finite (`nan` and `inf` are refused). The upper bounds are generous limits"
        " (`citysim/limits.py`) on what drives memory and time; `citysim check FILE` says how many grid cells,"
        " units and incidents a day a scenario implies, and roughly how much memory and time a run takes.",
        'A scenario may start from another file with `extends = "path/relative/to/this/file.toml"`.',
        "",
        "## Fields",
        "",
        "| field | type | default | allowed | meaning |",
        "|---|---|---|---|---|",
    ]
    _rows(Scenario, "", lines, set())
    lines += [
        "",
        "## Per district kind",
        "",
        "A *per district kind* value is a table with one number for each of `core`, `urban`, `suburban`,"
        " `rural` and `mountain`, e.g. `{ core = 2, urban = 2, suburban = 1, rural = 1, mountain = 1 }`.",
        "",
        "## Distributions",
        "",
        "A *distribution* is a table with a `dist` key (durations in minutes):",
        "",
        "| dist | fields | meaning |",
        "|---|---|---|",
    ]
    for d in _DISTS:
        fields = ", ".join(f"`{n}` ({_range(f)})" for n, f in d.model_fields.items() if n != "dist")
        lines.append(f"| `{d.model_fields['dist'].default}` | {fields} | {(d.__doc__ or '').strip()} |")
    lines += [
        "",
        "## Levers (regimes)",
        "",
        "A regime is a value for every lever; presets ship in `citysim/data/regimes.toml`,"
        ' a scenario may add `[regimes.NAME]` with `based_on = "PRESET"` and the levers it changes,'
        " and `citysim run --set LEVER=VALUE` overrides one.",
        "",
        "| lever | type | allowed | " + " | ".join(presets()) + " | mechanism |",
        "|---|---|---|" + "---|" * len(presets()) + "---|",
    ]
    for lever in LEVERS:
        f = Regime.model_fields[lever]
        vals = " | ".join(f"`{getattr(p, lever)}`" for p in presets().values())
        lines.append(f"| `{lever}` | {_type_name(f.annotation)} | {_range(f)} | {vals} | {f.description} |")
    return "\n".join(lines) + "\n"


def column_dictionary() -> str:
    """Every column of every output table, with its unit and meaning."""
    lines = [
        "# Output columns",
        "",
        "Generated from `citysim/events.py` and `citysim/scenario.py` by `python -m citysim.docs`; do not edit.",
        "",
        "`citysim run` writes each table to `OUT/<table>.parquet`; `citysim.simulate(...)` returns them as",
        "DataFrames (`result.incidents`, `result.stages`, ...). Times are minutes since the run's start;",
        "missing times are null (NaN in pandas). Columns whose type says *never null* always hold a value",
        "(stored as required in the Parquet files).",
        "",
    ]
    for table, cols in COLUMNS.items():
        lines += [f"## {table}", "", "| column | type | unit | meaning |", "|---|---|---|---|"]
        for name, (typ, unit, meaning) in cols.items():
            never = ", *never null*" if name in NEVER_NULL.get(table, ()) else ""
            lines.append(f"| `{name}` | {typ}{never} | {unit} | {meaning} |")
        lines.append("")
    lines += [
        "## run.toml: `[citysim_run]`",
        "",
        "`run.toml` holds the fully resolved `[scenario]` and `[regime]` and, in `[citysim_run]`, how the run",
        "was made: `citysim run OUT/run.toml` reproduces the tables exactly. A run stopped early (SIGINT,",
        "SIGTERM: it stops between days) records the window it measured and, in the fields marked *stopped*,",
        "why and where it stopped and the window asked for; `metrics.json` then opens with the same in its",
        '`run` block (`"complete": false`, `stopped`, `stopped_in`, `simulated_days`, `requested`, `window`:',
        "null if nothing was measured), and the folder of a run stopped in the warm-up holds only `run.toml`",
        "and `metrics.json`.",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
    ]
    for name, f in RunRecord.model_fields.items():
        stopped = "*stopped*: " if name in _STOP_FIELDS else ""
        lines.append(f"| `{name}` | {_type_name(f.annotation)} | {stopped}{f.description} |")
    return "\n".join(lines) + "\n"


def write_docs(directory: str | Path = "docs") -> list[Path]:
    """Write both documents into a directory."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = [d / "scenario-reference.md", d / "output-columns.md"]
    paths[0].write_text(scenario_reference(), encoding="utf-8")
    paths[1].write_text(column_dictionary(), encoding="utf-8")
    return paths


if __name__ == "__main__":
    for p in write_docs(sys.argv[1] if len(sys.argv) > 1 else "docs"):
        print(f"wrote {p}")
