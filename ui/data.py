"""Cached access to the store, keyed on small values (a path and its modification time).

The whole store is loaded once per (path, mtime) with ``st.cache_resource``: one shared,
read-only frame, not a copy per rerun, held by a ``Loaded`` object with its look-ups. What a
page shows for one selection (the chart's data, its spec with that data already in Arrow
form, the table, the text alternative) is a ``View``, cached with ``st.cache_resource`` on the
path, mtime and the selection: shared and read-only, so a rerun returns it without copying or
unpickling anything. The trend's data is also cached on its own with ``st.cache_data``, so that
switching the confidence band on or off (a new view of the same data) does not recompute it.
The other pages' data has no second cache: each of their views has exactly the keys of its
data, so a second cache would only ever be filled, never read. A rerun therefore neither
re-reads nor re-aggregates the store, and a view seen before costs only its drawing.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from core import charts, explore, export, model
from core.store import Store

UPLOAD_KEY = "session_store_path"


@dataclass(frozen=True)
class Source:
    path: str
    mtime: float
    session_upload: bool


@dataclass(frozen=True)
class Figure:
    """One chart: its Vega-Lite spec (datasets as Arrow tables, for PNG/SVG) and the same spec
    with the datasets already as Arrow bytes, which is what Streamlit sends to the browser
    (given tables, frames or records, it would convert them again on every rerun)."""

    spec: dict
    shown: dict


def figure(spec: dict) -> Figure:
    shown = {k: arrow_bytes(v) if isinstance(v, pa.Table) else _constant_bytes(json.dumps(v))
             for k, v in spec.get("datasets", {}).items()}
    return Figure(spec, {**spec, "datasets": shown})


def arrow_bytes(table: pa.Table) -> bytes:
    """Arrow IPC stream bytes, the form Streamlit sends a chart's datasets in."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


@functools.lru_cache(maxsize=64)
def _constant_bytes(records: str) -> bytes:
    """Arrow bytes of a chart's small constant datasets (target line, unpublished quarter),
    which are the same in every view."""
    return arrow_bytes(pa.Table.from_pylist(json.loads(records)))


@dataclass(frozen=True)
class View:
    """What a page shows for one selection. Shared between sessions: treat as read-only."""

    figure: Figure
    #: The table under the chart, in Arrow form: given a DataFrame, st.dataframe would
    #: convert it again on every rerun.
    table: pa.Table
    description: str
    data: pd.DataFrame
    extra: dict = field(default_factory=dict)


def active_source() -> Source:
    """The store this browser session sees: the shared one, or its own merged upload."""
    own = st.session_state.get(UPLOAD_KEY)
    if own and os.path.exists(own):
        return Source(own, os.path.getmtime(own), True)
    path = str(model.DEFAULT_STORE)
    mtime = os.path.getmtime(path) if os.path.exists(path) else 0.0
    return Source(path, mtime, False)


# Frames just written by this process, handed to the cache instead of being read straight back.
_JUST_WRITTEN: dict[tuple[str, float], pd.DataFrame] = {}


def remember(path: str, frame: pd.DataFrame) -> None:
    """Say that ``frame`` is what ``path`` now holds, so loading it costs nothing."""
    _JUST_WRITTEN[(path, os.path.getmtime(path))] = frame


class Loaded:
    """One store and the look-ups the views need, each made on first use and then shared.

    A view calls ``loaded`` once and takes what it needs from it: every call to a cached
    function costs Streamlit's hashing of its arguments, and a view that made five such calls
    spent more on them than on its numbers.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    @functools.cached_property
    def index(self) -> explore.SeriesIndex:
        return explore.series_index(self.frame)

    @functools.cached_property
    def arrays(self) -> explore.StoreArrays:
        return explore.store_arrays(self.frame)

    @functools.cached_property
    def slices(self) -> dict[tuple, np.ndarray]:
        return explore.rows_index(self.frame, explore.SLICE_BY)

    @functools.cached_property
    def area_rows(self) -> dict[tuple, np.ndarray]:
        return explore.rows_index(self.frame, explore.AREA_BY)

    @functools.cached_property
    def facts(self) -> dict:
        frame = self.frame
        quarters = explore.quarter_domain(frame)
        present = set(frame["period"].unique())
        published = [q for q in quarters if q in present]
        return {
            "synthetic": bool(frame["synthetic"].any()) if len(frame) else False,
            "quarters": quarters,
            "published_quarters": published,
            "latest": published[-1] if published else None,
            "rows": len(frame),
        }


@st.cache_resource(show_spinner="Loading data…", max_entries=8)
def loaded(path: str, mtime: float) -> Loaded:
    """Treat the result as read-only: it is shared by every session."""
    frame = _JUST_WRITTEN.pop((path, mtime), None)
    return Loaded(model.compact(frame if frame is not None else Store(path).load()))


def load(path: str, mtime: float) -> pd.DataFrame:
    """The whole store (shared and read-only)."""
    return loaded(path, mtime).frame


@st.cache_data(show_spinner=False, max_entries=16)
def log(path: str, mtime: float) -> list[dict]:
    return Store(path).log()


def facts(path: str, mtime: float) -> dict:
    """Quarters, latest quarter, synthetic or not (shared and read-only)."""
    return loaded(path, mtime).facts


@dataclass(frozen=True)
class Choices:
    """What the sidebar offers, from one store: read on every rerun, so made once."""

    areas: pd.DataFrame
    labels: dict[str, str]
    series: dict[str, str]
    icbs: list[str]


@st.cache_resource(show_spinner=False, max_entries=16)
def choices(path: str, mtime: float) -> Choices:
    """Areas, their labels (with region), every ``code~group`` series a user can add on the
    national view with its label, and the ICB codes. Shared and read-only: a rerun unpickles
    nothing."""
    areas = explore.areas(load(path, mtime))
    labels = {row.area_code: explore.area_label(row._asdict()) for row in areas.itertuples()}
    series = {f"{code}~{group}": f"{labels.get(code, code)}: {model.group_label(group)}"
              for code in areas["area_code"] for group in explore.POPULATIONS}
    icbs = areas.loc[areas["level"] == "ICB", "area_code"].tolist()
    return Choices(areas, labels, series, icbs)


@st.cache_data(show_spinner=False, max_entries=256)
def trend(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...], measure: str,
          rolling: bool = False) -> pd.DataFrame:
    s = loaded(path, mtime)
    return explore.trend(s.frame, list(keys), measure, index=s.index,
                         domain=s.facts["quarters"], rolling=rolling, arrays=s.arrays)


@st.cache_resource(show_spinner=False, max_entries=256)
def trend_view(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...], measure: str,
               show_ci: bool, rolling: bool = False, main: int = 0) -> View:
    """``main`` is the position in ``keys`` of the series the headline figures describe."""
    f = loaded(path, mtime).facts
    t = trend(path, mtime, keys, measure, rolling)
    spec = charts.trend_spec(t, domain=f["quarters"], measure=measure, show_ci=show_ci,
                             synthetic=f["synthetic"], rolling=rolling, frames=True)
    return View(figure(spec), explore.trend_table(t, measure, arrow=True),
                explore.describe_trend(t, measure, rolling), t,
                {"headline": explore.headline(t, measure, rolling, main)})


def trend_export(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...],
                 measure: str, rolling: bool = False) -> pd.DataFrame:
    """Tidy rows for the CSV download (built when the button is pressed, not on every rerun)."""
    s = loaded(path, mtime)
    rows = explore.series_rows(s.frame, list(keys), s.index, rolling=rolling)
    return export.to_long(rows, [measure])


@st.cache_resource(show_spinner=False, max_entries=128)
def compare_view(path: str, mtime: float, period: str, group: str, measure: str) -> View:
    """The ranked chart; ``extra['funnel']`` is the funnel plot (None without an England rate)
    and ``extra['limits']`` its control limits."""
    s = loaded(path, mtime)
    table, england = explore.compare_areas(s.frame, period, group, measure, index=s.slices)
    synthetic = s.facts["synthetic"]
    title = f"{model.MEASURES[measure]['label']}, {model.group_label(group)}, {period}"
    eng_rate = None if england is None else england["rate"]
    dots = figure(charts.compare_spec(table, eng_rate, title=title, synthetic=synthetic,
                                      measure=measure, frames=True))
    limits = explore.funnel(table, eng_rate)
    funnel = None if limits.empty else figure(charts.funnel_spec(
        table, limits, title=f"Funnel plot: {title}", synthetic=synthetic, measure=measure,
        frames=True))
    return View(dots, explore.compare_table(table, measure, arrow=True),
                explore.describe_compare(table, england, period, group, measure), table,
                {"funnel": funnel, "limits": limits})


@st.cache_resource(show_spinner=False, max_entries=128)
def gap_view(path: str, mtime: float, level: str, code: str, measure: str, name: str) -> View:
    s = loaded(path, mtime)
    f = s.facts
    g = explore.group_gap(s.frame, level, code, measure, index=s.index, domain=f["quarters"],
                          arrays=s.arrays)
    spec = charts.gap_spec(g, domain=f["quarters"], title=f"BAME minus White British, {name}",
                           synthetic=f["synthetic"], frames=True)
    return View(figure(spec), explore.gap_table(g, arrow=True), explore.describe_gap(g, name, measure), g)


@st.cache_resource(show_spinner=False, max_entries=128)
def groups_view(path: str, mtime: float, level: str, code: str, period: str, measure: str,
                name: str, detailed: bool = False) -> View:
    s = loaded(path, mtime)
    g = explore.group_rates(s.arrays, s.area_rows, level, code, period, measure, detailed)
    spec = charts.groups_spec(
        g, title=f"{model.MEASURES[measure]['label']} by ethnic group, {name}, {period}",
        synthetic=s.facts["synthetic"], measure=measure, frames=True)
    return View(figure(spec), explore.groups_table(g, arrow=True), explore.describe_groups(g, name, period),
                g)


def groups_export(path: str, mtime: float, level: str, code: str, period: str, measure: str,
                  detailed: bool = False) -> pd.DataFrame:
    """Every stored column of the rows behind the groups chart, for its CSV download (built
    when the button is pressed: the chart itself needs far fewer columns)."""
    s = loaded(path, mtime)
    return explore.broad_groups(s.frame, level, code, period, measure, detailed,
                                index=s.area_rows).drop(columns=["group_label"])
