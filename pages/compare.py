"""Compare ICBs: every ICB in one quarter or financial year against England and the 50% target."""

import streamlit as st

from core import model, provenance
from ui import data, page, render, sidebar, state

ctx = page.start("Compare ICBs")
source, sel = ctx.source, ctx.sel

noun = "Quarter" if sel.period == "quarter" else "Financial year"
pick, where, order = st.columns(3, vertical_alignment="bottom")
periods = ctx.explorer.published(sel.period)[::-1]
period = pick.selectbox(
    noun, periods, **sidebar.bound("at", periods[0]),
    help=f"The latest {noun.lower()} is first. Change the period type in the sidebar.")
regions = state.region_codes(ctx.explorer)
region = where.selectbox(
    "Region", ["", *regions], format_func=lambda c: regions.get(c, "All regions"),
    **sidebar.bound("region", ""),
    help="Show one NHS region's ICBs. Each is still compared with England, not with the region.")
sort = order.selectbox("Sort", list(state.SORTS), format_func=state.SORTS.get,
                       **sidebar.bound("sort", "rate"),
                       help="Order the ranking, the table and the CSV.")
# The charts come straight after the choices that pick their rows (on a phone the ranking
# was two screens down): the comparison method, its switch and the spread follow them. The
# switch is drawn there but read here, from the selection (it is bound to it, so in the URL).
unadjusted = bool(sel.unadjusted)
group_label = model.group_label(sel.population)
measure_label = model.MEASURES[sel.measure]["label"]
view = data.compare_view(source.path, source.mtime, period, sel.population, sel.measure,
                         False if unadjusted else None, highlight=sel.highlight, sort=sort,
                         region=region or None, boundaries=sel.geography)


def method() -> None:
    """How ICBs are compared, and the switch between the two methods."""
    st.toggle(
        "Unadjusted limits (Fingertips-style bands)", **sidebar.bound("unadjusted"),
        help="By default, when ICBs differ by more than chance alone explains, the limits and "
        "bands allow for it (Spiegelhalter 2005). Switch on for the binomial limits and "
        "Fingertips' two-level bands.")
    st.caption(
        f"{measure_label} for {group_label} in every ICB, {period}, compared with England at "
        "95% and 99.8%. When ICBs differ by more than chance alone explains, the comparison "
        "allows for that spread (below); with the switch, each ICB is compared by its "
        "confidence intervals as in OHID Fingertips (England's own interval ignored). The "
        "table gives both. Change the population or measure in the sidebar."
    )


if not view.extra["shown"]:
    st.info(f"No ICB figures for {period}. ICBs began in July 2022: for earlier periods NHS "
            "England published CCG and STP figures, which the Recovery over time page shows "
            "for England.", icon=":material/info:")
    method()
    render.share_link(sel.to_params(), "compare")
    st.stop()
if view.extra["region"]:
    st.caption(f"Showing the {view.extra['shown']} ICBs of the {view.extra['region']} region, "
               f"of {view.extra['total']} in England. Each is compared with England, not with "
               "the region; the spread and the limits come from every ICB.")
if view.extra["cautions"]:
    render.cautions(view.extra["cautions"])
title = f"{measure_label}, {group_label}, {period}" + (
    f", {view.extra['region']} region" if view.extra["region"] else "")
# Only the open tab's chart is drawn (the other is one click away, and in the link).
tab_dots, tab_funnel = st.tabs(list(state.COMPARE_CHARTS.values()),
                               **sidebar.bound_tabs("chart", state.COMPARE_CHARTS))
if tab_dots.open:
    with tab_dots:
        render.chart_block(
            view.spec,
            table=view.table,
            csv=lambda: provenance.with_credit(view.data.drop(columns=["area", "region"])
                                               .assign(measure=sel.measure)),
            description=view.description,
            name=f"compare {title}",
            blank="–",
            note="Counts below England level are rounded to 5 by NHS England: the table gives each "
            "rate's range under rounding, flags approximate ones and says where a count was "
            "suppressed. The recent trend is Fingertips' (last five periods, 99.8%). Fewer than 30 "
            "people makes a rate unreliable.",
        )
if tab_funnel.open:
    with tab_funnel:
        funnel = view.extra["funnel"]()
        if funnel is None:
            st.info("No England rate for this selection, so no funnel limits.")
        else:
            st.caption(
                "A funnel plot shows each ICB's rate against its size. The lines are England's rate "
                "and the 95% and 99.8% control limits around it"
                + (", widened for the variation between ICBs beyond chance (overdispersion)" if
                   view.extra["adjusted"] else "")
                + ": an ICB outside the 99.8% limits is unlikely to differ from England by chance "
                "alone."
            )
            render.chart_block(
                funnel,
                table=view.table,
                csv=lambda: provenance.with_credit(view.extra["funnel_rows"]().assign(
                    period=period, group=sel.population, measure=sel.measure)),
                description=view.extra["funnel_description"](),
                name=f"funnel {title}",
                blank="–",
            )
st.subheader("How ICBs are compared", anchor=False)
method()
st.info(view.extra["dispersion"], icon=":material/functions:")
if view.extra["chance"]:
    st.caption(view.extra["chance"])
render.share_link(sel.to_params(), "compare")
