"""Driving the dashboard from a real browser: what the browser tests and the benchmark share.

A server is started as ``citysim dashboard --port 0`` in a child process (it
prints the free port it took), and Debian's Chromium is driven by Playwright
(``executable_path`` set, headless; Playwright's own browser download is never
used). Every request not to the server is aborted, so the page must come
entirely from the installed packages.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "Server",
    "block_remote",
    "clock_hours",
    "launch_chromium",
    "running_server",
    "step_and_wait",
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class Server(str):
    """A running server's address (a string), with its process id as ``pid`` and its output so far as ``log``."""

    pid: int
    log: list[str]


@contextmanager
def running_server(scenario: str | Path, seed: int | None = None, timeout_s: float = 60.0) -> Iterator[Server]:
    """A dashboard server for ``scenario`` on a free local port; yields its address, stops it after."""
    cmd = [sys.executable, "-m", "citysim", "dashboard", str(scenario), "--port", "0"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def pump() -> None:
        for line in proc.stdout:
            log.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    try:
        url = None
        while url is None:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise RuntimeError("the dashboard did not start:\n" + "".join(log))
            try:
                found = re.search(r"(http://\S+/)", lines.get(timeout=min(left, 1.0)))
            except queue.Empty:
                continue
            url = found.group(1) if found else None
        while True:  # ready once the page is served
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the dashboard never answered:\n" + "".join(log)) from None
                time.sleep(0.1)
        server = Server(url)
        server.pid, server.log = proc.pid, log
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch_chromium(playwright):
    """Debian's Chromium, headless, with nothing running in the background."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))


def block_remote(page, url: str) -> list[str]:
    """Abort every request not to the server at ``url``; returns the list of aborted addresses."""
    base = url.rstrip("/")
    local = (base, base.replace("http://", "ws://"), "data:", "blob:")
    blocked: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith(local):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return blocked


def clock_hours(page) -> int:
    """Hours since the start, as the page shows them."""
    return int(page.locator("[data-clock]").get_attribute("data-clock"))


def step_and_wait(page, timeout_ms: float = 60000) -> float:
    """Click Step and wait for the page to show the next hour; returns the seconds from click to repaint."""
    before = clock_hours(page)
    button = page.get_by_role("button", name="Step")
    button.wait_for()
    started = time.perf_counter()
    button.click()
    page.locator(f'[data-clock="{before + 1}"]').wait_for(timeout=timeout_ms)
    page.locator(f'[data-side="right"] [data-points="{before + 2}"]').first.wait_for(timeout=timeout_ms)
    return time.perf_counter() - started
