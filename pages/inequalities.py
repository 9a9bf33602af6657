"""Ethnic inequalities: the gap between BAME and White British, and where it comes from."""

import streamlit as st

from core import model, provenance
from ui import data, page, render, sidebar

ctx = page.start("Ethnic inequalities in recovery")
source, ex, sel = ctx.source, ctx.explorer, ctx.sel

level, code, name = sel.area(ex)
st.subheader(render.md(name), anchor=False)
view = data.gap_view(source.path, source.mtime, level, code, sel.measure, name, sel.period,
                     boundaries=sel.geography)
# The answer first: the latest gap, its interval, the verdict and whether it is widening.
render.gap_answer(view.extra["headline"])
st.caption(
    model.BAME_DEFINITION + " BAME and White British are separate groups, so their gap is "
    "tested directly, with a 95% confidence interval for the difference (Newcombe's method), "
    "rather than by comparing each with England."
)
if view.extra["cautions"]:
    render.cautions(view.extra["cautions"])
render.chart_block(
    view.spec,
    table=view.table,
    csv=lambda: provenance.with_credit(view.data.assign(area_code=code, area_name=name,
                                                         measure=sel.measure)),
    description=view.description,
    name=f"gap {name}",
)
# Is the gap widening? (core.headlines.gap_trend: weighted least squares on the gap)
st.markdown(render.md(view.extra["trend"]))

st.subheader("Where the gap comes from", anchor=False)
pick, show = st.columns([1, 3], vertical_alignment="bottom")
periods = ex.published(sel.period)[::-1]
period = pick.selectbox("Quarter" if sel.period == "quarter" else "Financial year", periods,
                        **sidebar.bound("at", periods[0]))
detailed = show.toggle("Show detailed ethnic groups", **sidebar.bound("detailed"),
                       help="Indian, Pakistani, African, Caribbean and the rest, under each broad "
                       "group. Numbers are often small: check the denominator and the interval.")
groups = data.groups_view(source.path, source.mtime, level, code, period, sel.measure, name,
                         detailed, boundaries=sel.geography)
if groups.extra["cautions"]:
    render.cautions(groups.extra["cautions"])
render.chart_block(
    groups.spec,
    table=groups.table,
    csv=lambda: data.groups_export(source.path, source.mtime, level, code, period, sel.measure,
                                   detailed, boundaries=sel.geography),
    description=groups.description,
    name=f"groups {name} {period}{' detailed' if detailed else ''}",
    note="The BAME/White British split and the broad ethnic groups are two ways of dividing "
    "the same people, so each has its own block (and its own 'Not stated'). Broad groups: "
    "'White' includes White British, Irish and other White backgrounds; "
    "'Other Ethnic Groups' includes Chinese and any other group. Where a file gives only "
    "detailed groups, broad ones are summed from them.",
)
render.share_link(sel.to_params(), "inequalities")
