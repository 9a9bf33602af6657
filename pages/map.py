"""Map of ICBs: every ICB in the chosen boundaries, shaded by its rate or its comparison band."""

import streamlit as st

from core import geography, map_chart, model
from ui import data, page, render, sidebar
from ui.state import COLOURS

#: Side table's column widths in pixels: ICB, rate, verdict, region.
MAP_TABLE_WIDTHS = (240, 72, 100, 170)

ctx = page.start("Map of ICBs")
source, ex, sel = ctx.source, ctx.explorer, ctx.sel

noun = "Quarter" if sel.period == "quarter" else "Financial year"
pick, colour = st.columns([1, 2], vertical_alignment="bottom")
periods = ex.published(sel.period)[::-1]
period = pick.selectbox(noun, periods, **sidebar.bound("at", periods[0]),
                        help=f"The latest {noun.lower()} is first.")
colour_by = colour.radio("Colour by", list(COLOURS), format_func=COLOURS.get, horizontal=True,
                         **sidebar.bound("colour"),
                         help="The rate on a colour-blind-safe scale, or how each ICB compares "
                         "with England (as on Compare ICBs). Bands are also in the tooltip, "
                         "the table and the markers' shapes.")
view = data.map_view(source.path, source.mtime, period, sel.population, sel.measure, colour_by,
                     sel.highlight, boundaries=sel.geography)
bnd = view.extra["boundaries"]
st.caption(
    f"{model.MEASURES[sel.measure]['label']} for {model.group_label(sel.population)} in each of "
    f"the {len(view.table)} ICBs of {geography.BOUNDARY_WORDS[bnd]}, {period}. "
    "Click an ICB to choose it in the sidebar for every page (it is outlined here, and "
    "highlighted on Compare ICBs). "
    "Change the boundaries, population or measure in the sidebar.")
if view.extra["cautions"]:
    render.cautions(view.extra["cautions"])
name = f"map {period} {sel.population} {sel.measure} {bnd}"
chart_key = f"chart-{render.slug(name)}"
left, right = st.columns([1, 1])
with left:
    render.chart_block(
        view.spec, table=view.table,
        csv=lambda: data.map_export(view, period, sel.population, sel.measure),
        description=view.description, name=name, note=map_chart.ONS_CREDIT,
        on_select=lambda: sidebar.pick_from_map(chart_key, bnd), selection="icb", narrow=True)
with right:
    st.caption("Every ICB by region: its rate and how it compares with England (in words).")
    # The figures beside the name, the region last: in this narrow column a long ICB name
    # pushed the rate and the verdict out of sight (found in review at 1400 px and 390 px).
    # Widths that show the name, the rate and the verdict whole in this column at 1400 px
    # (the region may scroll): Streamlit's own widths hid the verdict (a browser test checks).
    # On a phone the name stays pinned while the rest scrolls sideways.
    rate, verdict = view.table.column_names[3], view.table.column_names[4]
    render.dataframe(view.table.select([0, 3, 4, 1]), key="map-table", height=560,
                     column_config={
                         "ICB": st.column_config.TextColumn(width=MAP_TABLE_WIDTHS[0],
                                                            pinned=True),
                         rate: st.column_config.NumberColumn(
                             "Rate (%)", width=MAP_TABLE_WIDTHS[1], format="%.1f", help=rate),
                         verdict: st.column_config.TextColumn(
                             "vs England", width=MAP_TABLE_WIDTHS[2], help=verdict + " (95% "
                             "and 99.8% limits, as on Compare ICBs)"),
                         "Region": st.column_config.TextColumn(width=MAP_TABLE_WIDTHS[3])})
render.share_link(sel.to_params(), "map")
