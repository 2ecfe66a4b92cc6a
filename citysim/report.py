"""What a run writes and shows: the terminal summary, the output folder, the figures.

:func:`write_outputs` fills a run's folder with its tables (Parquet),
``metrics.json``, ``run.toml`` (the fully resolved inputs: ``citysim run
OUT/run.toml`` repeats the run) and four figures; :func:`summary_lines` is the
table ``citysim run`` prints. The figures are in :mod:`citysim.figures`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citysim.events import COLUMNS
from citysim.formatting import _by_kind, _dur, _fmt, _pct
from citysim.metrics.response import COMPONENTS
from citysim.regimes import Regime
from citysim.result import RunResult, record_of, run_block, run_record
from citysim.scenario import Scenario
from citysim.window import Stop

__all__ = ["TABLES", "summary_lines", "to_toml", "write_outputs", "write_unmeasured"]

TABLES = tuple(COLUMNS)
"""Tables written as ``<name>.parquet``."""

# ------------------------------------------------------------------ formatting


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


def _hours(h: float | None) -> str:
    return _dur(None if h is None else 60.0 * h)


def _response_block(m: Mapping) -> list[str]:
    hl = m["headline"]
    rows = [["Response (every incident of the window)", "median", "p90", "mean*", "<=24 h", "<=72 h", "<=target"]]
    for label, prefix, target in (
        ("  from the report (detected incidents)", "report_", "-"),
        ("  from occurrence", "", _pct(hl["resolved_within_target"])),
    ):
        rows.append(
            [
                label,
                _hours(hl[f"{prefix}resolution_median_h"]),
                _hours(hl[f"{prefix}resolution_p90_h"]),
                _hours(hl[f"{prefix}resolution_rmean_h"]),
                _pct(hl[f"{prefix}resolved_within_24h"]),
                _pct(hl[f"{prefix}resolved_within_72h"]),
                target,
            ]
        )
    lines = _table(rows, indent=0)
    lines.append(
        f"  * mean with each case counted at most a week; cases still open at the end "
        f"({_pct(hl['open_at_end'])}) are censored (Kaplan-Meier), '-' where not estimable"
    )
    targets = []
    for name, chain in m["targets"]["chains"].items():
        if chain is not None:
            steps = "  ".join(f"{k} {_pct(v)}" for k, v in chain["steps"].items())
            targets.append([f"{name} (n={chain['n']:,})", f"{steps}  (all {_pct(chain['all'])})"])
    return lines + (["Targets (share meeting them)", *_table(targets, numeric=False)] if targets else [])


def _decomposition_block(m: Mapping) -> list[str]:
    d = m["decomposition"]["overall"]
    parts = [[c, _dur(d[c])] for c in COMPONENTS if (d[c] or 0) > 0]
    return [
        f"Where the time goes (resolved, dispatched incidents only: mean of n={d['n']:,})",
        *_table([*parts, ["total, occurrence to resolution", _dur(d["total"])]]),
    ]


def _coverage_block(m: Mapping) -> list[str]:
    cov, hl = m["coverage"], m["headline"]
    hz, reach = cov["hazards"]["overall"], cov["population"]["overall"]
    return [
        "Coverage",
        *_table(
            [
                ["incidents detected within a week", _pct(hl["detected_share"])],
                ["time to detection, median", _hours(hl["detection_median_h"])],
                [f"hazards detected before harm (n={hz['hazards']:,})", _pct(hl["hazards_warned_share"])],
                ["hazards that did not turn into harm", _pct(hz["averted"])],
                ["residents in a cell with a sensor", _pct(reach["sensor"])],
                ["residents in a cell patrolled daily", _pct(reach["daily_patrol"])],
                ["needs given up (hung up, no call again)", _pct(hl.get("needs_given_up_share"))],
            ]
        ),
    ]


def _inclusion_block(m: Mapping) -> list[str]:
    inc = m["inclusion"]
    rows = [
        [f"Inclusion (needs met within a week: {_pct(m['headline']['needs_met_share'])})", "worst", "best", "ratio"]
    ]
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
        ["not reported within a week, by district kind", never],
        ["Gini of unmet need across cells", _fmt(inc["gini_unmet_need"])],
    ]
    return _table(rows, indent=0) + _table(extra, numeric=False)


def _calls_block(m: Mapping) -> list[str]:
    c = m.get("calls")
    if not c or not c["overall"]["calls"]:
        return []
    rows = [["Calls (phone items)", "calls", "answered", "hung up once+", "redials/item", "given up"]]
    for label, s in (("  all lines", c["overall"]), *((f"  {k} lines", v) for k, v in c["by_line"].items())):
        rows.append(
            [
                label,
                f"{s['calls']:,}",
                _pct(s["connection_rate"]),
                _pct(s["items_hung_up_share"]),
                _fmt(s["redials_per_item"]),
                _pct(s["given_up_share"]),
            ]
        )
    return _table(rows, indent=0)


def _cost_block(m: Mapping) -> list[str]:
    h, c = m["harm"], m["cost"]
    sc = c["street_centres"]
    rows = [
        [
            "hazards turned to harm",
            f"{h['harmed']:,} ({_fmt(h['per_million_day'])} per million residents per day)",
        ],
        ["transfers per dispatched case", _fmt(c["transfers_per_case"]["dispatched"])],
        ["hand-offs per dispatched case", _fmt(c["handoffs_per_case"])],
        ["detected cases reopened", _pct(c["reopened_share"])],
        [
            "busiest units (utilisation)",
            "  ".join(f"{k} {_pct(v)}" for k, v in c["utilisation"]["busiest_units"].items()),
        ],
        ["grid workers' time", "  ".join(f"{k} {_pct(v)}" for k, v in c["grid_time"].items())],
        [
            f"street centres over 85% busy (of {sc['centres']:,})",
            f"{_pct(sc['overloaded_share'])} (busiest {_pct(sc['max_utilisation'])})",
        ],
    ]
    ledger = m["ledger"]
    cost = ledger["annual_cost"]
    rows.append(
        [
            "staff (full-time equivalents)",
            f"{ledger['full_time_staff']:,.0f}"
            + ("" if cost is None else f"; yearly cost at the scenario's stated prices {cost / 1e6:,.1f} million CNY"),
        ]
    )
    return ["Harm and cost", *_table(rows, numeric=False)]


def _stability_block(m: Mapping) -> list[str]:
    st = m["stability"]
    if not st["count"]:
        return ["Stability: no unit found unstable (load below 1; in windows of two weeks or more, no growing wait)"]
    worst = ", ".join(f"{u['unit']} (load {_fmt(u['load'])})" for u in st["units"][:5])
    grid = f"; {st['grid_workers']:,} grid workers" if st["grid_workers"] else ""
    return [
        f"WARNING: {st['count']:,} unstable unit{'s' if st['count'] > 1 else ''}{grid}: their queues grow, so "
        "figures that involve them move with the run's length",
        f"  worst: {worst}" if worst else "",
    ]


def _calibration_block(m: Mapping) -> list[str]:
    cal = m["calibration"]
    rows = [["Calibration", "simulated", "sourced"]]
    for key, label, fmt in (
        ("items_per_resident_year", "hotline items per resident-year", _fmt),
        ("phone_share", "items by phone", _pct),
        ("online_share", "items online (web + app)", _pct),
        ("dispatched_share", "items dispatched", _pct),
        ("connection_rate_department_lines", "calls answered, department hotlines", _pct),
        ("connection_rate_unified", "calls answered, one merged hotline", _pct),
    ):
        if key in cal:
            rows.append([f"  {label}", fmt(cal[key]["simulated"]), fmt(cal[key]["sourced"])])
    return _table(rows, indent=0) + ([f"  source: {cal['source']}"] if cal["source"] else [])


def summary_lines(result: RunResult) -> list[str]:
    """A compact plain-text summary of a run, one string per line, for the terminal.

    A run stopped early has a first line saying where, and what its window therefore is.
    Blocks: the run (scenario, regime, seed, days, incidents); response time
    and targets; where the time goes; coverage; inclusion; calls (answered, hung
    up, redialled, given up); harm and cost; the simulated hotline beside the
    sourced figures.
    """
    m = result.metrics
    w = result.window
    header = (
        f"citysim | scenario {result.scenario.name} | regime {result.regime.name} | seed {result.seed} | "
        f"warm-up {w.warmup_days} d, window {w.days} d, follow-up {w.follow_up_days} d | "
        f"{m['counts']['incidents']:,} incidents in the window ({m['headline']['incidents_per_day'] or 0:,.0f} a day)"
    )
    blocks = (
        _response_block,
        _decomposition_block,
        _coverage_block,
        _inclusion_block,
        _calls_block,
        _cost_block,
        _stability_block,
        _calibration_block,
    )
    lines = [header]
    for block in blocks:
        lines += ["", *block(m)]
    return [result.stopped.describe(), *lines] if result.stopped is not None else lines


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


# ------------------------------------------------------------------ outputs


def _write_table(frame: pd.DataFrame, name: str, path: Path) -> None:
    cols = COLUMNS.get(name, {})
    if list(frame.columns) == list(cols):
        schema = pa.schema([(c, t) for c, (t, _, _) in cols.items()])
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        pq.write_table(table, path)
    else:
        frame.to_parquet(path, index=False)


def write_unmeasured(directory: Path, scenario: Scenario, regime: Regime, seed: int, stopped: Stop) -> Path:
    """Write what a run stopped before its window says of itself: ``run.toml`` and ``metrics.json`` (no metrics).

    ``metrics.json`` holds only its ``run`` block (``complete`` false, ``window`` null); there are no tables.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    block = {"run": run_block(scenario, regime, seed, stopped.requested, stopped)}
    (directory / "metrics.json").write_text(json.dumps(block, indent=2, allow_nan=False) + "\n", "utf-8")
    record = record_of(scenario, regime, seed, stopped.requested, stopped)
    (directory / "run.toml").write_text(to_toml(record), "utf-8")
    return directory


def write_outputs(result: RunResult, directory: Path, figures: bool = True) -> Path:
    """Write everything a run produced into a folder, and return the folder.

    Writes ``<table>.parquet`` for each of :data:`TABLES` (keeping any already
    there: a run with ``out=`` streamed them; none for a run that kept no tables), ``metrics.json``, ``run.toml``
    and, if ``figures``, the PNG files of :data:`citysim.figures.FIGURES` in ``figures/``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in TABLES if result.tables is not None else ():  # a run that kept only its metrics: none
        path = directory / f"{name}.parquet"
        if not path.exists():
            _write_table(result.tables[name], name, path)
    (directory / "metrics.json").write_text(json.dumps(result.metrics, indent=2, allow_nan=False) + "\n", "utf-8")
    (directory / "run.toml").write_text(to_toml(run_record(result)), "utf-8")
    if figures:
        from citysim.figures import write_figures  # matplotlib only when drawing

        write_figures(result, directory / "figures")
    return directory
