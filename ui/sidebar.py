"""The shared sidebar: view, area, population, measure, comparisons, display options."""

from __future__ import annotations

import streamlit as st

from core import explore, model
from ui.state import MAX_AREAS, MAX_POPULATIONS, VIEWS, Selection, from_params

# Session keys that outlive their widgets: Streamlit forgets a widget's value in a run where
# the widget is not drawn (the ICB picker on the national view), so each value is kept under
# its own key and copied into a widget key ("w_...") just before the widget is drawn.
FIELDS = ("view", "icb", "population", "measure", "compare", "areas", "show_ci", "show_england",
          "rolling", "period")


def _init(ex: explore.Explorer) -> None:
    ss = st.session_state
    if ss.get("_sel_ready"):
        return
    sel = from_params(st.query_params.to_dict(), ex)
    for f in FIELDS:
        ss[f] = getattr(sel, f)
    ss["_sel_ready"] = True


def _bind(name: str) -> str:
    """Prepare widget key ``w_name`` from the persistent value; return the widget key."""
    wkey = f"w_{name}"
    st.session_state[wkey] = st.session_state[name]
    return wkey


def _keep(name: str) -> None:
    st.session_state[name] = st.session_state[f"w_{name}"]


def render(ex: explore.Explorer) -> Selection:
    """Draw the sidebar from what the store offers (areas, their labels, the series)."""
    labels, series, icbs = ex.labels, ex.series_choices, ex.icbs
    _init(ex)
    ss = st.session_state
    if ss["icb"] not in icbs:
        ss["icb"] = ex.default_icb
    with st.sidebar:
        st.header("Choose what to see")
        if ss["period"] not in ex.period_types:
            ss["period"] = ex.default_period_type
        st.radio("Period", ex.period_types, key=_bind("period"), on_change=_keep,
                 args=("period",), horizontal=True, format_func=explore.PERIOD_TYPES.get,
                 help="Quarterly figures, or financial years (April to March, such as 2024/25). "
                 "Every page shows the period type chosen here.")
        st.radio("View", VIEWS, key=_bind("view"), on_change=_keep, args=("view",),
                 horizontal=True, help="England as a whole, or one Integrated Care Board (ICB).")
        if ss["view"] == "ICB" and icbs:
            st.selectbox(
                "Integrated Care Board", icbs, key=_bind("icb"), on_change=_keep, args=("icb",),
                format_func=lambda c: labels.get(c) or c,
                help="Type to search. Each ICB is shown with its NHS region.",
            )
        st.selectbox(
            "Population", list(model.POPULATIONS), key=_bind("population"), on_change=_keep,
            args=("population",), format_func=model.group_label,
        )
        st.caption(explore.sentence(model.POPULATIONS[ss["population"]].note))
        st.radio("Measure", list(model.MEASURES), key=_bind("measure"), on_change=_keep,
                 args=("measure",), format_func=lambda m: model.MEASURES[m]["label"],
                 help="Recovery rate carries the 50% target; reliable recovery also requires "
                 "reliable improvement.")
        if ss["view"] == "National":
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
        else:
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
        st.toggle("Show 95% confidence band", key=_bind("show_ci"), on_change=_keep,
                  args=("show_ci",))
        if ss["period"] == "quarter":
            st.toggle("Rolling four quarters", key=_bind("rolling"), on_change=_keep,
                      args=("rolling",),
                      help="Each point sums the counts of the four quarters to it: steadier "
                      "for small areas and groups. Applies to the Recovery over time page.")
    sel = Selection(**{f: ss[f] for f in FIELDS})
    params = sel.to_params()
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return sel
