"""Calls: how often a resident who phones gets through (接通率), hangs up, redials or gives up.

A *call* is one try on a phone line (the city hotline, a department's own hotline,
an emergency line): the resident's first call about a problem, a call to another
department's hotline it was sent on to, and every redial after hanging up. From
the ``stages`` table: a try whose ``started_at`` is set was answered; one with no
``started_at`` but an ``ended_at`` was hung up on (the resident's patience ran
out first); one with neither is still on hold at the end of the run (left out of
the shares). Every share is over phone items, the incidents first reported by
phone (what a hotline counts), in the measurement window.

* ``connection_rate``: answered calls / calls answered or hung up on;
* ``abandonment_share``: calls hung up on / calls answered or hung up on;
* ``items_hung_up_share``: items whose resident hung up at least once;
* ``redials_per_item``: redials placed / items;
* ``given_up_share``: items whose resident hung up and did not call again: a need
  given up, never met (counted so in coverage and inclusion, never censored).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["LINE_KINDS", "call_stats", "calls_by", "call_table", "line_connection_rates"]

LINE_KINDS = {"city_intake": "unified", "hotline": "department", "emergency_line": "emergency"}
"""Unit kinds that are phone lines, and the name of each kind of line."""

_CALL_STAGES = ("intake", "transfer")


def _unit_kind(names: pd.Series) -> pd.Series:
    """A unit's kind from its name (``hotline:gas`` -> ``hotline``)."""
    kinds = {n: re.split(r"[:@]", n)[0] for n in pd.unique(names.dropna())}
    return names.map(kinds)


def call_table(incidents: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """One row per call of a phone item: ``incident_id``, ``line`` (unified, department, emergency), ``hour`` (of
    the day it was placed), ``answered``, ``hung_up`` (bools; neither: still on hold), and the item's ``cohort``
    and ``district_kind``."""
    phone = incidents.loc[(incidents["channel"] == "phone").to_numpy(dtype=bool, na_value=False)]
    kind = _unit_kind(stages["unit"].astype(object))
    sel = stages["stage"].isin(_CALL_STAGES).to_numpy(dtype=bool, na_value=False) & kind.isin(
        list(LINE_KINDS)
    ).to_numpy(dtype=bool, na_value=False)
    sel &= stages["incident_id"].isin(phone["id"]).to_numpy()
    s = stages.loc[sel]
    started = s["started_at"].notna().to_numpy()
    ended = s["ended_at"].notna().to_numpy()
    who = phone.set_index("id")[["cohort", "district_kind"]].astype(object)
    out = pd.DataFrame(
        {
            "incident_id": s["incident_id"].to_numpy(),
            "line": kind[sel].map(LINE_KINDS).to_numpy(dtype=object),
            "hour": (s["queued_at"].to_numpy(dtype=float) // 60 % 24).astype(int),
            "answered": started,
            "hung_up": ~started & ended,
        }
    )
    return out.join(who, on="incident_id")


def _stats(calls: pd.DataFrame, items: pd.DataFrame, redials: int) -> dict:
    decided = int(calls["answered"].sum() + calls["hung_up"].sum())
    n_items = len(items)
    hung_items = items["hung_up"].to_numpy(dtype=float, na_value=0.0) > 0
    gave_up = items["gave_up"].to_numpy(dtype=bool, na_value=False)
    return {
        "calls": len(calls),
        "answered": int(calls["answered"].sum()),
        "hung_up": int(calls["hung_up"].sum()),
        "connection_rate": float(calls["answered"].sum() / decided) if decided else np.nan,
        "abandonment_share": float(calls["hung_up"].sum() / decided) if decided else np.nan,
        "items": n_items,
        "items_hung_up_share": float(hung_items.mean()) if n_items else np.nan,
        "redials_per_item": float(redials / n_items) if n_items else np.nan,
        "given_up_share": float(gave_up.mean()) if n_items else np.nan,
    }


def _phone_items(incidents: pd.DataFrame) -> pd.DataFrame:
    called = incidents["calls"].to_numpy(dtype=float, na_value=0.0) > 0 if "calls" in incidents else False
    phone = (incidents["channel"] == "phone").to_numpy(dtype=bool, na_value=False)
    return incidents.loc[phone & called]


def _redials(stages: pd.DataFrame, ids: pd.Series) -> pd.Series:
    """Redials placed per incident (a redial wait that ended: the resident called again)."""
    r = stages.loc[(stages["stage"] == "redial_wait").to_numpy(dtype=bool, na_value=False)]
    r = r.loc[r["ended_at"].notna().to_numpy() & r["incident_id"].isin(ids).to_numpy()]
    return r.groupby("incident_id").size()


def call_stats(incidents: pd.DataFrame, stages: pd.DataFrame) -> dict:
    """The call figures (see the module) over every phone item and line."""
    items = _phone_items(incidents)
    calls = call_table(items, stages)
    return _stats(calls, items, int(_redials(stages, items["id"]).sum()))


def calls_by(incidents: pd.DataFrame, stages: pd.DataFrame, by: str) -> pd.DataFrame:
    """The call figures per group: ``cohort``, ``district_kind``, ``line`` or ``hour`` (of the call; item figures
    by the hour of the first call)."""
    items = _phone_items(incidents)
    calls = call_table(items, stages)
    redials = _redials(stages, items["id"])
    if by in ("line", "hour"):
        first = calls.drop_duplicates("incident_id").set_index("incident_id")[by]
        item_key = items["id"].map(first)
    else:
        item_key = items[by].astype(object)
    rows = {}
    for group in sorted({k for k in calls[by].dropna().unique()}):
        mine = items.loc[(item_key == group).to_numpy(dtype=bool)]
        rows[group] = _stats(calls.loc[(calls[by] == group).to_numpy()], mine, int(redials.reindex(mine["id"]).sum()))
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(by)


def line_connection_rates(incidents: pd.DataFrame, stages: pd.DataFrame) -> dict[str, float]:
    """Connection rate of each kind of line (NaN for a line the regime does not have)."""
    calls = call_table(_phone_items(incidents), stages)
    out = {}
    for line in LINE_KINDS.values():
        c = calls.loc[(calls["line"] == line).to_numpy()]
        decided = c["answered"].sum() + c["hung_up"].sum()
        out[line] = float(c["answered"].sum() / decided) if decided else np.nan
    return out
