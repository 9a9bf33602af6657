"""What only a browser shows: the chart drawn, the table tab, a real CSV download, the link."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.timeout(240)


def sidebar(pg):
    return pg.locator("[data-testid='stSidebar']")


def choose(pg, label: str, text: str) -> None:
    """Pick an option in a Streamlit selectbox or multiselect by typing to search."""
    box = sidebar(pg).locator("[data-testid='stSelectbox'], [data-testid='stMultiSelect']").filter(
        has_text=label)
    box.locator("input").first.click()
    box.locator("input").first.fill(text)
    pg.locator("[role='option']").filter(has_text=text).first.click()
    pg.keyboard.press("Escape")
    wait_for_app(pg)


def chart_svg_text(pg) -> str:
    pg.wait_for_selector("[data-testid='stVegaLiteChart'] svg, [data-testid='stVegaLiteChart'] canvas")
    return pg.locator("[data-testid='stVegaLiteChart']").first.inner_text()


def alerts(pg) -> str:
    return "\n".join(pg.locator("[data-testid='stAlert']").all_inner_texts())


def test_landing_page_shows_englands_real_rate_and_no_synthetic_banner(server, page):
    """The first screen a visitor sees is NHS England's published 2024/25 figure; switching to
    quarterly brings the synthetic notice (the bundled quarters are the sample) and the URL
    carries the choice."""
    pg = page
    pg.goto(server)
    wait_for_app(pg)
    pg.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")
    metric = pg.locator("[data-testid='stMetric']").first
    expect(metric).to_contain_text("Recovery rate, 2024/25")
    expect(metric).to_contain_text("50.5%")
    assert "synthetic" not in alerts(pg).lower()
    pg.wait_for_url("**period=year**")
    expect(sidebar(pg).get_by_role("radio", name="Financial year")).to_be_checked()
    sidebar(pg).get_by_text("Quarterly", exact=True).click()
    wait_for_app(pg)
    pg.get_by_text("Synthetic sample data").first.wait_for()
    pg.wait_for_url("**period=quarter**")


def test_icb_view_two_comparisons_table_download_and_shared_link(server, page, tmp_path):
    pg = page
    pg.goto(server)
    wait_for_app(pg)
    assert "synthetic" not in alerts(pg).lower()  # the published financial year
    # the chart is really drawn (an SVG or canvas with marks) on the national view
    pg.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")

    sidebar(pg).get_by_text("ICB", exact=True).click()
    wait_for_app(pg)
    choose(pg, "Integrated Care Board", "West Yorkshire (North East and Yorkshire) · QWO")
    choose(pg, "Compare with up to 2 other areas", "NHS South Yorkshire ICB")
    choose(pg, "Compare with up to 2 other areas", "NHS Humber and North Yorkshire ICB")
    assert "That is the most: 2 other areas" in sidebar(pg).inner_text()

    pg.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")
    box = pg.locator("[data-testid='stVegaLiteChart']").first.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 300
    assert "West Yorkshire" in pg.locator("[data-testid='stHeading']").filter(
        has_text="ICB").first.inner_text()

    # open the table
    tab = pg.locator("[data-testid='stTab']").filter(has_text="Table").first
    tab.wait_for(state="visible")
    tab.click()
    grid = pg.locator("[data-testid='stDataFrame']").first
    grid.wait_for(state="visible")
    assert grid.is_visible()

    # download the CSV and check its contents
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download data (CSV)").first.click()
    path = tmp_path / "download.csv"
    dl.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows and {"period", "area_code", "group", "numerator", "denominator", "rate",
                     "ci95_low", "ci95_high", "published_rate"} <= set(rows[0])
    assert {r["area_code"] for r in rows} == {"QWO", "QF7", "QOQ", "ENG"}
    assert {r["group"] for r in rows} == {"Total", "BME"}
    assert "2020/21 Q2" not in {r["period"] for r in rows}
    assert all(r["measure"] == "recovery" for r in rows)

    # the shared link reopens the same view in a fresh page
    anchor = pg.locator(".st-key-share_link a").last
    link = anchor.get_attribute("href")
    assert "icb=QWO" in link and "areas=QF7%2CQOQ" in link
    # copied as text, the link works: its text is its address, nothing invisible in it
    assert anchor.inner_text() == link and pg.locator(".st-key-share_link a").count() == 1
    assert "icb=QWO" in pg.url and "areas=QF7%2CQOQ" in pg.url  # and in the address bar
    fresh = pg.context.new_page()
    fresh.goto(link if link.startswith("http") else server + link)
    wait_for_app(fresh)
    fresh.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")
    picker = sidebar(fresh).get_by_role("combobox", name="Integrated Care Board")
    assert picker.input_value().startswith("West Yorkshire (North East and Yorkshire) · QWO")
    compared = sidebar(fresh).locator("[data-testid='stMultiSelect']").inner_text()
    assert "NHS South Yorkshire ICB" in compared and "NHS Humber and North Yorkshire ICB" in compared
    assert fresh.get_by_role("radio", name="ICB", exact=True).is_checked()
    heading = fresh.locator("[data-testid='stHeading']").filter(has_text="ICB").first.inner_text()
    assert "West Yorkshire" in heading


def test_png_download_is_an_image(server, page, tmp_path):
    page.goto(server + "/compare")
    wait_for_app(page)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Chart as PNG").first.click()
    path = tmp_path / "chart.png"
    dl.value.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_inequalities_downloads_group_csv_with_every_column_and_gap_svg(server, page, tmp_path):
    """The groups chart keeps only what it draws; its CSV is built on the click, in full."""
    page.goto(server + "/inequalities")
    wait_for_app(page)
    page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, "
                           "[data-testid='stVegaLiteChart'] svg")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download data (CSV)").nth(1).click()
    path = tmp_path / "groups.csv"
    dl.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows and {"period", "area_code", "breakdown", "group", "group_parent", "source",
                     "numerator", "denominator", "rate", "ci95_low"} <= set(rows[0])
    assert {r["group"] for r in rows} >= {"Total", "BME", "White British"}
    # the landing view is the published 2024/25: credited, none synthetic
    assert {r["period"] for r in rows} == {"2024/25"}
    assert all(r["synthetic"] == "False" for r in rows)
    assert all("Open Government Licence v3.0" in r["credit"] for r in rows)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Chart as SVG").first.click()
    svg = tmp_path / "gap.svg"
    dl.value.save_as(svg)
    assert b"<svg" in svg.read_bytes()[:300] and b"BAME minus White British" in svg.read_bytes()


@pytest.mark.parametrize("path,title", [("/upload", "Upload data"), ("/compare", "Compare ICBs")])
def test_first_request_to_a_page_link_on_a_fresh_server(isolated_server, page, path, title):
    """A shared link to a page, opened right after the server starts (Community Cloud wakes a
    sleeping app this way), still gets the navigation, the sidebar and the link's choices.
    (/upload also names a file in pages/, which Streamlit's legacy mode would run alone.)"""
    url, _ = isolated_server
    page.goto(url + path + "?view=National&pop=BME&measure=recovery&ci=1")
    wait_for_app(page)
    page.get_by_role("heading", name=title).first.wait_for()
    assert "Recovery over time" in sidebar(page).inner_text()
    assert "pop=BME" in page.url  # the link's choices are kept (Upload shows no controls)
    if title == "Compare ICBs":
        population = sidebar(page).get_by_role("combobox", name="Population", exact=True)
        assert population.input_value().startswith("BAME: Black, Asian and minority ethnic")
