"""Links and history in a real browser, at a laptop's and a phone's size: a link made on a
non-default period reopens that view on every page, Back and Forward move between views, and
on a phone the choices are one labelled tap away."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import viewport_page, wait_for_app

pytestmark = pytest.mark.timeout(300)

SIZES = [(1400, 900), (390, 844)]


def params(pg) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(pg.url).query).items()}


def main_select(pg, label: str):
    return pg.locator("[data-testid='stMain']").get_by_role("combobox", name=label).first


def shown_value(pg, label: str) -> str:
    return main_select(pg, label).input_value().strip()


def pick(pg, label: str, option: str) -> None:
    main_select(pg, label).click()
    pg.locator("[role='option']").filter(has_text=option).first.click()
    wait_for_app(pg)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}px")
@pytest.mark.parametrize("path,query,checks", [
    ("compare", "period=quarter&at=2023%2F24+Q3", {"Quarter": "2023/24 Q3"}),
    ("inequalities", "period=year&view=ICB&icb=QHL&at=2021%2F22&det=1",
     {"Financial year": "2021/22"}),
    ("trends", "period=quarter&view=ICB&icb=QF7&pop=BME&ci=0", {}),
])
def test_a_link_made_on_a_non_default_view_reopens_it(server, browser, size, path, query, checks):
    pg = viewport_page(browser, *size)
    try:
        pg.goto(f"{server}/{path}?{query}")
        wait_for_app(pg)
        pg.wait_for_selector("[data-testid='stVegaLiteChart'] svg, "
                             "[data-testid='stVegaLiteChart'] canvas")
        for label, value in checks.items():
            assert shown_value(pg, label) == value
        wanted = {k: v[0] for k, v in parse_qs(query).items()}
        got = params(pg)
        assert {k: got.get(k) for k in wanted} == wanted, got
        if path == "inequalities":
            toggle = pg.locator("[data-testid='stMain'] label").filter(
                has_text="Show detailed ethnic groups").locator("input")
            assert toggle.is_checked()
            assert "Birmingham" in pg.locator("[data-testid='stMain'] h3").first.inner_text()
        if path == "trends":
            assert "South Yorkshire" in pg.locator("[data-testid='stMain'] h3").first.inner_text()
    finally:
        pg.context.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}px")
def test_back_after_two_changes_restores_the_previous_view(server, browser, size):
    pg = viewport_page(browser, *size)

    def shows(at: str | None, value: str) -> None:
        """Wait (the machine may be busy) until the URL and the picker show this view."""
        pg.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("at", [None])[0] == at,
                        timeout=60_000)
        expect(main_select(pg, "Financial year")).to_have_value(value, timeout=60_000)
        wait_for_app(pg)

    try:
        pg.goto(f"{server}/compare?period=year")
        wait_for_app(pg)
        shows(None, "2024/25")
        pick(pg, "Financial year", "2022/23")
        shows("2022/23", "2022/23")
        pick(pg, "Financial year", "2019/20")
        shows("2019/20", "2019/20")
        pg.go_back()
        shows("2022/23", "2022/23")
        pg.go_back()
        shows(None, "2024/25")
        pg.go_forward()
        shows("2022/23", "2022/23")
    finally:
        pg.context.close()


def test_phone_choices_one_labelled_tap_away(server, browser):
    """At 390 px the sidebar is tucked away; its button is labelled in words, and one tap shows
    the period, area and population choices."""
    pg = viewport_page(browser, 390, 844)
    try:
        pg.goto(server)
        wait_for_app(pg)
        button = pg.locator("[data-testid='stExpandSidebarButton']")
        # the style arrives with the script's run: wait for it (fails after 30 s)
        label = pg.wait_for_function("""() => {
            const b = document.querySelector("[data-testid='stExpandSidebarButton']");
            const c = b && getComputedStyle(b, '::after').content;
            return c && c.includes('area') ? c : null; }""", timeout=30_000).json_value()
        assert "area" in label and "period" in label
        box = button.bounding_box()
        assert box and box["width"] > 150 and box["x"] + box["width"] <= 390
        button.click()
        side = pg.locator("[data-testid='stSidebar']")
        side.get_by_text("Period", exact=True).wait_for()
        for text in ("Period", "View", "Population"):
            el = side.get_by_text(text, exact=True).first
            el.wait_for()
            # the sidebar slides in: wait until the label is on screen (fails after 30 s)
            expect(el).to_be_in_viewport(timeout=30_000)
            pg.wait_for_function(
                "el => { const r = el.getBoundingClientRect(); return r.left >= 0 && r.left < 390; }",
                arg=el.element_handle(), timeout=30_000)
    finally:
        pg.context.close()


def test_choices_carry_over_the_menu_and_trends_has_an_address(server, browser):
    """Streamlit opens a page chosen from the menu with an empty query string: the session's
    choices (here from a link) carry over to it rather than going back to the defaults. And
    /trends, the address the other pages' form suggests, is the trends page, not "Page not
    found"."""
    pg = viewport_page(browser, 1400, 900)
    try:
        pg.goto(f"{server}/trends?period=quarter&view=ICB&icb=QWO")
        wait_for_app(pg)
        pg.wait_for_selector("[data-testid='stVegaLiteChart'] svg, "
                             "[data-testid='stVegaLiteChart'] canvas")
        assert "Page not found" not in pg.locator("body").inner_text()
        assert "West Yorkshire" in pg.locator("[data-testid='stMain']").inner_text()
        chosen = {"period": "quarter", "view": "ICB", "icb": "QWO"}
        for name in ("Compare ICBs", "Ethnic inequalities", "Recovery over time"):
            pg.locator("[data-testid='stSidebarNav'] a").filter(has_text=name).click()
            wait_for_app(pg)
            got = params(pg)
            assert {k: got.get(k) for k in chosen} == chosen, (name, got)
        assert "West Yorkshire" in pg.locator("[data-testid='stMain']").inner_text()
    finally:
        pg.context.close()
