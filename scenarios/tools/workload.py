"""Measure the work a scenario asks of each kind of unit, to set staffing.

Runs the scenario with every unit staffed twenty-fold (so nothing queues and
the work is what the incidents bring, not what the staff can manage), then
prints the busy minutes per day that each unit kind and department needs,
per 100,000 residents (per million for city-wide units, per street for street
centres), and the staffing that would keep each at a target utilisation::

    python scenarios/tools/workload.py scenarios/chongqing.toml --regime fragmented --days 4

Staffing in ``scenarios/common/china_megacity.toml`` was set with this tool.
"""

from __future__ import annotations

import argparse

import citysim
from citysim.scenario import read_toml, scenario_from_dict

AMPLE = 20.0


def _amplify(data: dict) -> dict:
    def scaled(table: dict, keys: tuple[str, ...]) -> None:
        for k in keys:
            if k in table:
                v = table[k]
                table[k] = {kk: vv * AMPLE for kk, vv in v.items()} if isinstance(v, dict) else v * AMPLE

    for dep in data["departments"].values():
        scaled(dep, ("hotline_staff_per_1m", "desk_staff_per_100k", "teams_per_100k"))
        dep["night_staff_share"] = 1.0
    scaled(data["centres"]["city"], ("intake_staff_per_1m", "dispatch_staff_per_1m", "callback_staff_per_1m"))
    scaled(data["centres"]["district"], ("staff_per_100k",))
    scaled(data["centres"]["street"], ("staff",))
    data["centres"]["street"]["night_staff_share"] = 1.0
    data["grid_workers"]["cells_per_worker"] = data["grid_workers"].get("cells_per_worker", 1.0) / AMPLE
    return data


def _staffed_minutes(scenario):
    """Minutes a day of one day-time server's worth of staff, by unit kind and department.

    A unit open by day only has ``night_staff_share`` of its day staff on duty at night (a
    grid worker: only during the shift), so it must be staffed above its round-the-clock need.
    """
    on, off = scenario.city.day_hours
    window = (off - on) * 60.0

    def part_time(night_share: float) -> float:
        return window + night_share * (1440.0 - window)

    def minutes(kind: str, dep: str) -> float:
        if kind in ("hotline", "desk") and scenario.departments[dep].desk_hours == "day":
            return part_time(scenario.departments[dep].night_staff_share)
        if kind == "street_centre" and scenario.centres.street.hours == "day":
            return part_time(scenario.centres.street.night_staff_share)
        if kind == "grid":
            return min(scenario.grid_workers.shift_hours * 60.0, 1440.0)
        return 1440.0

    return minutes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--regime", default="integrated")
    ap.add_argument("--days", type=float, default=4)
    ap.add_argument("--target", type=float, default=0.7, help="utilisation to staff for")
    args = ap.parse_args()
    staffed = _staffed_minutes(scenario_from_dict(read_toml(args.scenario), args.scenario))
    data = _amplify(read_toml(args.scenario))
    sc = scenario_from_dict(data, args.scenario)
    res = citysim.simulate(sc, regime=args.regime, days=args.days)
    u = res.units
    pop = res.cells.population.sum()
    per_day = u.assign(work=u.busy_min / args.days)
    print(f"{args.scenario} under {args.regime}: {pop:,.0f} residents, {args.days:g} days")
    print(f"{'unit kind':<16}{'department':<20}{'busy min/day':>14}{'per':>14}{'staff for ' + str(args.target):>16}")
    for (kind, dep), g in per_day.groupby(["kind", u.department.fillna("")]):
        work = g.work.sum()
        if kind in ("city_intake", "city_dispatch", "city_callback", "hotline"):
            norm, label = pop / 1e6, "per 1M"
        elif kind in ("street_centre", "grid"):
            norm, label = len(g), "per unit"
        else:
            norm, label = pop / 1e5, "per 100k"
        need = work / norm / (staffed(kind, dep) * args.target)
        print(f"{kind:<16}{dep:<20}{work:>14,.0f}{work / norm:>10,.1f} {label:<4}{need:>14.2f}")
    print("(staff for a target: servers on duty by day; units open by day only have their night share at night)")


if __name__ == "__main__":
    main()
