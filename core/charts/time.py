"""Charts over time: the trend of one or more series, and the gap between two groups. Both
share the period axis, with the unpublished, synthetic and highlighted quarters shaded."""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import missing, model, periods
from core.charts import common
from core.columns import floats, for_arrow, n_rows, objects, texts
from core.names import legend_names

CROSSES_LINE = "Crosses at the bottom: no value (the tooltip says why)."
#: Pixels: the crosses that mark a missing value sit along the bottom of the plot.
TREND_HEIGHT, GAP_HEIGHT = 380, 320
#: Pixels Vega keeps between the upright boxes of two slanted period labels.
TIME_SEPARATION = 2
#: The note of the quarter NHS England never published (it has a labelled span instead).
NOT_PUBLISHED = "not published"


# --- Time axis (trend and gap) --------------------------------------------------------------


def _label_room(label: str) -> float:
    """Pixels across that one slanted label needs on the axis: the upright box of a label at
    -45 degrees (a character is under 6.5 px at Vega's 10 px; plus its height), and the gap.
    Too little would let Vega's overlap check drop labels again; too much shows fewer."""
    return (6.5 * len(label) + 11) * 0.71 + TIME_SEPARATION


def _tick_values(labels: list[str], domain: tuple[str, ...]) -> alt.ExprRef:
    """Every k-th label counted back from the latest, k as small as the chart's width allows.

    Vega's own overlap check keeps the first label and drops what would touch it, so on a
    phone the latest period, the one a reader looks for, went unlabelled (2017/18 to 2023/24
    labelled every other year, 2024/25 not). The choice is made in the browser, where the
    width is known; the overlap check stays as a safety net."""
    if not labels:
        return alt.ExprRef("[]")
    n = len(labels)
    options = [labels[::-1][::k][::-1] for k in range(1, n + 1)]
    positions = len(domain) / n  # domain positions between two labels, on average
    room = max(_label_room(label) for label in labels)
    k = f"clamp(ceil({room:.1f} / ({positions:.3f} * max(width, 1) / {len(domain)})), 1, {n})"
    return alt.ExprRef(f"{json.dumps(options)}[{k} - 1]")


def _time_x(domain: tuple[str, ...]) -> alt.X:
    quarterly = any(" Q" in p for p in domain)
    # Quarters: a tick and a label at each year's first quarter only (blank labels for the
    # other quarters made Vega's overlap check drop every label but the first). Years: each
    # year. As many as fit, counted back from the latest (``_tick_values``); a label that
    # would still touch another is dropped, never drawn on top of it.
    labels = [p for p in domain if p.endswith("Q1")] if quarterly else list(domain)
    axis = alt.Axis(labelAngle=-45, labelOverlap="greedy", labelSeparation=TIME_SEPARATION,
                    values=_tick_values(labels, domain))
    return alt.X("period:O", title="Quarter (financial year)" if quarterly else "Financial year",
                 scale=alt.Scale(domain=list(domain)), axis=axis)


def _period_spans(domain: tuple[str, ...]) -> list[alt.Chart]:
    """Shaded spans over whole quarters: unpublished ones (fixed), synthetic ones and
    highlighted ones (the view's ``synthetic`` and ``highlight`` datasets), each labelled."""
    x = _time_x(domain)
    # Cover half a step either side of a quarter's centre on the point scale.
    half = (f"(scale('x', {json.dumps(domain[1])}) - scale('x', {json.dumps(domain[0])})) / 2"
            if len(domain) > 1 else "width / 2")
    span = dict(xOffset=alt.ExprRef(f"-{half}"), x2Offset=alt.ExprRef(half))
    gaps = [p for p in periods.UNPUBLISHED_QUARTERS if p in domain]
    layers = [
        alt.Chart(common._named("synthetic")).mark_rect(color="#999999", opacity=0.18, **span)
        .encode(x=x, x2=alt.X2("period:O")),
        alt.Chart(common._named("synthetic")).mark_text(align="left", baseline="top", dx=2, y=2,
                                                 fontSize=10, color="#425563")
        .encode(x=x, text=alt.Text("label:N")).transform_filter("datum.label != ''"),
        alt.Chart(common._named("highlight")).mark_rect(color="#E69F00", opacity=0.3, **span)
        .encode(x=x, x2=alt.X2("period:O")),
    ]
    if gaps:
        g = alt.InlineData(values=[{"period": p, "text": f"{p}: not published"} for p in gaps])
        layers += [
            alt.Chart(g).mark_rect(color="#768692", opacity=0.3, **span).encode(x=x, x2=alt.X2("period:O")),
            # Below the row of "synthetic sample" labels (y 2 to 14), which may run across.
            alt.Chart(g).mark_text(angle=270, align="right", baseline="middle", y=18,
                                   color="#231f20", fontSize=11).encode(x=x, text=alt.Text("text:N")),
        ]
    return layers


def _periods(periods_: list[str], labels: list[str]) -> pa.Table:
    return pa.table({"period": pa.array(periods_, pa.string()),
                     "label": pa.array(labels, pa.string())})


#: Periods from one "synthetic sample" label to the next: closer, two labels overlapped on a
#: phone (about 9 px a quarter there); the shaded span itself marks every synthetic period.
LABEL_EVERY = 12


def _synthetic_periods(table: pa.Table, domain: tuple[str, ...]) -> pa.Table:
    """The periods holding a synthetic value, the label on the first of each run. A run goes
    on across the unpublished quarter (its own span and label sit between), and a run that
    starts within ``LABEL_EVERY`` periods of the last label gets none."""
    if "synthetic" not in table.column_names or not len(table):
        return _periods([], [])
    flagged = set(table.column("period").filter(
        pc.fill_null(table.column("synthetic"), False)).to_pylist())
    inside = [i for i, p in enumerate(domain) if p in flagged]
    labels, last = [], None
    for i in inside:
        before = domain[i - 1] if i else None
        if before in periods.UNPUBLISHED_QUARTERS and i > 1:
            before = domain[i - 2]
        starts = before not in flagged and (last is None or i - last >= LABEL_EVERY)
        labels.append("synthetic sample" if starts else "")
        last = i if starts else last
    return _periods([domain[i] for i in inside], labels)



# --- Trend ----------------------------------------------------------------------------------


def _crossed(table: pa.Table, value: str) -> bool:
    """Whether a chart of ``table`` draws a cross: a row with no ``value`` for a reason
    other than the quarter never being published (that is marked on its own). The subtitle
    explains the crosses only where there are some."""
    if value not in table.column_names or not len(table):
        return False
    crossed = pc.is_null(table.column(value), nan_is_null=True)
    if "note" in table.column_names:
        crossed = pc.and_(crossed, pc.fill_null(
            pc.not_equal(table.column("note"), NOT_PUBLISHED), True))
    return bool(pc.any(crossed).as_py())


def _trend_layout(*, domain: tuple[str, ...], measure: str, show_ci: bool, synthetic: str,
                  width: int | str, rolling: bool, approximate: bool = False,
                  crosses: bool = True, cautioned: bool = False) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    color = alt.Color(
        "legend:N", title="Series", sort=alt.EncodingSortField("series_order"),
        scale=alt.Scale(range=common.PALETTE),
        legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0,
                          labelExpr=common.TWO_LINES, symbolStrokeWidth=3, symbolOpacity=1, symbolType="stroke"))
    # Populations in the model's order take the line styles in that order.
    dash = alt.StrokeDash(
        "group_label:N", title="Population (line style)", sort=alt.EncodingSortField("group_order"),
        scale=alt.Scale(range=list(common.DASHES.values())),
        legend=alt.Legend(orient="bottom", direction="vertical", symbolStrokeWidth=2.5,
                          labelLimit=0, symbolSize=400, symbolType="stroke"))
    shape = alt.Shape("group_label:N", sort=alt.EncodingSortField("group_order"),
                      scale=alt.Scale(range=list(common.SHAPES.values())), legend=None)
    x = _time_x(domain)
    # The y domain spans every layer's values (the points, the band, and 45-55 from an
    # unseen layer, so a flat series is not magnified). An explicit domain (unionWith) took
    # the points' alone, and a wide band ran out of the plot over the titles (review).
    y = alt.Y("rate:Q", title=f"{label} (%)", scale=alt.Scale(zero=False, nice=True))
    calc, tooltip = common._tips([
        ("period", "Quarter" if " Q" in "".join(domain) else "Year", None),
        ("area_name", "Area", None), ("group_label", "Population", None),
        ("numerator", model.MEASURES[measure]["numerator_label"], ",.0f"),
        ("denominator", model.DENOMINATOR_LABEL, ",.0f"),
        ("rate", f"{label} (%)", ".1f"), ("ci95_low", "95% CI low (%)", ".1f"),
        ("ci95_high", "95% CI high (%)", ".1f"), ("published_rate", "Published (%)", ".1f"),
        ("note", "Note", None)])
    calc, tooltip = common._with_derived(calc, tooltip)
    base = alt.Chart(common._named("trend"))
    layers = [*_period_spans(domain), common._meta_layer(),
              alt.Chart(alt.InlineData(values=[{"y": 45}, {"y": 55}])).mark_point(
                  opacity=0, aria=False).encode(y=alt.Y("y:Q", title=f"{label} (%)"))]
    if show_ci:  # the main series only: seven overlapping bands cannot be read
        layers.append(base.mark_area(opacity=0.16, invalid="break-paths-show-domains").encode(
            x=x, y=alt.Y("ci95_low:Q", title=f"{label} (%)"), y2=alt.Y2("ci95_high:Q"),
            color=color, detail=alt.Detail("path:N")).transform_filter("datum.main === true"))
    layers.append(base.mark_line(invalid="break-paths-show-domains").encode(
        x=x, y=y, color=color, strokeDash=dash, detail=alt.Detail("path:N"),
        strokeWidth=alt.condition("datum.main === true", alt.value(3), alt.value(1.8))))
    valid = base.transform_filter("isValid(datum.rate)").transform_calculate(**calc)
    layers += common._points(valid.encode(x=x, y=alt.Y("rate:Q"), color=color, shape=shape,
                                          tooltip=tooltip))
    if approximate:
        layers.append(common._approximate_ring(valid.encode(x=x, tooltip=tooltip), "rate:Q"))
    if cautioned:  # the caution's mark above each unusual point, for an exported image too
        layers.append(valid.transform_filter("datum.unusual && datum.unusual !== ''").mark_text(
            text=common.CAUTION_MARK, dy=-12, fontWeight="bold", fontSize=13, color="#231f20"
        ).encode(x=x, y=alt.Y("rate:Q")))
    # A quarter with no value (other than the unpublished one, which has its span) gets a
    # cross along the bottom, one row per series, whose tooltip says why.
    gap_calc, gap_tips = common._tips([("series", "Series", None), ("period", "Period", None),
                                       ("why", "No value", None)])
    layers.append(
        base.transform_filter(f"!isValid(datum.rate) && datum.note !== {NOT_PUBLISHED!r}")
        .transform_calculate(**gap_calc, below=f"{TREND_HEIGHT - 6} - 7 * datum.series_order")
        .mark_point(shape="cross", filled=True, size=45, opacity=1)
        .encode(x=x, y=alt.Y("below:Q", scale=None, axis=None), color=color, tooltip=gap_tips))
    if measure == "recovery":
        target = alt.InlineData(values=[{"y": model.TARGET_PERCENT, "text": "50%\ntarget"}])
        layers.append(alt.Chart(target).mark_rule(color="#231f20", strokeDash=[4, 4],
                                                  strokeWidth=1.5).encode(y=alt.Y("y:Q")))
        # The label sits just outside the plot, right of the line's end: inside, it covered
        # the latest points wherever a rate ran near 50% (a phone, 2023/24, in review).
        layers.append(alt.Chart(target).mark_text(
            align="left", baseline="middle", dx=4, fontWeight="bold", color="#231f20",
            lineBreak="\n", x="width").encode(y=alt.Y("y:Q"), text=alt.Text("text:N")))
    subtitle = [
        f"{model.MEASURES[measure]['numerator_label']} ÷ (finished a course of treatment − "
        "not at caseness at the start)."
        + (" Shaded band: 95% confidence interval of the thick line (the chosen area and "
           "population)." if show_ci else ""),
        *(["Rolling: each point sums the counts of the four quarters to it."] if rolling else []),
        *([CROSSES_LINE] if crosses else []),
        *([common.APPROXIMATE_LINE] if approximate else []),
        *([common.CAUTION_LINE] if cautioned else []),
        *common._source(synthetic),
    ]
    unit = "by quarter" if " Q" in "".join(domain) else "by financial year"
    title = f"{label}, rolling four quarters" if rolling else f"{label} {unit}"
    return alt.layer(
        *layers, width=width, height=TREND_HEIGHT, title=common._title(subtitle, title), autosize=common.AUTOSIZE,
        config=common.CONFIG, padding=common.PADDING,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(strokeDash="independent", shape="independent")),
    )


def _why(data: pd.DataFrame | dict, value: str) -> np.ndarray:
    """Why each row without a ``value`` has none, in a sentence (its tooltip); "" elsewhere."""
    if "note" not in data:
        return np.full(n_rows(data), "", dtype=object)
    empty = np.isnan(floats(data[value]))
    return np.where(empty, missing.explain(objects(data["note"])), "").astype(object)


def _trend_data(data: pd.DataFrame | dict, main: int) -> pa.Table:
    # Each run of quarters with a rate gets its own path id, so no line ever bridges a gap,
    # whatever the renderer does with missing values: the segment is the number of missing
    # quarters so far in the series.
    names = texts(data["series"])
    rate = floats(data["rate"])
    seen: dict[str, int] = {}
    path = []
    for name, absent in zip(names, np.isnan(rate).tolist(), strict=True):
        seen[name] = seen.get(name, 0) + absent
        path.append(f"{name} #{seen[name]}")
    order = {g: i for i, g in enumerate(common.DASHES)}
    return common._arrow({
        **{c: for_arrow(data[c]) for c in common.TREND_COLUMNS if c in data},
        "legend": legend_names(data),
        "why": _why(data, "rate"),
        "path": path,
        "main": np.asarray(data["series_order"]) == main,
        "group_order": [order.get(g, len(order)) for g in texts(data["group"])],
    })


def trend_spec(
    data: pd.DataFrame,
    *,
    domain: list[str],
    measure: str = "recovery",
    show_ci: bool = True,
    synthetic: bool = False,
    highlight: list[str] | None = None,
    width: int | str = "container",
    rolling: bool = False,
    frames: bool = False,
    main: int = 0,
) -> dict:
    """Lines over periods, one per series, with the target, unpublished and synthetic quarters
    marked, and the confidence band of the ``main`` series (its position in ``series_order``).

    ``highlight``: periods to shade (an upload's new quarters). With ``frames`` the datasets
    stay Arrow tables (what the app keeps); otherwise they are JSON records.
    """
    dom = tuple(domain)
    d = _trend_data(data, main)
    opts = {"domain": dom, "measure": measure, "show_ci": show_ci,
            "synthetic": common._synthetic(d, synthetic), "width": width, "rolling": rolling,
            "approximate": common._any(d, "geo_approximate"), "crosses": _crossed(d, "rate"),
            "cautioned": "unusual" in d.column_names and any(
                bool(v) for v in d.column("unusual").to_pylist())}
    marked = [p for p in dom if p in set(highlight or ())]
    return common._view(_trend_layout, opts, {
        "trend": d, "synthetic": _synthetic_periods(d, dom),
        "highlight": _periods(marked, ["new"] * len(marked)),
        "meta": common._meta("")}, frames)

# --- Gap between two groups -----------------------------------------------------------------


def _gap_layout(*, domain: tuple[str, ...], synthetic: str, width: int | str, label_a: str,
                label_b: str, approximate: bool = False, crosses: bool = True
                ) -> alt.LayerChart:
    x = _time_x(domain)
    sig = alt.Shape("significant:N", title="Difference", scale=alt.Scale(
        domain=["significant at 95%", "not significant"], range=["square", "circle"]),
        legend=alt.Legend(orient="bottom", labelLimit=0))
    data = alt.Chart(common._named("gap"))
    calc, tooltip = common._tips([
        ("period", "Period", None), ("gap", "Difference (points)", ".1f"),
        ("gap_low", "95% CI low", ".1f"), ("gap_high", "95% CI high", ".1f"),
        ("rate_a", f"{label_a} (%)", ".1f"), ("rate_b", f"{label_b} (%)", ".1f"),
        ("significant", "Significance", None),
        *([("geo_note", "How made", None)] if approximate else [])])
    calc, tooltip = common._with_derived(calc, tooltip)
    valid = data.transform_filter("isValid(datum.gap)").transform_calculate(**calc)
    ring = [common._approximate_ring(valid.encode(x=x, tooltip=tooltip), "gap:Q")
            ] if approximate else []
    # A period with no gap (other than the unpublished quarter, which has its span) gets a
    # cross along the bottom whose tooltip says why (which group has no value, and why).
    gap_calc, gap_tips = common._tips([("period", "Period", None), ("why", "No value", None)])
    crosses = (data.transform_filter(f"!isValid(datum.gap) && datum.note !== {NOT_PUBLISHED!r}")
               .transform_calculate(**gap_calc, below=f"{GAP_HEIGHT - 6}")
               .mark_point(shape="cross", filled=True, size=45, opacity=1, color="#425563")
               .encode(x=x, y=alt.Y("below:Q", scale=None, axis=None), tooltip=gap_tips))
    return alt.layer(
        *_period_spans(domain), common._meta_layer(),
        alt.Chart(alt.InlineData(values=[{"y": 0}])).mark_rule(color="#231f20").encode(y=alt.Y("y:Q")),
        data.transform_filter("isValid(datum.gap)").mark_rule(color="#425563").encode(
            x=x, y=alt.Y("gap_low:Q", title="Difference (percentage points)"), y2=alt.Y2("gap_high:Q")),
        *common._points(valid.encode(
            x=x, y=alt.Y("gap:Q"), shape=sig, tooltip=tooltip, color=alt.ColorValue("#0072B2"))),
        *ring,
        crosses,
        width=width, autosize=common.AUTOSIZE, config=common.CONFIG, height=GAP_HEIGHT,
        padding=common.PADDING,
        title=common._title([f"Below 0: the {label_a} rate is lower than the {label_b} rate. "
                      "Bars: 95% confidence interval (Newcombe).",
                      *([CROSSES_LINE] if crosses else []),
                      *([common.APPROXIMATE_LINE] if approximate else []),
                      *common._source(synthetic)]))


def gap_spec(
    gap: pd.DataFrame | dict, *, domain: list[str], title: str, synthetic: bool = False,
    width: int | str = "container", frames: bool = False,
) -> dict:
    """Difference between two groups over time with Newcombe 95% intervals; 0 = no gap."""
    dom = tuple(domain)
    first = {c: str(objects(gap[c])[0]) if n_rows(gap) and c in gap else d
             for c, d in (("group_a", "first group"), ("group_b", "second group"))}
    # Every period is kept, with or without a gap: the ones without carry their reason.
    d = common._slim(gap, list(gap), why=_why(gap, "gap") if "gap" in gap else [])
    opts = {"domain": dom, "synthetic": common._synthetic(d, synthetic), "width": width,
            "label_a": first["group_a"], "label_b": first["group_b"],
            "approximate": common._any(d, "geo_approximate"), "crosses": _crossed(d, "gap")}
    return common._view(_gap_layout, opts, {
        "gap": d, "synthetic": _synthetic_periods(d, dom), "highlight": _periods([], []),
        "meta": common._meta(title)}, frames)


