"""Ethnic inequalities: the gap between BAME and White British, and where it comes from."""

import streamlit as st

from core import explore, model
from ui import data, page, render

ctx = page.start("Ethnic inequalities in recovery")
source, facts, areas, sel = ctx.source, ctx.facts, ctx.areas, ctx.sel

level, code, name = sel.area(areas)
st.subheader(render.md(name), anchor=False)
st.caption(
    model.BAME_DEFINITION + " BAME and White British are separate groups, so their gap is "
    "tested directly, with a 95% confidence interval for the difference (Newcombe's method), "
    "rather than by comparing each with England."
)
gap = data.gap(source.path, source.mtime, level, code, sel.measure)
render.chart_block(
    data.gap_figure(source.path, source.mtime, level, code, sel.measure, name),
    table=gap.rename(columns={
        "period": "Quarter", "rate_a": "BAME (%)", "rate_b": "White British (%)",
        "gap": "Difference (points)", "gap_low": "95% CI low", "gap_high": "95% CI high",
        "significant": "Significance"}).drop(columns=["group_a", "group_b"]).round(2),
    csv=lambda: gap.assign(area_code=code, area_name=name, measure=sel.measure),
    description=explore.describe_gap(gap, name, sel.measure),
    name=f"gap {name}",
)

st.subheader("Where the gap comes from", anchor=False)
pick, show = st.columns([1, 3], vertical_alignment="bottom")
period = pick.selectbox("Quarter", facts["published_quarters"][::-1], key="groups_period")
detailed = show.toggle("Show detailed ethnic groups", key="groups_detailed",
                       help="Indian, Pakistani, African, Caribbean and the rest, under each broad "
                       "group. Numbers are often small: check the denominator and the interval.")
groups = data.groups(source.path, source.mtime, level, code, period, sel.measure, detailed)
described = "; ".join(
    f"{g}: {explore.fmt_pct(r)}" for g, r in zip(groups["group_label"], groups["rate"], strict=False)
)
render.chart_block(
    data.groups_figure(source.path, source.mtime, level, code, period, sel.measure, name,
                       detailed),
    table=groups[["breakdown", "group_label", "numerator", "denominator", "rate", "ci95_low",
                  "ci95_high", "published_rate", "suppressed", "small_numbers"]].rename(columns={
        "breakdown": "Breakdown", "group_label": "Group", "numerator": "Numerator",
        "denominator": "Denominator", "rate": "Rate (%)", "ci95_low": "95% CI low",
        "ci95_high": "95% CI high", "published_rate": "Published (%)",
        "suppressed": "Suppressed counts",
        "small_numbers": "Fewer than 30 people"}).round(2),
    csv=lambda: groups.drop(columns=["group_label"]),
    description=f"Rates by ethnic group in {name}, {period}: {described}.",
    name=f"groups {name} {period}{' detailed' if detailed else ''}",
    note="Broad groups: 'White' includes White British, Irish and other White backgrounds; "
    "'Other Ethnic Groups' includes Chinese and any other group. Where a file gives only "
    "detailed groups, broad ones are summed from them.",
)
render.share_link(sel.to_params(), "inequalities")
