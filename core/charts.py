"""Chart builders: pure functions from a prepared frame to an Altair chart.

Accessibility rules every builder follows: the Okabe–Ito colour-blind-safe palette; meaning
never carried by colour alone (line dash and point shape repeat the population group, point
shape repeats a comparison band); a source line in the chart itself so an exported PNG or SVG
still says where the numbers came from and whether they are synthetic.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

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


def source_line(synthetic: bool) -> str:
    return SYNTHETIC_SOURCE if synthetic else SOURCE


TREND_COLUMNS = [
    "period", "series", "series_order", "group", "group_label", "area_name", "numerator",
    "denominator", "rate", "ci95_low", "ci95_high", "published_rate", "note",
]
TABLE_COLUMNS = [
    "area", "region", "rate", "ci95_low", "ci95_high", "numerator", "denominator", "vs_england",
    "vs_target", "group_label",
]


# --- How a chart is built -------------------------------------------------------------------
#
# Each chart is two functions: ``_x_parts`` takes the data and returns the few values the
# chart's layout depends on (series names, scale domains, a height, a title) and its data
# frames, by name; ``_x_layout`` lays the chart out in Altair from those values and a handful of
# options. ``x_chart`` joins them into an Altair chart. ``x_spec`` gives the same Vega-Lite
# dict much faster: the layout is built and turned into a dict once per set of options, with
# placeholders for the values, and each call fills in its own values and data. Building Altair
# objects costs tens of milliseconds a chart; filling a dict costs well under one, which is
# what keeps a rerun of the app after a widget change fast. A property test checks that both
# routes give the same spec.


@dataclass(frozen=True)
class Parts:
    """What one chart takes from its data: layout values, and named datasets."""

    values: dict[str, Any]
    datasets: dict[str, pa.Table]


def _records(data: pd.DataFrame | pa.Table) -> list[dict]:
    """JSON-ready records (NaN as null)."""
    if isinstance(data, pa.Table):
        return data.to_pylist()
    return json.loads(data.to_json(orient="records", date_format="iso"))


def _arrow(columns: dict[str, Any]) -> pa.Table:
    """A chart's dataset as an Arrow table built straight from its columns (missing values as
    nulls): the app sends Arrow to the browser, so a DataFrame on the way is wasted work."""
    return pa.table({c: pa.array(v, from_pandas=True) for c, v in columns.items()})


def _data(frame: pd.DataFrame) -> alt.InlineData:
    """A small constant dataset written into the chart itself."""
    return alt.InlineData(values=_records(frame))


def _named(name: str) -> alt.NamedData:
    return alt.NamedData(name=name)


def _slim(data: pd.DataFrame, columns: list[str], having: str | None = None) -> pa.Table:
    """Only the columns a chart uses (keeps the embedded spec small and JSON-safe), and with
    ``having``, only the rows with a value in that column."""
    keep = slice(None)
    if having is not None and having in data:
        present = ~np.isnan(data[having].to_numpy("float64", na_value=np.nan))
        if not present.all():
            keep = present
    return _arrow({c: data[c].array[keep] for c in columns if c in data.columns})


def _title(text: str, subtitle: list[str]) -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle, anchor="start", subtitleColor="#425563")


def _chart(layout: Callable[..., alt.TopLevelMixin], parts: Parts, opts: dict) -> alt.TopLevelMixin:
    chart = layout(parts.values, **opts)
    chart.datasets = {name: _records(f) for name, f in parts.datasets.items()}
    return chart


def _spec(layout: Callable[..., alt.TopLevelMixin], parts: Parts, opts: dict,
          frames: bool) -> dict:
    slots = tuple((k, isinstance(v, list)) for k, v in parts.values.items())
    skeleton, holes = _skeleton(layout, tuple(opts.items()), slots)
    spec = _fill(skeleton, holes, parts.values)
    spec["datasets"] = {**spec.get("datasets", {}), **{
        name: f if frames else _records(f) for name, f in parts.datasets.items()}}
    return spec


Path = tuple[str | int, ...]


@functools.lru_cache(maxsize=256)
def _skeleton(layout: Callable[..., alt.TopLevelMixin], opts: tuple,
              slots: tuple[tuple[str, bool], ...]) -> tuple[dict, tuple[tuple[Path, str], ...]]:
    """The layout as a Vega-Lite dict, with a placeholder wherever a value goes, and where
    each placeholder is."""
    holders = {k: [f"\x00{k}*\x00"] if is_list else f"\x00{k}\x00" for k, is_list in slots}
    spec = layout(holders, **dict(opts)).to_dict(validate=False)
    return spec, tuple(_holes(spec, ()))


def _holes(node: Any, path: Path):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _holes(v, (*path, k))
    elif isinstance(node, list):
        if len(node) == 1 and isinstance(node[0], str) and node[0].startswith("\x00"):
            yield path, node[0][1:-2]
        else:
            for i, v in enumerate(node):
                yield from _holes(v, (*path, i))
    elif isinstance(node, str) and node.startswith("\x00"):
        yield path, node[1:-1]


def _fill(skeleton: dict, holes: tuple[tuple[Path, str], ...], values: dict[str, Any]) -> dict:
    """A copy of ``skeleton`` with each placeholder replaced by its value.

    Only the containers on the way to a placeholder are copied; the rest is shared with the
    skeleton, which nothing writes to (Streamlit takes a spec's top-level datasets out of a
    shallow copy).
    """
    out = dict(skeleton)
    copied: dict[Path, Any] = {(): out}
    for path, name in holes:
        node = out
        for depth in range(len(path) - 1):
            prefix = path[: depth + 1]
            child = copied.get(prefix)
            if child is None:
                child = node[path[depth]]
                child = dict(child) if isinstance(child, dict) else list(child)
                node[path[depth]] = child
                copied[prefix] = child
            node = child
        node[path[-1]] = values[name]
    return out


# --- Trend ----------------------------------------------------------------------------------


def _trend_parts(data: pd.DataFrame, show_ci: bool) -> Parts:
    # Each run of quarters with a rate gets its own path id, so no line ever bridges a gap,
    # whatever the renderer does with missing values: the segment is the number of missing
    # quarters so far in the series.
    names = data["series"].tolist()
    rate = data["rate"].to_numpy(dtype=float)
    seen: dict[str, int] = {}
    segment = []
    for name, missing in zip(names, np.isnan(rate).tolist(), strict=True):
        seen[name] = seen.get(name, 0) + missing
        segment.append(seen[name])
    d = _arrow({
        **{c: data[c].array for c in TREND_COLUMNS if c in data.columns},
        "segment": np.asarray(segment, dtype=int),
        "path": [f"{name} #{n}" for name, n in zip(names, segment, strict=True)],
    })
    order = np.argsort(data["series_order"].to_numpy(), kind="stable")
    series = list(dict.fromkeys(np.asarray(names, dtype=object)[order].tolist()))
    groups = list(dict.fromkeys(data["group"].tolist()))
    values = rate[~np.isnan(rate)]
    lows = data["ci95_low"].to_numpy("float64", na_value=np.nan) if show_ci else rate
    lows = lows[~np.isnan(lows)]
    lo = min([values.min() if len(values) else 40, lows.min() if len(lows) else 40, 45.0])
    hi = max([values.max() if len(values) else 60, 55.0])
    return Parts(
        values={
            "series": series, "colors": (PALETTE * 2)[: len(series)],
            "groups": [model.group_label(g) for g in groups],
            "dashes": [DASHES.get(g, [1, 0]) for g in groups],
            "shapes": [SHAPES.get(g, "circle") for g in groups],
            "y": [max(0, int(lo // 5 * 5)), min(100, int(hi // 5 * 5 + 5))],
        },
        datasets={"trend": d},
    )


def _trend_layout(v: dict[str, Any], *, domain: tuple[str, ...], measure: str, show_ci: bool,
                  synthetic: bool, highlight: tuple[str, ...], width: int | str,
                  rolling: bool) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    domain = list(domain)
    color = alt.Color(
        "series:N", title="Series", scale=alt.Scale(domain=v["series"], range=v["colors"]),
        legend=alt.Legend(orient="bottom", columns=2, labelLimit=400, symbolStrokeWidth=3,
                          symbolOpacity=1, symbolType="stroke"),
    )
    dash = alt.StrokeDash(
        "group_label:N", title="Population (line style)",
        scale=alt.Scale(domain=v["groups"], range=v["dashes"]),
        legend=alt.Legend(orient="bottom", direction="vertical", symbolStrokeWidth=2.5,
                          labelLimit=400, symbolSize=400, symbolType="stroke"),
    )
    shape = alt.Shape("group_label:N", scale=alt.Scale(domain=v["groups"], range=v["shapes"]),
                      legend=None)
    x = alt.X(
        "period:O", title="Quarter (financial year)", scale=alt.Scale(domain=domain),
        axis=alt.Axis(labelAngle=-45, labelExpr="indexof(datum.label, 'Q1') >= 0 ? datum.label : ''"),
    )
    y_scale = alt.Scale(domain=v["y"])
    y = alt.Y("rate:Q", title=f"{label} (%)", scale=y_scale)
    tooltip = [
        alt.Tooltip("period:N", title="Quarter"),
        alt.Tooltip("area_name:N", title="Area"),
        alt.Tooltip("group_label:N", title="Population"),
        alt.Tooltip("numerator:Q", title="Recovered" if measure == "recovery" else "Reliably recovered", format=","),
        alt.Tooltip("denominator:Q", title="Finished treatment, at caseness", format=","),
        alt.Tooltip("rate:Q", title=f"{label} (%)", format=".1f"),
        alt.Tooltip("ci95_low:Q", title="95% CI low (%)", format=".1f"),
        alt.Tooltip("ci95_high:Q", title="95% CI high (%)", format=".1f"),
        alt.Tooltip("published_rate:Q", title="Published (%)", format=".1f"),
        alt.Tooltip("note:N", title="Note"),
    ]
    base = alt.Chart(_named("trend"))
    layers = []
    if show_ci:
        layers.append(
            base.mark_area(opacity=0.14, invalid="break-paths-show-domains").encode(
                x=x, y=alt.Y("ci95_low:Q", scale=y_scale, title=f"{label} (%)"), y2="ci95_high:Q",
                color=color, detail="path:N",
            )
        )
    layers.append(
        base.mark_line(strokeWidth=2.5, invalid="break-paths-show-domains").encode(
            x=x, y=y, color=color, strokeDash=dash, detail="path:N"
        )
    )
    layers.append(
        base.mark_point(filled=True, size=55, opacity=1).encode(
            x=x, y=y, color=color, shape=shape,
            tooltip=tooltip,
        ).transform_filter("isValid(datum.rate)")
    )
    if measure == "recovery":
        target = pd.DataFrame({"y": [model.TARGET_PERCENT], "text": ["50% target"]})
        layers.append(
            alt.Chart(_data(target)).mark_rule(color="#231f20", strokeDash=[4, 4], strokeWidth=1.5)
            .encode(y=alt.Y("y:Q", scale=y_scale))
        )
        layers.append(
            alt.Chart(_data(target)).mark_text(align="right", baseline="bottom", dx=-2, dy=-3,
                                               fontWeight="bold", color="#231f20", x="width")
            .encode(y=alt.Y("y:Q", scale=y_scale), text="text:N")
        )
    gaps = [p for p in periods.UNPUBLISHED_QUARTERS if p in domain]
    if gaps:
        g = pd.DataFrame({"period": gaps, "text": [f"{p}: not published" for p in gaps]})
        layers.append(
            alt.Chart(_data(g)).mark_rule(color="#768692", strokeDash=[2, 2], strokeWidth=14, opacity=0.25)
            .encode(x=alt.X("period:O", scale=alt.Scale(domain=domain)))
        )
        layers.append(
            alt.Chart(_data(g)).mark_text(angle=270, align="right", baseline="middle", y=6, dx=0,
                                          color="#425563", fontSize=11)
            .encode(x=alt.X("period:O", scale=alt.Scale(domain=domain)), text="text:N")
        )
    if highlight:
        h = pd.DataFrame({"period": list(highlight), "text": ["new" for _ in highlight]})
        layers.append(
            alt.Chart(_data(h)).mark_rule(color="#FFB81C", strokeWidth=18, opacity=0.3)
            .encode(x=alt.X("period:O", scale=alt.Scale(domain=domain)))
        )
    subtitle = [
        "Recovered ÷ (finished a course of treatment − not at caseness at the start)."
        + (" Shaded band: 95% confidence interval." if show_ci else ""),
        *(["Rolling: each point sums the counts of the four quarters to it."] if rolling else []),
        source_line(synthetic),
    ]
    # One construction with every property: each chained .properties() deep-copies the chart.
    title = f"{label}, rolling four quarters" if rolling else f"{label} by quarter"
    return alt.layer(
        *layers, width=width, height=380, title=_title(title, subtitle),
        autosize=AUTOSIZE,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(strokeDash="independent", shape="independent")),
    )


def _trend_opts(domain: list[str], measure: str, show_ci: bool, synthetic: bool,
                highlight: list[str] | None, width: int | str, rolling: bool) -> dict:
    return {"domain": tuple(domain), "measure": measure, "show_ci": show_ci,
            "synthetic": synthetic, "highlight": tuple(highlight or ()), "width": width,
            "rolling": rolling}


def trend_chart(
    data: pd.DataFrame,
    *,
    domain: list[str],
    measure: str = "recovery",
    show_ci: bool = True,
    synthetic: bool = False,
    highlight: list[str] | None = None,
    width: int | str = "container",
    rolling: bool = False,
) -> alt.LayerChart:
    """Lines over quarters, one per series, with target, unpublished-quarter gap and CI band."""
    opts = _trend_opts(domain, measure, show_ci, synthetic, highlight, width, rolling)
    return _chart(_trend_layout, _trend_parts(data, show_ci), opts)


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
) -> dict:
    """``trend_chart(...).to_dict()``, fast. With ``frames`` the datasets stay Arrow tables."""
    opts = _trend_opts(domain, measure, show_ci, synthetic, highlight, width, rolling)
    return _spec(_trend_layout, _trend_parts(data, show_ci), opts, frames)


# --- Compare areas --------------------------------------------------------------------------


def _bands(d: pa.Table) -> dict[str, list]:
    present = set(d.column("vs_england").to_pylist()) if "vs_england" in d.column_names else set()
    bands = [b for b in BAND_STYLE if b in present] or ["similar"]
    return {"bands": bands, "band_colors": [BAND_STYLE[b][0] for b in bands],
            "band_shapes": [BAND_STYLE[b][1] for b in bands]}


def _compare_parts(table: pd.DataFrame, england: float | None, title: str,
                   measure: str) -> Parts:
    d = _slim(table, TABLE_COLUMNS, having="rate")
    refs = []
    if england is not None and pd.notna(england):
        refs.append({"x": float(england), "text": f"England {england:.1f}%", "dash": "solid"})
    if measure == "recovery":
        refs.append({"x": model.TARGET_PERCENT, "text": "50% target", "dash": "dashed"})
    return Parts(
        values={**_bands(d), "height": max(200, 16 * len(d)), "title": title},
        datasets={"areas": d, "references": _arrow({
            "x": [r["x"] for r in refs], "text": [r["text"] for r in refs],
            "dash": [r["dash"] for r in refs]})},
    )


def _compare_layout(v: dict[str, Any], *, has_england: bool, synthetic: bool, measure: str,
                    width: int | str) -> alt.LayerChart:
    color = alt.Color("vs_england:N", title="Compared with England",
                      scale=alt.Scale(domain=v["bands"], range=v["band_colors"]),
                      legend=alt.Legend(orient="bottom"))
    shape = alt.Shape("vs_england:N", scale=alt.Scale(domain=v["bands"], range=v["band_shapes"]),
                      legend=alt.Legend(orient="bottom", title="Compared with England"))
    y = alt.Y("area:N", sort=alt.EncodingSortField("rate", order="descending"), title=None,
              axis=alt.Axis(labelLimit=320))
    label = model.MEASURES[measure]["label"]
    tooltip = [
        alt.Tooltip("area:N", title="Area"), alt.Tooltip("region:N", title="Region"),
        alt.Tooltip("rate:Q", format=".1f", title=f"{label} (%)"),
        alt.Tooltip("ci95_low:Q", format=".1f", title="95% CI low"),
        alt.Tooltip("ci95_high:Q", format=".1f", title="95% CI high"),
        alt.Tooltip("numerator:Q", format=",", title="Numerator"),
        alt.Tooltip("denominator:Q", format=",", title="Denominator"),
        alt.Tooltip("vs_england:N", title="Compared with England"),
        alt.Tooltip("vs_target:N", title="Against the 50% target"),
    ]
    base = alt.Chart(_named("areas"))
    layers = [
        base.mark_rule(strokeWidth=1.5, color="#425563").encode(
            y=y, x=alt.X("ci95_low:Q", title=f"{label} (%) with 95% confidence interval",
                         scale=alt.Scale(zero=False)), x2="ci95_high:Q"),
        base.mark_point(filled=True, size=80, opacity=1).encode(
            y=y, x="rate:Q", color=color, shape=shape, tooltip=tooltip),
    ]
    if has_england or measure == "recovery":
        refs = alt.Chart(_named("references"))
        layers.append(refs.mark_rule(color="#231f20").encode(
            x="x:Q", strokeDash=alt.StrokeDash("dash:N", legend=None,
                                               scale=alt.Scale(domain=["solid", "dashed"],
                                                               range=[[1, 0], [4, 4]]))))
        if has_england:
            layers.append(refs.mark_text(dy=-6, align="left", dx=3, y=0, fontWeight="bold")
                          .encode(x="x:Q", text="text:N")
                          .transform_filter("datum.dash == 'solid'"))
        if measure == "recovery":
            layers.append(refs.mark_text(dy=-6, align="right", dx=-3, y=0, fontWeight="bold")
                          .encode(x="x:Q", text="text:N")
                          .transform_filter("datum.dash == 'dashed'"))
    return alt.layer(
        *layers, width=width, autosize=AUTOSIZE, height=v["height"],
        title=_title(v["title"], [source_line(synthetic)]),
    )


def compare_chart(
    table: pd.DataFrame, england: float | None, *, title: str, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container",
) -> alt.LayerChart:
    """Every area's rate with its 95% interval, sorted, marked against England and the target."""
    opts = {"has_england": england is not None and bool(pd.notna(england)),
            "synthetic": synthetic, "measure": measure, "width": width}
    return _chart(_compare_layout, _compare_parts(table, england, title, measure), opts)


def compare_spec(
    table: pd.DataFrame, england: float | None, *, title: str, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container", frames: bool = False,
) -> dict:
    """``compare_chart(...).to_dict()``, fast."""
    opts = {"has_england": england is not None and bool(pd.notna(england)),
            "synthetic": synthetic, "measure": measure, "width": width}
    return _spec(_compare_layout, _compare_parts(table, england, title, measure), opts, frames)


# --- Funnel plot ----------------------------------------------------------------------------


def _funnel_parts(table: pd.DataFrame, limits: pd.DataFrame, title: str) -> Parts:
    d = _slim(table, TABLE_COLUMNS, having="rate")
    # Long form, one block of rows per limit line (what DataFrame.melt gives, built directly).
    kinds = {"low95": "95% limits", "high95": "95% limits", "low998": "99.8% limits",
             "high998": "99.8% limits", "baseline": "England"}
    n = len(limits)
    lines = _arrow({
        "denominator": np.tile(limits["denominator"].to_numpy(), len(kinds)),
        "limit": np.repeat(np.array(list(kinds), dtype=object), n),
        "rate": np.concatenate([limits[c].to_numpy("float64") for c in kinds]),
        "kind": np.repeat(np.array(list(kinds.values()), dtype=object), n),
    })
    return Parts(values={**_bands(d), "title": title}, datasets={"limits": lines, "areas": d})


def _funnel_layout(v: dict[str, Any], *, synthetic: bool, measure: str,
                   width: int | str) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    x = alt.X("denominator:Q", title="Denominator (finished treatment, at caseness)",
              scale=alt.Scale(type="log"))
    return alt.layer(
        alt.Chart(_named("limits")).mark_line(color="#425563").encode(
            x=x, y=alt.Y("rate:Q", title=f"{label} (%)", scale=alt.Scale(zero=False)),
            detail="limit:N",
            strokeDash=alt.StrokeDash("kind:N", title="Lines", scale=alt.Scale(
                domain=["England", "95% limits", "99.8% limits"], range=[[1, 0], [6, 3], [2, 2]]),
                legend=alt.Legend(orient="bottom"))),
        alt.Chart(_named("areas")).mark_point(filled=True, size=70, opacity=1).encode(
            x=x, y="rate:Q",
            color=alt.Color("vs_england:N", title="Compared with England", scale=alt.Scale(
                domain=v["bands"], range=v["band_colors"]), legend=alt.Legend(orient="bottom")),
            shape=alt.Shape("vs_england:N", scale=alt.Scale(
                domain=v["bands"], range=v["band_shapes"]),
                legend=alt.Legend(orient="bottom", title="Compared with England")),
            tooltip=[alt.Tooltip("area:N", title="Area"), alt.Tooltip("rate:Q", format=".1f", title="Rate (%)"),
                     alt.Tooltip("denominator:Q", format=",", title="Denominator"),
                     alt.Tooltip("vs_england:N", title="Compared with England")]),
        width=width, autosize=AUTOSIZE, height=420, title=_title(v["title"], [source_line(synthetic)]),
    )


def funnel_chart(
    table: pd.DataFrame, limits: pd.DataFrame, *, title: str, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container",
) -> alt.LayerChart:
    """Areas by denominator against 95% and 99.8% control limits around England's rate."""
    opts = {"synthetic": synthetic, "measure": measure, "width": width}
    return _chart(_funnel_layout, _funnel_parts(table, limits, title), opts)


def funnel_spec(
    table: pd.DataFrame, limits: pd.DataFrame, *, title: str, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container", frames: bool = False,
) -> dict:
    """``funnel_chart(...).to_dict()``, fast."""
    opts = {"synthetic": synthetic, "measure": measure, "width": width}
    return _spec(_funnel_layout, _funnel_parts(table, limits, title), opts, frames)


# --- Gap between two groups -----------------------------------------------------------------


def _gap_parts(gap: pd.DataFrame, title: str) -> Parts:
    d = _slim(gap, list(gap.columns), having="gap")
    return Parts(
        values={"title": title,
                "label_a": str(d.column("group_a")[0].as_py()) if len(d) else "A",
                "label_b": str(d.column("group_b")[0].as_py()) if len(d) else "B"},
        datasets={"gap": d},
    )


def _gap_layout(v: dict[str, Any], *, domain: tuple[str, ...], synthetic: bool,
                width: int | str) -> alt.LayerChart:
    x = alt.X("period:O", title="Quarter (financial year)", scale=alt.Scale(domain=list(domain)),
              axis=alt.Axis(labelAngle=-45, labelExpr="indexof(datum.label, 'Q1') >= 0 ? datum.label : ''"))
    sig = alt.Shape("significant:N", title="Difference", scale=alt.Scale(
        domain=["significant at 95%", "not significant"], range=["square", "circle"]),
        legend=alt.Legend(orient="bottom"))
    data = _named("gap")
    layers = [
        alt.Chart(_data(pd.DataFrame({"y": [0]}))).mark_rule(color="#231f20").encode(y="y:Q"),
        alt.Chart(data).mark_rule(color="#425563").encode(x=x, y=alt.Y("gap_low:Q", title="Difference (percentage points)"), y2="gap_high:Q"),
        alt.Chart(data).mark_point(filled=True, size=60, color="#0072B2", opacity=1).encode(
            x=x, y="gap:Q", shape=sig,
            tooltip=[alt.Tooltip("period:N", title="Quarter"), alt.Tooltip("gap:Q", format=".1f", title="Difference (points)"),
                     alt.Tooltip("gap_low:Q", format=".1f", title="95% CI low"), alt.Tooltip("gap_high:Q", format=".1f", title="95% CI high"),
                     alt.Tooltip("rate_a:Q", format=".1f", title=v["label_a"]),
                     alt.Tooltip("rate_b:Q", format=".1f", title=v["label_b"]),
                     alt.Tooltip("significant:N", title="Significance")]),
    ]
    return alt.layer(
        *layers, width=width, autosize=AUTOSIZE, height=320,
        title=_title(v["title"], ["Below 0: the first group's rate is lower. Bars: 95% confidence interval (Newcombe).",
                                  source_line(synthetic)]))


def gap_chart(
    gap: pd.DataFrame, *, domain: list[str], title: str, synthetic: bool = False,
    width: int | str = "container",
) -> alt.LayerChart:
    """Difference between two groups over time with Newcombe 95% intervals; 0 = no gap."""
    opts = {"domain": tuple(domain), "synthetic": synthetic, "width": width}
    return _chart(_gap_layout, _gap_parts(gap, title), opts)


def gap_spec(
    gap: pd.DataFrame, *, domain: list[str], title: str, synthetic: bool = False,
    width: int | str = "container", frames: bool = False,
) -> dict:
    """``gap_chart(...).to_dict()``, fast."""
    opts = {"domain": tuple(domain), "synthetic": synthetic, "width": width}
    return _spec(_gap_layout, _gap_parts(gap, title), opts, frames)


# --- Ethnic groups in one area and quarter --------------------------------------------------


def _groups_parts(data: pd.DataFrame, title: str) -> Parts:
    d = _slim(data, TABLE_COLUMNS, having="rate")
    return Parts(values={"order": d.column("group_label").to_pylist(),
                         "height": max(160, 30 * len(d)),
                         "title": title},
                 datasets={"groups": d})


def _groups_layout(v: dict[str, Any], *, synthetic: bool, measure: str,
                   width: int | str) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    data = _named("groups")
    y = alt.Y("group_label:N", sort=v["order"], title=None, axis=alt.Axis(labelLimit=320))
    layers = [
        alt.Chart(data).mark_rule(color="#425563").encode(y=y, x=alt.X("ci95_low:Q", title=f"{label} (%)", scale=alt.Scale(zero=False)), x2="ci95_high:Q"),
        alt.Chart(data).mark_point(filled=True, size=80, color="#0072B2", shape="diamond", opacity=1).encode(
            y=y, x="rate:Q", tooltip=[alt.Tooltip("group_label:N", title="Group"), alt.Tooltip("rate:Q", format=".1f", title="Rate (%)"),
                                      alt.Tooltip("ci95_low:Q", format=".1f"), alt.Tooltip("ci95_high:Q", format=".1f"),
                                      alt.Tooltip("denominator:Q", format=",", title="Denominator")]),
    ]
    if measure == "recovery":
        layers.append(alt.Chart(_data(pd.DataFrame({"x": [50]}))).mark_rule(strokeDash=[4, 4], color="#231f20").encode(x="x:Q"))
    return alt.layer(*layers, width=width, autosize=AUTOSIZE, height=v["height"],
                     title=_title(v["title"], [source_line(synthetic)]))


def groups_chart(
    data: pd.DataFrame, *, title: str, synthetic: bool = False, measure: str = "recovery",
    width: int | str = "container",
) -> alt.LayerChart:
    """Rate for each population group in one area and quarter, with 95% intervals."""
    opts = {"synthetic": synthetic, "measure": measure, "width": width}
    return _chart(_groups_layout, _groups_parts(data, title), opts)


def groups_spec(
    data: pd.DataFrame, *, title: str, synthetic: bool = False, measure: str = "recovery",
    width: int | str = "container", frames: bool = False,
) -> dict:
    """``groups_chart(...).to_dict()``, fast."""
    opts = {"synthetic": synthetic, "measure": measure, "width": width}
    return _spec(_groups_layout, _groups_parts(data, title), opts, frames)


def to_image(chart: alt.TopLevelMixin | dict, fmt: str = "png", width: int = 900) -> bytes:
    """Render a chart, or its spec (datasets as records or as the Arrow tables the app keeps),
    to PNG or SVG bytes (vl-convert; no browser needed).

    A fixed width is set: 'container' width means nothing outside a page.
    """
    import vl_convert as vlc

    if fmt not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, not {fmt!r}")
    spec = chart if isinstance(chart, dict) else chart.to_dict(validate=False)
    datasets = {k: _records(v) if isinstance(v, (pa.Table, pd.DataFrame)) else v
                for k, v in spec.get("datasets", {}).items()}
    text = json.dumps({**spec, "datasets": datasets, "width": width})
    return vlc.vegalite_to_svg(text).encode() if fmt == "svg" else vlc.vegalite_to_png(text, scale=2)
