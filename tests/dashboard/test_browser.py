"""The dashboard in a real browser: Debian's Chromium driven by Playwright, the network blocked.

The tests share one server and one page and run in order, the clock moving
on: load, Step, Play, the side-by-side comparison, a regime change, the map.
"""

from __future__ import annotations

import time

from citysim.dashboard.harness import clock_hours, step_and_wait

WAIT_MS = 60_000
"""Generous waits: the machine may be shared (the page answers in well under a second when it is not)."""


def counter(page, side: str, name: str) -> float:
    cell = page.locator(f'.citysim-counters[data-side="{side}"] [data-counter="{name}"]')
    return float(cell.get_attribute("data-value"))


def chart_points(page, side: str, chart: str) -> int:
    return int(page.locator(f'[data-side="{side}"] [data-chart="{chart}"]').get_attribute("data-points"))


def first_incidents(page, side: str) -> list[list[str]]:
    rows = page.locator(f'[data-table="first-{side}"] tr').all_inner_texts()[1:]
    return [row.split("\t") for row in rows]


def test_page_loads_from_the_installed_packages_with_the_network_blocked(page):
    assert page.blocked == []  # nothing was even asked of another host
    assert page.failed == []  # and every asset was found locally
    assert clock_hours(page) == 0
    # the levers in plain language, each with its Chinese term
    levers = page.locator('.citysim-levers[data-side="right"]')
    assert levers.get_attribute("data-regime") == "integrated"
    assert "一网统管" in levers.inner_text()
    assert "适老化" in levers.inner_text()


def test_step_moves_the_counters_and_the_charts(page):
    incidents, points = counter(page, "left", "incidents"), chart_points(page, "left", "coverage")
    for _ in range(3):
        step_and_wait(page)
    assert clock_hours(page) == 3
    assert counter(page, "left", "incidents") > incidents
    assert chart_points(page, "left", "coverage") == points + 3
    assert chart_points(page, "right", "inclusion") == points + 3


def test_play_runs_steps_until_paused(page):
    before = clock_hours(page)
    page.get_by_role("button", name="▶").click()
    page.locator(f'[data-clock="{before + 3}"]').wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="❚❚").click()
    # a step already under way when Pause was clicked may still land: wait until the clock rests
    stopped, rested_since = clock_hours(page), time.monotonic()
    while time.monotonic() - rested_since < 2.0:
        page.wait_for_timeout(250)
        if clock_hours(page) != stopped:
            stopped, rested_since = clock_hours(page), time.monotonic()
    assert stopped >= before + 3
    page.wait_for_timeout(1000)  # several play intervals: nothing moves while paused
    assert clock_hours(page) == stopped


def test_side_by_side_panels_share_the_incidents_and_differ_in_outcome(page):
    while clock_hours(page) < 14:
        step_and_wait(page)
    left, right = first_incidents(page, "left"), first_incidents(page, "right")
    assert len(left) == 5
    # the same incidents (id, type, time occurred) in both cities: common random numbers
    assert [r[:3] for r in left] == [r[:3] for r in right]
    assert counter(page, "left", "incidents") == counter(page, "right", "incidents")
    # the fragmented city passes cases on far more often than the integrated one
    assert counter(page, "left", "transfers") > counter(page, "right", "transfers")


def test_changing_a_regime_changes_its_levers_and_replays_the_same_incidents(page, tmp_path):
    hours = clock_hours(page)
    levers = page.locator('.citysim-levers[data-side="left"]')
    assert levers.get_attribute("data-regime") == "fragmented"
    assert levers.locator('[data-lever="intake"]').get_attribute("data-value") == "per_department"
    resolved_before = counter(page, "left", "resolved")
    page.locator(".citysim-panel-left .v-select").first.click()
    page.get_by_role("option", name="integrated", exact=True).click()
    page.locator('.citysim-levers[data-side="left"][data-regime="integrated"]').wait_for(timeout=WAIT_MS)
    assert levers.locator('[data-lever="intake"]').get_attribute("data-value") == "unified"
    assert clock_hours(page) == hours  # replayed to the same hour
    # both cities now run the same regime on the same incidents: the same outcome, unlike before
    for name in ("incidents", "detected", "resolved", "harmed", "transfers"):
        assert counter(page, "left", name) == counter(page, "right", name)
    assert counter(page, "left", "resolved") != resolved_before
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_the_map_shows_sensors_and_a_street_centre_on_click(page):
    assert page.locator('[data-map="left"] [data-sensor]').count() == 0
    page.get_by_role("switch", name="sensors").check(force=True)
    page.locator('[data-map="left"] [data-sensor]').first.wait_for(timeout=WAIT_MS)
    page.locator('[data-map="left"] [data-street="1"] text').click()
    street = page.locator('[data-table="street-0"]')
    street.wait_for(timeout=WAIT_MS)
    assert "street centre" in street.inner_text()
    assert "gas" in page.locator('[data-table="dep-0"]').inner_text()


def test_a_lever_switch_rebuilds_that_city_with_the_lever_changed(page):
    levers = page.locator('.citysim-levers[data-side="right"]')
    assert levers.locator('[data-lever="offline_channels"]').get_attribute("data-value") == "True"
    page.locator(".citysim-panel-right").get_by_text("change levers").click()
    # the page, not the browser, decides the switch's state: toggle it (by keyboard, as Vuetify's ripple
    # covers the input), then wait for the rebuilt city
    switch = page.locator(".citysim-panel-right").get_by_role("switch", name="offline_channels")
    switch.wait_for(state="visible", timeout=WAIT_MS)
    switch.focus()
    page.keyboard.press("Space")
    page.locator('.citysim-levers[data-side="right"] [data-lever="offline_channels"][data-value="False"]').wait_for(
        timeout=WAIT_MS
    )
    assert levers.get_attribute("data-regime") == "integrated+offline_channels=False"
