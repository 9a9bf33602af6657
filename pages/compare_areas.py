"""Compare ICBs: every ICB in one quarter against England and the 50% target."""

import streamlit as st

from core import charts, explore, model
from ui import data, render

source = data.active_source()
facts = data.facts(source.path, source.mtime)
sel = st.session_state.get("selection")

st.title("Compare ICBs")
if sel is None or not facts["published_quarters"]:
    st.info("No quarterly data is loaded yet.")
    st.stop()

quarters = facts["published_quarters"][::-1]
period = st.selectbox("Quarter", quarters, key="compare_period",
                      help="The latest published quarter is first.")
group_label = model.group_label(sel.population)
measure_label = model.MEASURES[sel.measure]["label"]
st.caption(
    f"{measure_label} for {group_label} in every ICB, {period}. Each ICB is compared with "
    "England by its 95% and 99.8% confidence intervals (England's own interval is ignored, as "
    "in OHID Fingertips): *better* or *worse* when England's rate lies outside the ICB's "
    "interval. Change the population or measure in the sidebar."
)
table, england = data.compare(source.path, source.mtime, period, sel.population, sel.measure)
eng_rate = None if england is None else england["rate"]
title = f"{measure_label}, {group_label}, {period}"
tab_dots, tab_funnel = st.tabs(["Ranked with intervals", "Funnel plot"])
with tab_dots:
    render.chart_block(
        charts.compare_chart(table, eng_rate, title=title, synthetic=facts["synthetic"],
                             measure=sel.measure),
        table=explore.compare_table(table, sel.measure),
        csv=table.drop(columns=["area", "region"]).assign(measure=sel.measure),
        description=explore.describe_compare(table, england, period, sel.population, sel.measure),
        name=f"compare {title}",
        note="Counts below England level are rounded to 5 by NHS England, so intervals are "
        "approximate. Fewer than 30 people makes a rate unreliable.",
    )
with tab_funnel:
    limits = explore.funnel(table, eng_rate)
    if limits.empty:
        st.info("No England rate for this selection, so no funnel limits.")
    else:
        st.caption(
            "A funnel plot shows each ICB's rate against its size. The lines are England's rate "
            "and the 95% and 99.8% control limits around it: an ICB outside the 99.8% limits "
            "is unlikely to differ from England by chance alone."
        )
        render.chart_block(
            charts.funnel_chart(table, limits, title=f"Funnel plot: {title}",
                                synthetic=facts["synthetic"], measure=sel.measure),
            table=explore.compare_table(table, sel.measure),
            csv=limits,
            description="Funnel plot. " + explore.describe_compare(
                table, england, period, sel.population, sel.measure),
            name=f"funnel {title}",
        )
render.share_link(sel.to_params(), "compare")
