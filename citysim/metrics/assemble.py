"""``metrics.json`` from a :class:`~citysim.metrics.stream.MetricsStream`.

:func:`assemble` reads the figures off what the stream accumulated, by the same rules as
:func:`citysim.metrics.compute_metrics` applies to whole tables (the reference: times read
off binned curves agree within the bins' 1%, the rest exactly; a test checks both on the
same runs). The units, cells and daily tables are small (one row per unit, cell or day)
and go through the same functions as there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from citysim.events import COLUMNS, OUTCOMES, STAGES, STATUSES, _table, to_pandas
from citysim.metrics.bins import BinnedSurvival, binned_quantiles
from citysim.metrics.calibration import CHANNELS
from citysim.metrics.coverage import population_reach
from citysim.metrics.harm import staff_use
from citysim.metrics.headline import HEADLINE_KINDS, SURVIVAL_HOURS
from citysim.metrics.inclusion import gini, worst_best
from citysim.metrics.ledger import ledger
from citysim.metrics.response import COMPONENTS, MEASURES
from citysim.metrics.stability import unstable_units
from citysim.metrics.survival import WEEK_MIN
from citysim.processes.detection import DETECTED_BY

__all__ = ["assemble"]

_H = 60.0


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else np.nan


def _small_table(s, name: str) -> pd.DataFrame:
    parts = [p if isinstance(p, pa.Table) else _table(name, p) for p in s.small[name]]
    if not parts:
        return to_pandas(_table(name, {c: [] for c in COLUMNS[name]}))
    return to_pandas(pa.concat_tables(parts) if len(parts) > 1 else parts[0])


class _Reader:
    """Curves and groups read off a stream."""

    def __init__(self, s) -> None:
        self.s = s
        self.names = {
            "type": s.types,
            "cohort": s.cohorts,
            "district_kind": s.kinds,
        }

    def group(self, by: str, name: str) -> int:
        return self.s.offsets[by] + self.names[by].index(name)

    def observed(self, by: str) -> list[str]:
        """The groups with at least one incident, in the scenario's order."""
        return [n for n in self.names[by] if self.s.incidents[self.group(by, n)] > 0]

    def curve(self, clock: str, g: int = 0) -> BinnedSurvival:
        s = self.s
        km = s.km[clock]
        first = s.first_start["detected" if clock == "report_resolution" else "occurred"][g]
        followed = float(s.horizon - first) if np.isfinite(first) else 0.0
        return BinnedSurvival(s.bins.edges, km["events"][g], km["censored"][g], int(km["never"][g]), followed)

    def response(self, g: int) -> dict:
        s = self.s
        out = {}
        for m in MEASURES:
            counts = s.hist[m][g]
            n = int(counts.sum())
            median, p90, p95 = binned_quantiles(s.bins.edges, counts, (0.5, 0.9, 0.95))
            out[m] = {"count": n, "mean": _ratio(s.sums[m][g], n), "median": median, "p90": p90, "p95": p95}
        return out

    def needs_met(self, by: str) -> dict:
        out = {}
        for name in self.observed(by):
            g = self.group(by, name)
            out[name] = {
                "incidents": int(self.s.incidents[g]),
                "share_met": self.curve("needs_met", g).share_within(WEEK_MIN),
                "median_resolve_min": self.curve("resolution", g).quantile(0.5),
                "never_reported": 1.0 - self.curve("detection", g).share_within(WEEK_MIN),
                "given_up": _ratio(self.s.gave_up[g], self.s.incidents[g]),
            }
        return out

    def targets(self) -> tuple[float, dict]:
        s = self.s
        rows = {}
        for name, target in s.target_min.items():
            g = self.group("type", name) if name in s.types else -1
            n = int(s.incidents[g]) if g >= 0 else 0
            share = self.curve("resolution", g).share_within(target) if n else np.nan
            rows[name] = {"target_min": float(target), "incidents": n, "share": share}
        counted = [r for r in rows.values() if r["incidents"] > 0]
        weight = sum(r["incidents"] for r in counted)
        if not weight or any(np.isnan(r["share"]) for r in counted):
            overall = np.nan
        else:
            overall = sum(r["share"] * r["incidents"] for r in counted) / weight
        return overall, rows

    def unmet_gini(self, cells: pd.DataFrame, overall: BinnedSurvival) -> float:
        s = self.s
        s_week = overall.at(WEEK_MIN)
        if np.isnan(s_week) or not len(cells):
            return np.nan
        population = cells["population"].to_numpy(dtype=float)
        cell = cells["cell"].to_numpy()
        unmet = np.zeros(int(cell.max()) + 1 if len(cell) else 0)
        unmet[: len(s.unmet_cell)] += s.unmet_cell[: len(unmet)]
        for where, followed in s.open_short:
            s_then = overall.at(followed)
            chance = np.where(s_then > 0, s_week / np.where(s_then > 0, s_then, 1.0), 1.0)
            unmet += np.bincount(where, weights=chance, minlength=len(unmet))[: len(unmet)]
        per_resident = np.where(population > 0, unmet[cell] / np.where(population > 0, population, 1.0), 0.0)
        return gini(per_resident, population)


def assemble(s, scenario=None, regime=None) -> dict:
    """``metrics.json`` of a run from its stream (see :func:`citysim.metrics.compute_metrics` for the keys)."""
    from citysim.metrics import to_jsonable

    r = _Reader(s)
    units, cells = _small_table(s, "units"), _small_table(s, "cells")
    w = s.window
    n = int(s.incidents[0])
    population = float(cells["population"].sum())
    occ, rep, det, met = (r.curve(c) for c in ("resolution", "report_resolution", "detection", "needs_met"))
    t = s.tally
    types = s.types
    bt = s.by_type
    target_all, target_rows = r.targets()
    met_cohort, met_kind = r.needs_met("cohort"), r.needs_met("district_kind")
    ratio_cohort = worst_best(pd.Series({k: v["share_met"] for k, v in met_cohort.items()}, dtype=float))
    ratio_kind = worst_best(pd.Series({k: v["share_met"] for k, v in met_kind.items()}, dtype=float))
    gini_cells = r.unmet_gini(cells, met)
    known = int(bt["known_hazards"].sum())
    harmed = int(bt["harmed"].sum())

    headline = {
        "incidents_per_day": n / w.days,
        "resolution_median_h": occ.quantile(0.5) / _H,
        "resolution_p90_h": occ.quantile(0.9) / _H,
        "resolution_rmean_h": occ.restricted_mean(WEEK_MIN) / _H,
        "resolved_within_24h": occ.share_within(24 * _H),
        "resolved_within_72h": occ.share_within(72 * _H),
        "resolved_within_target": target_all if s.target_min else np.nan,
        "report_resolution_median_h": rep.quantile(0.5) / _H,
        "report_resolution_p90_h": rep.quantile(0.9) / _H,
        "report_resolution_rmean_h": rep.restricted_mean(WEEK_MIN) / _H,
        "report_resolved_within_24h": rep.share_within(24 * _H),
        "report_resolved_within_72h": rep.share_within(72 * _H),
        "open_at_end": _ratio(t["open"], n),
        "detection_median_h": det.quantile(0.5) / _H,
        "detected_share": det.share_within(WEEK_MIN),
        "hazards_warned_share": _ratio(bt["warned"].sum(), known),
        "harm_per_day": harmed / w.days,
        "needs_met_share": met.share_within(WEEK_MIN),
        "needs_met_worst_best_cohort": ratio_cohort["ratio"],
        "needs_met_worst_best_district_kind": ratio_kind["ratio"],
        "unmet_gini_cells": gini_cells,
        "transfers_per_case": _ratio(t["transfers_dispatched"], t["detected_dispatched"]),
        "connection_rate": 1.0 - t["phone_hung_up"] / t["phone_calls"] if t["phone_calls"] > 0 else np.nan,
        "needs_given_up_share": _ratio(s.gave_up[0], n),
    }
    hours = np.asarray(SURVIVAL_HOURS, dtype=float) * _H
    survival = {"hours": list(SURVIVAL_HOURS)}
    for name, curve in zip(
        ("resolution", "report_resolution", "detection", "needs_met"), (occ, rep, det, met), strict=True
    ):
        survival[name] = curve.at(hours).tolist()

    decomposition_by_type = {}
    for i, name in enumerate(types):
        k = int(bt["decomposed"][i])
        if k:
            decomposition_by_type[name] = {
                "n": k,
                **dict(zip((*COMPONENTS, "total"), s.decomposition[i] / k, strict=True)),
            }
    k_all = int(bt["decomposed"].sum())
    overall_parts = s.decomposition.sum(axis=0) / k_all if k_all else np.full(len(COMPONENTS) + 1, np.nan)
    exposure = population / 1e6 * w.length_min / 1440.0
    harm_types = {}
    for i, name in enumerate(types):
        if bt["hazards"][i]:
            harm_types[name] = {
                "hazards": int(bt["hazards"][i]),
                "harmed": int(bt["harmed"][i]),
                "per_million_day": bt["harmed"][i] / exposure if exposure > 0 else np.nan,
            }
    channels = s.channel.sum()
    sourced = None if scenario is None else scenario.calibration
    years = w.length_min / 1440.0 / 365.0
    simulated = {
        "items_per_resident_year": t["items"] / population / years if population > 0 and years > 0 else np.nan,
        "phone_share": _ratio(t["items_phone"], t["items"]),
        "online_share": 1.0 - t["items_phone"] / t["items"] if t["items"] else np.nan,
        "dispatched_share": _ratio(t["items_dispatched"], t["items"]),
        "connection_rate_department_lines": s.calls.line_rates()["department"],
        "connection_rate_unified": s.calls.line_rates()["unified"],
    }
    calibration = {k: {"simulated": v, "sourced": getattr(sourced, k, None)} for k, v in simulated.items()}
    calibration["source"] = getattr(sourced, "source", "") or ""
    calibration["channel_shares"] = {
        c: (s.channel[i] / channels if channels else np.nan) for i, c in enumerate(CHANNELS)
    }
    reach = population_reach(cells)
    metrics = {
        "window": w.as_dict(),
        "headline": {k: float(headline[k]) for k in HEADLINE_KINDS},
        "survival": survival,
        "response": {
            "overall": r.response(0),
            **{f"by_{by}": {g: r.response(r.group(by, g)) for g in r.observed(by)} for by in r.names},
        },
        "decomposition": {
            "overall": {"n": k_all, **dict(zip((*COMPONENTS, "total"), overall_parts, strict=True))},
            "by_type": decomposition_by_type,
        },
        "targets": {
            "resolution": None if scenario is None else {"overall": target_all, "by_type": target_rows},
            "chains": {
                name: None
                if not c["n"]
                else {
                    "type": _chain_type(name),
                    "n": c["n"],
                    "steps": {k: v / c["n"] for k, v in c["steps"].items()},
                    "all": c["all"] / c["n"],
                }
                for name, c in s.chains.items()
            },
        },
        "coverage": {
            "detected": {
                "overall": _ratio(n - s.status[STATUSES.index("undetected")], n),
                "by_type": {
                    g: _ratio(bt["detected"][types.index(g)], s.incidents[r.group("type", g)])
                    for g in r.observed("type")
                },
                "by_detected_by": {k: s.detected_by[i] / n for i, k in enumerate(DETECTED_BY)} if n else {},
            },
            "hazards": {
                "overall": {
                    "hazards": known,
                    "early_warning": _ratio(bt["warned"].sum(), known),
                    "averted": _ratio(bt["averted"].sum(), known),
                },
                "by_type": {
                    name: {
                        "hazards": int(bt["known_hazards"][i]),
                        "early_warning": _ratio(bt["warned"][i], bt["known_hazards"][i]),
                        "averted": _ratio(bt["averted"][i], bt["known_hazards"][i]),
                    }
                    for i, name in enumerate(types)
                    if bt["known_hazards"][i]
                },
            },
            "population": {
                "overall": reach.to_dict(orient="index")["all"],
                "by_district_kind": population_reach(cells, "district_kind"),
            },
            "given_up": _ratio(s.gave_up[0], n) if n else None,
        },
        "inclusion": {
            "by_cohort": met_cohort,
            "by_district_kind": met_kind,
            "ratio": {"cohort": ratio_cohort, "district_kind": ratio_kind},
            "gini_unmet_need": gini_cells,
        },
        "harm": {
            "harmed": harmed,
            "per_million_day": harmed / exposure if exposure > 0 else np.nan,
            "by_type": harm_types,
        },
        "cost": {
            "transfers_per_case": {
                "dispatched": _ratio(t["transfers_dispatched"], t["detected_dispatched"]),
                "detected": _ratio(t["transfers_detected"], t["detected"]),
            },
            "handoffs_per_case": _ratio(t["handoffs"], t["dispatched"]),
            "reopened_share": _ratio(t["reopened"], t["detected"]),
            **staff_use(units),
        },
        "calls": s.calls.block(),
        "calibration": calibration,
        "ledger": ledger(units, cells, None if scenario is None else scenario.costs, regime),
        "stability": unstable_units(units),
        "counts": {
            "incidents": n,
            "by_status": {k: int(v) for k, v in zip(STATUSES, s.status, strict=True)},
            "alerts": {
                "true": s.alerts["true"],
                "false": s.alerts["false"],
                "by_outcome": {k: int(v) for k, v in zip(OUTCOMES, s.alerts["by_outcome"], strict=True)},
            },
            "stage_rows": int(s.stage_rows.sum()),
            "stage_rows_by_stage": {k: int(v) for k, v in zip(STAGES, s.stage_rows, strict=True)},
        },
    }
    return to_jsonable(metrics)


def _chain_type(name: str) -> str:
    from citysim.metrics.response import CHAIN_TARGETS

    return CHAIN_TARGETS[name]["type"]
