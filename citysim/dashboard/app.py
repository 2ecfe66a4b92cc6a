"""The classroom dashboard: a Solara page showing two cities on one incident stream.

Served by ``citysim dashboard`` (see :mod:`citysim.dashboard.server`). The model
the page drives is a :class:`~citysim.dashboard.classroom.Classroom` (one Mesa
step = one simulated hour in both cities); Mesa's ``ModelController`` gives
Reset, Play and Step, Mesa's ``update_counter`` repaints after each step. The
rest is plain Solara, where SolaraViz does not fit: its parameter panel
rebuilds a model only on Reset and cannot follow a regime preset (here a
lever change replays the same incidents to the current hour at once), its
draggable grid and Altair or Matplotlib charts (Altair waits 100 ms before
each repaint; Matplotlib renders a PNG on the server) would not repaint a
step in 200 ms, and each browser tab needs a model of its own. Maps and
charts are SVG drawn by :mod:`citysim.dashboard.drawing`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from citysim.dashboard.agents import department_rows, street_rows, worker_backlog
from citysim.dashboard.classroom import Classroom, regime_choices, regime_with, scenario_at
from citysim.dashboard.drawing import city_map, line_chart, table
from citysim.dashboard.levers import CHINESE_TERMS, lever_controls, plain_value
from citysim.dashboard.live import Look
from citysim.dashboard.story import clock, story_html

__all__ = ["Page", "SCENARIO_ENV", "SEED_ENV"]

SCENARIO_ENV = "CITYSIM_DASHBOARD_SCENARIO"
"""The scenario file the server was started with (set by ``citysim dashboard``)."""
SEED_ENV = "CITYSIM_DASHBOARD_SEED"
DEFAULT_PANELS = ("fragmented", "integrated")
"""Presets the two panels start with (any preset or scenario regime can be picked)."""
SIDES = ("left", "right")
MAP_MODES = {"open cases": "open_by_cell", "unmet need": "unmet_by_cell"}
COUNTERS = ("incidents", "detected", "resolved", "harmed", "transfers")
CSS = """
.citysim-table { border-collapse: collapse; font-size: 12px; margin: 4px 0; }
.citysim-table td, .citysim-table th { border-bottom: 1px solid #ddd; padding: 2px 6px; text-align: left; }
.citysim-counters { display: flex; gap: 10px; flex-wrap: wrap; margin: 4px 0; }
.citysim-counters div { background: #f3f5f8; border-radius: 6px; padding: 4px 8px; font-size: 12px; }
.citysim-counters b { display: block; font-size: 18px; }
.citysim-levers { font-size: 12px; margin: 0; padding-left: 16px; }
.citysim-zh { font-family: "Noto Sans CJK SC", "Noto Sans CJK", sans-serif; color: #a00; }
"""


@solara.component_vue("clickable.vue", vuetify=False)
def Clickable(html: str, event_pick: Callable[[str], None] | None = None):
    """HTML (or SVG) whose elements marked ``data-pick="what"`` report a click with that value."""


def _start() -> tuple[str, int | None]:
    path = os.environ.get(SCENARIO_ENV) or str(Path("scenarios") / "small.toml")
    seed = os.environ.get(SEED_ENV)
    return path, int(seed) if seed else None


def counters_html(look: Look, side: str) -> str:
    """The counters of one city, each with its value as a data attribute."""
    cells = "".join(
        f'<div data-counter="{name}" data-value="{look.counter(name):g}"><b>{look.counter(name):,.0f}</b>{name}</div>'
        for name in COUNTERS
    )
    return f'<div class="citysim-counters" data-side="{side}">{cells}</div>'


def levers_html(regime, side: str) -> str:
    """The lever values of a regime in plain language, each with its Chinese term."""
    items = "".join(
        f'<li data-lever="{c.name}" data-value="{getattr(regime, c.name)}"><b>{c.name}</b> = {getattr(regime, c.name)}'
        f' <span class="citysim-zh">{CHINESE_TERMS[c.name][0]}</span> <i>{CHINESE_TERMS[c.name][1]}</i>'
        f"<br>{plain_value(regime, c.name)}</li>"
        for c in lever_controls()
    )
    return f'<ul class="citysim-levers" data-side="{side}" data-regime="{regime.name}">{items}</ul>'


def charts_html(looks: tuple[Look, Look], k: int, cohorts: list[str]) -> str:
    """Response time, coverage and inclusion by cohort over time, on the same scales in both panels."""
    look = looks[k]
    both = np.concatenate([x.series["mean_resolve_h"] for x in looks])
    top_h = max(float(np.nanmax(both)) if np.isfinite(both).any() else 0.0, 1.0)
    charts = [
        line_chart(
            "response: mean hours to resolve (so far)",
            {"mean resolution": look.series["mean_resolve_h"]},
            0,
            round(top_h * 1.5 + 0.5),
            " h",
            name="response",
        ),
        line_chart(
            "coverage: share of incidents found",
            {"detected": look.series["detected_share"]},
            0,
            1,
            name="coverage",
        ),
        line_chart(
            "inclusion: share of needs met, by cohort",
            {c: look.met_share[:, j] for j, c in enumerate(cohorts)},
            0,
            1,
            name="inclusion",
        ),
    ]
    return f'<div data-side="{SIDES[k]}" style="display:flex;flex-wrap:wrap;gap:6px">{"".join(charts)}</div>'


def comparison_html(classroom: Classroom, looks: tuple[Look, Look]) -> str:
    """The two cities' metrics next to each other."""
    names = [c.regime.name for c in classroom.cities]
    rows = [[name, *(f"{x.counter(name):,.0f}" for x in looks)] for name in COUNTERS]
    rows.append(["mean hours to resolve", *(f"{x.counter('mean_resolve_h'):.1f}" for x in looks)])
    rows.append(["share found", *(f"{x.counter('detected_share'):.1%}" for x in looks)])
    for j, cohort in enumerate(classroom.cities[0].model.city.cohort_names):
        rows.append([f"needs met: {cohort}", *(f"{x.met_share[-1, j]:.0%}" if x.hours >= 0 else "–" for x in looks)])
    return table(["measure", *names], rows, name="comparison")


def first_incidents_html(classroom: Classroom, look: Look, side: str) -> str:
    """The first incidents after the start (the same in both cities) and what each city made of them."""
    rows = []
    for i in classroom.first_ids:
        s = look.stories.get(i)
        if s is not None:
            found = "–" if s.detected_by is None or s.detected_at > look.now_min else s.detected_by
            rows.append([s.id, s.type, clock(s.occurred_at), found, s.status])
    return table(["id", "type", "occurred", "found by", "status now"], rows, name=f"first-{side}")


@solara.component
def LeverEditor(classroom: Classroom, k: int, panel: dict, on_panel: Callable[[dict], None]):
    """A regime preset and every lever of one panel, set by the user."""
    regime = classroom.cities[k].regime

    def set_lever(name, value):
        on_panel({**panel, "levers": {**panel["levers"], name: value}})

    with solara.Details(summary="change levers"):
        for c in lever_controls():
            value = getattr(regime, c.name)
            if c.kind == "choice":
                solara.Select(c.name, values=list(c.choices), value=value, on_value=lambda v, n=c.name: set_lever(n, v))
            elif c.kind == "switch":
                solara.Switch(label=c.name, value=value, on_value=lambda v, n=c.name: set_lever(n, v))
            else:
                solara.SliderFloat(
                    c.name,
                    value=value,
                    min=c.low,
                    max=c.high,
                    step=c.step,
                    on_value=lambda v, n=c.name: set_lever(n, v),
                )


@solara.component
def CityLive(classroom: Classroom, k: int, view: dict, on_pick):
    """What moves in one city: counters, map, the incident of the moment, charts (repainted each step)."""
    update_counter.get()
    city, looks, side = classroom.cities[k], classroom.looks(), SIDES[k]
    look = looks[k]
    solara.HTML(unsafe_innerHTML=counters_html(look, side))
    attr = MAP_MODES[view["map"]]
    top = max(max(float(getattr(x, attr).max(initial=0)) for x in looks), 1.0)
    svg = city_map(
        city.model.city,
        getattr(look, attr),
        top,
        sensors=view["sensors"],
        workers=view["workers"],
        worker_backlog=worker_backlog(city.model) if view["workers"] else None,
        selected_street=view["street"],
        label=view["map"],
    )
    Clickable(html=f'<div data-map="{side}">{svg}</div>', event_pick=on_pick)
    followed = classroom.followed_id()
    solara.HTML(unsafe_innerHTML=story_html(look.stories.get(followed), look.now_min, side))
    solara.HTML(unsafe_innerHTML=charts_html(looks, k, city.model.city.cohort_names))


@solara.component
def CityPanel(classroom: Classroom, k: int, panel: dict, on_panel, view: dict, on_pick):
    """One city: its regime and levers (changed by the user), and what moves in it."""
    city, side = classroom.cities[k], SIDES[k]
    with solara.Card(title=f"{side}: {city.regime.name}", classes=[f"citysim-panel-{side}"]):
        solara.Select(
            "regime",
            values=regime_choices(classroom.scenario),
            value=panel["preset"],
            on_value=lambda name: on_panel({"preset": name, "levers": {}}),
        )
        CityLive(classroom, k, view, on_pick)
        solara.HTML(unsafe_innerHTML=levers_html(city.regime, side))
        LeverEditor(classroom, k, panel, on_panel)


@solara.component
def RunClock(classroom: Classroom):
    """The simulated time."""
    update_counter.get()
    solara.HTML(
        unsafe_innerHTML=f'<b data-clock="{classroom.hours}">{clock(classroom.now_min)}</b>'
        f" · {classroom.hours} h since the start (one step = one hour)"
    )


@solara.component
def FollowList(classroom: Classroom, on_pick):
    """The latest notable incidents; a click follows one (pins it), a second click lets go."""
    update_counter.get()
    stories = classroom.looks()[0].stories
    items = "".join(
        f'<li data-pick="incident:{i}" style="cursor:pointer">{"📌 " if i == classroom.pinned else ""}'
        f"{i}: {stories[i].type} at {clock(stories[i].occurred_at)}</li>"
        for i in classroom.recent_notable()
        if i in stories
    )
    Clickable(html=f'<ul class="citysim-levers" data-list="recent">{items}</ul>', event_pick=on_pick)


@solara.component
def SideBySide(classroom: Classroom):
    """Both cities' metrics next to each other, and the first incidents in each."""
    update_counter.get()
    looks = classroom.looks()
    solara.HTML(unsafe_innerHTML=comparison_html(classroom, looks))
    with solara.Columns([1, 1]):
        for k in range(2):
            solara.HTML(unsafe_innerHTML=first_incidents_html(classroom, looks[k], SIDES[k]))


@solara.component
def Inspector(classroom: Classroom, street: int | None):
    """The agents of a clicked street (its centre, its grid workers) and every department, in both cities."""
    update_counter.get()
    with solara.Columns([1, 1]):
        for k, city in enumerate(classroom.cities):
            html = ""
            if street is not None:
                html += table(["who", "on duty", "waiting"], street_rows(city.model, street), name=f"street-{k}")
            html += table(["department", "teams out", "waiting"], department_rows(city.model), name=f"dep-{k}")
            solara.HTML(unsafe_innerHTML=html)


@solara.component
def Page():
    """The dashboard: controls in the sidebar, two cities side by side, their comparison below."""
    path, seed0 = _start()
    scenario = scenario_at(path)
    seed = seed0 if seed0 is not None else scenario.seed
    panels = solara.use_reactive([{"preset": p, "levers": {}} for p in DEFAULT_PANELS])

    def params_for(panel_list, seed_value):
        regimes = [regime_with(scenario, p["preset"], p["levers"]) for p in panel_list]
        return {"scenario_path": path, "left": regimes[0], "right": regimes[1], "seed": seed_value}

    first = solara.use_memo(lambda: Classroom(**params_for(panels.value, seed)), [])
    model = solara.use_reactive(first)
    params = solara.use_reactive(params_for(panels.value, seed))
    speed = solara.use_reactive(300)
    view = solara.use_reactive({"map": "open cases", "sensors": False, "workers": False, "street": None})
    classroom: Classroom = model.value

    def rebuild(panel_list, seed_value):
        """New levers or seed: the same incidents replayed to the current hour."""
        new_params = params_for(panel_list, seed_value)
        pinned = classroom.pinned
        fresh = Classroom(**new_params, hours=classroom.hours)
        fresh.pinned = pinned
        panels.value, params.value, model.value = panel_list, new_params, fresh

    def set_panel(k, panel):
        rebuild([panel if j == k else p for j, p in enumerate(panels.value)], params.value["seed"])

    def pick(what: str):
        kind, _, value = what.partition(":")
        if kind == "street":
            view.value = {**view.value, "street": int(value)}
        elif kind == "incident":
            classroom.pinned = None if classroom.pinned == int(value) else int(value)
            update_counter.value += 1

    solara.Style(CSS)
    solara.Title("citysim classroom")
    with solara.AppBar():
        solara.AppBarTitle(f"citysim · {scenario.name}: {scenario.description}")
    with solara.Sidebar():
        with solara.Card("Run"):
            RunClock(classroom)
            ModelController(
                model,
                model_parameters=params,
                play_interval=speed,
                render_interval=solara.use_reactive(1),
                use_threads=solara.use_reactive(False),
            )
            solara.SliderInt("speed: ms between steps", value=speed, min=100, max=2000, step=50)
            solara.InputInt("seed", value=params.value["seed"], on_value=lambda s: rebuild(panels.value, int(s)))
        with solara.Card("Map"):
            solara.Select(
                "colour by",
                values=list(MAP_MODES),
                value=view.value["map"],
                on_value=lambda m: view.set({**view.value, "map": m}),
            )
            solara.Switch(
                label="sensors",
                value=view.value["sensors"],
                on_value=lambda b: view.set({**view.value, "sensors": b}),
            )
            solara.Switch(
                label="grid workers",
                value=view.value["workers"],
                on_value=lambda b: view.set({**view.value, "workers": b}),
            )
        with solara.Card("Follow an incident"):
            FollowList(classroom, pick)
    with solara.Columns([1, 1]):
        for k in range(2):
            CityPanel(classroom, k, panels.value[k], lambda p, k=k: set_panel(k, p), view.value, pick)
    with solara.Card("Side by side: the same incidents, two cities"):
        SideBySide(classroom)
    street = view.value["street"]
    with solara.Card(f"Street {street}: its centre and grid workers" if street is not None else "Departments"):
        Inspector(classroom, street)


page = Page
