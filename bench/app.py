"""App benchmark: AppTest cold first run and warm rerun after a widget change, per page,
against a floor app that renders one small Altair chart (and one widget), measured in the same
run. Prints medians and ratios; never asserts a time.

    python bench/app.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.runtime import pages_manager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

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
    "compare": ("pages/compare_areas.py", ("selectbox", "w_population", POPULATIONS[::-1])),
    # Each run starts on the recovery rate, so this is always a change (to both of the
    # inequalities page's charts).
    "inequalities": ("pages/inequalities.py", ("radio", "w_measure", ["reliable_recovery"])),
    "about": ("pages/about.py", ("radio", "w_measure", ["reliable_recovery"])),
    "upload": ("pages/upload.py", ("radio", "w_measure", ["reliable_recovery"])),
}


def keep_entry_point() -> None:
    """See tests/app/conftest.py: stop AppTest taking the legacy pages/ path."""
    original = pages_manager.PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        pages_manager.PagesManager.uses_pages_directory = False

    pages_manager.PagesManager.__init__ = init


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_floor(path: str, repeat: int) -> tuple[float, float, float]:
    cold, warm, back = [], [], []
    for _ in range(repeat):
        clear_caches()
        at = AppTest.from_file(path, default_timeout=60)
        cold.append(timed(at.run))
        at.sidebar.radio(key="choice").set_value("b")
        warm.append(timed(at.run))
        at.sidebar.radio(key="choice").set_value("a")
        back.append(timed(at.run))
        assert not at.exception
    return statistics.median(cold), statistics.median(warm), statistics.median(back)


def bench_page(page: str, change: tuple, repeat: int) -> tuple[float, float, float]:
    """Cold first run; warm rerun after a widget change to a view not seen yet; and after
    changing it back to the view seen first (everything for it cached)."""
    kind, key, values = change
    cold, warm, back = [], [], []
    for i in range(repeat):
        clear_caches()
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        if page != "pages/trends.py":
            at.switch_page(page)
        cold.append(timed(at.run))
        assert not at.exception, at.exception
        first = getattr(at.sidebar, kind)(key=key).value
        assert values[i % len(values)] != first, "the change must be a change"
        getattr(at.sidebar, kind)(key=key).set_value(values[i % len(values)])
        warm.append(timed(at.run))
        getattr(at.sidebar, kind)(key=key).set_value(first)
        back.append(timed(at.run))
        assert not at.exception, at.exception
    return statistics.median(cold), statistics.median(warm), statistics.median(back)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    keep_entry_point()
    with tempfile.TemporaryDirectory() as tmp:
        floor_path = str(Path(tmp) / "floor_app.py")
        Path(floor_path).write_text(FLOOR_APP)
        bench_floor(floor_path, 1)  # imports and first-run costs out of the way
        floor_cold, floor_warm, floor_back = bench_floor(floor_path, args.repeat)
    print(f"AppTest, median of {args.repeat} runs each (seconds). 'new': rerun after a widget "
          "change to a view not seen before; 'seen': changed back to a view already shown.")
    print(f"{'page':<14}{'cold':>7}{'new':>7}{'seen':>7}{'cold/floor':>12}{'new/floor':>11}"
          f"{'seen/floor':>12}")
    print(f"{'floor app':<14}{floor_cold:>7.3f}{floor_warm:>7.3f}{floor_back:>7.3f}"
          f"{1:>12.2f}{1:>11.2f}{1:>12.2f}")
    for name, (page, change) in PAGES.items():
        cold, warm, back = bench_page(page, change, args.repeat)
        print(f"{name:<14}{cold:>7.3f}{warm:>7.3f}{back:>7.3f}{cold / floor_cold:>12.2f}"
              f"{warm / floor_warm:>11.2f}{back / floor_back:>12.2f}")
    print("Goal: a warm rerun of any page within 2x the floor's warm rerun.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
