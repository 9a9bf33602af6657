"""Browser benchmark: what a visitor waits for in Chromium, against a floor app measured in
the same run. Prints medians and ratios; never asserts a time.

    python bench/browser.py [--repeat 3] [--pages trends,compare,...]

The floor app is one Altair chart and one sidebar selectbox (the least a Streamlit page with
a chart can do). For the floor and for every page of the product:

- **server start**: from ``streamlit run`` until the server answers its health check (the
  browser opens the page then);
- **cold first paint**: a fresh ``streamlit run`` server (nothing cached; the app's own
  start-up work, ``ui.startup``, has just begun in the background) and a fresh browser; the
  time from navigation start until the page's first chart is drawn (its SVG or canvas is in
  the page with a size), or, on a page without a chart, its title;
- **widget change**: in that page, once its charts have been quiet for 1.5 s (a visitor
  glancing at it; before 2026-11-28 the change came as soon as the first run ended), change
  one sidebar control to a view not seen yet and time from the click until the page's charts
  stop changing: a MutationObserver records the last change inside any chart, and the page
  must then stay quiet for 1.5 s with Streamlit's run indicator gone (the quiet wait itself
  is not counted).

Goals (issue 12): cold first paint at most 1.3x the floor's, a widget change at most 1.5x.
Uses Debian's chromium (``/usr/bin/chromium``) with Playwright, as the browser tests do.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, start_server  # noqa: E402

FLOOR_APP = '''
import altair as alt
import pandas as pd
import streamlit as st

choice = st.sidebar.selectbox("Series", ["a", "b", "c"])
data = pd.DataFrame({"x": range(12), "y": [v * (1 + "abc".index(choice)) for v in range(12)]})
st.title("Floor")
st.altair_chart(alt.Chart(data).mark_line().encode(x="x:Q", y="y:Q"))
'''

CHART = "[data-testid='stVegaLiteChart'] svg, [data-testid='stVegaLiteChart'] canvas"

# url path, and the sidebar control to change there: (kind, label, option to pick). Every
# page opens on the bundled store's default (recovery rate), so the change is always real.
PAGES: dict[str, tuple[str, tuple[str, str, str] | None]] = {
    "trends": ("", ("radio", "Measure", "Reliable recovery rate")),
    "compare": ("compare", ("radio", "Measure", "Reliable recovery rate")),
    "inequalities": ("inequalities", ("radio", "Measure", "Reliable recovery rate")),
    "map": ("map", ("radio", "Measure", "Reliable recovery rate")),
    "about": ("about", None),
    "upload": ("upload", None),
}

#: Resolves once the charts have been quiet for ``quiet`` ms with no script running; gives
#: the time of the last chart change after ``since`` (ms from navigation start). With
#: ``changed``, a chart must have changed first (the run's first message can take seconds).
SETTLED = """async ([since, quiet, changed]) => {
  const last = () => Math.max(since, window.__lastChartChange || 0);
  for (;;) {
    await new Promise(r => setTimeout(r, 100));
    const running = document.querySelector("[data-testid='stStatusWidget']");
    if (changed && last() === since) continue;
    if (!running && performance.now() - last() > quiet) return last() - since;
  }
}"""

WATCH = """() => {
  window.__lastChartChange = 0;
  new MutationObserver(records => {
    if (records.some(r => r.target.closest && r.target.closest("[data-testid='stVegaLiteChart']")
        || [...r.addedNodes].some(n => n.querySelector && n.querySelector("svg, canvas"))))
      window.__lastChartChange = performance.now();
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def measure(browser, root: Path, path: str, change: tuple[str, str, str] | None,
            floor: bool = False) -> tuple[float, float | None, float]:
    """(cold first paint, widget change, server start) in seconds, on a fresh server for
    ``root``. ``floor``: the floor app (its chart is there however it is changed)."""
    began = time.perf_counter()
    proc, url = start_server(cwd=root)
    ready = time.perf_counter() - began
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(120_000)
        pg.goto(f"{url}/{path}")
        pg.evaluate(WATCH)  # before the first chart: the wait below needs its changes
        has_chart = floor or change is not None
        pg.wait_for_selector(CHART if has_chart else "[data-testid='stMain'] h1")
        first_paint = pg.evaluate("performance.now()") / 1000
        # The first page drawn and quiet for 1.5 s before anything is changed.
        pg.evaluate(SETTLED, [0, 1500, False])
        if change is None:
            context.close()
            return first_paint, None, ready
        side = pg.locator("[data-testid='stSidebar']")
        kind, label, option = change
        start = pg.evaluate("performance.now()")
        if kind == "radio":
            side.get_by_text(option, exact=True).click()
        else:
            side.get_by_role("combobox", name=label).click()
            pg.locator("[role='option']").filter(has_text=option).first.click()
        took = pg.evaluate(SETTLED, [start, 1500, True]) / 1000
        context.close()
        return first_paint, took, ready
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--pages", default=",".join(PAGES))
    args = p.parse_args()
    pages = [name for name in args.pages.split(",") if name in PAGES]
    if not (ROOT / "pages" / "map.py").exists() and "map" in pages:
        pages.remove("map")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        floor_root = Path(tmp)
        (floor_root / "streamlit_app.py").write_text(FLOOR_APP)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        floor_change = ("selectbox", "Series", "b")
        results: dict[str, list[tuple[float, float | None, float]]] = {"floor": []}
        results.update({name: [] for name in pages})
        for _ in range(args.repeat):  # interleaved, so a noisy spell hits every row alike
            results["floor"].append(measure(browser, floor_root, "", floor_change, floor=True))
            for name in pages:
                path, change = PAGES[name]
                results[name].append(measure(browser, ROOT, path, change))
        browser.close()

    def med(rows: list[tuple[float, float | None, float]], i: int) -> float | None:
        values = [r[i] for r in rows if r[i] is not None]
        return statistics.median(values) if values else None

    floor_paint, floor_change_s = med(results["floor"], 0), med(results["floor"], 1)
    floor_ready = med(results["floor"], 2)
    print(f"Chromium 1400x900, median of {args.repeat} runs, each on a fresh server")
    print(f"{'page':<14}{'first paint s':>14}{'x floor':>9}{'change s':>10}{'x floor':>9}"
          f"{'server start s':>16}{'x floor':>9}")
    print(f"{'floor':<14}{floor_paint:>14.2f}{1:>9.2f}{floor_change_s:>10.2f}{1:>9.2f}"
          f"{floor_ready:>16.2f}{1:>9.2f}")
    for name in pages:
        paint, change, ready = (med(results[name], i) for i in range(3))
        change_text = (f"{change:>10.2f}{change / floor_change_s:>9.2f}" if change is not None
                       else f"{'-':>10}{'-':>9}")
        print(f"{name:<14}{paint:>14.2f}{paint / floor_paint:>9.2f}{change_text}"
              f"{ready:>16.2f}{ready / floor_ready:>9.2f}")
    print("goals: first paint <= 1.3x the floor's, widget change <= 1.5x the floor's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
