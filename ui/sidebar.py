"""The shared sidebar: view, area, population, measure, comparisons, display options.

Every control of every page lives in the session state and in the URL, so a link reopens the
view exactly. Each user change writes the URL once (Streamlit adds one browser-history entry
for it). Back and Forward (or an edited link) bring a query string this session did not write
last: the whole state is then read again from it, so the view follows the browser history
instead of rewriting the URL back to where it was."""

from __future__ import annotations

import re

import streamlit as st

from core import boundaries as icb_boundaries
from core import explore, map_chart, model
from core.charts.common import short_name
from ui.render import md
from ui.state import (
    BOUNDARIES,
    COLOURS,
    COMPARE_CHARTS,
    MAX_AREAS,
    MAX_POPULATIONS,
    PAGE_CONTROLS,
    SORTS,
    VIEWS,
    Selection,
    from_params,
    region_codes,
)

# Session keys that outlive their widgets: Streamlit forgets a widget's value in a run where
# the widget is not drawn (the ICB picker on the national view), so each value is kept under
# its own key and copied into a widget key ("w_...") just before the widget is drawn.
FIELDS = ("view", "icb", "population", "measure", "compare", "areas", "show_ci", "show_england",
          "rolling", "period", "at", "unadjusted", "detailed", "sort", "region", "boundaries",
          "since", "colour", "chart", "icb_chosen")
CHOSEN = "_period_chosen"
#: The query string this session wrote (or accepted) last.
WRITTEN = "_url_written"
#: What the link just read held that is not valid here (``Selection.ignored``), said once.
IGNORED = "_link_ignored"


def _init(ex: explore.Explorer) -> None:
    ss = st.session_state
    params = st.query_params.to_dict()
    if ss.get("_sel_ready") and (params == ss.get(WRITTEN) or not params):
        # Nothing new, or a move to another page from the menu: Streamlit opens the page
        # with an empty query string, and the choices made so far carry over to it.
        return
    # First run, or the browser brought another URL (Back, Forward, an edited link).
    sel = from_params(params, ex)
    for f in FIELDS:
        ss[f] = getattr(sel, f)
    ss[IGNORED] = sel.ignored
    # A period type from a link, or picked in the sidebar, stays; otherwise the view follows
    # the store's default, which changes when an upload brings a published latest quarter.
    ss[CHOSEN] = params.get("period") == sel.period
    ss["_sel_ready"] = True


def say_ignored(sel: Selection, ex: explore.Explorer) -> None:
    """Once, under a link that held values not valid here: which were left out, and the ICB
    shown in place of one the link named (a mistyped code showed another ICB's figures as if
    they were the one asked for; a helper's review). ``ex``: the store as loaded."""
    ignored = st.session_state.pop(IGNORED, None)
    if not ignored:
        return
    # A value that could name something is quoted (a mistyped code); anything else (markup,
    # a formula) is not repeated on the page.
    listed = ", ".join(f"{key} '{value}'" if re.fullmatch(r"[\w /.~-]{1,40}", value) else key
                       for key, value in ignored[:6])
    more = f" and {len(ignored) - 6} more" if len(ignored) > 6 else ""
    icb = ""
    if sel.view == "ICB" and any(key == "icb" for key, _ in ignored):
        icb = (f" It shows {sel.area(ex.in_boundaries(sel.boundaries))[2]} in place of the "
               "ICB the link named.")
    st.warning(md(f"This link holds values this app does not know, so they were left out: "
                  f"{listed}{more}.{icb} Defaults are shown in their place."),
               icon=":material/link_off:")


def _population_label(code: str) -> str:
    """The picker's label: the short name first, so the box shows it whatever it cuts
    ("Black, Asian and minority ethnic (BA…" hid the BAME the app says everywhere)."""
    label = model.group_label(code)
    short = re.fullmatch(r"(.*) \((\w+)\)", label)
    return f"{short[2]}: {short[1]}" if short else label


def _icb_label(label: str, code: str) -> str:
    """'NHS Birmingham and Solihull ICB (Midlands)' → 'Birmingham and Solihull (Midlands) ·
    QHL': the place fits the sidebar on a phone, and the code is there to be searched."""
    match = re.fullmatch(r"(.*?)(\s\([^()]*\))?", label)
    return f"{short_name(match[1])}{match[2] or ''} · {code}"


def _bind(name: str, default: object = None) -> str:
    """Prepare widget key ``w_name`` from the persistent value (``default`` when that is
    None); return the widget key."""
    wkey = f"w_{name}"
    value = st.session_state[name]
    st.session_state[wkey] = default if value is None else value
    return wkey


def _keep(name: str) -> None:
    ss = st.session_state
    if name == "icb":  # a picker cleared back to "None": nothing marked, the ICB view's kept
        ss["icb_chosen"] = ss["w_icb"] is not None
        if ss["w_icb"] is None:
            return
    ss[name] = ss[f"w_{name}"]
    if name == "period":
        ss[CHOSEN] = True


def bound(name: str, default: object = None) -> dict:
    """Keyword arguments that bind a page's own widget to the selection field ``name``, so it
    is in the URL: ``st.selectbox("Quarter", periods, **sidebar.bound("at", periods[0]))``.
    The widget shows ``default`` while the field is None (not in the URL)."""
    return {"key": _bind(name, default), "on_change": _keep, "args": (name,)}


def bound_tabs(name: str, tabs: dict[str, str]) -> dict:
    """Keyword arguments for ``st.tabs(list(tabs.values()), **...)`` that keep the open tab
    in the selection field ``name`` (a key of ``tabs``, whose values are the tabs' labels),
    so it is in the URL. With them Streamlit tells each tab whether it is ``open``, and a
    page draws only the open one."""
    wkey = f"w_{name}"
    st.session_state[wkey] = tabs.get(st.session_state[name], next(iter(tabs.values())))
    return {"key": wkey, "on_change": _keep_tab, "args": (name, tabs)}


def _keep_tab(name: str, tabs: dict[str, str]) -> None:
    label = st.session_state[f"w_{name}"]
    st.session_state[name] = next((k for k, v in tabs.items() if v == label), next(iter(tabs)))


#: Session key of the last switch of boundaries: (from, ICB before, to, ICB after).
_SWITCHED = "_boundaries_switched"


def _boundaries_changed() -> None:
    """Keep the chosen ICB across a switch of boundaries: the ICB of the new geography that
    holds most of it (``core.boundaries.corresponding_icb``). Switching straight back gives
    back the ICB chosen before (most of Bedfordshire, Luton and Milton Keynes is in the 2026
    ICB most of which is Hertfordshire and West Essex: the round trip must not move)."""
    ss = st.session_state
    was = ss["boundaries"] or ss.get("_default_boundaries")
    _keep("boundaries")
    now = ss["boundaries"] or ss.get("_default_boundaries")
    icb = ss.get("icb")
    if not (icb and now):
        return
    last = ss.get(_SWITCHED)
    if last is not None and (last[0], last[2], last[3]) == (now, was, icb):
        ss["icb"] = last[1]
    else:
        ss["icb"] = icb_boundaries.corresponding_icb(icb, now) or icb
    ss[_SWITCHED] = (was, icb, now, ss["icb"])


def pick_from_map(key: str, boundaries: str) -> None:
    """A click on the map of ICBs (chart ``key``) chooses that ICB for every page: the
    sidebar picker and the ICB views follow. A double click (empty selection) changes
    nothing."""
    code = map_chart.picked_icb(st.session_state.get(key), boundaries)
    if code is not None:
        st.session_state["icb"] = code
        st.session_state["icb_chosen"] = True


def render(ex: explore.Explorer, page: str = "trends") -> Selection:
    """Draw the sidebar for ``page`` (a url path) from what the store offers: only the
    controls that change that page (``state.PAGE_CONTROLS``). Every field is kept and stays in
    the URL whichever page is shown, so moving between pages changes only the page.

    ``ex`` is the store as loaded; ICBs are offered in the chosen boundaries
    (``Explorer.in_boundaries``), on every page, so a choice survives moving between pages."""
    _init(ex)
    ss = st.session_state
    if ss["boundaries"] not in BOUNDARIES:
        ss["boundaries"] = None
    ss["_default_boundaries"] = ex.default_boundaries
    ex = ex.in_boundaries(ss["boundaries"])
    labels, series, icbs = ex.labels, ex.series_choices, ex.icbs
    if ss["icb"] not in icbs:
        ss["icb"] = ex.default_icb
    if ss["period"] not in ex.period_types or not ss.get(CHOSEN):
        ss["period"] = ex.default_period_type
    published = ex.published(ss["period"])
    for name in ("at", "since"):  # a period of the other period type means "the default"
        if ss[name] not in published:
            ss[name] = None
    if ss["region"] not in region_codes(ex):
        ss["region"] = None
    if ss["sort"] not in SORTS:
        ss["sort"] = "rate"
    if ss["colour"] not in COLOURS:
        ss["colour"] = "rate"
    if ss["chart"] not in COMPARE_CHARTS:
        ss["chart"] = "ranked"
    shown = set(PAGE_CONTROLS.get(page, ()))
    if not shown:
        return _finish()
    icb_view = ss["view"] == "ICB" or "view" not in shown
    with st.sidebar:
        st.header("Choose what to see")
        st.radio("Period", ex.period_types, key=_bind("period"), on_change=_keep,
                 args=("period",), horizontal=True, format_func=explore.PERIOD_TYPES.get,
                 help="Quarterly figures, or financial years (April to March, such as 2024/25). "
                 "Every page shows the period type chosen here.")
        if "view" in shown:
            st.radio("View", VIEWS, key=_bind("view"), on_change=_keep, args=("view",),
                     horizontal=True,
                     help="England as a whole, or one Integrated Care Board (ICB).")
        if "boundaries" in shown and (icb_view or any(
                ex.parse_series(c) and ex.parse_series(c).level == "ICB"
                for c in ss["compare"])):
            st.radio("ICB boundaries", list(BOUNDARIES), key=_bind("boundaries",
                                                                   ex.default_boundaries),
                     on_change=_boundaries_changed, format_func=BOUNDARIES.get,
                     help="The 42 ICBs of July 2022 to March 2026, or the 36 from 1 April "
                     "2026. Earlier figures are rebuilt for the chosen ICBs from the areas "
                     "they were published for; a point marked approximate says what moved. "
                     "The default is the boundaries of the latest period.")
        if icb_view and icbs:
            highlight = "view" not in shown  # Compare and the map mark the chosen ICB
            # Until an ICB is chosen, Compare and the map mark none and the picker says so.
            none = highlight and not (ss["icb_chosen"] or ss["view"] == "ICB")
            key = _bind("icb")
            if none:
                st.session_state[key] = None
            st.selectbox(
                "Highlighted ICB" if highlight else "Integrated Care Board", icbs,
                key=key, on_change=_keep, args=("icb",),
                format_func=lambda c: _icb_label(labels.get(c) or c, c),
                placeholder="No ICB marked: choose one",
                help="Type a name or an ICB code to search. Each ICB is shown with its NHS "
                "region and code." + (" It is marked on the charts and named in the table."
                                      if highlight else ""),
            )
            # The box is one line and cuts a long name ("Bedfordshire, Luton and Milton K"):
            # the chosen ICB in full, on as many lines as it needs, just below it.
            if not none:
                st.caption(md(_icb_label(labels.get(ss["icb"]) or ss["icb"], ss["icb"])))
        if "population" in shown:
            st.selectbox(
                "Population", list(model.POPULATIONS), key=_bind("population"),
                on_change=_keep, args=("population",), format_func=_population_label,
            )
            st.caption(explore.sentence(model.POPULATIONS[ss["population"]].note))
        st.radio("Measure", list(model.MEASURES), key=_bind("measure"), on_change=_keep,
                 args=("measure",), format_func=lambda m: model.MEASURES[m]["label"],
                 help="Recovery rate carries the 50% target; reliable recovery also requires "
                 "reliable improvement.")
        if "compare" in shown and ss["view"] == "National":
            primary = f"ENG~{ss['population']}"
            options = [s for s in series if s != primary]
            ss["compare"] = [c for c in ss["compare"] if c in options][:MAX_POPULATIONS]
            st.multiselect(
                f"Compare with up to {MAX_POPULATIONS} other populations", options,
                key=_bind("compare"), on_change=_keep, args=("compare",),
                max_selections=MAX_POPULATIONS,
                format_func=series.get,
                placeholder="Any area with any group",
            )
            if len(ss["compare"]) >= MAX_POPULATIONS:
                st.info(f"That is the most: {MAX_POPULATIONS} comparisons. Remove one to add "
                        "another.", icon=":material/info:")
        elif "areas" in shown:
            options = [c for c in labels if c != ss["icb"]]
            ss["areas"] = [a for a in ss["areas"] if a in options][:MAX_AREAS]
            st.multiselect(
                f"Compare with up to {MAX_AREAS} other areas", options, key=_bind("areas"),
                on_change=_keep, args=("areas",), max_selections=MAX_AREAS,
                format_func=lambda c: labels.get(c) or c,
                placeholder="Other ICBs, regions or England",
                help="Each area is shown for the whole population and for BAME.",
            )
            if len(ss["areas"]) >= MAX_AREAS:
                st.info(f"That is the most: {MAX_AREAS} other areas. Remove one to add "
                        "another.", icon=":material/info:")
            st.toggle("Show England for comparison", key=_bind("show_england"),
                      on_change=_keep, args=("show_england",))
        if "show_ci" in shown:
            st.toggle("Show 95% confidence band", key=_bind("show_ci"), on_change=_keep,
                      args=("show_ci",))
        if "rolling" in shown and ss["period"] == "quarter":
            st.toggle("Rolling four quarters", key=_bind("rolling"), on_change=_keep,
                      args=("rolling",),
                      help="Each point sums the counts of the four quarters to it: steadier "
                      "for small areas and groups.")
    return _finish()


def _finish() -> Selection:
    """The selection from the session state, written to the URL when it changed."""
    ss = st.session_state
    sel = Selection(**{f: ss[f] for f in FIELDS})
    sel.geography = ss["boundaries"] or ss.get("_default_boundaries")
    params = sel.to_params()
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    ss[WRITTEN] = params
    return sel
