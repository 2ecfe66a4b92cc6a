"""What ``citysim validate`` measures in one replication, accumulated as the run goes (memory stays flat)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["GOF_SPACING", "ValidationSink"]

GOF_SPACING = 400
"""Every 400th wait of a replication goes into the goodness-of-fit sample (far apart: nearly independent)."""


class ValidationSink:
    """A sink that keeps only what the checks need, accumulated as the run goes (memory stays flat)."""

    def __init__(
        self,
        units: list[str],
        tails: dict[str, tuple[float, ...]],
        t0: float,
        t1: float,
        t_wait_end: float,
        lines: list[str] = (),
    ):
        """Args:
        units: nodes to measure: a unit's name (every job's wait at its teams), or ``unit|type`` (only the jobs
            of one incident type: one priority class).
        tails: per node, the times t of the checks P(Wq > t).
        t0, t1: the measurement window (minutes).
        t_wait_end: waits are measured for arrivals before this time.
        lines: phone lines whose callers may hang up (their ``intake`` waits: answered or abandoned).
        """
        self.units, self.tails, self.lines = units, tails, list(lines)
        self._type_of: tuple[np.ndarray, np.ndarray] | None = None  # incident ids (sorted) and their types
        zl = {u: 0.0 for u in self.lines}
        self.calls, self.abandoned = dict(zl), dict(zl)
        self.wait_served_sum, self.wait_all_sum = dict(zl), dict(zl)
        self.t0, self.t1, self.t_wait_end = t0, t1, t_wait_end
        z = {u: 0.0 for u in units}
        self.arrivals, self.area = dict(z), dict(z)
        self.wait_sum, self.wait_n, self.wait_pos = dict(z), dict(z), dict(z)
        self.service_sum, self.service_n = dict(z), dict(z)
        self.tail_n = {u: [0.0] * len(tails.get(u, ())) for u in units}
        self.gof: dict[str, list[np.ndarray]] = {u: [] for u in units}
        self.open_waits = 0
        self.response_sum = self.response_n = 0.0

    def _overlap(self, a: np.ndarray, b: np.ndarray) -> float:
        return float(np.clip(np.minimum(b, self.t1) - np.maximum(a, self.t0), 0, None).sum())

    def write(self, name: str, data: dict) -> None:
        if name == "incidents":
            det, res = np.asarray(data["detected_at"], float), np.asarray(data["resolved_at"], float)
            sel = (det >= self.t0) & (det < self.t_wait_end)
            if "gave_up" in data:  # a need given up (the caller hung up) is closed, not open
                sel &= ~np.asarray(data["gave_up"], dtype=bool)
            if any("|" in u for u in self.units):
                ids = np.asarray(data["id"], dtype=np.int64)
                order = np.argsort(ids)
                self._type_of = (ids[order], _objects(data["type"])[order])
            self.open_waits += int(np.isnan(res[sel]).sum())
            self.response_sum += float(np.nansum(res[sel] - det[sel]))
            self.response_n += int((~np.isnan(res[sel])).sum())
            return
        if name != "stages":
            return
        unit, stage = (_objects(data[k]) for k in ("unit", "stage"))
        q, s, e = (np.asarray(data[k], dtype=float) for k in ("queued_at", "started_at", "ended_at"))
        for line in self.lines:
            at = (unit == line) & (stage == "intake") & (q >= self.t0) & (q < self.t_wait_end)
            sa, ea, qa = s[at], e[at], q[at]
            hung_up = np.isnan(sa) & ~np.isnan(ea)
            self.open_waits += int((np.isnan(sa) & np.isnan(ea)).sum())
            self.calls[line] += len(qa)
            self.abandoned[line] += int(hung_up.sum())
            self.wait_served_sum[line] += float(np.nansum(sa - qa))
            self.wait_all_sum[line] += float(np.nansum(np.where(hung_up, ea, sa) - qa))
        if self._type_of is not None:  # the incidents written with these stages
            ids, of_id = self._type_of
            pos = np.searchsorted(ids, np.asarray(data["incident_id"], dtype=np.int64))
            types = of_id[np.minimum(pos, len(ids) - 1)] if len(ids) else np.zeros(len(q), dtype=object)
        for node in self.units:
            u, _, of_type = node.partition("|")
            at = unit == u
            if of_type:
                at &= types == of_type
            u = node
            arrive = at & (stage == "travel")  # no travel: queued = arrival, started = service start
            serve = at & (stage == "handling")
            qa, sa = q[arrive], s[arrive]
            self.arrivals[u] += int(((qa >= self.t0) & (qa < self.t1)).sum())
            self.area[u] += self._overlap(qa, np.where(np.isnan(sa), self.t1, sa))
            self.area[u] += self._overlap(s[serve], np.where(np.isnan(e[serve]), self.t1, e[serve]))
            measured = (qa >= self.t0) & (qa < self.t_wait_end)
            waits = sa[measured] - qa[measured]
            self.open_waits += int(np.isnan(waits).sum())
            self.wait_sum[u] += float(np.nansum(waits))
            self.wait_n[u] += len(waits)
            self.wait_pos[u] += int((waits > 0).sum())
            for i, t in enumerate(self.tails.get(u, ())):
                self.tail_n[u][i] += int((waits > t).sum())
            order = np.argsort(qa[measured])
            self.gof[u].append(waits[order])
            ss, es = s[serve], e[serve]
            ok = (ss >= self.t0) & (ss < self.t_wait_end)
            self.service_sum[u] += float(np.nansum(es[ok] - ss[ok]))
            self.service_n[u] += int((~np.isnan(es[ok])).sum())

    def close(self) -> None:
        pass

    def results(self) -> dict:
        """Per node (and for forks) the replication's estimates."""
        length = self.t1 - self.t0
        out = {"open_waits": self.open_waits}
        for line in self.lines:
            n = max(self.calls[line], 1)
            served = max(self.calls[line] - self.abandoned[line], 1)
            out[line] = {
                "p_abandon": self.abandoned[line] / n,
                "wq_served": self.wait_served_sum[line] / served,
                "wq_all": self.wait_all_sum[line] / n,
            }
        for u in self.units:
            n = max(self.wait_n[u], 1)
            wq = self.wait_sum[u] / n
            w = wq + self.service_sum[u] / max(self.service_n[u], 1)
            lam = self.arrivals[u] / length
            l_avg = self.area[u] / length
            waits = np.concatenate(self.gof[u]) if self.gof[u] else np.zeros(0)
            out[u] = {
                "wq": wq,
                "p_wait": self.wait_pos[u] / n,
                "w": w,
                "l": l_avg,
                "little": l_avg / (lam * w) if lam * w > 0 else math.nan,
                **{f"tail_{i}": k / n for i, k in enumerate(self.tail_n[u])},
                "gof_sample": waits[::GOF_SPACING].tolist(),
            }
        if self.response_n:
            out["response"] = self.response_sum / self.response_n
        return out


def _objects(column) -> np.ndarray:
    """A column of names as an object array, whether given as names or as :class:`~citysim.events.Codes`."""
    from citysim.events import Codes

    return column.to_objects() if isinstance(column, Codes) else np.asarray(column, dtype=object)
