"""Streamlit-side helpers shared by the entry point and the pages (state, cached data, widgets).

Everything here is about presentation; calculations live in ``core``.
"""
