"""NHS Talking Therapies recovery rates explorer: page setup, navigation, the shared sidebar.

Streamlit runs this file as ``__main__`` for every visitor's script run (``main``). When the
server starts, ``streamlit run`` finds ``app`` at the foot of the file and imports the file
once to serve the app through it: ``ui.startup`` then prepares what the first page needs
before anyone asks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    """One visitor's script run: page setup, navigation, the shared sidebar, the page."""
    from core import provenance
    from ui import data, entry, sidebar, style
    from ui import page as page_context
    from ui.state import PAGE_CONTROLS

    data.note_run()  # background work waits for a quiet moment (ui.data)
    st.set_page_config(
        page_title="NHS Talking Therapies recovery rates",
        page_icon=":material/monitoring:",
        layout="wide",
        initial_sidebar_state="auto",  # open on a laptop, tucked away on a phone
    )

    # The trends page: at "/" (the menu's item), and for links at /recovery and /trends.
    trends = str(ROOT / "pages" / "trends.py")
    pages = [
        # The default page is served at "/" only: Streamlit reserves its url_path but does not
        # serve it, so it gets a name no link uses, and /recovery and /trends are hidden pages
        # running the same file (ui.style marks the menu's item current there).
        st.Page(trends, title="Recovery over time", icon=":material/show_chart:",
                url_path="recovery-over-time", default=True),
        st.Page(str(ROOT / "pages" / "compare.py"), title="Compare ICBs",
                icon=":material/leaderboard:",
                url_path="compare"),
        st.Page(str(ROOT / "pages" / "map.py"), title="Map of ICBs", icon=":material/map:",
                url_path="map"),
        st.Page(str(ROOT / "pages" / "inequalities.py"), title="Ethnic inequalities",
                icon=":material/diversity_3:", url_path="inequalities"),
        st.Page(str(ROOT / "pages" / "about.py"), title="About the data", icon=":material/info:",
                url_path="about"),
        st.Page(str(ROOT / "pages" / "upload.py"), title="Upload data",
                icon=":material/upload_file:",
                url_path="upload"),
        *(st.Page(trends, title="Recovery over time", icon=":material/show_chart:", url_path=alias,
                  visibility="hidden") for alias in style.ALIASES),
    ]
    page = st.navigation(pages)
    # The trends page is the default (url_path "" at "/") or one of its aliases.
    page_key = "trends" if page.url_path in ("", *style.ALIASES) else page.url_path
    style.apply()

    source = data.active_source()
    if source.mtime == 0.0:
        st.error("No data store found at data/recovery.parquet. Run `python scripts/build_real.py` "
                 "(with ../shared beside the project) or load a file on the Upload data page.")
    # A store that cannot be read must not take the app down: every page says so in words.
    explorer, store_problem = page_context.open_store(source)
    page_context.remember(source, explorer, store_problem)
    st.session_state["selection"] = (sidebar.render(explorer, page_key)
                                     if explorer is not None and len(explorer.areas) else None)
    if st.session_state["selection"] is not None:
        sidebar.say_ignored(st.session_state["selection"], explorer)
    if (st.session_state["selection"] is not None
            and "boundaries" in PAGE_CONTROLS.get(page_key, ())):
        # Pages with ICB views see the store in the chosen ICB boundaries (issue 10).
        page_context.remember(source, explorer.in_boundaries(
            st.session_state["selection"].boundaries), store_problem)

    selection = st.session_state["selection"]
    if explorer is not None:
        kind = selection.period if selection is not None else explorer.default_period_type
        synthetic, published = explorer.synthetic_periods(kind)
    else:
        kind, synthetic, published = "quarter", False, []
    with st.sidebar:
        if sidebar.PAGE_CONTROLS.get(page_key):  # About and Upload show none
            st.divider()
        st.caption(
            ("Data: NHS England, NHS Talking Therapies quarterly statistics." if kind == "quarter"
             else f"Data: {provenance.ANNUAL_CREDIT}.")
            + " Counts below England level are rounded to 5 and under-5 suppressed by NHS England."
        )

    # Say "synthetic" only where synthetic values are on screen: the chosen period type's.
    noun = "quarterly" if kind == "quarter" else "financial-year"
    if synthetic and not published:
        st.warning(
            f"**Synthetic sample data.** These {noun} numbers are invented for demonstration "
            "in the shape of the published statistics; they are not NHS England figures. Load a "
            "published quarterly file on the Upload data page to see real ones"
            + (", or choose *Financial year* in the sidebar for NHS England's published annual "
               "figures." if kind == "quarter" and "year" in explorer.period_types else "."),
            icon=":material/science:",
        )
    elif synthetic:
        shown = ", ".join(published[-6:]) + (" and earlier" if len(published) > 6 else "")
        st.warning(
            f"**Synthetic sample data in part.** Published NHS England figures: {shown}. The other "
            f"{noun} values are invented for demonstration; charts draw them as hollow points on a "
            "shaded span and tables mark them in the *Data* column.",
            icon=":material/science:",
        )
    if source.session_upload:
        st.info(
            "**Includes your upload.** Only you see this data, and only in this browser "
            "session: it is gone when the page is reloaded or closed. To keep it, download "
            "*Merged data (Parquet)* on the Upload data page now (a deployment uses it as "
            "data/recovery.parquet), or keep your file and upload it again.",
            icon=":material/person:")

    entry.mark()
    try:
        page.run()
    finally:  # also after a page that stops early (st.stop)
        data.note_run()
        # What a first switch of boundaries needs, made while the visitor reads: for the store
        # every session shares (made once per process), not for one session's upload.
        if explorer is not None and not source.session_upload:
            data.prepare_in_background(source.path, source.mtime)


if __name__ == "__main__":  # a visitor's script run (Streamlit runs this file as __main__)
    main()
else:  # the server importing this file once, when it starts: it serves the app through this
    from ui.startup import lifespan

    app = st.App(__file__, lifespan=lifespan)
