"""How the city finds out: sensors, patrols, proactive visits, residents, harm.

Each incident can be found by several routes, each with its own time; the
earliest wins (``detected_by``), and none may exist (``undetected``):

* **sensor**: a working sensor of a type that sees it, in its cell, raises an
  alert after its latency. In a *silo* the owning department sees the alert
  only at its district desk's next poll (each desk polling at its own phase);
  *fused*, the platform sees it at once.
* **patrol**: the cell's grid worker passes every ``patrol cycle`` and
  notices it with ``patrol_spot_probability`` per pass. The cycle is the cell's
  sweep time over the worker's patrol hours, which are what paperwork,
  yesterday's tasks and proactive visits leave of the shift.
* **proactive**: grid workers visiting vulnerable residents find their needs
  at the next visit (only where ``proactive_share`` > 0).
* **resident**: a resident reports with chance ``report_propensity × trust``,
  through a channel picked by preference among those the resident can use:
  phone (``phone_ability``), web and app (digital literacy, raised by
  elderly-friendly design), in person (only with offline channels; then the
  report waits for the grid worker's visit).
* **after_harm**: a hazard that has turned into harm is called in by someone.

All draws come from the day's ``detection`` stream, one column per purpose,
for every incident whether or not the regime uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citysim.city import City
from citysim.compiled import compiled_or
from citysim.distributions import Mixture
from citysim.phases import next_cycle
from citysim.processes.occurrence import DayIncidents
from citysim.regimes import Regime
from citysim.rng import Streams
from citysim.scenario import CHANNELS, Scenario, SensorOutage

__all__ = ["CHANNEL_NAMES", "DETECTED_BY", "Detection", "Detector"]

DETECTED_BY = ("sensor", "patrol", "proactive", "resident", "after_harm")
CHANNEL_NAMES = (*CHANNELS, "sensor", "grid_worker")
SENSOR, PATROL, PROACTIVE, RESIDENT, AFTER_HARM = range(5)
PHONE, ONLINE, APP, IN_PERSON, SENSOR_CH, GRID_CH = range(6)

_COLUMNS = (
    "sensor_detect",
    "sensor_latency",
    "patrol_phase",
    "patrol_spot",
    "proactive_phase",
    "report",
    "report_channel",
    "report_delay",
    "in_person_phase",
    "harm_report_delay",
)


@dataclass
class Detection:
    """How each of a day's incidents is found (``inf``/``-1`` where it is not)."""

    detected_at: np.ndarray
    detected_by: np.ndarray  # index into DETECTED_BY, -1 never
    channel: np.ndarray  # index into CHANNEL_NAMES, -1 never
    resident_channel: np.ndarray  # channel the resident would use, -1 none (for re-reports)
    resident_report_at: np.ndarray  # when the resident would report (inf: would not)
    sensor_type: np.ndarray  # sensor type that saw it, -1 none
    sensor_raised_at: np.ndarray  # alert time, inf none


class Detector:
    """Computes detection for each day's incidents under a regime."""

    def __init__(
        self,
        scenario: Scenario,
        city: City,
        regime: Regime,
        streams: Streams,
        shock_offset_min: float = 0.0,
        desk_phase: np.ndarray | None = None,
    ) -> None:
        self.s = scenario
        self.desk_phase = np.zeros((len(city.department_names), city.n_districts)) if desk_phase is None else desk_phase
        self.city = city
        self.regime = regime
        self.streams = streams
        types = list(scenario.incident_types.values())
        self.report_delay = Mixture([t.report_delay for t in types])  # by type
        self.spot = np.array([t.patrol_spot_probability for t in types])
        self.proactive_type = np.array([t.proactive_detectable for t in types])
        self.propensity = np.array([t.report_propensity for t in types])
        self.hazard = np.array([t.hazard for t in types])
        self.sensor_names = list(scenario.sensors)
        self.type_sensors = [[self.sensor_names.index(n) for n in t.sensors] for t in types]
        self.type_seen_by = [np.array([j in ts for ts in self.type_sensors]) for j in range(len(self.sensor_names))]
        cohorts = list(scenario.cohorts.values())
        self.vulnerable = np.array([c.vulnerable for c in cohorts])
        gain = scenario.behaviour.elderly_friendly_gain if regime.elderly_friendly_design else 0.0
        lit = np.array([c.digital_literacy for c in cohorts])
        lit_eff = lit + (1 - lit) * gain
        ability = np.stack(
            [
                np.array([c.phone_ability for c in cohorts]),
                lit_eff,
                lit_eff,
                np.full(len(cohorts), 1.0 if regime.offline_channels else 0.0),
            ],
            axis=1,
        )
        pref = np.array([[getattr(c.channel_preference, ch) for ch in CHANNELS] for c in cohorts])
        self.channel_cum = np.cumsum(pref * ability, axis=1)  # [cohort, channel]
        self.outages = [
            (
                sh.minutes(shock_offset_min),
                np.isin(np.arange(city.n_districts), self._districts(sh.districts)),
                [self.sensor_names.index(n) for n in (sh.sensor_types or self.sensor_names)],
            )
            for sh in scenario.shocks
            if isinstance(sh, SensorOutage)
        ]

    def _districts(self, places: list[str]) -> list[int]:
        from citysim.scenario import DISTRICT_KINDS

        if not places:
            return list(range(self.city.n_districts))
        return [
            i
            for i, n in enumerate(self.city.district_names)
            if n in places or DISTRICT_KINDS[self.city.district_kind[i]] in places
        ]

    def detect(
        self,
        inc: DayIncidents,
        trust: np.ndarray,
        patrol_cycle_min: np.ndarray,
        proactive_cycle_min: np.ndarray,
    ) -> Detection:
        """Detection of one day's incidents.

        Args:
            inc: the day's incidents.
            trust: trust by [cohort, district] today.
            patrol_cycle_min: minutes between a grid worker's passes, per cell, today.
            proactive_cycle_min: minutes between proactive visits, per cell (inf: none).
        """
        n = len(inc)
        u = self.streams.generator("detection", inc.day).random((len(_COLUMNS), n))
        col = dict(zip(_COLUMNS, u, strict=True))
        t, cell, cohort = inc.type, inc.cell, inc.cohort
        district = self.city.cell_district[cell]
        occurred = inc.occurred_at
        inf = np.full(n, np.inf)
        behaviour = self.s.behaviour

        # --- sensors
        sensor_type = np.full(n, -1, dtype=np.int64)
        raised = inf.copy()
        p_miss = np.ones(n)
        best_p = np.zeros(n)
        for j, name in enumerate(self.sensor_names):
            st = self.s.sensors[name]
            sees = np.flatnonzero(self.type_seen_by[j][t])  # the incidents of types this sensor sees
            if len(sees) == 0:
                continue
            working = self.city.sensor_count[cell[sees], j] * (1 - st.out_of_service_share)
            for (lo, hi), in_district, types_down in self.outages:
                if j in types_down:
                    at = occurred[sees]
                    down = in_district[district[sees]] & (at >= lo) & (at < hi)
                    working = np.where(down, 0.0, working)
            p = 1 - (1 - st.detection_probability) ** working
            sensor_type[sees[p > best_p[sees]]] = j
            best_p[sees] = np.maximum(best_p[sees], p)
            p_miss[sees] *= 1 - p
        seen = col["sensor_detect"] < 1 - p_miss
        sensor_time = inf.copy()
        for j, name in enumerate(self.sensor_names):
            sel = seen & (sensor_type == j)
            if not sel.any():
                continue
            st = self.s.sensors[name]
            raised[sel] = occurred[sel] + st.latency.ppf(col["sensor_latency"][sel])
            if self.regime.sensor_fusion == "fused":
                sensor_time[sel] = raised[sel] + behaviour.platform_latency.ppf(col["sensor_latency"][sel])
            else:
                poll = self.s.departments[st.owner].poll_interval_min
                phase = self.desk_phase[self.city.department_names.index(st.owner), district[sel]]
                sensor_time[sel] = next_cycle(raised[sel], poll, phase)
        sensor_type = np.where(seen, sensor_type, -1)

        # --- patrol: next pass, then geometric number of missed passes
        spot = self.spot[t]
        cycle = patrol_cycle_min[cell]
        with np.errstate(divide="ignore", invalid="ignore"):  # never spotted (spot 0): masked out below
            missed = np.where(
                spot >= 1, 0.0, np.floor(np.log(col["patrol_spot"]) / np.log1p(-np.minimum(spot, 1 - 1e-12)))
            )
            patrol_time = np.where(
                (spot > 0) & np.isfinite(cycle), occurred + (col["patrol_phase"] + missed) * cycle, np.inf
            )

        # --- proactive visits to vulnerable residents
        pro_cycle = proactive_cycle_min[cell]
        pro_ok = self.proactive_type[t] & self.vulnerable[cohort] & np.isfinite(pro_cycle)
        proactive_time = np.where(pro_ok, occurred + col["proactive_phase"] * pro_cycle, np.inf)

        # --- residents: report or not, through which channel
        p_report = self.propensity[t] * trust[cohort, district]
        reports = col["report"] < p_report
        cum = self.channel_cum[cohort]  # [n, 4]
        ch = (col["report_channel"][:, None] >= cum).sum(axis=1)
        can = ch < len(CHANNELS)
        resident_channel = np.where(reports & can, ch, -1)
        delay = self.report_delay.ppf(t, col["report_delay"])
        resident_time = np.where(resident_channel >= 0, occurred + delay, np.inf)
        in_person = resident_channel == IN_PERSON
        resident_time = np.where(
            in_person,
            np.where(np.isfinite(cycle), resident_time + col["in_person_phase"] * cycle, np.inf),
            resident_time,
        )

        # --- harm, noticed by everyone
        harm_time = np.where(
            self.hazard[t],
            occurred + inc.time_to_harm + behaviour.harm_report_delay.ppf(col["harm_report_delay"]),
            np.inf,
        )

        times = np.stack([sensor_time, patrol_time, proactive_time, resident_time, harm_time])
        by, detected_at, channel = _first_detection(times, resident_channel.astype(np.int64), _BY_CHANNEL)
        return Detection(
            detected_at=detected_at,
            detected_by=by,
            channel=channel,
            resident_channel=resident_channel.astype(np.int64),
            resident_report_at=resident_time,
            sensor_type=sensor_type,
            sensor_raised_at=raised,
        )


def _first_detection_numpy(times: np.ndarray, resident_channel: np.ndarray, by_channel: np.ndarray):
    """Per incident, who detects it first (the earliest of ``times``, ``[5, n]`` in :data:`DETECTED_BY`'s order,
    the first of equals; -1: never), when, and through which channel: ``by_channel``'s for the detector
    (:data:`CHANNEL_NAMES`; -1 there: the resident's own channel), -1 if never."""
    by = np.argmin(times, axis=0)
    detected_at = times[by, np.arange(times.shape[1])]
    by = np.where(~np.isfinite(detected_at), -1, by)
    channel = np.where(by < 0, -1, by_channel[np.maximum(by, 0)])
    channel = np.where(channel == -1, np.where(by < 0, -1, resident_channel), channel)
    return by.astype(np.int64), detected_at, channel.astype(np.int64)


_BY_CHANNEL = np.array([SENSOR_CH, GRID_CH, GRID_CH, -1, PHONE], dtype=np.int64)  # per detector (-1: a resident's)
_first_detection = compiled_or("first_detection", _first_detection_numpy, module="citysim.processes._kernels")
