"""One dashboard server and one Chromium page shared by the browser tests of a module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import SMALL

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the dev extra not installed
    sync_playwright = None


def _browser_missing() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed (pip install '.[dev]')"
    if not Path("/usr/bin/chromium").exists():
        return "Debian's Chromium is not installed (apt-get install chromium fonts-noto-cjk)"
    return None


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (skipped where it is missing, except in CI)."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    from citysim.dashboard.harness import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(browser):
    """``citysim dashboard scenarios/small.toml`` on a free port."""
    from citysim.dashboard.harness import running_server

    with running_server(SMALL) as url:
        yield url


@pytest.fixture(scope="module")
def page(browser, server):
    """The dashboard open in one tab, every non-local request aborted (see ``page.blocked``)."""
    from citysim.dashboard.harness import block_remote

    tab = browser.new_page(viewport={"width": 1500, "height": 1100})
    tab.failed = []
    tab.on("response", lambda r: tab.failed.append(r.url) if r.status >= 400 else None)
    tab.blocked = block_remote(tab, server)
    tab.goto(server)
    tab.get_by_role("button", name="Step").wait_for(timeout=90000)
    yield tab
    tab.close()
