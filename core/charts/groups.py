"""The ethnic-groups chart: every group's rate in one area and period, in headed blocks (the
BAME/White British split and the broad groups, each with its detailed groups if chosen)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from core import model
from core.charts import common
from core.columns import n_rows, texts

#: Characters per line of a group's name on a phone and on a wider screen, and the pixels per
#: line (a row is three lines high, the most a name takes, and a little room).
GROUP_WRAP, GROUP_LINE = (24, 40), 12
#: Characters per line of a classification's heading: on a phone it starts at the plot's left
#: edge, with about 200 px of plot to its right.
BLOCK_WRAP = 28
#: The y-axis key of a row is its position and its label ("004|Mixed"): labels repeat across
#: classifications ("Not stated/Not known/Invalid"), and a nominal axis would merge them.
#: The axis shows the label alone; a heading's row has none.
_ROW_LABEL = "replace(datum.label, /^[0-9]+[|]/, '')"
#: Whether an axis value is a heading's row (a key with no label), which has no tick.
HEADING = "test(/^[0-9]+[|]$/, datum.value)"


def _groups_layout(*, synthetic: str, measure: str, width: int | str,
                   cautioned: bool = False) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    data = alt.Chart(common._named("groups"))
    # Group names on up to three lines, centred on their row: narrow lines on a phone, so the
    # plot keeps most of the width and its x-axis room for its labels.
    lines = {True: common.wrap_expr(GROUP_WRAP[0], _ROW_LABEL),
             False: common.wrap_expr(GROUP_WRAP[1], _ROW_LABEL)}
    wrapped = f"{common.NARROW_TEST} ? {lines[True]} : {lines[False]}"
    # Groups and headings are two datasets on one axis, in one order.
    y = alt.Y("row:N", sort=alt.EncodingSortField("order", op="min"), title=None,
              axis=alt.Axis(labelLimit=0, labelExpr=wrapped, labelFontSize=11,
                            labelLineHeight=GROUP_LINE, tickOpacity=alt.ConditionalAxisNumber(
                                condition={"test": HEADING, "value": 0}, value=1),
                            labelOffset=alt.ExprRef(f"-{GROUP_LINE / 2} * (length({wrapped}) - 1)")))
    x_axis = alt.Axis(labelOverlap=True, labelSeparation=common.LABEL_SEPARATION,
                      tickCount=alt.ExprRef("max(2, floor(width / 50))"))
    calc, tooltip = common._tips([
        ("group_label", "Group", None), ("classification", "Classification", None),
        ("rate", f"{label} (%)", ".1f"),
        ("ci95_low", "95% CI low (%)", ".1f"), ("ci95_high", "95% CI high (%)", ".1f"),
        ("numerator", model.count_labels(measure)[0], ",.0f"),
        ("denominator", model.DENOMINATOR_LABEL, ",.0f"), ("note", "Note", None)])
    calc, tooltip = common._with_derived(calc, tooltip)
    headings = alt.Chart(common._named("headings"))
    layers = [common._meta_layer()]
    if measure == "recovery":
        layers.append(alt.Chart(alt.InlineData(values=[{"x": model.TARGET_PERCENT}]))
                      .mark_rule(strokeDash=[4, 4], color="#231f20").encode(x=alt.X("x:Q")))
    layers += [
        # Each classification under its heading, on a band across the plot (drawn over the
        # target line, so no line runs through the words): the BAME/White British split and
        # the broad groups are two ways of dividing the same people.
        headings.mark_rule(color="#eceff1", strokeWidth=3 * GROUP_LINE).encode(y=y),
        headings.mark_text(align="left", baseline="middle", dx=4, fontSize=11,
                           fontWeight="bold", color="#231f20", lineBreak="\n").encode(
            y=y, x=alt.XValue(0), text=alt.Text("text:N")),
        data.mark_rule(color="#425563").encode(
            y=y, x=alt.X("ci95_low:Q", title=f"{label} (%)", scale=alt.Scale(zero=False),
                         axis=x_axis),
            x2=alt.X2("ci95_high:Q")),
        *common._points(data.transform_calculate(**calc).encode(
            y=y, x=alt.X("rate:Q"), tooltip=tooltip, color=alt.ColorValue("#0072B2"),
            shape=alt.ShapeValue("diamond"))),
    ]
    return alt.layer(*layers, width=width, autosize=common.AUTOSIZE, config=common.CONFIG,
                     height=alt.Step(3 * GROUP_LINE + 6), padding=common.PADDING,
                     title=common._title([("Dashed line: the 50% target. " if measure == "recovery"
                                    else "") + "Bars: 95% confidence interval.",
                                   *([common.CAUTION_LINE] if cautioned else []),
                                   *common._source(synthetic)]))


def _group_rows(data: pd.DataFrame | dict) -> tuple[dict[str, object], pa.Table]:
    """Each group's place and axis key, and a heading row before each classification's
    block (``model.classification_blocks``) that has a point to head; the whole population,
    a block of one row named as its block, has none."""
    n = n_rows(data)
    labels = texts(data["group_label"])
    if "unusual" in data:  # a figure not to take on trust carries the caution's mark
        labels = [f"{lb} {common.CAUTION_MARK}" if f else lb
                  for lb, f in zip(labels, texts(data["unusual"]), strict=True)]
    classes = texts(data["classification"]) if "classification" in data else [""] * n
    rated = np.isfinite(np.asarray(data["rate"], dtype=float)) if n else np.zeros(0, bool)
    order, key = np.zeros(n, dtype=int), [""] * n
    heading: dict[str, list] = {"row": [], "order": [], "text": []}
    slot = 0
    for title, first, stop in model.classification_blocks(classes):
        if title and (stop - first > 1 or labels[first] != title) and rated[first:stop].any():
            heading["row"].append(f"{slot:03d}|")
            heading["order"].append(slot)
            heading["text"].append("\n".join(common._wrap(title, BLOCK_WRAP)))
            slot += 1
        for i in range(first, stop):
            order[i], key[i] = slot, f"{slot:03d}|{labels[i]}"
            slot += 1
    return {"order": order, "row": key}, common._arrow(heading)


def groups_spec(
    data: pd.DataFrame | dict, *, title: str, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container", frames: bool = False,
) -> dict:
    """Rate for each population group in one area and period, with 95% intervals, each
    classification (the BAME/White British split, the broad groups with any detailed ones)
    under its own heading, in the rows' order."""
    rows, headings = _group_rows(data)
    d = common._slim(data, [*common.TABLE_COLUMNS, "classification"], "rate", **rows)
    opts = {"synthetic": common._synthetic(d, synthetic), "measure": measure, "width": width,
            "cautioned": "unusual" in data and any(bool(f) for f in texts(data["unusual"]))}
    return common._view(_groups_layout, opts, {"groups": d, "headings": headings,
                                               "meta": common._meta(title)}, frames)
