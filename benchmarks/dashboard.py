"""Dashboard responsiveness: click on Step to repainted page, in Chromium, and memory over a month.

Starts ``citysim dashboard scenarios/small.toml`` on a free port, opens it in
Debian's Chromium (Playwright, headless, every non-local request aborted),
and prints

* the median (and 90th percentile) time from a click on Step to the page
  showing the next hour (the sidebar's clock and the last panel's charts),
  over 20 Steps, beside the 200 ms target;
* the server's resident memory and the page's JavaScript heap at the start
  and after Play has run a simulated month (720 steps), and one more Step
  then (the page stays usable).

    python benchmarks/dashboard.py            # about two minutes
    python benchmarks/dashboard.py --screenshot docs/figures/dashboard.png   # also the README's picture
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from citysim.dashboard.harness import block_remote, clock_hours, launch_chromium, running_server, step_and_wait

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 200.0
MONTH_H = 30 * 24


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def heap_mib(page) -> float:
    return page.evaluate("() => performance.memory.usedJSHeapSize") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", help="save the page after the timed Steps as this PNG")
    args = parser.parse_args()
    with running_server(ROOT / "scenarios" / "small.toml") as server, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        blocked = block_remote(page, server)
        started = time.perf_counter()
        page.goto(server)
        page.get_by_role("button", name="Step").wait_for(timeout=60000)
        print(f"page interactive after {time.perf_counter() - started:.1f} s; requests to other hosts: {len(blocked)}")
        for _ in range(3):  # warm up
            step_and_wait(page)
        times = sorted(step_and_wait(page) * 1000 for _ in range(20))
        median, p90 = statistics.median(times), times[17]
        verdict = "met" if median < TARGET_MS else "MISSED"
        if args.screenshot:
            page.get_by_role("switch", name="sensors").check(force=True)
            page.locator('[data-map="left"] [data-sensor]').first.wait_for()
            page.screenshot(path=args.screenshot, full_page=True)
        print(f"click on Step to repainted page, 20 steps of small.toml: median {median:.0f} ms, p90 {p90:.0f} ms")
        print(f"  target: median < {TARGET_MS:.0f} ms ({verdict})")
        rss0, heap0 = rss_mib(server.pid), heap_mib(page)
        page.get_by_role("slider").first.focus()
        page.keyboard.press("Home")  # the fastest play speed
        started = time.perf_counter()
        page.get_by_role("button", name="▶").click()
        while clock_hours(page) < MONTH_H:
            page.wait_for_timeout(1000)
            if time.perf_counter() - started > 600:
                raise RuntimeError("a month took over 10 minutes:\n" + "".join(server.log[-40:]))
        page.get_by_role("button", name="❚❚").click()
        page.wait_for_function("() => !document.querySelector('button[disabled]')")
        page.wait_for_timeout(1000)
        played = time.perf_counter() - started
        after = step_and_wait(page) * 1000
        print(f"a simulated month played in {played:.0f} s (to hour {clock_hours(page)})")
        print(f"  server memory: {rss0:.0f} MiB at the start, {rss_mib(server.pid):.0f} MiB after a month")
        print(f"  page JS heap:  {heap0:.1f} MiB at the start, {heap_mib(page):.1f} MiB after a month")
        print(f"  one Step after a month: {after:.0f} ms")
        browser.close()


if __name__ == "__main__":
    main()
