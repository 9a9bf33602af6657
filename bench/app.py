"""App benchmark: AppTest cold first run and warm rerun after a widget change, per page,
against a floor app that renders one small Altair chart (and one widget), measured in the same
run. Prints medians and ratios; never asserts a time.

    python bench/app.py [--repeat 7] [--scale 10]

With ``--scale N`` the app reads a store holding about N times the bundled rows (more quarters
and more sub-ICB locations), built once by ``scripts/make_sample.py scale N`` into bench/out/. The process's memory (AppTest runs the app in this process, as the server runs
it in its own) is printed once every page has been shown, before the timed rounds (which
clear the caches and load the store again each round).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyarrow.parquet as pq  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core import model  # noqa: E402
from ui import data as ui_data  # noqa: E402
from ui.entry import keep_entry_point  # noqa: E402

FLOOR_APP = '''
import altair as alt
import pandas as pd
import streamlit as st

choice = st.sidebar.radio("Series", ["a", "b", "c"], key="choice")
data = pd.DataFrame({"x": range(12), "y": [v * (1 + "abc".index(choice)) for v in range(12)]})
st.altair_chart(alt.Chart(data).mark_line().encode(x="x:Q", y="y:Q"))
'''

POPULATIONS = ["BME", "White British", "Mixed", "Asian or Asian British", "White",
               "Black or Black British", "Other Ethnic Groups"]

# page file, and a widget change on it: (widget kind, key, values to alternate between)
PAGES = {
    # Every value differs from the page's first (whole population): each is a real change.
    "trends": ("pages/trends.py", ("selectbox", "w_population", POPULATIONS)),
    "compare": ("pages/compare.py", ("selectbox", "w_population", POPULATIONS[::-1])),
    # Each run starts on the recovery rate, so this is always a change (to both of the
    # inequalities page's charts).
    "inequalities": ("pages/inequalities.py", ("radio", "w_measure", ["reliable_recovery"])),
    # The Period control: each run opens on the store's default (the bundled store's is
    # financial years) and switches to the other period type, a change to every chart.
    "trends:period": ("pages/trends.py", ("radio", "w_period", ["quarter", "year"])),
    "compare:period": ("pages/compare.py", ("radio", "w_period", ["quarter", "year"])),
    "inequal:period": ("pages/inequalities.py", ("radio", "w_period", ["quarter", "year"])),
    # The map of ICBs (issue 10), and the boundaries switch: each run opens on the store's
    # default (the bundled store's is the 42 ICBs of 2022: its latest published period is
    # 2024/25), and switches to the other boundaries, a change to every ICB of the page.
    "map": ("pages/map.py", ("selectbox", "w_population", POPULATIONS)),
    "map:bnd": ("pages/map.py", ("radio", "w_boundaries", ["2026", "2022"])),
}


BUNDLED = model.DEFAULT_STORE


def use_store(scale: int) -> Path:
    """Point the app at the store for ``scale`` (building it the first time)."""
    if scale <= 1:
        return model.DEFAULT_STORE
    from scripts import make_sample

    path = ROOT / "bench" / "out" / f"store-x{scale}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        make_sample.scale(scale, path)
    model.DEFAULT_STORE = path  # read by ui.data.active_source on every run
    return path


def memory_mb() -> tuple[float, float]:
    """(resident now, peak resident) of this process, in MB (Linux /proc)."""
    fields = {}
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def background_done() -> None:
    """Let the app's background work finish before a timed run: the garbage collection each
    of its runs asks for at the next quiet moment (``ui.data.collect_soon``) would otherwise
    land in whatever runs next, the floor's runs included."""
    ui_data.settle()
    pending = ui_data._collector
    if pending is not None:
        pending.join()


def floor_once(path: str) -> tuple[float, float, float]:
    """One run of the floor app: cold, rerun after a change, rerun after changing back."""
    background_done()
    clear_caches()
    at = AppTest.from_file(path, default_timeout=60)
    cold = timed(at.run)
    at.sidebar.radio(key="choice").set_value("b")
    warm = timed(at.run)
    at.sidebar.radio(key="choice").set_value("a")
    back = timed(at.run)
    assert not at.exception
    return cold, warm, back


def show_every_page() -> None:
    """One session that opens every page once, as one server with one visitor would."""
    clear_caches()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    at.run()
    for page, _ in PAGES.values():
        at.switch_page(page).run()
        assert not at.exception, at.exception


def page_once(page: str, change: tuple, i: int) -> tuple[float, float, float]:
    """Cold first run; warm rerun after a widget change to a view not seen yet; and after
    changing it back to the view seen first (everything for it cached)."""
    kind, key, values = change
    background_done()
    clear_caches()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    if page != "pages/trends.py":
        at.switch_page(page)
    cold = timed(at.run)
    assert not at.exception, at.exception
    # A visitor reads the first page before changing anything: the app's background work
    # started after that page was drawn (both ICB geographies, ui.data.prepare_in_background)
    # finishes first, as in bench/browser.py's quiet wait. Not counted in any time.
    background_done()
    first = getattr(at.sidebar, kind)(key=key).value
    # The i-th value, or the next that differs from the page's first (a store whose latest
    # period is from April 2026 opens on the 2026 boundaries: the switch is then to 2022).
    value = next((v for v in values[i % len(values):] + values if v != first), None)
    assert value is not None, "the change must be a change"
    getattr(at.sidebar, kind)(key=key).set_value(value)
    warm = timed(at.run)
    getattr(at.sidebar, kind)(key=key).set_value(first)
    back = timed(at.run)
    assert not at.exception, at.exception
    return cold, warm, back


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--scale", type=int, default=1,
                   help="a store holding about this many times the bundled rows")
    p.add_argument("--pages", default=",".join(PAGES),
                   help="comma-separated pages to measure (default: all)")
    args = p.parse_args()
    keep_entry_point()
    store = use_store(args.scale)
    rows, bundled = (pq.ParquetFile(p).metadata.num_rows for p in (store, BUNDLED))
    pages = {k: PAGES[k] for k in args.pages.split(",")}
    kinds = set(pq.read_table(store, columns=["period_type"]).column(0).unique().to_pylist())
    if len(kinds) < 2:  # the period switches need both period types (the --scale stores)
        dropped = [k for k in pages if k.endswith(":period")]
        pages = {k: v for k, v in pages.items() if k not in dropped}
        if dropped:
            print(f"Not measured: {', '.join(dropped)} (the store holds "
                  f"{', '.join(sorted(kinds))} periods only).")
    print(f"Store: {store.name}, {rows:,} rows ({rows / bundled:.1f}x the bundled store); "
          f"memory before the app: {memory_mb()[0]:.0f} MB resident.")
    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        floor_path = str(Path(tmp) / "floor_app.py")
        Path(floor_path).write_text(FLOOR_APP)
        floor_once(floor_path)  # imports and first-run costs out of the way
        show_every_page()
        now, peak = memory_mb()
        print(f"Memory with every page shown once: {now:.0f} MB resident, {peak:.0f} MB peak "
              "(this process: Python, Streamlit, the store, its look-ups and every view "
              "shown; AppTest runs the app in this process, as the server does in its own).")
        print(f"AppTest, {args.repeat} rounds per page; each round runs the floor app and then "
              "the page, so each ratio compares runs made moments apart (this machine's speed "
              "drifts). Times are medians in seconds; ratios are medians of the rounds' ratios. "
              "'new': rerun after a widget change to a view not seen before; 'seen': changed "
              "back to a view already shown. Between the cold run and the change, the app's "
              "background start-up work (both ICB geographies) is let finish, as while a "
              "visitor reads the first page; it is not counted.")
        print(f"{'page':<14}{'cold':>7}{'new':>7}{'seen':>7}{'floor new':>11}{'cold/floor':>12}"
              f"{'new/floor':>11}{'(range)':>13}{'seen/floor':>12}")
        floors = []
        for name, (page, change) in pages.items():
            rounds = []
            for i in range(args.repeat):
                rounds.append((floor_once(floor_path), page_once(page, change, i)))
            floors += [f for f, _ in rounds]
            ratios = [[pg[j] / fl[j] for fl, pg in rounds] for j in range(3)]
            times = [med(pg[j] for _, pg in rounds) for j in range(3)]
            print(f"{name:<14}{times[0]:>7.3f}{times[1]:>7.3f}{times[2]:>7.3f}"
                  f"{med(fl[1] for fl, _ in rounds):>11.3f}{med(ratios[0]):>12.2f}"
                  f"{med(ratios[1]):>11.2f}{f'{min(ratios[1]):.2f}-{max(ratios[1]):.2f}':>13}"
                  f"{med(ratios[2]):>12.2f}")
        if floors:  # none when every page asked for was left out above
            print(f"{'floor app':<14}{med(f[0] for f in floors):>7.3f}"
                  f"{med(f[1] for f in floors):>7.3f}{med(f[2] for f in floors):>7.3f}")
    print("Goal: a warm rerun of any page within 2x the floor's warm rerun.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
