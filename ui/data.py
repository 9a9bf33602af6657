"""Cached access to the store, keyed on small values (a path and its modification time).

The whole store is loaded once per (path, mtime) with ``st.cache_resource``: one shared,
read-only frame, not a copy per rerun. Everything derived from it for a page (a trend, a
compare table) is cached with ``st.cache_data`` on the path, mtime and the selection, so a warm
rerun after a widget change neither re-reads nor re-aggregates the whole store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core import explore, model
from core.store import Store

UPLOAD_KEY = "session_store_path"


@dataclass(frozen=True)
class Source:
    path: str
    mtime: float
    session_upload: bool


def active_source() -> Source:
    """The store this browser session sees: the shared one, or its own merged upload."""
    own = st.session_state.get(UPLOAD_KEY)
    if own and os.path.exists(own):
        return Source(own, os.path.getmtime(own), True)
    path = str(model.DEFAULT_STORE)
    mtime = os.path.getmtime(path) if os.path.exists(path) else 0.0
    return Source(path, mtime, False)


@st.cache_resource(show_spinner="Loading data…", max_entries=8)
def load(path: str, mtime: float) -> pd.DataFrame:
    """Treat the result as read-only: it is shared by every session."""
    return Store(path).load()


@st.cache_data(show_spinner=False, max_entries=16)
def log(path: str, mtime: float) -> list[dict]:
    return Store(path).log()


@st.cache_data(show_spinner=False, max_entries=16)
def facts(path: str, mtime: float) -> dict:
    frame = load(path, mtime)
    quarters = explore.quarter_domain(frame)
    published = [q for q in quarters if q in set(frame["period"])]
    return {
        "synthetic": bool(frame["synthetic"].any()) if len(frame) else False,
        "quarters": quarters,
        "published_quarters": published,
        "latest": published[-1] if published else None,
        "rows": len(frame),
    }


@st.cache_data(show_spinner=False, max_entries=16)
def areas(path: str, mtime: float) -> pd.DataFrame:
    return explore.areas(load(path, mtime))


@st.cache_data(show_spinner=False, max_entries=256)
def trend(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...], measure: str) -> pd.DataFrame:
    return explore.trend(load(path, mtime), list(keys), measure)


@st.cache_data(show_spinner=False, max_entries=128)
def compare(path: str, mtime: float, period: str, group: str, measure: str):
    return explore.compare_areas(load(path, mtime), period, group, measure)


@st.cache_data(show_spinner=False, max_entries=128)
def gap(path: str, mtime: float, level: str, code: str, measure: str) -> pd.DataFrame:
    return explore.group_gap(load(path, mtime), level, code, measure)


@st.cache_data(show_spinner=False, max_entries=128)
def groups(path: str, mtime: float, level: str, code: str, period: str, measure: str) -> pd.DataFrame:
    return explore.broad_groups(load(path, mtime), level, code, period, measure)


@st.cache_data(show_spinner=False, max_entries=128)
def trend_export(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...], measure: str) -> pd.DataFrame:
    from core import export

    return export.to_long(explore.series_rows(load(path, mtime), list(keys)), [measure])
