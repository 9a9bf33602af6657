"""Recovery over time: the chosen populations and areas by quarter."""

import streamlit as st

from core import explore, model
from ui import data, page, render, sidebar

ctx = page.start(lambda sel: f"{model.MEASURES[sel.measure]['label'] if sel else 'Recovery rate'} over time")
source, ex, sel = ctx.source, ctx.explorer, ctx.sel
measure_label = model.MEASURES[sel.measure]["label"]

level, code, name = sel.area(ex)
st.subheader(f"{render.md(name)}: {model.group_label(sel.population)}", anchor=False)
shown = ex.published(sel.period)
unit = ("Rolling four quarters" if sel.rolling_on
        else explore.PERIOD_TYPES[sel.period] + (" (April to March)" if sel.period == "year" else ""))
# From the "Show from" period, as the chart and table below are.
# On the ICB view the BAME line is drawn whatever "Compare with" holds: say where it comes from
# (an orange line nobody asked for read as a mistake; a helper's review).
lines = ("" if sel.view != "ICB" else
         " The chart draws this ICB's whole population and its BAME population"
         + ("" if sel.population in ("Total", "BME") else ", the population chosen")
         + (", and England" if sel.show_england else "") + ".")
st.caption(f"{unit}, {sel.since if sel.since in shown else shown[0]} to {shown[-1]}. "
           + explore.sentence(model.POPULATIONS[sel.population].note) + lines)
keys = tuple(sel.series(ex))
periods = list(shown)
# The headline figures describe the chosen area and population (on the ICB view the lines
# start with its whole population and BAME, whatever population is chosen).
chosen = explore.SeriesKey(level, code, sel.population)
main = keys.index(chosen) if chosen in keys else 0
view = data.trend_view(source.path, source.mtime, keys, sel.measure, sel.show_ci, sel.rolling_on,
                       main, sel.period, sel.since, boundaries=sel.geography)
render.headline(view.extra["headline"])
render.wrap_chips()
# The time range: the chart, its table and CSV start here; the headline is unaffected.
pick, _ = st.columns([1, 3])
pick.selectbox("Show from", periods, **sidebar.bound("since", periods[0]),
               help="The first period the chart, its table and the CSV download show. The "
               "headline figures above always use the whole series.")
if view.extra["cautions"]:
    render.cautions(view.extra["cautions"])
render.chart_block(
    view.spec,
    table=view.table,
    csv=lambda: data.trend_export(source.path, source.mtime, keys, sel.measure, sel.rolling_on,
                                  sel.period, sel.since, boundaries=sel.geography),
    description=view.description,
    name=f"{measure_label} {name} {model.group_label(sel.population)}",
    note=(
        "Rates are computed from counts: recovered ÷ (finished a course of treatment − not at "
        "caseness). Below England level NHS England rounds counts to 5 and suppresses counts "
        "under 5, so those rates and intervals are approximate; the published percentage is in "
        "the table beside ours."
        + (" Q2 2020/21 was never published." if sel.period == "quarter" else "")
    ),
)
if sel.measure != "recovery":
    st.caption("The 50% target applies to the recovery rate, so no target line is drawn here.")
render.share_link(sel.to_params(), "trends")
