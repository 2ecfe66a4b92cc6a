"""What ``citysim validate`` measures in one replication, accumulated as the run goes (memory stays flat)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["GOF_SPACING", "ValidationSink"]

GOF_SPACING = 400
"""Every 400th wait of a replication goes into the goodness-of-fit sample (far apart: nearly independent)."""


class ValidationSink:
    """A sink that keeps only what the checks need, accumulated as the run goes (memory stays flat)."""

    def __init__(self, units: list[str], tails: dict[str, tuple[float, ...]], t0: float, t1: float, t_wait_end: float):
        self.units, self.tails = units, tails
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
            self.open_waits += int(np.isnan(res[sel]).sum())
            self.response_sum += float(np.nansum(res[sel] - det[sel]))
            self.response_n += int((~np.isnan(res[sel])).sum())
            return
        if name != "stages":
            return
        unit, stage = (_objects(data[k]) for k in ("unit", "stage"))
        q, s, e = (np.asarray(data[k], dtype=float) for k in ("queued_at", "started_at", "ended_at"))
        for u in self.units:
            at = unit == u
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
