"""Upload a quarterly zip through the real file chooser and see the new quarter on the chart."""

from __future__ import annotations

import pytest

from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.timeout(240)


def upload_next_quarter(page, url: str, tmp_path) -> None:
    """Open the Upload page, choose the next quarter's zip in the file chooser, and wait until
    it is read: the uploader then gives way to the file's name (its bytes are let go)."""
    from tests.app.test_upload import next_quarter_zip

    zpath = tmp_path / "nhstalkingtherapies_quarterly_data_q2_26_27.zip"
    zpath.write_bytes(next_quarter_zip())
    page.goto(url + "/upload")
    wait_for_app(page)
    with page.expect_file_chooser() as chooser:
        page.locator("[data-testid='stFileUploader'] button").filter(has_text="Upload").click()
    chooser.value.set_files(str(zpath))
    page.get_by_text("The file was read without problems").wait_for(timeout=60_000)
    page.get_by_text(f"File: {zpath.name}").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.locator("[data-testid='stFileUploader']").count() == 0


def test_upload_zip_and_see_the_new_quarter(isolated_server, page, tmp_path):
    url, copy = isolated_server
    before = (copy / "data" / "recovery.parquet").read_bytes()
    upload_next_quarter(page, url, tmp_path)
    # the check report comes first; the preview (with the new period) follows in the same run
    page.locator("[data-testid='stMain']").get_by_text("New periods: 2026/27 Q2").first.wait_for(
        timeout=60_000)
    page.get_by_role("button", name="Use for this session").click()
    page.get_by_text("Includes your upload").first.wait_for(timeout=60_000)

    page.get_by_role("link", name="Recovery over time").click()
    # Wait for what the trends page itself draws: the upload page's own chart and notice are
    # still on screen until the new run replaces them, so a generic "a chart is there" or
    # "the script is idle" check can pass too early on a loaded machine.
    main_area = page.locator("[data-testid='stMain']")
    main_area.get_by_text("Recovery rate, 2026/27 Q2").first.wait_for(timeout=60_000)
    wait_for_app(page)
    main_area.locator("[data-testid='stVegaLiteChart'] canvas, "
                      "[data-testid='stVegaLiteChart'] svg").first.wait_for()
    main = main_area.inner_text()
    assert "Recovery rate, 2026/27 Q2" in main and "Includes your upload" in main
    tab = page.locator("[data-testid='stTab']").filter(has_text="Table").first
    tab.click()
    page.locator("[data-testid='stDataFrame']").first.wait_for(state="visible")
    assert (copy / "data" / "recovery.parquet").read_bytes() == before


def test_upload_preview_table_fits_at_1400px(isolated_server, page, tmp_path):
    """Issue 12 item 9: at 1400 px, with the sidebar open, the preview table shows every
    column (before, after and change first; short names) with no horizontal scrolling."""
    url, _ = isolated_server
    upload_next_quarter(page, url, tmp_path)
    assert page.viewport_size["width"] == 1400
    table = page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").first
    table.scroll_into_view_if_needed()
    scroller = table.locator(".dvn-scroller").first
    scroller.wait_for()
    sizes = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
    page.screenshot(path=str(tmp_path / "upload_preview_1400.png"), full_page=True)
    assert sizes[0] <= sizes[1] + 1, f"the table scrolls sideways: {sizes[0]} px in {sizes[1]} px"


def test_a_web_address_in_an_area_name_is_shown_as_text_not_a_link(server, page, tmp_path):
    """A bare ``http://``, ``www.`` or e-mail address in a file's area name was a clickable
    link in the Upload page's warning: Streamlit's renderer links them after escapes are
    undone (review, 2026-11-28). Nothing is stored: the file is only checked."""
    from tests.app.test_upload import NEXT
    from tests.conftest import area_rows, quarterly_csv, small_quarter

    name = "see http://evil.example or www.evil.com or x@evil.com"
    rows = small_quarter(*NEXT) + area_rows(*NEXT, level="SubICB", code="ZZ8", name=name)
    path = tmp_path / "hostile.csv"
    path.write_bytes(quarterly_csv(rows))
    page.goto(server + "/upload")
    wait_for_app(page)
    with page.expect_file_chooser() as chooser:
        page.locator("[data-testid='stFileUploader'] button").filter(has_text="Upload").click()
    chooser.value.set_files(str(path))
    warning = page.locator("[data-testid='stAlert']").filter(has_text="unknown SubICB code ZZ8")
    warning.first.wait_for(timeout=60_000)
    wait_for_app(page)
    shown = warning.first.inner_text().replace("\u2060", "")
    assert "http://evil.example" in shown and "www.evil.com" in shown, shown
    links = page.locator("[data-testid='stMain'] a").evaluate_all("as => as.map(a => a.href)")
    assert not [h for h in links if "evil" in h], links
