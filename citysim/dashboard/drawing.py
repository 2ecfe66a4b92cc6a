"""Pictures of a city as SVG and HTML text: the schematic map and the live charts.

Plain strings, drawn on the server in a few milliseconds and painted by the
browser at once (no chart library, nothing fetched). Cells have no
coordinates, so the map is schematic: a block per district (its kind
written and tinted), in it a block per street, in it a square per grid cell
(a square per street when a city has too many cells to draw). Elements carry
``data-*`` attributes naming what they show, which the tests read.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from citysim.scenario import DISTRICT_KINDS

__all__ = ["MAX_CELLS_DRAWN", "city_map", "line_chart", "table"]

MAX_CELLS_DRAWN = 2500
"""Above this many cells the map draws streets, not cells."""
MAX_POINTS = 125
"""At most this many points per line (a chart is 250 pixels wide): a month's chart costs what a day's does."""

KIND_TINT = {"core": "#e8e4f3", "urban": "#e6eef6", "suburban": "#eef5e6", "rural": "#f6f1e0", "mountain": "#e3efe6"}
LINE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
_SQ, _GAP, _PAD, _WIDTH = 11, 2, 6, 520


def heat(value: float, top: float) -> str:
    """Colour of a count on a white-to-red scale reaching red at ``top``."""
    if value <= 0 or top <= 0:
        return "#ffffff"
    x = min(value / top, 1.0)
    r, g, b = 255, int(235 - 190 * x), int(200 - 180 * x)
    return f"#{r:02x}{g:02x}{b:02x}"


def _grid(n: int, width: int) -> tuple[int, int]:
    """Columns and rows of a block of ``n`` squares at most ``width`` wide, roughly square."""
    cols = max(1, min(max(1, (width - 2 * _PAD) // (_SQ + _GAP)), math.ceil(math.sqrt(n * 1.6))))
    return cols, max(1, math.ceil(n / cols))


def city_map(
    city,
    value_by_cell: np.ndarray,
    top: float,
    *,
    sensors: bool,
    workers: bool,
    worker_backlog: np.ndarray | None = None,
    selected_street: int | None = None,
    label: str = "open cases",
) -> str:
    """The schematic map: districts, streets and cells coloured by ``value_by_cell``.

    Args:
        city: the :class:`~citysim.city.City`.
        value_by_cell: a count per cell (open cases, unmet need ...).
        top: the count shown in full red (the same for two maps side by side).
        sensors: mark cells with sensors (a dot).
        workers: mark each grid worker (a ring on the first of their cells; filled while tasks wait).
        worker_backlog: tasks waiting per grid worker.
        selected_street: outline this street.
        label: what the colour shows, for the legend.
    """
    draw_cells = city.n_cells <= MAX_CELLS_DRAWN
    sensor_cells = city.sensor_count.sum(axis=1)
    street_value = np.bincount(city.cell_street, weights=value_by_cell, minlength=city.n_streets)
    first_cell_of_worker = {}
    for cell, worker in enumerate(city.cell_worker.tolist()):
        first_cell_of_worker.setdefault(worker, cell)
    worker_at = {c: w for w, c in first_cell_of_worker.items()}
    cells_of_street = [[] for _ in range(city.n_streets)]
    for cell, street in enumerate(city.cell_street.tolist()):
        cells_of_street[street].append(cell)
    parts, y = [], _PAD
    street_top = top if draw_cells else max(float(street_value.max(initial=0)), 1.0)
    for d, name in enumerate(city.district_names):
        kind = DISTRICT_KINDS[int(city.district_kind[d])]
        streets = np.flatnonzero(city.street_district == d).tolist()
        blocks, x, row_h, y0 = [], _PAD * 2, 0, y + 18
        for s in streets:
            n = len(cells_of_street[s]) if draw_cells else 1
            cols, rows = _grid(n, _WIDTH // 2 if draw_cells else _SQ + 2 * _PAD)
            w, h = cols * (_SQ + _GAP) + 2 * _PAD - _GAP, rows * (_SQ + _GAP) + 2 * _PAD - _GAP + 12
            if x + w > _WIDTH - _PAD and x > _PAD * 2:
                x, y0, row_h = _PAD * 2, y0 + row_h + _GAP * 2, 0
            blocks.append((s, x, y0, w, h, cols))
            x, row_h = x + w + _GAP * 3, max(row_h, h)
        height = y0 + row_h + _PAD - y
        parts.append(
            f'<g data-district="{escape(name)}" data-kind="{kind}"><rect x="{_PAD}" y="{y}" width="{_WIDTH - 2 * _PAD}"'
            f' height="{height}" rx="6" fill="{KIND_TINT.get(kind, "#eee")}" stroke="#9aa"/>'
            f'<text x="{_PAD * 2}" y="{y + 13}" font-size="12" font-weight="bold">{escape(name)}'
            f' <tspan font-weight="normal" fill="#555">· {kind}</tspan></text>'
        )
        for s, bx, by, w, h, cols in blocks:
            chosen = ' stroke-width="2.5" stroke="#000"' if s == selected_street else ' stroke="#789"'
            parts.append(
                f'<g data-pick="street:{s}" data-street="{s}" data-value="{street_value[s]:g}" style="cursor:pointer">'
                f'<rect x="{bx}" y="{by}" width="{w}" height="{h}" rx="3" fill="#fafafa"{chosen}/>'
                f'<text x="{bx + 3}" y="{by + 10}" font-size="9" fill="#333">street {s}</text>'
            )
            items = cells_of_street[s] if draw_cells else [s]
            for k, item in enumerate(items):
                cx = bx + _PAD + (k % cols) * (_SQ + _GAP)
                cy = by + 12 + _PAD + (k // cols) * (_SQ + _GAP)
                v = value_by_cell[item] if draw_cells else street_value[item]
                fill = heat(v, top if draw_cells else street_top)
                parts.append(
                    f'<rect x="{cx}" y="{cy}" width="{_SQ}" height="{_SQ}" fill="{fill}" stroke="#bbb"'
                    f' stroke-width="0.5"><title>{"cell " + str(item) if draw_cells else "street"}: {v:g} {label}'
                    "</title></rect>"
                )
                if draw_cells and sensors and sensor_cells[item] > 0:
                    parts.append(
                        f'<circle data-sensor="{item}" cx="{cx + _SQ / 2}" cy="{cy + _SQ / 2}" r="1.8" fill="#06c"'
                        ' pointer-events="none"/>'
                    )
                if draw_cells and workers and item in worker_at:
                    busy = worker_backlog is not None and worker_backlog[worker_at[item]] > 0
                    parts.append(
                        f'<circle data-worker="{worker_at[item]}" cx="{cx + _SQ / 2}" cy="{cy + _SQ / 2}" r="4"'
                        f' fill="{"#333" if busy else "none"}" fill-opacity="0.5" stroke="#333" stroke-width="1"'
                        ' pointer-events="none"/>'
                    )
            parts.append("</g>")
        parts.append("</g>")
        y += height + _PAD
    legend = (
        f'<text x="{_PAD}" y="{y + 12}" font-size="10" fill="#444">colour: {escape(label)} per'
        f" {'cell' if draw_cells else 'street'} (red = {top if draw_cells else street_top:g} or more)"
        f"{' · blue dot: sensors' if sensors and draw_cells else ''}"
        f"{' · ring: a grid worker (filled: tasks waiting)' if workers and draw_cells else ''}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="citysim-map" width="{_WIDTH}" height="{y + 20}"'
        f' viewBox="0 0 {_WIDTH} {y + 20}">{"".join(parts)}{legend}</svg>'
    )


def _points(values: np.ndarray, x0: float, y0: float, w: float, h: float, low: float, high: float) -> str:
    n = len(values)
    stride = max(1, math.ceil(n / MAX_POINTS))
    idx = np.arange(0, n, stride)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    xs = x0 + (idx / max(n - 1, 1)) * w
    span = high - low if high > low else 1.0
    ys = y0 + h - (np.clip(values[idx], low, high) - low) / span * h
    ok = ~np.isnan(ys)
    return " ".join(f"{x:.1f},{yv:.1f}" for x, yv in zip(xs[ok], ys[ok], strict=True))


def line_chart(
    title: str, lines: dict[str, np.ndarray], low: float, high: float, unit: str = "", *, name: str = ""
) -> str:
    """A small line chart of series over hours since the start (the latest value printed per line)."""
    w, h, left, top, right = 250, 110, 34, 18, 8
    parts = [
        f'<text x="2" y="12" font-size="11" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#999"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="#999"/>',
        f'<text x="{left - 3}" y="{top + 8}" font-size="9" text-anchor="end">{high:g}</text>',
        f'<text x="{left - 3}" y="{top + h}" font-size="9" text-anchor="end">{low:g}</text>',
    ]
    hours = max((len(v) for v in lines.values()), default=0)
    parts.append(
        f'<text x="{left + w}" y="{top + h + 11}" font-size="9" text-anchor="end">{max(hours - 1, 0)} h</text>'
    )
    legend_y = top + h + 24
    for k, (label, values) in enumerate(lines.items()):
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        latest = values[-1] if len(values) else np.nan
        if len(values) > 1:
            points = _points(values, left, top, w, h, low, high)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
        shown = "–" if np.isnan(latest) else f"{latest:.3g}{unit}"
        col, row = k % 2, k // 2
        parts.append(
            f'<text x="{left + col * 140}" y="{legend_y + row * 12}" font-size="9" fill="{colour}"'
            f' data-series="{escape(label)}" data-latest="{"" if np.isnan(latest) else f"{latest:.6g}"}">'
            f"■ {escape(label)}: {shown}</text>"
        )
    height = legend_y + ((len(lines) + 1) // 2) * 12
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="citysim-chart" data-chart="{escape(name)}"'
        f' data-points="{hours}" width="{left + w + right}" height="{height}">{"".join(parts)}</svg>'
    )


def table(header: list[str], rows: list[list[object]], *, name: str = "") -> str:
    """A plain HTML table (cells escaped)."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="citysim-table" data-table="{escape(name)}"><tr>{head}</tr>{body}</table>'
