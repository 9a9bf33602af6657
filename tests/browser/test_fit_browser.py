"""Charts that fit, as Chromium draws them at 1400×900 and on a 390×844 phone (issue 12): no
text of a chart is cut at its edge, no two texts are drawn on top of each other, and axis
labels keep a gap between them. Each text is measured as the box it covers on screen (its SVG
box through its transform, so a rotated label is its true, slanted box)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_path, viewport_page, wait_for_app

pytestmark = pytest.mark.timeout(300)

SIZES = [(1400, 900), (390, 844)]
CHART = "[data-testid='stVegaLiteChart']"

#: Every visible text of a chart as the quadrilateral it covers on the screen, with Vega's
#: role (axis-label, axis-title, legend-label, title-text, ...) and its axis (-1: none), and
#: the SVG's frame.
TEXTS = """chart => {
  const svg = chart.querySelector('svg');
  const frame = svg.getBoundingClientRect();
  const axes = [...svg.querySelectorAll('g.role-axis')];
  const texts = [];
  for (const t of svg.querySelectorAll('text')) {
    if (!t.textContent.trim()) continue;
    const style = getComputedStyle(t);
    if (style.opacity === '0' || t.getAttribute('opacity') === '0'
        || style.visibility === 'hidden') continue;
    const b = t.getBBox();
    if (b.width === 0 || b.height === 0) continue;
    const m = t.getScreenCTM();
    const at = (x, y) => { const p = new DOMPoint(x, y).matrixTransform(m); return [p.x, p.y]; };
    const g = t.closest('g[class*="role-"]');
    texts.push({text: t.textContent, role: g ? g.getAttribute('class') : '',
                axis: axes.findIndex(a => a.contains(t)),
                quad: [at(b.x, b.y), at(b.x + b.width, b.y), at(b.x + b.width, b.y + b.height),
                       at(b.x, b.y + b.height)]});
  }
  return {frame: {x: frame.x, y: frame.y, w: frame.width, h: frame.height}, texts};
}"""

#: Pixels two texts' boxes may share: a box is the font's whole cell (ascent and descent), so
#: the boxes of an axis title and the labels above it touch without any glyph touching.
SHARED = 2.0
#: Pixels of gap two labels of one axis must keep (Vega otherwise lets "4,000" abut "5,000").
GAP = 1.0


def _span(quad: list[list[float]], axis: tuple[float, float]) -> tuple[float, float]:
    values = [x * axis[0] + y * axis[1] for x, y in quad]
    return min(values), max(values)


def overlap(a: list[list[float]], b: list[list[float]]) -> float:
    """How far two convex quadrilaterals overlap (> 0), or minus the gap between them, by
    the separating-axis test."""
    depth = float("inf")
    for quad in (a, b):
        for i in range(4):
            (x1, y1), (x2, y2) = quad[i], quad[(i + 1) % 4]
            length = ((y1 - y2) ** 2 + (x2 - x1) ** 2) ** 0.5 or 1.0
            axis = ((y1 - y2) / length, (x2 - x1) / length)
            (a0, a1), (b0, b1) = _span(a, axis), _span(b, axis)
            depth = min(depth, min(a1, b1) - max(a0, b0))
    return depth


def problems(geometry: dict) -> list[str]:
    """Texts out of the chart's frame (cut), and pairs of texts on top of each other."""
    frame, texts = geometry["frame"], geometry["texts"]
    found = []
    for i, a in enumerate(texts):
        xs, ys = [p[0] for p in a["quad"]], [p[1] for p in a["quad"]]
        out = max(frame["x"] - min(xs), frame["y"] - min(ys),
                  max(xs) - frame["x"] - frame["w"], max(ys) - frame["y"] - frame["h"])
        if out > 0.5:
            found.append(f"cut by {out:.1f}px: {a['text']!r} ({a['role']})")
        for b in texts[i + 1:]:
            if a["text"] == b["text"] and all(
                    abs(p[0] - q[0]) < 0.5 and abs(p[1] - q[1]) < 0.5
                    for p, q in zip(a["quad"], b["quad"], strict=True)):
                continue  # a name and the white halo drawn under it
            labels = ("axis-label" in a["role"] and "axis-label" in b["role"]
                      and a["axis"] == b["axis"])  # neighbours on one axis
            depth = overlap(a["quad"], b["quad"])
            if depth > (-GAP if labels else SHARED):
                found.append(f"{'touch' if depth <= 0 else 'overlap'} {depth:.1f}px: "
                             f"{a['text']!r} / {b['text']!r}")
    return found


def chart_geometry(pg, index: int) -> dict:
    """The chart's texts once Vega has settled (two readings 400 ms apart agree): a chart is
    drawn, then redrawn at its container's width."""
    chart = pg.locator(CHART).nth(index)
    chart.scroll_into_view_if_needed()
    last = None
    for _ in range(20):
        pg.wait_for_timeout(400)
        now = chart.evaluate(TEXTS)
        if now == last:
            return now
        last = now
    raise AssertionError(f"chart {index} did not settle")


def open_page(pg, server: str, path: str) -> None:
    open_path(pg, server, path)
    pg.wait_for_selector(f"{CHART} svg .role-axis-label text:not(:empty)")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}px")
@pytest.mark.parametrize("query", [
    "period=year",
    "period=quarter",
    "period=quarter&view=ICB&icb=QHL&det=1",
])
def test_inequalities_charts_nothing_cut_or_overlapping(server, browser, size, query):
    """The gap chart (rotated period labels, the synthetic and unpublished spans' labels, the
    rotated y-axis title at the left edge) and the ethnic-groups chart (long group names)."""
    pg = viewport_page(browser, *size)
    try:
        open_page(pg, server, f"inequalities?{query}")
        # Both charts drawn: on a busy machine the second may still be mounting when the
        # first has its axis (the script has finished either way).
        expect(pg.locator(CHART)).to_have_count(2, timeout=60_000)
        pg.locator(CHART).nth(1).locator("svg .role-axis-label text:not(:empty)").first.wait_for(
            timeout=60_000)
        for index in (0, 1):
            assert problems(chart_geometry(pg, index)) == [], (index, query)
        # The groups chart: its names do not take the width, and its x-axis has labels.
        g = chart_geometry(pg, 1)
        plot = pg.locator(CHART).nth(1).evaluate(
            "c => c.querySelector('svg path.background').getBoundingClientRect().width")
        assert plot > 0.4 * g["frame"]["w"], (plot, g["frame"])
        ticks = [t for t in g["texts"] if "axis-label" in t["role"]
                 and t["text"].strip().isdigit()]
        assert len(ticks) >= 3, [t["text"] for t in ticks]
        # Each classification's heading is drawn (measured above with every other text).
        texts = [t["text"] for t in g["texts"]]
        assert "BAME and White British" in texts
        assert any(t.startswith("Broad ethnic groups") for t in texts), texts
    finally:
        pg.context.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}px")
@pytest.mark.parametrize("query", ["period=year&view=ICB&icb=QHL", "period=quarter",
                                   "period=year&at=2021%2F22&icb=QHL"])
def test_compare_charts_nothing_cut_or_overlapping(server, browser, size, query):
    """The ranked chart and the funnel plot, whose log x-axis labels (4,000, 5,000, ...)
    touched on a phone."""
    pg = viewport_page(browser, *size)
    try:
        open_page(pg, server, f"compare?{query}")
        assert problems(chart_geometry(pg, 0)) == [], "ranked"
        pg.locator("[data-testid='stTab']").filter(has_text="Funnel plot").first.click()
        wait_for_app(pg)  # only the open tab's chart is drawn: the click reruns the page
        pg.wait_for_selector(f"{CHART} >> nth=0 >> svg .role-axis-label text:not(:empty)")
        g = chart_geometry(pg, 0)
        assert problems(g) == [], "funnel"
        ticks = [t for t in g["texts"] if "axis-label" in t["role"] and "," in t["text"]]
        assert len(ticks) >= 2, [t["text"] for t in g["texts"]]
    finally:
        pg.context.close()


def test_compare_ranking_starts_on_a_phones_first_screen(server, browser):
    """On a 390×844 phone the ranked chart was two screens down, below the method's switch,
    caption and spread: its first rows are now on the first screen, and the method follows
    the charts (nothing is lost)."""
    pg = viewport_page(browser, 390, 844)
    try:
        open_page(pg, server, "compare?period=year&view=ICB&icb=QHL")
        main = pg.locator("[data-testid='stMain']")
        main.evaluate("m => m.scrollTo(0, 0)")
        pg.wait_for_timeout(300)
        chart = pg.locator(CHART).first
        plot_top = chart.evaluate(
            "c => c.querySelector('svg path.background').getBoundingClientRect().top")
        assert plot_top + 3 * 18 < 844, plot_top  # three rows of the ranking in view
        switch = main.get_by_text("Unadjusted limits (Fingertips-style bands)")
        expect(switch).to_have_count(1)
        below = switch.evaluate("e => e.getBoundingClientRect().top")
        assert below > chart.evaluate("c => c.getBoundingClientRect().bottom")
        assert "differ by more than chance" in main.inner_text()
    finally:
        pg.context.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}px")
@pytest.mark.parametrize("colour", ["band", "rate"])
def test_map_legend_and_credit_fit(server, browser, size, colour):
    """The map's title, credit lines and legend: the six bands in one row ran off a phone."""
    pg = viewport_page(browser, *size)
    try:
        open_path(pg, server, f"map?bnd=2026&colour={colour}")
        pg.wait_for_selector(f"{CHART} svg .role-legend-label text")
        g = chart_geometry(pg, 0)
        assert problems(g) == [], colour
        labels = {t["text"] for t in g["texts"] if "legend-label" in t["role"]}
        assert colour == "rate" or {"better (99.8%)", "no data"} <= labels, labels
    finally:
        pg.context.close()
