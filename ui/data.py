"""Cached access to the store, keyed on small values (a path and its modification time).

The whole store is loaded once per (path, mtime) into one ``explore.Explorer`` with
``st.cache_resource``: shared and read-only, not a copy per rerun; the Explorer keeps its own
look-ups. What a page shows for one selection (the chart's spec, the table, the text
alternative) is a ``View``, cached with ``st.cache_resource`` on the path, mtime and the
selection, so a rerun returns it without copying or unpickling anything. The trend's data is
also cached on its own with ``st.cache_data``, so that switching the confidence band on or off
(a new view of the same data) does not recompute it.

A session's own merged upload is not put in that shared cache: it would stay in memory after
its session closed, one store per session that ever applied an upload, until eight others
pushed it out. Its Explorer lives in that session's state instead (``use_session_store``), so
it goes when the session goes, and it is made from the frame the Upload page has just written,
not read back from disk.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import streamlit as st

from core import charts, explore, export, model, verdicts
from core.store import Store

UPLOAD_KEY = "session_store_path"


def credit() -> str:
    """The credit NHS England's annual figures require wherever they are shown or exported."""
    from scripts.build_real import CREDIT

    return CREDIT


def _credited(spec: dict, kind: str) -> dict:
    """A financial-year chart's source line names the annual reports it comes from (with
    their licence) instead of the quarterly data: it is the line image exports carry too."""
    title = spec.get("title")
    if kind != "year" or not isinstance(title, dict):
        return spec
    wrapped = textwrap.wrap(charts.SOURCE, charts.SUBTITLE_WRAP)
    lines = list(title.get("subtitle") or [])
    for i in range(len(lines) - len(wrapped) + 1):
        if lines[i:i + len(wrapped)] == wrapped:
            lines[i:i + len(wrapped)] = textwrap.wrap(f"Source: {credit()}.",
                                                      charts.SUBTITLE_WRAP)
            return {**spec, "title": {**title, "subtitle": lines}}
    return spec


def with_credit(rows: pd.DataFrame) -> pd.DataFrame:
    """Export rows with a ``credit`` column: the annual reports' credit on each published
    financial-year row, empty elsewhere (quarterly rows name their file in ``source``)."""
    if rows.empty or "synthetic" not in rows.columns:
        return rows
    real_year = ~rows["synthetic"].to_numpy(dtype=bool, na_value=False)
    if "period_type" in rows.columns:
        real_year &= (rows["period_type"] == "year").to_numpy()
    else:
        real_year &= ~rows["period"].astype(str).str.contains(" Q").to_numpy()
    return rows.assign(credit=pd.Series(real_year, index=rows.index).map(
        {True: credit(), False: ""}))


@dataclass(frozen=True)
class Source:
    path: str
    mtime: float
    session_upload: bool


@dataclass(frozen=True)
class View:
    """What a page shows for one selection. Shared between sessions: treat as read-only."""

    #: The chart's Vega-Lite spec, its datasets Arrow tables.
    spec: dict
    #: The table under the chart, in Arrow form.
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


#: Session state key of this session's own Explorer: ((path, mtime), Explorer).
SESSION_EXPLORER = "_session_explorer"


@st.cache_resource(show_spinner="Loading data…", max_entries=8)
def _shared_explorer(path: str, mtime: float) -> explore.Explorer:
    return explore.Explorer(model.compact(Store(path).load()))


def explorer(path: str, mtime: float) -> explore.Explorer:
    """The store at ``path`` as it was at ``mtime``, read-only: the shared store from the
    cache every session shares, this session's own upload from this session's state. Raises
    ``StoreError`` when the store cannot be read."""
    ss = st.session_state
    own = ss.get(SESSION_EXPLORER)
    if own is not None and own[0] == (path, mtime):
        return own[1]
    if path == ss.get(UPLOAD_KEY):
        ex = explore.Explorer(model.compact(Store(path).load()))
        ss[SESSION_EXPLORER] = ((path, mtime), ex)
        return ex
    return _shared_explorer(path, mtime)


def use_session_store(path: str, frame: pd.DataFrame) -> None:
    """Make the store just written at ``path`` (holding ``frame``) this session's data."""
    path = str(path)
    st.session_state[SESSION_EXPLORER] = ((path, os.path.getmtime(path)),
                                          explore.Explorer(model.compact(frame)))
    st.session_state[UPLOAD_KEY] = path


def drop_session_store() -> None:
    """Stop using this session's own upload and let its memory go."""
    st.session_state.pop(SESSION_EXPLORER, None)
    st.session_state.pop(UPLOAD_KEY, None)


@st.cache_data(show_spinner=False, max_entries=16)
def log(path: str, mtime: float) -> list[dict]:
    return Store(path).log()


@st.cache_data(show_spinner=False, max_entries=256)
def trend(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...], measure: str,
          rolling: bool = False, kind: str = "quarter") -> pd.DataFrame:
    """The trend with what rounding and suppression do to each rate (range, note), so the
    chart's tooltips and the table say it."""
    t = explorer(path, mtime).trend(list(keys), measure, rolling, kind=kind)
    return verdicts.with_rounding(t, measure, parts=4 if rolling else 1)


def since_domain(domain: list[str], since: str | None) -> list[str]:
    """The periods of ``domain`` from ``since`` on (all of them when it is None or unknown):
    the time range a trend chart, its table and its CSV show."""
    return domain[domain.index(since):] if since in domain else list(domain)


@st.cache_resource(show_spinner=False, max_entries=256)
def trend_view(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...], measure: str,
               show_ci: bool, rolling: bool = False, main: int = 0, kind: str = "quarter",
               since: str | None = None) -> View:
    """``main`` is the position in ``keys`` of the series the headline figures describe (and
    the only one with a confidence band); ``kind`` the period type (rolling applies to
    quarters only); ``since`` the first period the chart, table and text show (the headline
    figures always describe the latest period, tested on the whole series).

    ``extra['headline']`` also holds ``gap``: the BAME − White British gap of the main
    series' area in its latest period (``verdicts.gap_headline``)."""
    ex = explorer(path, mtime)
    rolling = rolling and kind == "quarter"
    t = trend(path, mtime, keys, measure, rolling, kind)
    domain = since_domain(ex.domain(kind), since)
    shown = t[t["period"].isin(domain).to_numpy()] if len(domain) < len(ex.domain(kind)) else t
    spec = charts.trend_spec(shown, domain=domain, measure=measure, show_ci=show_ci,
                             synthetic=ex.synthetic, rolling=rolling, frames=True, main=main)
    headline = explore.headline(t, measure, rolling, main,
                                per_year=4 if kind == "quarter" else 1)
    if headline:  # tested change, recent trend (on the plain quarters), figures as rounded
        plain = trend(path, mtime, keys, measure, False, kind) if rolling else t
        headline.update(verdicts.headline_figures(t, plain, main))
        key = keys[main]
        gap, widening = gap_summary(path, mtime, key.level, key.area_code, measure, kind)
        latest = plain[(plain["series_order"].to_numpy() == main)
                       & plain["rate"].notna().to_numpy()]["period"]
        if len(latest):
            headline["gap"] = verdicts.gap_headline(
                gap, str(latest.iat[-1]), widening,
                "quarters" if kind == "quarter" else "financial years")
    return View(_credited(spec, kind), explore.trend_table(shown, measure),
                explore.describe_trend(shown, measure, rolling), shown, {"headline": headline})


def trend_export(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...],
                 measure: str, rolling: bool = False, kind: str = "quarter",
                 since: str | None = None) -> pd.DataFrame:
    """Tidy rows for the CSV download (built when the button is pressed, not on every rerun),
    from ``since`` on."""
    ex = explorer(path, mtime)
    rows = ex.series_rows(list(keys), rolling=rolling, kind=kind)
    if since is not None and len(rows):
        keep = set(since_domain(ex.domain(kind), since))
        last = rows["period"].astype(str).str.replace(r"^\d+ quarters to ", "", regex=True)
        rows = rows[last.isin(keep).to_numpy()]
    return with_credit(export.to_long(rows, [measure]))


@st.cache_resource(show_spinner=False, max_entries=128)
def compare_view(path: str, mtime: float, period: str, group: str, measure: str,
                 adjust: bool | None = None) -> View:
    """The ranked chart; ``extra['funnel']`` is the funnel plot's spec (None without an
    England rate) and ``extra['limits']`` its control limits.

    Compared with England allowing for overdispersion (Spiegelhalter 2005) when the ICBs
    differ by more than chance, unless ``adjust`` is False (Fingertips' bands and the binomial
    limits) or True. ``extra``: ``dispersion`` (the sentence with phi), ``chance`` (how many
    would be outside 95% by chance), ``adjusted`` (the rule used), ``phi``, ``outside``."""
    ex = explorer(path, mtime)
    table, england = ex.compare(period, group, measure)
    table, info, used = verdicts.compare_areas(table, england, adjust)
    table = verdicts.with_rounding(table, measure)
    trends = verdicts.area_trends(verdicts.area_history(ex.frame, period, group), measure)
    table["trend"] = table["area_code"].map(trends).fillna("could not be calculated")
    outside = verdicts.outside_counts(table)
    title = f"{model.MEASURES[measure]['label']}, {model.group_label(group)}, {period}"
    eng_rate = None if england is None else england["rate"]
    dots = charts.compare_spec(table, eng_rate, title=title, synthetic=ex.synthetic,
                               measure=measure, frames=True)
    limits = verdicts.funnel_limits(table, eng_rate, info.tau2 if used else 0.0)
    funnel = None if limits.empty else charts.funnel_spec(
        table, limits, title=f"Funnel plot: {title}", synthetic=ex.synthetic, measure=measure,
        frames=True)
    kind = "quarter" if " Q" in period else "year"
    dots, funnel = _credited(dots, kind), funnel and _credited(funnel, kind)
    return View(dots, explore.compare_table(table, measure),
                explore.describe_compare(table, england, period, group, measure), table,
                {"funnel": funnel, "limits": limits, "adjusted": used, "phi": info.phi,
                 "overdispersed": info.overdispersed, "outside": outside,
                 "dispersion": verdicts.dispersion_sentence(info, used, outside),
                 "chance": verdicts.chance_sentence(outside["areas"])})


@st.cache_resource(show_spinner=False, max_entries=128)
def gap_summary(path: str, mtime: float, level: str, code: str, measure: str,
                kind: str = "quarter") -> tuple[pd.DataFrame, object]:
    """The BAME − White British gap of one area over every period (``Explorer.gap``) and
    whether it is widening over the last five (``verdicts.gap_trend``; None without data):
    what the inequalities page charts and the trend page's headline states."""
    ex = explorer(path, mtime)
    g = ex.gap(level, code, measure, kind=kind)
    both = ex.trend([explore.SeriesKey(level, code, "BME"),
                     explore.SeriesKey(level, code, "White British")], measure, kind=kind)
    return g, (verdicts.gap_trend(both) if len(both) else None)


@st.cache_resource(show_spinner=False, max_entries=128)
def gap_view(path: str, mtime: float, level: str, code: str, measure: str, name: str,
             kind: str = "quarter") -> View:
    """``extra['trend']``: whether the gap is widening over the last five periods (weighted
    least squares on the gap, ``trend_tests.gap_trend``), in words."""
    ex = explorer(path, mtime)
    g, widening = gap_summary(path, mtime, level, code, measure, kind)
    spec = charts.gap_spec(g, domain=ex.domain(kind), title=f"BAME minus White British, {name}",
                           synthetic=ex.synthetic, frames=True)
    unit = "quarters" if kind == "quarter" else "financial years"
    sentence = (verdicts.gap_trend_sentence(widening, unit=unit) if widening is not None
                else "Whether the gap is widening could not be calculated: no data.")
    return View(_credited(spec, kind), explore.gap_table(g), explore.describe_gap(g, name, measure),
                g, {"trend": sentence, "trend_verdict": getattr(widening, "verdict", "")})


@st.cache_resource(show_spinner=False, max_entries=128)
def groups_view(path: str, mtime: float, level: str, code: str, period: str, measure: str,
                name: str, detailed: bool = False) -> View:
    ex = explorer(path, mtime)
    g = verdicts.with_rounding(ex.groups(level, code, period, measure, detailed), measure,
                               level=level)
    spec = charts.groups_spec(
        g, title=f"{model.MEASURES[measure]['label']} by ethnic group, {name}, {period}",
        synthetic=ex.synthetic, measure=measure, frames=True)
    spec = _credited(spec, "quarter" if " Q" in period else "year")
    return View(spec, explore.groups_table(g), explore.describe_groups(g, name, period), g)


def groups_export(path: str, mtime: float, level: str, code: str, period: str, measure: str,
                  detailed: bool = False) -> pd.DataFrame:
    """Every stored column of the rows behind the groups chart, for its CSV download (built
    when the button is pressed: the chart itself needs far fewer columns)."""
    return with_credit(explorer(path, mtime).group_rows(level, code, period, measure, detailed))
