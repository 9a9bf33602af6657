"""A corrupt store in a real browser: every page shows the plain message (no traceback, no
server path), and a maintainer restores the last good version from the Upload data page."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.browser.conftest import _need_chromium, start_server
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(300)

PAGES = ["trends", "compare", "inequalities", "about", "upload"]
PASSWORD = "maintainer-s3cret"


@pytest.fixture
def broken_server(tmp_path):
    """A copy of the project whose store has one kept version, with the password set; the
    store file is damaged once the server runs (as a failed copy by hand would)."""
    _need_chromium()
    from core.store import Store

    copy = tmp_path / "app"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".git", "tests", "bench", "__pycache__", ".hypothesis", "*.history", "*.lock"))
    (copy / ".streamlit" / "secrets.toml").write_text(f'upload_password = "{PASSWORD}"\n')
    store = copy / "data" / "recovery.parquet"
    Store(store).recover()  # any write keeps the store as a version; this records it
    good = store.read_bytes()
    proc, url = start_server(cwd=copy)
    store.write_bytes(good[: len(good) // 3])  # cut short
    yield url, store, good
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def settled(page) -> str:
    """The main area's text once the script has finished running."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=60_000)
    return page.locator("[data-testid='stMain']").inner_text()


def test_corrupt_store_every_page_plain_then_restored(broken_server, page):
    url, store, good = broken_server
    for name in PAGES:
        page.goto(f"{url}/{name}")
        page.get_by_text("cannot be read").first.wait_for(timeout=60_000)
        main = settled(page)
        assert "damaged or not a store of this tool" in main, (name, main)
        assert "restore" in main, (name, main)
        assert "Traceback" not in main and "Error:" not in main.split("What is wrong")[0]
        assert str(store.parent) not in main and "/tmp/" not in main
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("[data-testid='stVegaLiteChart']").count() == 0

    # the maintainer restores from the Upload data page
    page.goto(f"{url}/upload")
    page.get_by_text("cannot be read").first.wait_for(timeout=60_000)
    page.get_by_label("Upload password").fill(PASSWORD)
    page.get_by_label("Upload password").press("Enter")
    page.get_by_role("button", name="Restore the last good version").click()
    page.get_by_text("every page works again").wait_for(timeout=60_000)
    assert store.read_bytes() == good
    page.get_by_role("link", name="Recovery over time").click()
    page.get_by_text("Recovery rate, 2024/25").first.wait_for(timeout=60_000)
    main = settled(page)
    assert "cannot be read" not in main
    page.wait_for_selector("[data-testid='stVegaLiteChart']")
