"""What a run writes and shows: the terminal summary, the output folder, the figures.

:func:`write_outputs` fills a run's folder with its tables (Parquet),
``metrics.json``, ``run.toml`` (the fully resolved inputs: ``citysim run
OUT/run.toml`` repeats the run) and four figures; :func:`summary_lines` is the
table ``citysim run`` prints. Figures are drawn on matplotlib's Agg canvas
without pyplot, so this module works without a display.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from citysim.events import COLUMNS
from citysim.metrics.response import COMPONENTS
from citysim.scenario import DISTRICT_KINDS
from citysim.simulation import Result, run_record

__all__ = [
    "FIGURES",
    "TABLES",
    "figure_coverage",
    "figure_decomposition",
    "figure_inclusion",
    "figure_resolution_time",
    "summary_lines",
    "to_toml",
    "write_figures",
    "write_outputs",
]

TABLES = tuple(COLUMNS)
"""Tables written as ``<name>.parquet``."""

FIGURES = ("resolution_time.png", "decomposition.png", "coverage.png", "inclusion.png")
"""Figures written into ``figures/``."""

# ------------------------------------------------------------------ formatting


def _num(x: float | None) -> float:
    return np.nan if x is None else float(x)


def _dur(minutes: float | None) -> str:
    """A duration in readable units: minutes under 1.5 h, hours under 2 days, else days."""
    m = _num(minutes)
    if math.isnan(m):
        return "-"
    if m < 10:
        return f"{m:.1f} min"
    if m < 90:
        return f"{m:.0f} min"
    if m < 2880:
        return f"{m / 60:.1f} h"
    return f"{m / 1440:.1f} d"


def _pct(share: float | None) -> str:
    s = _num(share)
    return "-" if math.isnan(s) else f"{100 * s:.1f}%"


def _fmt(x: object) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3g}"
    return str(x)


def _by_kind(groups: Mapping) -> dict:
    """Groups keyed by district kind in the order core, urban ... mountain."""
    order = {k: i for i, k in enumerate(DISTRICT_KINDS)}
    return dict(sorted(groups.items(), key=lambda kv: order.get(kv[0], len(order))))


def _table(rows: list[list[str]], numeric: bool = True, indent: int = 2) -> list[str]:
    """Rows of cells as aligned lines: the first column left-aligned, the others
    right-aligned when ``numeric``, else left-aligned."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    out = []
    for r in rows:
        cells = [c.rjust(widths[i]) if i and numeric else c.ljust(widths[i]) for i, c in enumerate(r)]
        out.append(" " * indent + "  ".join(cells).rstrip())
    return out


# ------------------------------------------------------------------ summary


def _response_block(m: Mapping) -> list[str]:
    rows = [["Response time (from occurrence)", "n", "mean", "median", "p90", "p95"]]
    for measure, s in m["response"]["overall"].items():
        rows.append(
            [
                f"  {measure}",
                f"{s['count']:,}",
                *(_dur(s[k]) for k in ("mean", "median", "p90", "p95")),
            ]
        )
    lines = _table(rows, indent=0)
    targets = []
    resolution = m["targets"]["resolution"]
    if resolution is not None:
        targets.append(["resolved within its type's target", _pct(resolution["overall"])])
    for name, chain in m["targets"]["chains"].items():
        if chain is not None:
            steps = "  ".join(f"{k} {_pct(v)}" for k, v in chain["steps"].items())
            targets.append([f"{name} (n={chain['n']:,})", f"{steps}  (all {_pct(chain['all'])})"])
    return lines + (["Targets (share meeting them)", *_table(targets, numeric=False)] if targets else [])


def _decomposition_block(m: Mapping) -> list[str]:
    d = m["decomposition"]["overall"]
    parts = [[c, _dur(d[c])] for c in COMPONENTS if (d[c] or 0) > 0]
    return [
        f"Where the time goes (mean per resolved, dispatched incident, n={d['n']:,})",
        *_table([*parts, ["total, occurrence to resolution", _dur(d["total"])]]),
    ]


def _coverage_block(m: Mapping) -> list[str]:
    cov = m["coverage"]
    hz, reach = cov["hazards"]["overall"], cov["population"]["overall"]
    return [
        "Coverage",
        *_table(
            [
                ["incidents detected by the horizon", _pct(cov["detected"]["overall"])],
                [f"hazards detected before harm (n={hz['hazards']:,})", _pct(hz["early_warning"])],
                ["hazards that did not turn into harm", _pct(hz["averted"])],
                ["residents in a cell with a sensor", _pct(reach["sensor"])],
                ["residents in a cell patrolled daily", _pct(reach["daily_patrol"])],
            ]
        ),
    ]


def _inclusion_block(m: Mapping) -> list[str]:
    inc = m["inclusion"]
    rows = [["Inclusion (share of needs met)", "worst", "best", "worst/best"]]
    for what in ("cohort", "district_kind"):
        r = inc["ratio"][what]
        if r["worst"] is not None:
            rows.append(
                [
                    f"  by {what.replace('_', ' ')}",
                    f"{r['worst']} {_pct(r['worst_share'])}",
                    f"{r['best']} {_pct(r['best_share'])}",
                    _fmt(r["ratio"]),
                ]
            )
    by_kind = _by_kind(inc["by_district_kind"])
    kinds = "  ".join(f"{k} {_pct(v['share_met'])}" for k, v in by_kind.items())
    never = "  ".join(f"{k} {_pct(v['never_reported'])}" for k, v in by_kind.items())
    extra = [
        ["needs met by district kind", kinds],
        ["never reported by district kind", never],
        ["Gini of unmet need across cells", _fmt(inc["gini_unmet_need"])],
    ]
    return _table(rows, indent=0) + _table(extra, numeric=False)


def _cost_block(m: Mapping) -> list[str]:
    h, c = m["harm"], m["cost"]
    util = {k: v for k, v in c["utilisation"]["by_kind"].items() if v is not None}
    busiest = sorted(util.items(), key=lambda kv: -kv[1])[:3]
    sc = c["street_centres"]
    rows = [
        [
            "hazards turned to harm",
            f"{h['harmed']:,} ({_fmt(h['per_million_day'])} per million residents per day)",
        ],
        ["transfers per dispatched case", _fmt(c["transfers_per_case"]["dispatched"])],
        ["hand-offs per dispatched case", _fmt(c["handoffs_per_case"])],
        ["detected cases reopened", _pct(c["reopened_share"])],
        ["busiest staff (utilisation)", "  ".join(f"{k} {_pct(v)}" for k, v in busiest)],
        ["grid workers' time", "  ".join(f"{k} {_pct(v)}" for k, v in c["grid_time"].items())],
        [
            f"street centres over 85% busy (of {sc['centres']:,})",
            f"{_pct(sc['overloaded_share'])} (busiest {_pct(sc['max_utilisation'])})",
        ],
    ]
    return ["Harm and cost", *_table(rows, numeric=False)]


def _calibration_block(m: Mapping) -> list[str]:
    cal = m["calibration"]
    rows = [["Calibration", "simulated", "sourced"]]
    for key, label, fmt in (
        ("items_per_resident_year", "hotline items per resident-year", _fmt),
        ("phone_share", "items by phone", _pct),
        ("online_share", "items online (web + app)", _pct),
        ("dispatched_share", "items dispatched", _pct),
    ):
        rows.append([f"  {label}", fmt(cal[key]["simulated"]), fmt(cal[key]["sourced"])])
    return _table(rows, indent=0) + ([f"  source: {cal['source']}"] if cal["source"] else [])


def summary_lines(result: Result) -> list[str]:
    """A compact plain-text summary of a run, one string per line, for the terminal.

    Blocks: the run (scenario, regime, seed, days, incidents); response time
    and targets; where the time goes; coverage; inclusion; harm and cost; the
    simulated hotline beside the sourced figures.
    """
    m = result.metrics
    status = m["counts"]["by_status"]
    header = (
        f"citysim | scenario {result.scenario.name} | regime {result.regime.name} | "
        f"seed {result.seed} | {result.days:g} day{'s' if result.days != 1 else ''} | "
        f"{m['counts']['incidents']:,} incidents "
        f"({status.get('resolved', 0):,} resolved, {status.get('undetected', 0):,} never detected)"
    )
    blocks = (
        _response_block,
        _decomposition_block,
        _coverage_block,
        _inclusion_block,
        _cost_block,
        _calibration_block,
    )
    lines = [header]
    for block in blocks:
        lines += ["", *block(m)]
    return lines


# ------------------------------------------------------------------ TOML

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _toml_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: object) -> str:
    key = str(key)
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_value(v: object, where: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, list | tuple):
        if any(x is None for x in v):
            raise TypeError(f"{where}: TOML has no null, and a list cannot skip an item")
        return "[" + ", ".join(_toml_value(x, where) for x in v) + "]"
    if isinstance(v, Mapping):
        items = (f"{_toml_key(k)} = {_toml_value(x, f'{where}.{k}')}" for k, x in v.items() if x is not None)
        return "{ " + ", ".join(items) + " }"
    raise TypeError(f"{where}: cannot write {type(v).__name__} to TOML")


def _is_table_list(v: object) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(isinstance(x, Mapping) for x in v)


def _toml_table(table: Mapping, path: list[str], lines: list[str]) -> None:
    where = ".".join(path) or "<top>"
    for k, v in table.items():
        if v is not None and not isinstance(v, Mapping) and not _is_table_list(v):
            lines.append(f"{_toml_key(k)} = {_toml_value(v, f'{where}.{k}')}")
    for k, v in table.items():
        sub = [*path, _toml_key(k)]
        if isinstance(v, Mapping):
            lines += ["", f"[{'.'.join(sub)}]"]
            _toml_table(v, sub, lines)
        elif _is_table_list(v):
            for item in v:
                lines += ["", f"[[{'.'.join(sub)}]]"]
                _toml_table(item, sub, lines)


def to_toml(data: Mapping) -> str:
    """Write nested dicts of str, int, float, bool and lists as TOML (``tomllib`` reads it back).

    Dicts become tables, lists of dicts arrays of tables (``[[city.districts]]``),
    None values are left out.

    Raises:
        TypeError: for a value TOML cannot hold, naming its key.
    """
    lines: list[str] = []
    _toml_table(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


# ------------------------------------------------------------------ figures

_MIN_PER_H = 60.0


def _canvas(fig: Figure) -> Figure:
    FigureCanvasAgg(fig)
    return fig


def figure_resolution_time(incidents: pd.DataFrame, max_lines: int = 8) -> Figure:
    """ECDF of resolution time (occurrence to closure, hours, log scale) per incident type.

    The most frequent ``max_lines - 1`` types get a line each, the rest one line ``other types``.
    """
    fig = _canvas(Figure(figsize=(8, 5), layout="constrained"))
    ax = fig.add_subplot()
    took = (incidents["resolved_at"] - incidents["occurred_at"]).to_numpy(dtype=float, na_value=np.nan) / _MIN_PER_H
    ok = took > 0
    types = pd.Series(incidents["type"].to_numpy(dtype=object)[ok])
    took = took[ok]
    top = list(types.value_counts().index[: max_lines - 1])
    groups = [(t, (types == t).to_numpy()) for t in top]
    rest = ~types.isin(top).to_numpy()
    if rest.any():
        groups.append(("other types", rest))
    for name, mask in groups:
        x = np.sort(took[mask])
        ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=f"{name} (n={len(x):,})")
    if not groups:
        ax.text(0.5, 0.5, "no incident resolved", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.set_xscale("log")
        ax.legend(fontsize="small", loc="lower right")
    ax.set_xlabel("time from occurrence to resolution (hours, log scale)")
    ax.set_ylabel("share of resolved incidents")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title("How long until a problem is resolved")
    return fig


def figure_decomposition(metrics: Mapping) -> Figure:
    """Stacked bars of where resolution time goes, per incident type: hours and shares."""
    by_type = metrics["decomposition"]["by_type"]
    frame = pd.DataFrame(
        {f"{t} (n={v['n']:,})": {c: _num(v[c]) for c in COMPONENTS} for t, v in by_type.items()}
    ).T.fillna(0.0)
    frame = frame.reindex(columns=list(COMPONENTS)) / _MIN_PER_H
    frame = frame.loc[frame.sum(axis=1).sort_values().index]
    fig = _canvas(Figure(figsize=(13, 0.45 * max(len(frame), 4) + 1.8), layout="constrained"))
    hours, shares = fig.subplots(1, 2, sharey=True)
    total = frame.sum(axis=1).replace(0, np.nan)
    y = np.arange(len(frame))
    left_h, left_s = np.zeros(len(frame)), np.zeros(len(frame))
    colours = [f"C{i}" for i in range(len(COMPONENTS))]
    for comp, colour in zip(COMPONENTS, colours, strict=True):
        h = frame[comp].to_numpy()
        s = np.nan_to_num(h / total.to_numpy())
        hours.barh(y, h, left=left_h, color=colour, label=comp.replace("_", " "))
        shares.barh(y, s, left=left_s, color=colour)
        left_h, left_s = left_h + h, left_s + s
    hours.set_yticks(y, list(frame.index))
    hours.set_xlabel("mean hours per resolved, dispatched incident")
    hours.set_title("Where the time goes (hours)")
    shares.set_xlabel("share of the parts' sum")
    shares.set_xlim(0, 1)
    shares.set_title("Where the time goes (shares)")
    if len(frame):
        fig.legend(*hours.get_legend_handles_labels(), loc="outside lower center", ncols=len(COMPONENTS))
    else:
        hours.text(0.5, 0.5, "no resolved, dispatched incident", ha="center", transform=hours.transAxes)
    return fig


def _bars(ax, labels: list[str], values: list[float], title: str, xlabel: str) -> None:
    values = [_num(v) for v in values]
    y = np.arange(len(labels))
    ax.barh(y, np.nan_to_num(values), color="C0")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    for yi, v in zip(y, values, strict=True):
        ax.text(np.nan_to_num(v) + 0.01, yi, _pct(v), va="center", fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.3)


def figure_coverage(metrics: Mapping) -> Figure:
    """Bars of the shares detected, warned early, averted and reached by sensors or patrols."""
    cov = metrics["coverage"]
    hz, reach = cov["hazards"]["overall"], cov["population"]["overall"]
    fig = _canvas(Figure(figsize=(8, 3.8), layout="constrained"))
    _bars(
        fig.add_subplot(),
        [
            "incidents detected",
            f"hazards detected before harm (n={_fmt(hz['hazards'])})",
            "hazards averted (no harm)",
            "residents with a sensor in their cell",
            "residents patrolled daily",
        ],
        [
            cov["detected"]["overall"],
            hz["early_warning"],
            hz["averted"],
            reach["sensor"],
            reach["daily_patrol"],
        ],
        "Coverage: what the city learns of, and in time",
        "share (0-1)",
    )
    return fig


def figure_inclusion(metrics: Mapping) -> Figure:
    """Share of needs met per cohort (left) and per district kind (right)."""
    inc = metrics["inclusion"]
    fig = _canvas(Figure(figsize=(12, 4.5), layout="constrained"))
    left, right = fig.subplots(1, 2)
    for ax, key, what in (
        (left, "by_cohort", "cohort"),
        (right, "by_district_kind", "district kind"),
    ):
        groups = _by_kind(inc[key]) if key == "by_district_kind" else inc[key]
        labels = [f"{g} (n={v['incidents']:,})" for g, v in groups.items()]
        _bars(
            ax,
            labels,
            [v["share_met"] for v in groups.values()],
            f"Needs met by {what}",
            "share of needs met (0-1)",
        )
    return fig


def write_figures(result: Result, directory: Path) -> list[Path]:
    """Draw the run's four figures (:data:`FIGURES`) as PNG files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    m = result.metrics
    figures = (
        figure_resolution_time(result.incidents),
        figure_decomposition(m),
        figure_coverage(m),
        figure_inclusion(m),
    )
    paths = []
    for name, fig in zip(FIGURES, figures, strict=True):
        fig.savefig(directory / name, dpi=110)
        paths.append(directory / name)
    return paths


# ------------------------------------------------------------------ outputs


def _write_table(frame: pd.DataFrame, name: str, path: Path) -> None:
    cols = COLUMNS.get(name, {})
    if list(frame.columns) == list(cols):
        schema = pa.schema([(c, t) for c, (t, _, _) in cols.items()])
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        pq.write_table(table, path)
    else:
        frame.to_parquet(path, index=False)


def write_outputs(result: Result, directory: Path, figures: bool = True) -> Path:
    """Write everything a run produced into a folder, and return the folder.

    Writes ``<table>.parquet`` for each of :data:`TABLES` (keeping any already
    there: a run with ``out=`` streamed them), ``metrics.json``, ``run.toml``
    and, if ``figures``, the PNG files of :data:`FIGURES` in ``figures/``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        path = directory / f"{name}.parquet"
        if not path.exists():
            _write_table(result.tables[name], name, path)
    (directory / "metrics.json").write_text(json.dumps(result.metrics, indent=2, allow_nan=False) + "\n", "utf-8")
    (directory / "run.toml").write_text(to_toml(run_record(result)), "utf-8")
    if figures:
        write_figures(result, directory / "figures")
    return directory
