"""Make sure every page runs inside the entry point (page setup, navigation, sidebar).

A real Streamlit server (1.67) decides at start-up that the app uses the legacy ``pages/``
folder because one sits beside ``streamlit_app.py``; only ``st.navigation`` in the entry point
turns that off. So if the very first request after a start (say a shared link to ``/upload``
after Community Cloud woke the app) names a page, Streamlit runs that page file on its own,
with no sidebar, and keeps doing so. A page that finds itself run that way switches the legacy
mode off and reruns, which goes through the entry point; a guard stops it retrying forever.
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
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    tries = st.session_state.get(TRIES, 0)
    if tries >= 2:
        st.error("This page could not start properly. Please reload it.")
        st.stop()
    st.session_state[TRIES] = tries + 1
    st.rerun()
