"""The sidebar and its menu in Chromium (issue 12): the phone's menu button is named as it
reads, the trends page answers at /, /recovery and /trends with its menu item marked as the
current page, and the chosen ICB's name is shown in full however long it is."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_path, viewport_page, wait_for_app

pytestmark = pytest.mark.timeout(300)

LABEL = "Menu: area, population, period"
NAV = "[data-testid='stSidebarNav'] [data-testid='stSidebarNavLink']"
CHART = "[data-testid='stVegaLiteChart']"

#: Each menu link's text, whether it is marked as the current page, and how it is drawn.
LINKS = """() => [...document.querySelectorAll("[data-testid='stSidebarNav'] [data-testid='stSidebarNavLink']")]
  .map(a => { const s = getComputedStyle(a);
              return {text: (a.querySelector('p') || a).innerText.trim(),
                      current: a.getAttribute('aria-current'),
                      look: [s.backgroundColor, s.fontWeight]}; })"""


def test_menu_button_is_named_as_it_reads(server, browser):
    """At 390 px the button that opens the sidebar reads "Menu: area, population, period";
    a screen reader must hear those words, not Streamlit's "Expand sidebar"."""
    pg = viewport_page(browser, 390, 844)
    try:
        pg.goto(server)
        wait_for_app(pg)
        button = pg.get_by_role("button", name=LABEL, exact=True)
        expect(button).to_be_visible(timeout=30_000)
        assert pg.get_by_role("button", name="Expand sidebar", exact=True).count() == 0
        button.click()  # it still opens the sidebar
        expect(pg.locator("[data-testid='stSidebar']").get_by_text("Period", exact=True)
               ).to_be_in_viewport(timeout=30_000)
        # Closed again, the button is drawn anew, with the same name.
        pg.get_by_role("button", name="Collapse sidebar").click()
        expect(pg.get_by_role("button", name=LABEL, exact=True)).to_be_visible(timeout=30_000)
        # And on another page, opened afresh.
        pg.goto(f"{server}/compare")
        wait_for_app(pg)
        expect(pg.get_by_role("button", name=LABEL, exact=True)).to_be_visible(timeout=30_000)
    finally:
        pg.context.close()


def current_links(pg) -> dict[str, tuple]:
    """The menu links marked current, with how they are drawn (waits for the marking)."""
    pg.wait_for_function(
        f"() => [...document.querySelectorAll(\"{NAV}\")].some(a => a.getAttribute('aria-current') === 'page')",
        timeout=30_000)
    return {link["text"]: tuple(link["look"]) for link in pg.evaluate(LINKS)
            if link["current"] == "page"}


def test_trends_addresses_mark_the_menu_item(server, browser):
    """/, /recovery and /trends (with a link's query string) all open the trends page, with
    no "Page not found", and "Recovery over time" is the current menu item, drawn as at /.
    Moving on from the menu marks only the new page."""
    pg = viewport_page(browser, 1400, 900)
    query = "?period=quarter&view=ICB&icb=QWO"
    try:
        pg.goto(server + "/" + query)
        wait_for_app(pg)
        at_root = current_links(pg)
        assert list(at_root) == ["Recovery over time"]
        for path in ("recovery", "trends"):
            pg.goto(f"{server}/{path}{query}")
            wait_for_app(pg)
            pg.wait_for_selector(f"{CHART} svg, {CHART} canvas")
            assert "Page not found" not in pg.locator("body").inner_text()
            assert pg.url.split("?")[0].endswith("/" + path)
            assert "West Yorkshire" in pg.locator("[data-testid='stMain']").inner_text()
            assert current_links(pg) == at_root, path
        pg.locator(NAV).filter(has_text="Compare ICBs").click()
        wait_for_app(pg)
        pg.wait_for_function(
            f"() => [...document.querySelectorAll(\"{NAV}\")].filter(a => a.getAttribute('aria-current') === 'page').length === 1 && location.pathname.endsWith('/compare')",
            timeout=30_000)
        assert list(current_links(pg)) == ["Compare ICBs"]
    finally:
        pg.context.close()


#: The longest ICB name of the 2022 boundaries.
LONGEST = "Bath and North East Somerset, Swindon and Wiltshire (South West) · QOX"

#: Texts of the sidebar holding ``want`` in full that are not cut: nothing scrolls out of the
#: element (an input's value included) and the element is inside the sidebar.
SHOWN_IN_FULL = """(side, want) => {
  const frame = side.getBoundingClientRect();
  const out = [];
  for (const el of side.querySelectorAll('input, p, span, div, label')) {
    const text = el.tagName === 'INPUT' ? el.value : el.textContent;
    if (!text || !text.includes(want) || el.clientWidth === 0) continue;
    if (el.tagName !== 'INPUT' && [...el.children].some(c => c.textContent.includes(want))) continue;
    const r = el.getBoundingClientRect();
    out.push({tag: el.tagName, cut: el.scrollWidth > el.clientWidth + 1,
              inside: r.left >= frame.left - 1 && r.right <= frame.right + 1});
  }
  return out;
}"""


@pytest.mark.parametrize("size", [(1400, 900), (390, 844)], ids=lambda s: f"{s[0]}px")
def test_the_chosen_icb_is_named_in_full(server, browser, size):
    """The picker's box is one line and cuts a long name: the name, region and code are shown
    in full in the sidebar (here the longest of the 42 ICBs), on a laptop and on a phone."""
    pg = viewport_page(browser, *size)
    try:
        open_path(pg, server, "compare?period=year&icb=QOX&bnd=2022")
        if size[0] < 600:
            pg.get_by_role("button", name=LABEL, exact=True).or_(
                pg.locator("[data-testid='stExpandSidebarButton']")).first.click()
        side = pg.locator("[data-testid='stSidebar']")
        picker = side.get_by_role("combobox", name="Highlighted ICB")
        expect(picker).to_have_value(LONGEST, timeout=30_000)
        expect(picker).to_be_in_viewport(timeout=30_000)
        pg.wait_for_timeout(500)  # the sidebar slides in on a phone
        shown = side.evaluate(SHOWN_IN_FULL, LONGEST)
        assert any(not s["cut"] and s["inside"] for s in shown), shown
    finally:
        pg.context.close()
