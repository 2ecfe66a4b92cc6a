"""Derive the staffing budgets of ``scenarios/common/china_megacity.toml`` from one regime-neutral rule.

**The rule.** Each staffing function (see ``citysim/staffing.py``) gets the staff it
needs to handle, at a utilisation of ``--target`` (0.7; emergency crews, of departments
whose desks work round the clock, at ``--emergency-target``, 0.2, so that a crew is free
when the next call comes), the work it receives under the *busiest* of the four presets:
a regime never gets staff tuned to it, and no preset
overloads a function by design. The work is measured, not guessed: the scenario is run
under each preset with every budget twenty-fold (so nothing queues and the work is what
the incidents bring, not what the staff manage; grid workers, who also find problems on
their rounds, are left as they are), and each unit's busy minutes a day are
summed by function, department and district kind, after the scenario's warm-up (at the
settled state, when trust and with it reporting have settled). Budgets are per resident (per million
for city-wide functions, per 100,000 for district ones, per street for street centres)
at ``staffing_scale = 1``: a city file scales them with its own ``staffing_scale``.

Units staffed by day with a night share (desks, department hotlines, street centres)
need their work covered by the staff-hours their pattern gives:
``day staff = work / ((day hours + night share x night hours) x 60 x target)``.
A district's desks are sized for all a desk does under the busiest preset (work orders
under escalation included), its centre for the work orders it issues under
lowest_capable: each district office is then stable however the regime organises it
(the regime places both budgets at the desks under escalation).

Prints the numbers to write into the common file::

    python scenarios/tools/staffing.py scenarios/chongqing.toml --days 3
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
import pandas as pd

import citysim
from citysim.scenario import DISTRICT_KINDS, read_toml, scenario_from_dict

AMPLE = 20.0
PRESETS = ("fragmented", "integrated", "tech_only", "institution_only")


def work_by_unit(data: dict, regime: str, days: int) -> pd.DataFrame:
    """Busy minutes a day of every unit under a regime, with every budget twenty-fold."""
    d = copy.deepcopy(data)
    d["city"]["staffing_scale"] = d["city"].get("staffing_scale", 1.0) * AMPLE
    sc = scenario_from_dict(d, "ample")
    res = citysim.simulate(sc, regime=regime, days=days, follow_up_days=0)  # after the scenario's warm-up
    u = res.units.copy()
    u["work"] = u["busy_min"] / days
    kinds = res.cells.groupby("district")["district_kind"].first()
    u["district_kind"] = u["district"].map(kinds)
    return u


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--target", type=float, default=0.7, help="utilisation to staff for")
    ap.add_argument("--emergency-target", type=float, default=0.2, help="utilisation of emergency crews")
    args = ap.parse_args()
    data = read_toml(args.scenario)
    sc = scenario_from_dict(data, args.scenario)
    scale = sc.city.staffing_scale
    pop = pd.Series({d.name: d.population for d in sc.city.districts})
    kind_of = pd.Series({d.name: d.kind for d in sc.city.districts})
    pop_kind = pop.groupby(kind_of).sum()
    streets_kind = pd.Series({d.name: d.streets for d in sc.city.districts}).groupby(kind_of).sum()
    day_h = sc.city.day_hours[1] - sc.city.day_hours[0]

    def pattern_minutes(hours: str, night_share: float) -> float:
        return 1440.0 if hours == "24h" else 60.0 * (day_h + night_share * (24 - day_h))

    runs = {p: work_by_unit(data, p, args.days) for p in PRESETS}
    t = args.target
    m = pop.sum() / 1e6

    def citywide(kind: str) -> float:
        return max(r.loc[r.kind.isin(kind.split("|")), "work"].sum() for r in runs.values()) / 1440 / t / m / scale

    print(f"# from {args.scenario}, {args.days} days per preset, target utilisation {t}, staffing_scale {scale}")
    print("[centres.city]")
    print(f"intake_staff_per_1m = {citywide('city_intake|hotline'):.2f}")
    print(f"dispatch_staff_per_1m = {citywide('city_dispatch'):.2f}")
    print(f"callback_staff_per_1m = {citywide('city_callback'):.2f}")

    def per_kind(select, minutes: float, per: pd.Series, unit: float, t: float = t) -> dict[str, float]:
        out = {}
        for k in DISTRICT_KINDS:
            if k not in per.index:
                continue
            work = max(select(r)[r.district_kind == k].sum() for r in runs.values())
            out[k] = work / minutes / t / (per[k] / unit) / scale
        return out

    def fmt(values: dict[str, float]) -> str:
        filled = {k: values.get(k, np.nan) for k in DISTRICT_KINDS}
        known = [v for v in filled.values() if v == v]
        fill = float(np.mean(known)) if known else 0.0
        return "{ " + ", ".join(f"{k} = {(v if v == v else fill):.3g}" for k, v in filled.items()) + " }"

    def dispatchers(r):  # the district centre's work orders (under dispatch_level = lowest_capable)
        return r.work.where(r.kind.eq("district_centre"), 0.0)

    centre = per_kind(dispatchers, 1440.0, pop_kind, 1e5)
    print("[centres.district]")
    print(f"staff_per_100k = {fmt(centre)}")
    st = sc.centres.street
    street = per_kind(
        lambda r: r.work.where(r.kind.eq("street_centre"), 0.0),
        pattern_minutes(st.hours, st.night_staff_share),
        streets_kind,
        1,
    )
    print("[centres.street]")
    print(f"staff = {fmt(street)}")
    for name, dep in sc.departments.items():
        minutes = pattern_minutes(dep.desk_hours, dep.night_staff_share)

        def clerks(r, name=name):  # all a desk does: alerts, reviews, hand-offs, and work orders under escalation
            return r.work.where(r.kind.eq("desk") & r.department.eq(name), 0.0)

        def teams(r, name=name):
            return r.work.where(r.kind.eq("team") & r.department.eq(name), 0.0)

        print(f"[departments.{name}]")
        print(f"desk_staff_per_100k = {fmt(per_kind(clerks, minutes, pop_kind, 1e5))}")
        crews = args.emergency_target if dep.desk_hours == "24h" else t
        print(f"teams_per_100k = {fmt(per_kind(teams, 1440.0, pop_kind, 1e5, crews))}")


if __name__ == "__main__":
    main()
