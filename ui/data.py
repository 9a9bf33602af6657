"""Cached access to the store, keyed on small values (a path and its modification time).

The whole store is loaded once per (path, mtime) into one ``explore.Explorer`` with
``st.cache_resource``: shared and read-only, not a copy per rerun; the Explorer keeps its own
look-ups. What a page shows for one selection (the chart's spec, the table, the text
alternative) is a ``View``, cached with ``st.cache_resource`` on the path, mtime and the
selection, so a rerun returns it without copying or unpickling anything. The trend's data is
also cached on its own (``trend``, shared and read-only like a View), so that switching the
confidence band on or off (a new view of the same data) does not recompute it.

A session's own merged upload is not put in that shared cache: it would stay in memory after
its session closed, one store per session that ever applied an upload, until eight others
pushed it out. Its Explorer lives in that session's state instead (``use_session_store``), so
it goes when the session goes, and it is made from the frame the Upload page has just written,
not read back from disk.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from core import (
    charts,
    explore,
    export,
    geography,
    headlines,
    map_chart,
    model,
    periods,
    provenance,
    ranking,
    series,
    unusual,
    verdicts,
)
from core.columns import n_rows
from core.store import Store

UPLOAD_KEY = "session_store_path"


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
    #: The rows behind the chart (``data``), or a function that makes them when first read.
    rows: pd.DataFrame | Callable[[], pd.DataFrame]
    extra: dict = field(default_factory=dict)

    @functools.cached_property
    def data(self) -> pd.DataFrame:
        """The rows behind the chart (its CSV's, a test's)."""
        return self.rows() if callable(self.rows) else self.rows

    def __post_init__(self) -> None:
        # Formula text neutralised once, when the view is made, not on every rerun showing it.
        if isinstance(self.table, pa.Table):
            object.__setattr__(self, "table", export.neutral_table(self.table))


def active_source() -> Source:
    """The store this browser session sees: the shared one, or its own merged upload."""
    own = st.session_state.get(UPLOAD_KEY)
    if own and os.path.exists(own):
        return Source(own, os.path.getmtime(own), True)
    return shared_source()


def shared_source() -> Source:
    """The store every session sees until it merges an upload of its own."""
    path = str(model.DEFAULT_STORE)
    mtime = os.path.getmtime(path) if os.path.exists(path) else 0.0
    return Source(path, mtime, False)


def prepare_first_view() -> None:
    """Read the shared store and make what its first view needs (the store seen in its
    default ICB boundaries, with that view's look-ups) into the cache every session shares.
    The server calls this once when it starts (``ui.startup``), so the first visitor finds
    it made; raises what reading the store raises (a visitor is then told in words)."""
    source = shared_source()
    if source.mtime:
        ex = _shared_explorer(source.path, source.mtime)
        ex.prepare(boundaries=[ex.default_boundaries])


#: Session state key of this session's own Explorer: ((path, mtime), Explorer).
SESSION_EXPLORER = "_session_explorer"


@st.cache_resource(show_spinner="Loading data…", max_entries=8)
def _shared_explorer(path: str, mtime: float) -> explore.Explorer:
    return explore.Explorer(model.compact(Store(path).load()))


#: Seconds with no script run starting or ending before the background preparation takes its
#: next step. It holds Python's lock: started a second after the first page, it met a
#: visitor's first change, which then took 0.38-0.42 s against 0.30-0.31 s held back
#: (bench/browser.py, interleaved).
IDLE_BEFORE_PREPARING = 3.0
#: Seconds with no script run starting or ending before the garbage is collected, and the
#: most a collection waits for such a moment (``collect_soon``).
COLLECT_AFTER, COLLECT_WITHIN = 5.0, 30.0
_PREPARE_THREAD = "prepare-explorer"
#: ``time.monotonic()`` when a script run last started or ended (``note_run``).
_last_activity = time.monotonic()


def note_run() -> None:
    """Note that a script run is starting or has ended (the entry point calls this first and
    last in every run): background work waits for a quiet moment."""
    global _last_activity
    _last_activity = time.monotonic()
    collect_soon()


def _wait_until_idle(quiet: float = IDLE_BEFORE_PREPARING, until: float = float("inf")) -> None:
    """Return once no script run has started or ended for ``quiet`` seconds (or at the
    monotonic time ``until``). A run going on longer than ``quiet`` is not seen."""
    while (left := min(_last_activity + quiet, until) - time.monotonic()) > 0:
        time.sleep(left)


@st.cache_resource(show_spinner=False, max_entries=8)
def prepare_in_background(path: str, mtime: float) -> threading.Thread:
    """Start ``Explorer.prepare()`` (both ICB geographies and their look-ups) for the shared
    store at ``path`` in a background thread, once per store (the cache is the "once"): the
    entry point calls this after a page is drawn, so what a first switch of boundaries needs
    is made while the visitor reads the page. Each step (0.2 s or less) waits for
    ``IDLE_BEFORE_PREPARING`` quiet seconds, so it seldom meets a run. Each geography is
    built once, under the Explorer's lock, so a switch made before the thread is done waits
    for it rather than building it twice; a look-up (``functools.cached_property``) asked for
    by a view while the thread is making it may be made twice on Python 3.12+ (same
    result)."""
    thread = threading.Thread(target=_prepare, args=(_shared_explorer(path, mtime),),
                              name=_PREPARE_THREAD, daemon=True)
    thread.start()
    return thread


def _prepare(ex: explore.Explorer) -> None:
    try:
        ex.prepare(between=_wait_until_idle)
        for b in geography.BOUNDARIES:  # the map's boundaries as it sends them (0.1 s each)
            _wait_until_idle()
            map_chart.geometry(b)
    except Exception:  # noqa: BLE001 - a view asking the same will show the error in words
        logging.getLogger(__name__).exception("Preparing the store's views failed")


_COLLECTOR_LOCK = threading.Lock()
_collector: threading.Thread | None = None


def collect_soon() -> threading.Thread:
    """Collect the garbage in a background thread at the next quiet moment (``COLLECT_AFTER``
    seconds with no run starting or ending, or ``COLLECT_WITHIN`` seconds at the most). At
    most one collection waits at a time; returns its thread.

    Streamlit's own collection after every script run (``runner.postScriptGC``, switched off
    in ``.streamlit/config.toml``) ran in the script's thread at the end of every run,
    holding Python's lock while the run's last messages were sent, and a widget change waited
    for it: a full collection walks every object of the imported libraries and the store,
    85-150 ms of a 0.2-0.4 s rerun on a server. This one frees the same garbage, a few
    seconds later: a closed session's state with its merged upload and its upload folder
    (``core.uploads.SessionFolder``, removed by ``weakref.finalize``) once Streamlit has
    dropped the session (``server.disconnectedSessionTTL`` after it closed) and some run has
    happened since. Freezing the long-lived objects out of the collector's sight
    (``gc.freeze``) was tried instead: it also froze the sessions open at that moment, whose
    uploads then outlived them (a test caught it)."""
    global _collector
    with _COLLECTOR_LOCK:
        if _collector is None:
            _collector = threading.Thread(
                target=_collect_when_idle, args=(time.monotonic() + COLLECT_WITHIN,),
                name="collect-garbage", daemon=True)
            _collector.start()
        return _collector


def _collect_when_idle(until: float) -> None:
    global _collector
    _wait_until_idle(COLLECT_AFTER, until)
    with _COLLECTOR_LOCK:  # a run ending from now on schedules the next collection
        _collector = None
    gc.collect()


def settle(timeout: float = 120.0) -> None:
    """Wait for background preparations to finish (benchmarks and tests: a visitor reads
    the first page before changing anything)."""
    for thread in threading.enumerate():
        if thread.name == _PREPARE_THREAD:
            thread.join(timeout)


def explorer(path: str, mtime: float, boundaries: str | None = None, *,
             raw: bool = False) -> explore.Explorer:
    """The store at ``path`` as it was at ``mtime``, read-only: the shared store from the
    cache every session shares, this session's own upload from this session's state. Raises
    ``StoreError`` when the store cannot be read.

    Its ICBs are those of ``boundaries`` (``Explorer.in_boundaries``; None: the boundaries of
    the store's latest period), unless ``raw``: the rows as stored (the Upload and About
    pages)."""
    ex = _explorer(path, mtime)
    return ex if raw else ex.in_boundaries(boundaries)


def _explorer(path: str, mtime: float) -> explore.Explorer:
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


@st.cache_data(show_spinner=False, max_entries=16)
def sources_by_period(path: str, mtime: float) -> pd.DataFrame:
    """The About page's table: each period's file, load time and publication page."""
    return provenance.by_period(explorer(path, mtime).frame, log(path, mtime))


def all_rows_csv(path: str, mtime: float, kind: str) -> str:
    """The "all data" CSV of one period type (built when its button is pressed)."""
    rows = provenance.tidy_rows(explorer(path, mtime).frame, kind)
    return export.to_csv(provenance.with_credit(rows))


class Trend:
    """A trend as its arrays by name (what the chart, table, text and headline read: a
    column of a frame costs tens of microseconds each time it is read), and as a frame,
    made when first asked for (no page reads it; exports and tests do)."""

    def __init__(self, columns: dict,
                 frame: Callable[[], pd.DataFrame] | None = None) -> None:
        self.columns = columns
        self._frame = frame

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        if self._frame is not None:
            return self._frame()
        return series.trend_frame(self.columns) if self.columns else pd.DataFrame()

    def rows(self, at: np.ndarray | None) -> Trend:
        """The rows at ``at`` (a boolean mask; None: all)."""
        if at is None or at.all():
            return self
        return Trend({c: v[at] for c, v in self.columns.items()}, lambda: self.frame[at])


@st.cache_resource(show_spinner=False, max_entries=256)
def trend(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...], measure: str,
          rolling: bool = False, kind: str = "quarter", boundaries: str | None = None
          ) -> Trend:
    """The trend with what rounding and suppression do to each rate (range, note), so the
    chart's tooltips and the table say it. Shared between views and sessions: read-only."""
    columns = explorer(path, mtime, boundaries).trend_columns(list(keys), measure, rolling,
                                                              kind=kind)
    if columns:
        columns.update(verdicts.rounded_columns(columns, measure, parts=4 if rolling else 1))
    return Trend(columns)


def since_domain(domain: list[str], since: str | None) -> list[str]:
    """The periods of ``domain`` from ``since`` on (all of them when it is None or unknown):
    the time range a trend chart, its table and its CSV show."""
    return domain[domain.index(since):] if since in domain else list(domain)


@st.cache_resource(show_spinner=False, max_entries=256)
def trend_view(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...], measure: str,
               show_ci: bool, rolling: bool = False, main: int = 0, kind: str = "quarter",
               since: str | None = None, boundaries: str | None = None) -> View:
    """``main`` is the position in ``keys`` of the series the headline figures describe (and
    the only one with a confidence band); ``kind`` the period type (rolling applies to
    quarters only); ``since`` the first period the chart, table and text show (the headline
    figures always describe the latest period, tested on the whole series); ``boundaries``
    the ICB geography (None: the store's default).

    ``extra['headline']`` also holds ``gap``: the BAME − White British gap of the main
    series' area in its latest period (``headlines.gap_headline``)."""
    ex = explorer(path, mtime, boundaries)
    rolling = rolling and kind == "quarter"
    whole = trend(path, mtime, keys, measure, rolling, kind, boundaries)
    t = whole.columns
    if not t:
        return View(provenance.credited(charts.trend_spec(
            whole.frame, domain=since_domain(ex.domain(kind), since), measure=measure,
            show_ci=show_ci, synthetic=ex.synthetic, rolling=rolling, frames=True, main=main),
            kind), explore.trend_table(whole.frame, measure, main),
            explore.describe_trend(whole.frame, measure, rolling), whole.frame,
            {"headline": {}, "cautions": unusual.trend_cautions(whole.frame)})
    domain = since_domain(ex.domain(kind), since)
    shown = whole.rows(np.isin(t["period"], domain) if len(domain) < len(ex.domain(kind))
                       else None)
    spec = charts.trend_spec(shown.columns, domain=domain, measure=measure, show_ci=show_ci,
                             synthetic=ex.synthetic, rolling=rolling, frames=True, main=main)
    headline = explore.headline(t, measure, rolling, main,
                                per_year=4 if kind == "quarter" else 1)
    if headline:  # tested change, recent trend (on the plain quarters), figures as rounded
        plain = trend(path, mtime, keys, measure, False, kind, boundaries).columns \
            if rolling else t
        headline.update(headlines.headline_figures(t, plain, main))
        key = keys[main]
        gap, widening = gap_summary(path, mtime, key.level, key.area_code, measure, kind,
                                    boundaries)
        latest = plain["period"][(plain["series_order"] == main) & ~np.isnan(plain["rate"])]
        if len(latest):
            headline["gap"] = headlines.gap_headline(
                gap, str(latest[-1]), widening,
                "quarters" if kind == "quarter" else "financial years")
    cautions = unusual.trend_cautions(shown.columns)
    return View(provenance.credited(spec, kind),
                explore.trend_table(shown.columns, measure, main),
                f"{explore.describe_trend(shown.columns, measure, rolling)} "
                f"{unusual.caution(cautions)}".strip(),
                lambda: shown.frame, {"headline": headline, "cautions": cautions})


def trend_export(path: str, mtime: float, keys: tuple[explore.SeriesKey, ...],
                 measure: str, rolling: bool = False, kind: str = "quarter",
                 since: str | None = None, boundaries: str | None = None) -> pd.DataFrame:
    """Tidy rows for the CSV download (built when the button is pressed, not on every rerun),
    from ``since`` on; ICB rows carry ``approximate`` and how each was made."""
    ex = explorer(path, mtime, boundaries)
    rows = ex.series_rows(list(keys), rolling=rolling, kind=kind)
    if since is not None and len(rows):
        keep = set(since_domain(ex.domain(kind), since))
        last = rows["period"].astype(str).str.replace(r"^\d+ quarters to ", "", regex=True)
        rows = rows[last.isin(keep).to_numpy()]
    return provenance.with_credit(export.to_long(rows, [measure]))


@st.cache_resource(show_spinner=False, max_entries=128)
def compare_view(path: str, mtime: float, period: str, group: str, measure: str,
                 adjust: bool | None = None, highlight: str | None = None, sort: str = "rate",
                 region: str | None = None, boundaries: str | None = None) -> View:
    """The ranked chart; ``extra['funnel']()`` makes the funnel plot's spec (None without an
    England rate), ``extra['limits']()`` its control limits and ``extra['funnel_rows']()`` its
    tidy CSV (every area's point and verdicts, then the limits): each when first asked for.

    Compared with England allowing for overdispersion (Spiegelhalter 2005) when the ICBs
    differ by more than chance, unless ``adjust`` is False (Fingertips' bands and the binomial
    limits) or True. The spread and every verdict come from all ICBs; ``region`` (a region
    code) then narrows what is shown, still against England, and ``sort`` orders it
    (``verdicts.SORT_KEYS``). ``highlight``: the chosen ICB's code, marked on both charts, in
    the table and in the text. ``extra``: ``dispersion`` (the sentence with phi), ``chance``
    (how many would be outside 95% by chance), ``adjusted`` (the rule used), ``phi``,
    ``outside``, ``region`` (its name, or None), ``shown`` and ``total`` (ICBs). ICBs in
    ``boundaries`` (None: the store's default)."""
    ex = explorer(path, mtime, boundaries)
    r = ranking.rank_icbs(ex, period, group, measure, adjust, region, sort)
    table, eng_rate, info, used, outside, total = (r.columns, r.england, r.info, r.adjusted,
                                                   r.outside, r.total)
    region_name = ex.regions.get(r.region) if r.region else None
    title = f"{model.MEASURES[measure]['label']}, {model.group_label(group)}, {period}"
    if region_name:
        title += f", {region_name} region"
    dots = charts.compare_spec(table, eng_rate, title=title, synthetic=ex.synthetic,
                               measure=measure, frames=True, highlight=highlight,
                               adjusted=used)
    kind = "quarter" if " Q" in period else "year"
    dots = provenance.credited(dots, kind)

    # The funnel plot is made when its tab is first opened (or its CSV asked for), once per
    # view: the page draws only the open tab.
    @functools.cache
    def limits() -> pd.DataFrame:
        return ranking.funnel_limits(r.table, eng_rate, info.tau2 if used else 0.0)

    @functools.cache
    def funnel() -> dict | None:
        if limits().empty:
            return None
        return provenance.credited(charts.funnel_spec(
            r.table, limits(), title=f"Funnel plot: {title}", synthetic=ex.synthetic,
            measure=measure, frames=True, highlight=highlight), kind)

    chosen = ex.area(highlight) if highlight else None

    def describe(order: str | None) -> str:
        return explore.describe_compare(
            table, None if eng_rate is None else {"rate": eng_rate}, period, group, measure,
            highlight=highlight, highlight_name=explore.pretty_name(chosen[1]) if chosen else None,
            region=region_name, total=total, sort=order, adjusted=used)

    cautions = unusual.cautions(table)
    caution = unusual.caution(cautions)
    return View(dots, explore.compare_table(table, measure, highlight),
                f"{describe(sort)} {caution}".strip(), lambda: r.table,
                {"funnel": funnel, "limits": limits, "adjusted": used, "phi": info.phi,
                 "funnel_description": lambda: f"Funnel plot. {describe(None)} {caution}".strip(),
                 "cautions": cautions,
                 "funnel_rows": lambda: r.funnel_rows(limits()),
                 "overdispersed": info.overdispersed, "outside": outside,
                 "region": region_name, "shown": n_rows(table), "total": total,
                 "dispersion": verdicts.dispersion_sentence(info, used, outside),
                 "chance": verdicts.chance_sentence(outside["areas"]),
                 "boundaries": ex.boundaries})


@st.cache_resource(show_spinner=False, max_entries=128)
def gap_summary(path: str, mtime: float, level: str, code: str, measure: str,
                kind: str = "quarter", boundaries: str | None = None
                ) -> tuple[dict, object]:
    """The BAME − White British gap of one area over every period (``Explorer.gap``, as
    arrays by name) and whether it is widening over the last five (``headlines.gap_trend``;
    None without data): what the inequalities page charts and the trend page's headline
    states."""
    ex = explorer(path, mtime, boundaries)
    g = ex.gap_columns(level, code, measure, kind=kind)
    both = ex.series_counts([explore.SeriesKey(level, code, "BME"),
                             explore.SeriesKey(level, code, "White British")], measure, kind)
    return g, (headlines.gap_trend_of(*both) if len(both[0]["rate"]) else None)


@st.cache_resource(show_spinner=False, max_entries=128)
def gap_view(path: str, mtime: float, level: str, code: str, measure: str, name: str,
             kind: str = "quarter", boundaries: str | None = None) -> View:
    """``extra['trend']``: whether the gap is widening over the last five periods (weighted
    least squares on the gap, ``trend_tests.gap_trend``), in words. ``extra['headline']``: the
    gap in the area's latest period, its interval, verdict and whether it is widening
    (``headlines.gap_headline``, as the trends page's headline states it), for the answer
    the page gives first; empty without periods."""
    ex = explorer(path, mtime, boundaries)
    g, widening = gap_summary(path, mtime, level, code, measure, kind, boundaries)
    spec = charts.gap_spec(g, domain=ex.domain(kind), title=f"BAME minus White British, {name}",
                           synthetic=ex.synthetic, frames=True)
    unit = "quarters" if kind == "quarter" else "financial years"
    sentence = (headlines.gap_trend_sentence(widening, unit=unit) if widening is not None
                else "Whether the gap is widening could not be calculated: no data.")
    latest = latest_gap_period(g, ex.published(kind))
    headline = (headlines.gap_headline(g, latest, widening, unit) if latest is not None
                else {})
    # A figure of either group that changed too sharply to take on trust (core.unusual).
    cautions = unusual.trend_cautions(ex.trend_columns(
        [explore.SeriesKey(level, code, "BME"), explore.SeriesKey(level, code, "White British")],
        measure, kind=kind))
    return View(provenance.credited(spec, kind), explore.gap_table(g),
                f"{explore.describe_gap(g, name, measure)} {unusual.caution(cautions)}".strip(),
                lambda: pd.DataFrame(g) if g else pd.DataFrame(),
                {"trend": sentence, "trend_verdict": getattr(widening, "verdict", ""),
                 "headline": headline, "cautions": cautions})


def latest_gap_period(gap: dict, published: list[str]) -> str | None:
    """The period a gap headline states: the latest in which either group has a rate (an
    ICB the chosen boundaries redrew stops earlier than the store), so a suppressed group's
    latest period is stated with its reason rather than skipped; else the store's latest
    published period; None without either."""
    if gap:
        either = np.isfinite(np.asarray(gap["rate_a"], dtype=float)) | np.isfinite(
            np.asarray(gap["rate_b"], dtype=float))
        if either.any():
            return str(np.asarray(gap["period"], dtype=object)[either][-1])
    return published[-1] if published else None


@st.cache_resource(show_spinner=False, max_entries=128)
def groups_view(path: str, mtime: float, level: str, code: str, period: str, measure: str,
                name: str, detailed: bool = False, boundaries: str | None = None) -> View:
    ex = explorer(path, mtime, boundaries)
    g = ex.groups_columns(level, code, period, measure, detailed)  # rounding's rates too
    # Each group's figure against its own a year before (core.unusual), where published.
    earlier = periods.year_before(period)
    kind = "quarter" if " Q" in period else "year"
    g["unusual"] = unusual.group_changes(
        g, ex.groups_columns(level, code, earlier, measure, detailed)
        if earlier in ex.published(kind) else None, earlier)
    cautions = unusual.group_cautions(g, period)
    g["note"] = unusual.with_notes(g["note"], g["unusual"])  # the tooltip and the CSV say it
    spec = charts.groups_spec(
        g, title=f"{model.MEASURES[measure]['label']} by ethnic group, {name}, {period}",
        synthetic=ex.synthetic, measure=measure, frames=True)
    spec = provenance.credited(spec, "quarter" if " Q" in period else "year")
    return View(spec, explore.groups_table(g, measure),
                f"{explore.describe_groups(g, name, period)} {unusual.caution(cautions)}".strip(),
                lambda: pd.DataFrame(g), {"cautions": cautions})


def groups_export(path: str, mtime: float, level: str, code: str, period: str, measure: str,
                  detailed: bool = False, boundaries: str | None = None) -> pd.DataFrame:
    """Every stored column of the rows behind the groups chart, with the chart's own rates,
    ranges and notes (``Explorer.group_rows``), for its CSV download (built when the button is
    pressed: the chart itself needs far fewer columns)."""
    rows = explorer(path, mtime, boundaries).group_rows(level, code, period, measure, detailed)
    return provenance.with_credit(rows)


@st.cache_resource(show_spinner=False, max_entries=64)
def map_view(path: str, mtime: float, period: str, group: str, measure: str,
             colour_by: str = "rate", selected: str | None = None,
             boundaries: str | None = None) -> View:
    """The choropleth of ICBs for one period, population and measure, in ``boundaries``
    (None: the store's default), with the rates and bands Compare ICBs shows.

    ``extra``: ``boundaries`` (the geography drawn) and ``england`` (England's rate or None);
    ``data`` is the map's rows (one per ICB, as the map reads them)."""
    ex = explorer(path, mtime, boundaries)
    # Rates and bands as Compare ICBs gives them (all ICBs, the default adjustment, in its
    # default order), without that page's trends, words and charts, which the map does not
    # show.
    c = ranking.compare_icbs(ex, period, group, measure)
    eng = None if c.england is None or pd.isna(c.england) else float(c.england)
    rows = map_chart.map_columns(ranking.explained(c.columns), ranking.by_rate(c))
    title = (f"{model.MEASURES[measure]['label']}, {model.group_label(group)}, {period}: "
             f"{geography.label(ex.boundaries)}")
    spec = map_chart.map_spec(rows, ex.boundaries, title=title, colour_by=colour_by,
                              england=eng, selected=selected,
                              synthetic=bool(rows["synthetic"].any()), measure=measure)
    spec = provenance.credited(spec, "quarter" if " Q" in period else "year")
    description = map_chart.describe_map(
        rows, ex.boundaries, period=period, group_label=model.group_label(group),
        measure=measure, england=eng, colour_by=colour_by, selected=selected)
    return View(spec, map_chart.map_table(rows, ex.boundaries, measure),
                description, lambda: pd.DataFrame(rows),
                {"boundaries": ex.boundaries, "england": eng,
                 "cautions": unusual.cautions(c.columns)})


def map_export(view: View, period: str, group: str, measure: str) -> pd.DataFrame:
    """The map's rows for its CSV download: one per ICB with its region, rate, band,
    ``approximate`` and how an approximate figure was made (``boundaries_note``)."""
    rows = view.data.rename(columns={"area": "area_name", "region": "region_name",
                                     "note": "boundaries_note"})
    return provenance.with_credit(rows.assign(
        period=period, period_type="quarter" if " Q" in period else "year", group=group,
        measure=measure, boundaries=view.extra["boundaries"],
        boundaries_source=map_chart.ONS_CREDIT))


def release_upload(file_id: str) -> None:
    """Let Streamlit drop an uploaded file's bytes once the page has read them.

    Streamlit keeps every upload whole in memory until the session ends or the user removes
    it; for a 300 MB file that is 300 MB held through the preview and the merge. This is what
    ``st.chat_input`` does with its files (only the in-memory manager can remove them).
    """
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None and isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
        ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=file_id)
