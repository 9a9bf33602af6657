"""Chart builders: pure functions from a prepared frame to a Vega-Lite spec.

Accessibility rules every builder follows: the Okabe–Ito colour-blind-safe palette; meaning
never carried by colour alone (line dash and point shape repeat the population group, point
shape repeats a comparison band, hollow points and a labelled span mark synthetic values, a ring
and a label mark the chosen area); a source line in the chart itself so an exported PNG or SVG
still says where the numbers came from and whether they are synthetic; no "null" in a tooltip
(a missing value says why).

How a chart is built: each chart's layout is laid out in Altair once per set of options (the
``opts`` of ``_layout``: measure, band on or off, width, ...) and kept as a Vega-Lite dict whose
marks read only named datasets. Everything that differs from one view to the next (points,
title, highlighted area, synthetic spans) is data in those datasets, and scales take their
domains from the data (``DomainUnionWith``, ``sort``, ``alt.Step``). A view is a fresh copy of
the kept dict plus its own datasets as Arrow tables: no Altair objects per view, so a new view
costs well under a millisecond where building Altair objects costs tens, and a browser that
already shows the chart only receives new data.
"""

from __future__ import annotations

import functools
import json
import pickle
import re
import textwrap
from collections.abc import Callable
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import model, periods

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
DASHES = {
    "Total": [1, 0], "BME": [7, 4], "White British": [2, 3], "Asian or Asian British": [10, 3, 2, 3],
    "Black or Black British": [4, 2, 1, 2], "Mixed": [12, 4], "Other Ethnic Groups": [1, 3],
    "White": [6, 2, 2, 2, 2, 2],
}
SHAPES = {
    "Total": "circle", "BME": "triangle-up", "White British": "square",
    "Asian or Asian British": "diamond", "Black or Black British": "cross",
    "Mixed": "triangle-down", "Other Ethnic Groups": "triangle-right", "White": "wedge",
}
BAND_STYLE = {
    # band: (colour, shape); shapes differ so the band reads without colour.
    "better (99.8%)": ("#0072B2", "triangle-up"),
    "better (95%)": ("#56B4E9", "triangle-up"),
    "similar": ("#E69F00", "circle"),
    "worse (95%)": ("#CC79A7", "triangle-down"),
    "worse (99.8%)": ("#D55E00", "triangle-down"),
    "no data": ("#999999", "square"),
}
#: Fit the page width but keep titles and legends inside the chart (no clipping).
AUTOSIZE = alt.AutoSizeParams(type="fit-x", contains="padding")
SOURCE = "Source: NHS England, NHS Talking Therapies quarterly data."
SYNTHETIC_SOURCE = "SYNTHETIC SAMPLE DATA for demonstration, not published statistics."
#: Characters per line of a title and a subtitle: they fit a 390 px phone, so nothing is cut.
TITLE_WRAP, SUBTITLE_WRAP = 44, 60
TREND_HEIGHT = 380
#: Legends stacked below the chart, not side by side (they would run off a phone's screen).
CONFIG = alt.Config(legend=alt.LegendConfig(layout=alt.ExprRef(
    "{bottom: {direction: 'vertical', anchor: 'start', margin: 12}}")))
#: A long legend label ("Area, population") on two lines, broken after the area.
TWO_LINES = ("length(datum.label) > 36 && indexof(datum.label, ', ') > 0 ? "
             "[slice(datum.label, 0, indexof(datum.label, ', ') + 1), "
             "slice(datum.label, indexof(datum.label, ', ') + 2)] : datum.label")
#: Below this container width the compare chart's area names are cut (full name in tooltip).
NARROW = 600


def source_line(synthetic: bool) -> str:
    return SYNTHETIC_SOURCE if synthetic else SOURCE


def _source(synthetic: str) -> list[str]:
    """The source line, and where rows are flagged synthetic, what marks them on the chart."""
    hollow = ["Hollow points: synthetic values."] if synthetic == "rows" else []
    return [source_line(bool(synthetic)), *hollow]


TREND_COLUMNS = [
    "period", "series", "series_order", "group", "group_label", "area_name", "numerator",
    "denominator", "rate", "ci95_low", "ci95_high", "published_rate", "note", "synthetic",
]
TABLE_COLUMNS = [
    "area", "region", "rate", "ci95_low", "ci95_high", "numerator", "denominator", "vs_england",
    "vs_target", "group_label", "note", "synthetic",
]


# --- Names ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def full_name(name: str) -> str:
    """Published names are often upper case: 'NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD' →
    'NHS South Yorkshire Integrated Care Board' (same rules as ``explore.pretty_name``)."""
    if not isinstance(name, str):
        return ""
    if name.isupper():
        small = {"AND", "OF", "THE"}
        name = " ".join(
            w if w in {"NHS", "ICB"}
            else (w.lower() if w in small and i else "-".join(p.capitalize() for p in w.split("-")))
            for i, w in enumerate(name.split()))
    return name.replace("-On-", "-on-").replace("-Upon-", "-upon-")


@functools.lru_cache(maxsize=4096)
def short_name(name: str) -> str:
    """The place in an area's name, which is what fits beside a chart on a phone:
    'NHS Birmingham and Solihull Integrated Care Board' → 'Birmingham and Solihull'."""
    name = full_name(name)
    name = re.sub(r"^NHS\s+", "", name)
    name = re.sub(r"\s+(Integrated Care Board|ICB|Commissioning Region)$", "", name)
    return name.strip() or full_name(name)


# --- Building and filling -------------------------------------------------------------------


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _arrow(columns: dict[str, Any]) -> pa.Table:
    """A dataset as an Arrow table built straight from its columns (missing values and NaN
    as nulls): the app sends Arrow to the browser, so a DataFrame on the way is wasted work."""
    return pa.table({c: pa.array(v, from_pandas=True) for c, v in columns.items()})


def _column(data: pd.DataFrame, name: str) -> Any:
    """A column's values for Arrow: plain NumPy where it is NumPy (Arrow copies that in
    microseconds, where a pandas array costs it a hundred times more)."""
    values = data[name]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiub":
        return values.to_numpy()
    return values.array


def _slim(data: pd.DataFrame, columns: list[str], having: str | None = None,
          **extra: Any) -> pa.Table:
    """The columns a chart reads (and ``extra`` ones), keeping only the rows with a value in
    ``having``: a chart draws no point there (its table and text say why)."""
    table = _arrow({**{c: _column(data, c) for c in columns if c in data.columns}, **extra})
    if having is None or having not in table.column_names:
        return table
    column = table.column(having)
    return table.filter(column.is_valid()) if column.null_count else table


def _synthetic(table: pa.Table, synthetic: bool) -> str:
    """Whether the source line says "synthetic": the rows' own flag when they carry one (only
    when synthetic values are on screen: "rows"), else what the caller says about the store
    ("store" or "")."""
    if "synthetic" in table.column_names and len(table):
        return "rows" if pc.any(table.column("synthetic")).as_py() else ""
    return "store" if synthetic else ""


def _meta(title: str) -> pa.Table:
    return pa.table({"title": ["\n".join(_wrap(title, TITLE_WRAP))]})


def _named(name: str) -> alt.NamedData:
    return alt.NamedData(name=name)


def _title(subtitle: list[str], text: str | None = None) -> alt.TitleParams:
    """A title read from the view's ``meta`` dataset (so the layout is the same for every
    view), or a fixed ``text``; lines wrapped to fit a phone."""
    lines = [line for s in subtitle for line in _wrap(s, SUBTITLE_WRAP)]
    fixed = _wrap(text, TITLE_WRAP) if text is not None else []
    title = (fixed[0] if len(fixed) == 1 else fixed) if text is not None else alt.ExprRef(
        "length(data('meta')) ? split(data('meta')[0].title, '\\n') : ''")
    return alt.TitleParams(text=title, subtitle=lines, anchor="start", subtitleColor="#425563",
                           limit=0)


def _meta_layer() -> alt.Chart:
    """Vega-Lite only emits a dataset some mark reads: this invisible mark reads ``meta``."""
    return alt.Chart(_named("meta")).mark_text(opacity=0, text="")


#: Why a value is missing: the row's note where it has one.
_REASON = "(isValid(datum.note) && datum.note != '' ? datum.note : 'no data')"


def _tips(fields: list[tuple[str, str, str | None]]) -> tuple[dict[str, str], list[alt.Tooltip]]:
    """Tooltip entries as text, so a missing value reads as its reason, never "null".

    Each field is (column, title, number format or None for text). Returns the calculate
    expressions to add to the layer and the tooltip encoding.
    """
    calc, tips = {}, []
    for i, (col, title, fmt) in enumerate(fields):
        v = f"datum[{json.dumps(col)}]"
        if fmt is None:
            shown = v
            ok = f"isValid({v}) && {v} != ''"
        else:
            shown = f"format({v}, '{fmt}')"
            ok = f"isValid({v}) && isFinite({v})"
        fallback = "'none'" if col == "note" else _REASON
        calc[f"tip{i}"] = f"{ok} ? {shown} : {fallback}"
        tips.append(alt.Tooltip(f"tip{i}:N", title=title))
    return calc, tips


@functools.lru_cache(maxsize=256)
def _layout(build: Callable[..., alt.TopLevelMixin], opts: tuple) -> tuple[bytes, dict]:
    """The chart for one set of options, as a pickled Vega-Lite dict (each view unpickles its
    own copy, so no view shares a mutable part with another) and its constant datasets."""
    spec = build(**dict(opts)).to_dict(validate=False)
    constants = {k: pa.Table.from_pylist(v) for k, v in spec.pop("datasets", {}).items()}
    return pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL), constants


def _view(build: Callable[..., alt.TopLevelMixin], opts: dict, datasets: dict[str, pa.Table],
          frames: bool) -> dict:
    blob, constants = _layout(build, tuple(opts.items()))
    spec = pickle.loads(blob)
    data = {**constants, **datasets}
    spec["datasets"] = data if frames else {k: t.to_pylist() for k, t in data.items()}
    return spec


# --- Time axis (trend and gap) --------------------------------------------------------------


def _time_x(domain: tuple[str, ...]) -> alt.X:
    quarterly = any(" Q" in p for p in domain)
    axis = alt.Axis(labelAngle=-45, labelExpr=(
        "indexof(datum.label, 'Q1') >= 0 ? datum.label : ''" if quarterly else "datum.label"))
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
        alt.Chart(_named("synthetic")).mark_rect(color="#999999", opacity=0.18, **span)
        .encode(x=x, x2="period:O"),
        alt.Chart(_named("synthetic")).mark_text(align="left", baseline="top", dx=2, y=2,
                                                 fontSize=10, color="#425563")
        .encode(x=x, text="label:N").transform_filter("datum.label != ''"),
        alt.Chart(_named("highlight")).mark_rect(color="#E69F00", opacity=0.3, **span)
        .encode(x=x, x2="period:O"),
    ]
    if gaps:
        g = alt.InlineData(values=[{"period": p, "text": f"{p}: not published"} for p in gaps])
        layers += [
            alt.Chart(g).mark_rect(color="#768692", opacity=0.3, **span).encode(x=x, x2="period:O"),
            alt.Chart(g).mark_text(angle=270, align="right", baseline="middle", y=6,
                                   color="#231f20", fontSize=11).encode(x=x, text="text:N"),
        ]
    return layers


def _periods(periods_: list[str], labels: list[str]) -> pa.Table:
    return pa.table({"period": pa.array(periods_, pa.string()),
                     "label": pa.array(labels, pa.string())})


def _synthetic_periods(table: pa.Table, domain: tuple[str, ...]) -> pa.Table:
    """The periods holding a synthetic value, the label on the first of each run."""
    if "synthetic" not in table.column_names or not len(table):
        return _periods([], [])
    flagged = set(table.column("period").filter(
        pc.fill_null(table.column("synthetic"), False)).to_pylist())
    inside = [i for i, p in enumerate(domain) if p in flagged]
    return _periods([domain[i] for i in inside],
                    ["" if i and domain[i - 1] in flagged else "synthetic sample" for i in inside])


def _points(base: alt.Chart) -> list[alt.Chart]:
    """Published points filled, synthetic ones hollow (same encodings)."""
    return [base.transform_filter("datum.synthetic !== true").mark_point(
                filled=True, size=60, opacity=1),
            base.transform_filter("datum.synthetic === true").mark_point(
                filled=False, size=60, opacity=1, strokeWidth=1.8)]


# --- Trend ----------------------------------------------------------------------------------


def _trend_layout(*, domain: tuple[str, ...], measure: str, show_ci: bool, synthetic: str,
                  width: int | str, rolling: bool) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    color = alt.Color(
        "series:N", title="Series", sort=alt.EncodingSortField("series_order"),
        scale=alt.Scale(range=PALETTE),
        legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0,
                          labelExpr=TWO_LINES, symbolStrokeWidth=3, symbolOpacity=1, symbolType="stroke"))
    # Populations in the model's order take the line styles in that order.
    dash = alt.StrokeDash(
        "group_label:N", title="Population (line style)", sort=alt.EncodingSortField("group_order"),
        scale=alt.Scale(range=list(DASHES.values())),
        legend=alt.Legend(orient="bottom", direction="vertical", symbolStrokeWidth=2.5,
                          labelLimit=0, symbolSize=400, symbolType="stroke"))
    shape = alt.Shape("group_label:N", sort=alt.EncodingSortField("group_order"),
                      scale=alt.Scale(range=list(SHAPES.values())), legend=None)
    x = _time_x(domain)
    y_scale = alt.Scale(domain=alt.DomainUnionWith(unionWith=[45, 55]), zero=False, nice=True)
    y = alt.Y("rate:Q", title=f"{label} (%)", scale=y_scale)
    calc, tooltip = _tips([
        ("period", "Quarter" if " Q" in "".join(domain) else "Year", None),
        ("area_name", "Area", None), ("group_label", "Population", None),
        ("numerator", "Recovered" if measure == "recovery" else "Reliably recovered", ",.0f"),
        ("denominator", "Finished treatment, at caseness", ",.0f"),
        ("rate", f"{label} (%)", ".1f"), ("ci95_low", "95% CI low (%)", ".1f"),
        ("ci95_high", "95% CI high (%)", ".1f"), ("published_rate", "Published (%)", ".1f"),
        ("note", "Note", None)])
    base = alt.Chart(_named("trend"))
    layers = [*_period_spans(domain), _meta_layer()]
    if show_ci:  # the main series only: seven overlapping bands cannot be read
        layers.append(base.mark_area(opacity=0.16, invalid="break-paths-show-domains").encode(
            x=x, y=alt.Y("ci95_low:Q", title=f"{label} (%)"), y2="ci95_high:Q",
            color=color, detail="path:N").transform_filter("datum.main === true"))
    layers.append(base.mark_line(invalid="break-paths-show-domains").encode(
        x=x, y=y, color=color, strokeDash=dash, detail="path:N",
        strokeWidth=alt.condition("datum.main === true", alt.value(3), alt.value(1.8))))
    # The y domain (data and 45-55) is set once, on the line; the other layers share it.
    layers += _points(base.transform_filter("isValid(datum.rate)").transform_calculate(**calc)
                      .encode(x=x, y="rate:Q", color=color, shape=shape, tooltip=tooltip))
    # A quarter with no value (other than the unpublished one, which has its span) gets a
    # cross along the bottom, one row per series, whose tooltip says why.
    gap_calc, gap_tips = _tips([("series", "Series", None), ("period", "Period", None),
                                ("note", "No value", None)])
    layers.append(
        base.transform_filter("!isValid(datum.rate) && datum.note !== 'not published'")
        .transform_calculate(**gap_calc, below=f"{TREND_HEIGHT - 6} - 7 * datum.series_order")
        .mark_point(shape="cross", filled=True, size=45, opacity=1)
        .encode(x=x, y=alt.Y("below:Q", scale=None, axis=None), color=color, tooltip=gap_tips))
    if measure == "recovery":
        target = alt.InlineData(values=[{"y": model.TARGET_PERCENT, "text": "50% target"}])
        layers.append(alt.Chart(target).mark_rule(color="#231f20", strokeDash=[4, 4],
                                                  strokeWidth=1.5).encode(y="y:Q"))
        layers.append(alt.Chart(target).mark_text(
            align="right", baseline="bottom", dx=-2, dy=-3, fontWeight="bold", color="#231f20",
            x="width").encode(y="y:Q", text="text:N"))
    subtitle = [
        "Recovered ÷ (finished a course of treatment − not at caseness at the start)."
        + (" Shaded band: 95% confidence interval of the first series." if show_ci else ""),
        *(["Rolling: each point sums the counts of the four quarters to it."] if rolling else []),
        "Crosses at the bottom: no value (the tooltip says why).",
        *_source(synthetic),
    ]
    unit = "by quarter" if " Q" in "".join(domain) else "by financial year"
    title = f"{label}, rolling four quarters" if rolling else f"{label} {unit}"
    return alt.layer(
        *layers, width=width, height=TREND_HEIGHT, title=_title(subtitle, title), autosize=AUTOSIZE,
        config=CONFIG,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(strokeDash="independent", shape="independent")),
    )


def _trend_data(data: pd.DataFrame, main: int) -> pa.Table:
    # Each run of quarters with a rate gets its own path id, so no line ever bridges a gap,
    # whatever the renderer does with missing values: the segment is the number of missing
    # quarters so far in the series.
    names = data["series"].tolist()
    rate = data["rate"].to_numpy("float64", na_value=np.nan)
    seen: dict[str, int] = {}
    path = []
    for name, missing in zip(names, np.isnan(rate).tolist(), strict=True):
        seen[name] = seen.get(name, 0) + missing
        path.append(f"{name} #{seen[name]}")
    order = {g: i for i, g in enumerate(DASHES)}
    return _arrow({
        **{c: _column(data, c) for c in TREND_COLUMNS if c in data.columns},
        "path": path,
        "main": data["series_order"].to_numpy() == main,
        "group_order": [order.get(g, len(order)) for g in data["group"].tolist()],
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
            "synthetic": _synthetic(d, synthetic), "width": width, "rolling": rolling}
    marked = [p for p in dom if p in set(highlight or ())]
    return _view(_trend_layout, opts, {
        "trend": d, "synthetic": _synthetic_periods(d, dom),
        "highlight": _periods(marked, ["new"] * len(marked)),
        "meta": _meta("")}, frames)


# --- Areas in one period: ranked and funnel -------------------------------------------------


def _band_scales(has_england: bool) -> tuple[alt.Color, alt.Shape]:
    # A fixed key, as Fingertips shows it: a band keeps its colour and shape in every view.
    bands = [b for b in BAND_STYLE if b != "no data"] if has_england else ["no data"]
    legend = alt.Legend(orient="bottom", title="Compared with England", labelLimit=0,
                        direction="vertical")
    return (alt.Color("vs_england:N", title="Compared with England", legend=legend,
                      scale=alt.Scale(domain=bands, range=[BAND_STYLE[b][0] for b in bands])),
            alt.Shape("vs_england:N", title="Compared with England", legend=legend,
                      scale=alt.Scale(domain=bands, range=[BAND_STYLE[b][1] for b in bands])))


def _area_tips(measure: str) -> tuple[dict[str, str], list[alt.Tooltip]]:
    label = model.MEASURES[measure]["label"]
    return _tips([
        ("full", "Area", None), ("region", "Region", None), ("rate", f"{label} (%)", ".1f"),
        ("ci95_low", "95% CI low (%)", ".1f"), ("ci95_high", "95% CI high (%)", ".1f"),
        ("numerator", "Numerator", ",.0f"), ("denominator", "Denominator", ",.0f"),
        ("vs_england", "Compared with England", None), ("vs_target", "Against the 50% target", None),
        ("note", "Note", None)])


def _areas(table: pd.DataFrame, highlight: str | None) -> pa.Table:
    """The areas with a rate: short name for the axis, full name for the tooltip, and which
    one is the chosen area."""
    names = table["area_name" if "area_name" in table.columns else "area"].tolist()
    codes = table["area_code"].tolist() if "area_code" in table.columns else [None] * len(names)
    return _slim(table, TABLE_COLUMNS, "rate",
                 label=[short_name(n) for n in names], full=[full_name(n) for n in names],
                 highlight=[highlight is not None and c == highlight for c in codes])


#: Whether an axis label names the chosen area (the view's ``chosen`` dataset).
CHOSEN = "indata('chosen', 'label', datum.value)"


def _ring(y: alt.Y | str, x: alt.X | str) -> alt.Chart:
    """A large black ring round the chosen area's point (shape, not colour, marks it)."""
    return alt.Chart(_named("chosen")).mark_point(
        shape="circle", size=420, filled=False, strokeWidth=2.5, color="#000000").encode(x=x, y=y)


def _compare_layout(*, has_england: bool, synthetic: str, measure: str,
                    width: int | str) -> alt.LayerChart:
    color, shape = _band_scales(has_england)
    # Short names; on a phone cut at 120 px (the tooltip has the full name). The chosen area's
    # label is bold and marked with an arrow.
    y = alt.Y("label:N", sort=alt.EncodingSortField("rate", order="descending"), title=None,
              axis=alt.Axis(
                  labelLimit=alt.ExprRef(
                      f"containerSize()[0] > 0 && containerSize()[0] < {NARROW} ? 120 : 0"),
                  labelExpr=f"{CHOSEN} ? '▶ ' + datum.label : datum.label",
                  labelFontWeight=alt.ConditionalAxisLabelFontWeight(
                      condition={"test": CHOSEN, "value": "bold"}, value="normal"),
                  labelColor=alt.ConditionalAxisColor(
                      condition={"test": CHOSEN, "value": "#000000"}, value="#425563")))
    label = model.MEASURES[measure]["label"]
    # Fitted to the data, not from zero: the points spread over the width even on a phone.
    x_scale = alt.Scale(zero=False, nice=False, padding=6)

    def quiet(field: str) -> alt.X:  # on the shared scale, drawing no axis of its own
        return alt.X(f"{field}:Q", scale=x_scale, axis=None)

    calc, tooltip = _area_tips(measure)
    base = alt.Chart(_named("areas"))
    lines = ([[1, 0]] if has_england else []) + ([[4, 4]] if measure == "recovery" else [])
    layers = [
        _meta_layer(),
        base.mark_rule(strokeWidth=1.5, color="#425563").encode(
            y=y, x=alt.X("ci95_low:Q", title=f"{label} (%)", scale=x_scale), x2="ci95_high:Q"),
        # The axis at the top too: a ranked list of 42 is taller than a phone's screen.
        *_points(base.transform_calculate(**calc).encode(
            y=y, x=alt.X("rate:Q", scale=x_scale, axis=alt.Axis(orient="top", title=None)),
            color=color, shape=shape, tooltip=tooltip)),
        _ring(y, quiet("rate")),
    ]
    if lines:  # England and the target as lines named in a legend: no label to overlap
        layers.append(alt.Chart(_named("references")).mark_rule(color="#231f20").encode(
            x=quiet("x"), strokeDash=alt.StrokeDash(
                "text:N", title="Lines", sort=alt.EncodingSortField("order"),
                scale=alt.Scale(range=lines),
                legend=alt.Legend(orient="bottom", labelLimit=0, direction="vertical"))))
    return alt.layer(
        *layers, width=width, autosize=AUTOSIZE, config=CONFIG, height=alt.Step(18),
        title=_title(["Bars: 95% confidence interval. Shape and colour: compared with England.",
                      *_source(synthetic)]),
        resolve=alt.Resolve(axis=alt.AxisResolveMap(x="independent"),
                            scale=alt.ScaleResolveMap(strokeDash="independent")),
    )


def _references(england: float | None, measure: str) -> pa.Table:
    refs = []
    if _has_england(england):
        refs.append((float(england), f"England {england:.1f}%", 0))
    if measure == "recovery":
        refs.append((model.TARGET_PERCENT, "50% target", 1))
    return _arrow({"x": [r[0] for r in refs], "text": [r[1] for r in refs],
                   "order": [r[2] for r in refs]})


def _has_england(england: float | None) -> bool:
    return england is not None and bool(pd.notna(england))


def compare_spec(
    table: pd.DataFrame, england: float | None, *, title: str, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container", frames: bool = False,
    highlight: str | None = None,
) -> dict:
    """Every area's rate with its 95% interval, ranked, marked against England and the target;
    ``highlight`` is the area code to ring and label."""
    areas = _areas(table, highlight)
    opts = {"has_england": _has_england(england), "synthetic": _synthetic(areas, synthetic),
            "measure": measure, "width": width}
    return _view(_compare_layout, opts, {
        "areas": areas, "chosen": areas.filter(areas.column("highlight")),
        "references": _references(england, measure), "meta": _meta(title)}, frames)


def _funnel_layout(*, has_england: bool, synthetic: str, measure: str,
                   width: int | str) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    color, shape = _band_scales(has_england)
    # No "nice" rounding: on a log scale it stretches 1,000-20,000 to 100-100,000.
    x = alt.X("denominator:Q", title="Denominator (finished treatment, at caseness)",
              scale=alt.Scale(type="log", nice=False), axis=alt.Axis(format=",.0f"))
    calc, tooltip = _area_tips(measure)
    areas = alt.Chart(_named("areas"))
    return alt.layer(
        _meta_layer(),
        alt.Chart(_named("limits")).mark_line(color="#425563", clip=True).encode(
            x=x, y=alt.Y("rate:Q", title=f"{label} (%)", scale=alt.Scale(zero=False)),
            detail="limit:N",
            strokeDash=alt.StrokeDash("kind:N", title="Lines", scale=alt.Scale(
                domain=["England", "95% limits", "99.8% limits"], range=[[1, 0], [6, 3], [2, 2]]),
                legend=alt.Legend(orient="bottom", labelLimit=0))),
        *_points(areas.transform_calculate(**calc).encode(
            x=x, y="rate:Q", color=color, shape=shape, tooltip=tooltip)),
        _ring("rate:Q", x),
        # Named beside its ring, on the side with room (``left``: in the left part of the plot).
        alt.Chart(_named("chosen")).mark_text(align="left", dx=14, fontWeight="bold",
                                              color="#000000").encode(x=x, y="rate:Q", text="label:N")
        .transform_filter("datum.left === true"),
        alt.Chart(_named("chosen")).mark_text(align="right", dx=-14, fontWeight="bold",
                                              color="#000000").encode(x=x, y="rate:Q", text="label:N")
        .transform_filter("datum.left !== true"),
        width=width, autosize=AUTOSIZE, config=CONFIG, height=420,
        title=_title(["Each point is an area; outside the dotted lines is unlikely by chance.",
                      *_source(synthetic)]),
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(strokeDash="independent")),
    )


def funnel_spec(
    table: pd.DataFrame, limits: pd.DataFrame, *, title: str, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container", frames: bool = False,
    highlight: str | None = None,
) -> dict:
    """Areas by denominator against 95% and 99.8% control limits around England's rate,
    over the span of the areas' denominators; ``highlight`` is the area code to ring and name."""
    areas = _areas(table, highlight)
    den = limits["denominator"].to_numpy("float64") if len(limits) else np.array([])
    have = areas.column("denominator").to_numpy(zero_copy_only=False).astype("float64") \
        if "denominator" in areas.column_names else np.array([])
    have = have[~np.isnan(have)]
    inside = ((den >= have.min() * 0.8) & (den <= have.max() * 1.2)) if len(have) \
        else np.ones(len(den), bool)
    kinds = {"low95": "95% limits", "high95": "95% limits", "low998": "99.8% limits",
             "high998": "99.8% limits", "baseline": "England"}
    n = int(inside.sum())
    lines = _arrow({  # long form, one block of rows per limit line
        "denominator": np.tile(den[inside], len(kinds)),
        "limit": np.repeat(np.array(list(kinds), dtype=object), n),
        "rate": np.concatenate([limits[c].to_numpy("float64")[inside] if len(limits)
                                else np.array([]) for c in kinds]),
        "kind": np.repeat(np.array(list(kinds.values()), dtype=object), n),
    })
    has_england = "vs_england" in areas.column_names and bool(
        pc.any(pc.not_equal(areas.column("vs_england"), "no data")).as_py())
    opts = {"has_england": has_england, "synthetic": _synthetic(areas, synthetic),
            "measure": measure, "width": width}
    chosen = areas.filter(areas.column("highlight"))
    if len(chosen) and len(have):  # where it sits along the log axis, 0 to 1
        span = np.log(have.max() * 1.2) - np.log(have.min() * 0.8)
        at = (np.log(chosen.column("denominator").to_numpy(zero_copy_only=False))
              - np.log(have.min() * 0.8)) / (span or 1)
        chosen = chosen.append_column("left", pa.array(at < 0.6))
    return _view(_funnel_layout, opts, {
        "limits": lines, "areas": areas, "chosen": chosen, "meta": _meta(title)}, frames)


# --- Gap between two groups -----------------------------------------------------------------


def _gap_layout(*, domain: tuple[str, ...], synthetic: str, width: int | str, label_a: str,
                label_b: str) -> alt.LayerChart:
    x = _time_x(domain)
    sig = alt.Shape("significant:N", title="Difference", scale=alt.Scale(
        domain=["significant at 95%", "not significant"], range=["square", "circle"]),
        legend=alt.Legend(orient="bottom", labelLimit=0))
    data = alt.Chart(_named("gap"))
    calc, tooltip = _tips([
        ("period", "Period", None), ("gap", "Difference (points)", ".1f"),
        ("gap_low", "95% CI low", ".1f"), ("gap_high", "95% CI high", ".1f"),
        ("rate_a", f"{label_a} (%)", ".1f"), ("rate_b", f"{label_b} (%)", ".1f"),
        ("significant", "Significance", None)])
    return alt.layer(
        *_period_spans(domain), _meta_layer(),
        alt.Chart(alt.InlineData(values=[{"y": 0}])).mark_rule(color="#231f20").encode(y="y:Q"),
        data.mark_rule(color="#425563").encode(
            x=x, y=alt.Y("gap_low:Q", title="Difference (percentage points)"), y2="gap_high:Q"),
        *_points(data.transform_filter("isValid(datum.gap)").transform_calculate(**calc).encode(
            x=x, y="gap:Q", shape=sig, tooltip=tooltip, color=alt.value("#0072B2"))),
        width=width, autosize=AUTOSIZE, config=CONFIG, height=320,
        title=_title([f"Below 0: the {label_a} rate is lower than the {label_b} rate. "
                      "Bars: 95% confidence interval (Newcombe).", *_source(synthetic)]))


def gap_spec(
    gap: pd.DataFrame, *, domain: list[str], title: str, synthetic: bool = False,
    width: int | str = "container", frames: bool = False,
) -> dict:
    """Difference between two groups over time with Newcombe 95% intervals; 0 = no gap."""
    dom = tuple(domain)
    first = {c: str(gap[c].iat[0]) if len(gap) and c in gap.columns else d
             for c, d in (("group_a", "first group"), ("group_b", "second group"))}
    d = _slim(gap, list(gap.columns), "gap")
    opts = {"domain": dom, "synthetic": _synthetic(d, synthetic), "width": width,
            "label_a": first["group_a"], "label_b": first["group_b"]}
    return _view(_gap_layout, opts, {
        "gap": d, "synthetic": _synthetic_periods(d, dom), "highlight": _periods([], []),
        "meta": _meta(title)}, frames)


# --- Ethnic groups in one area and period ---------------------------------------------------


def _groups_layout(*, synthetic: str, measure: str, width: int | str) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    data = alt.Chart(_named("groups"))
    y = alt.Y("group_label:N", sort=alt.EncodingSortField("order"), title=None,
              axis=alt.Axis(labelLimit=0, labelExpr="length(datum.label) > 26 ? split(datum.label, ': ') : datum.label"))
    calc, tooltip = _tips([
        ("group_label", "Group", None), ("rate", f"{label} (%)", ".1f"),
        ("ci95_low", "95% CI low (%)", ".1f"), ("ci95_high", "95% CI high (%)", ".1f"),
        ("numerator", "Numerator", ",.0f"), ("denominator", "Denominator", ",.0f"),
        ("note", "Note", None)])
    layers = [
        _meta_layer(),
        data.mark_rule(color="#425563").encode(
            y=y, x=alt.X("ci95_low:Q", title=f"{label} (%)", scale=alt.Scale(zero=False)),
            x2="ci95_high:Q"),
        *_points(data.transform_calculate(**calc).encode(
            y=y, x="rate:Q", tooltip=tooltip, color=alt.value("#0072B2"),
            shape=alt.value("diamond"))),
    ]
    if measure == "recovery":
        layers.append(alt.Chart(alt.InlineData(values=[{"x": model.TARGET_PERCENT}]))
                      .mark_rule(strokeDash=[4, 4], color="#231f20").encode(x="x:Q"))
    return alt.layer(*layers, width=width, autosize=AUTOSIZE, config=CONFIG,
                     height=alt.Step(30),
                     title=_title([("Dashed line: the 50% target. " if measure == "recovery"
                                    else "") + "Bars: 95% confidence interval.",
                                   *_source(synthetic)]))


def groups_spec(
    data: pd.DataFrame, *, title: str, synthetic: bool = False, measure: str = "recovery",
    width: int | str = "container", frames: bool = False,
) -> dict:
    """Rate for each population group in one area and period, with 95% intervals."""
    d = _slim(data, TABLE_COLUMNS, "rate", order=np.arange(len(data)))
    opts = {"synthetic": _synthetic(d, synthetic), "measure": measure, "width": width}
    return _view(_groups_layout, opts, {"groups": d, "meta": _meta(title)}, frames)


def to_image(chart: alt.TopLevelMixin | dict, fmt: str = "png", width: int = 900) -> bytes:
    """Render a chart, or its spec (datasets as records or as the Arrow tables the app keeps),
    to PNG or SVG bytes (vl-convert; no browser needed).

    A fixed width is set: 'container' width means nothing outside a page.
    """
    import vl_convert as vlc

    if fmt not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, not {fmt!r}")
    spec = chart if isinstance(chart, dict) else chart.to_dict(validate=False)
    datasets = {k: v.to_pylist() if isinstance(v, pa.Table) else
                json.loads(v.to_json(orient="records", date_format="iso"))
                if isinstance(v, pd.DataFrame) else v
                for k, v in spec.get("datasets", {}).items()}
    text = json.dumps({**spec, "datasets": datasets, "width": width})
    return vlc.vegalite_to_svg(text).encode() if fmt == "svg" else vlc.vegalite_to_png(text, scale=2)
