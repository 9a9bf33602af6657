"""Make sure every page runs inside the entry point (page setup, navigation, sidebar).

A real Streamlit server (1.67) decides at start-up that the app uses the legacy ``pages/``
folder because one sits beside ``streamlit_app.py``; only ``st.navigation`` in the entry point
turns that off. So if the very first request after a start (say a shared link to ``/upload``
after Community Cloud woke the app) names a page, Streamlit runs that page file on its own,
with no sidebar, and keeps doing so. A page that finds itself run that way switches the legacy
mode off and reruns, which goes through the entry point; a guard stops it retrying forever.

``keep_entry_point`` is the one place that touches Streamlit's ``PagesManager``: the pages,
the AppTest conftest and ``bench/app.py`` all call it. The browser test
``test_first_request_to_a_page_link_on_a_fresh_server`` fails if a Streamlit release changes
what this relies on.
"""

from __future__ import annotations

import streamlit as st

MARK = "_entry_point_ran"
TRIES = "_entry_point_tries"


def mark() -> None:
    """Called by ``streamlit_app.py`` before it runs the page."""
    st.session_state[MARK] = True
    st.session_state[TRIES] = 0


def require() -> None:
    """Called at the top of every page."""
    if st.session_state.get(MARK):
        return
    keep_entry_point()
    tries = st.session_state.get(TRIES, 0)
    if tries >= 2:
        st.error("This page could not start properly. Please reload it.")
        st.stop()
    st.session_state[TRIES] = tries + 1
    st.rerun()


def keep_entry_point() -> None:
    """Stop Streamlit taking the legacy ``pages/`` path, now and for every ``PagesManager``
    made later.

    AppTest (1.67) resets ``PagesManager.uses_pages_directory`` before each run and the
    constructor then sets it True, because a ``pages/`` folder sits beside the entry point;
    the real server sets it False once ``st.navigation`` has run. Wrapping the constructor
    keeps it False in both. Idempotent.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    if getattr(PagesManager.__init__, "keeps_entry_point", False):
        return
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    init.keeps_entry_point = True  # type: ignore[attr-defined]
    PagesManager.__init__ = init  # type: ignore[method-assign]
