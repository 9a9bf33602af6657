"""Compare ICBs: every ICB in one quarter or financial year against England and the 50% target."""

import streamlit as st

from core import model
from ui import data, page, render

ctx = page.start("Compare ICBs")
source, sel = ctx.source, ctx.sel

noun = "Quarter" if sel.period == "quarter" else "Financial year"
period = st.columns([1, 3])[0].selectbox(
    noun, ctx.explorer.published(sel.period)[::-1], key=f"compare_period_{sel.period}",
    help=f"The latest {noun.lower()} is first. Change the period type in the sidebar.")
group_label = model.group_label(sel.population)
measure_label = model.MEASURES[sel.measure]["label"]
st.caption(
    f"{measure_label} for {group_label} in every ICB, {period}. Each ICB is compared with "
    "England by its 95% and 99.8% confidence intervals (England's own interval is ignored, as "
    "in OHID Fingertips): *better* or *worse* when England's rate lies outside the ICB's "
    "interval. Change the population or measure in the sidebar."
)
view = data.compare_view(source.path, source.mtime, period, sel.population, sel.measure)
table, funnel, limits = view.data, view.extra["funnel"], view.extra["limits"]
title = f"{measure_label}, {group_label}, {period}"
tab_dots, tab_funnel = st.tabs(["Ranked with intervals", "Funnel plot"])
with tab_dots:
    render.chart_block(
        view.spec,
        table=view.table,
        csv=lambda: data.with_credit(table.drop(columns=["area", "region"])
                                     .assign(measure=sel.measure)),
        description=view.description,
        name=f"compare {title}",
        note="Counts below England level are rounded to 5 by NHS England, so intervals are "
        "approximate. Fewer than 30 people makes a rate unreliable.",
    )
with tab_funnel:
    if funnel is None:
        st.info("No England rate for this selection, so no funnel limits.")
    else:
        st.caption(
            "A funnel plot shows each ICB's rate against its size. The lines are England's rate "
            "and the 95% and 99.8% control limits around it: an ICB outside the 99.8% limits "
            "is unlikely to differ from England by chance alone."
        )
        render.chart_block(
            funnel,
            table=view.table,
            csv=limits,
            description="Funnel plot. " + view.description,
            name=f"funnel {title}",
        )
render.share_link(sel.to_params(), "compare")
