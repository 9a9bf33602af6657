"""The few style rules Streamlit's own options cannot give.

On a phone Streamlit tucks the sidebar, where every choice lives, behind an unlabelled "»"
icon. The rule below gives that button a visible label, so the primary choices (area,
population, period) are one obvious, labelled tap away. The label is CSS text on Streamlit's
own button (``stExpandSidebarButton``, whose accessible name "Expand sidebar" is kept), so
nothing is drawn when the sidebar is open. The browser test
``test_phone_choices_one_labelled_tap_away`` fails if a Streamlit release renames it.
"""

from __future__ import annotations

import streamlit as st

LABEL = "Menu: area, population, period"

_CSS = f"""
<style>
[data-testid="stExpandSidebarButton"] {{
  width: auto; padding: 0.25rem 0.6rem 0.25rem 0.25rem; gap: 0.3rem;
  border: 1px solid rgba(49, 51, 63, 0.35); border-radius: 0.5rem;
}}
[data-testid="stExpandSidebarButton"]::after {{
  content: "{LABEL}"; font-size: 0.9rem; line-height: 1.2; white-space: nowrap;
}}
</style>
"""


def apply() -> None:
    """Called once per run by the entry point."""
    st.html(_CSS)
