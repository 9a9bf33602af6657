"""Browser tests: Playwright driving Debian's Chromium against `streamlit run` on a free port.

Playwright's own browser download is not used (and not available here): the tests launch
/usr/bin/chromium. Where Chromium is missing they skip on a developer's machine, and fail in CI
(CI=true), so a CI run can never pass without having run them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = "Debian's chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message + ": browser tests must run in CI")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env_extra: dict[str, str] | None = None, cwd: Path = ROOT):
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env_extra or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(cwd / "streamlit_app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.kill()
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    raise RuntimeError(f"streamlit did not start on {url}:\n{out[-2000:]}")


@pytest.fixture(scope="session")
def server():
    _need_chromium()
    proc, url = start_server()
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


def viewport_page(browser, width: int, height: int):
    """A page of a fresh browser context of the given size (close its ``context`` after)."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    return pg


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def wait_for_app(pg) -> None:
    """Streamlit has finished running the script and drawn the page.

    Streamlit marks its root with ``data-test-script-state`` (``running``, ``rerunRequested``,
    ``notRunning``); a widget change flips it away from ``notRunning`` at once, so waiting for
    ``notRunning`` after an action cannot read the page before the rerun (as the status-widget
    check could on a busy machine). Every page has a title; the short pause lets a rerun that
    the script itself requests (``st.rerun``) begin before the second check.
    """
    done = "[data-testid='stApp'][data-test-script-state='notRunning']"
    pg.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']",
                         timeout=60_000)
    pg.wait_for_selector(done, timeout=90_000)
    pg.wait_for_selector("[data-testid='stMain'] h1")
    pg.wait_for_timeout(300)
    pg.wait_for_selector(done, timeout=90_000)
    pg.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=60_000)


#: Servers that have run the app once (a page load costs seconds: open each root once).
_STARTED: set[str] = set()


def open_path(pg, server: str, path: str) -> None:
    """Open ``path`` (a page and its query) on ``server``, after the app's root if this
    server has not run yet: a fresh server's first request to a page path says "page not
    found" before it runs the page (ui.entry; ``test_first_request_to_a_page_link_on_a_fresh_
    server`` tests that case)."""
    if server not in _STARTED:
        pg.goto(server)
        wait_for_app(pg)
        _STARTED.add(server)
    pg.goto(f"{server}/{path}")
    wait_for_app(pg)


@pytest.fixture
def isolated_server(tmp_path):
    """A fresh server on a copy of the project, so nothing can touch the real data/ folder."""
    _need_chromium()
    copy = tmp_path / "app"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", "tests", "bench",
                                                               "__pycache__", ".hypothesis"))
    proc, url = start_server(cwd=copy)
    yield url, copy
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
