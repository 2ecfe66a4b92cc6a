"""Figures of one run, drawn with matplotlib's Agg canvas (no display needed).

Each ``figure_*`` function takes what a run accumulated as it went (its metrics,
its binned resolution times) and returns a :class:`matplotlib.figure.Figure`,
never reading the tables; :func:`write_figures` saves them all into
``figures/`` of a run's output folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from citysim.formatting import _by_kind, _fmt, _num, _pct
from citysim.metrics.response import COMPONENTS

if TYPE_CHECKING:
    from citysim.result import RunResult as Result

__all__ = [
    "FIGURES",
    "figure_coverage",
    "figure_decomposition",
    "figure_inclusion",
    "figure_resolution_time",
    "write_figures",
]

FIGURES = ("resolution_time.png", "decomposition.png", "coverage.png", "inclusion.png")
"""Figures written into ``figures/``."""

# ------------------------------------------------------------------ figures

_MIN_PER_H = 60.0


def _canvas(fig: Figure) -> Figure:
    FigureCanvasAgg(fig)
    return fig


def figure_resolution_time(curves: list[tuple[str, int, np.ndarray, np.ndarray]]) -> Figure:
    """Share of incidents resolved against time since occurrence (hours, log scale), per incident type.

    Args:
        curves: ``(label, incidents, hours, share resolved)`` per line, as
            :meth:`~citysim.metrics.stream.MetricsStream.resolution_curves` gives them
            (Kaplan-Meier: cases still open at the end are censored, not dropped).
    """
    fig = _canvas(Figure(figsize=(8, 5), layout="constrained"))
    ax = fig.add_subplot()
    for name, n, hours, share in curves:
        ax.step(hours, share, where="post", label=f"{name} (n={n:,})")
    if not curves:
        ax.text(0.5, 0.5, "no incident", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.set_xscale("log")
        ax.set_xlim(left=1 / 60)
        ax.legend(fontsize="small", loc="upper left")
    ax.set_xlabel("time from occurrence to resolution (hours, log scale)")
    ax.set_ylabel("share of incidents resolved (open cases censored)")
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
    stream = result.stream
    if stream is None:  # a result built from tables: count them into a stream once
        from citysim.metrics.stream import MetricsStream

        stream = MetricsStream.of_tables(result.tables, result.scenario, result.window)
    figures = (
        figure_resolution_time(stream.resolution_curves()),
        figure_decomposition(m),
        figure_coverage(m),
        figure_inclusion(m),
    )
    paths = []
    for name, fig in zip(FIGURES, figures, strict=True):
        fig.savefig(directory / name, dpi=110)
        paths.append(directory / name)
    return paths
