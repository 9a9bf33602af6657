"""A choropleth of ICBs in either geography, as a pure Altair chart.

Boundaries are the ONS files in ``data/reference`` (GeoJSON, 139 KB and 342 KB, generalised by
ONS to 500 m and 200 m and snapped to a 0.0001° grid). Nothing is simplified here: the map
carries them as TopoJSON (``core.topology``: each shared border once, 61 KB and 140 KB, the
same vertices), made once per process.

Meaning never rests on colour alone: colouring by rate, every ICB also carries its rate in the
tooltip and the table beside the map; colouring by comparison band, each ICB gets a marker in
the band's shape (the compare chart's shapes: up for better, circle for similar, down for
worse, square for no data) and a band-specific outline, and the band is in the tooltip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from core import charts, geography, model, topology, unusual, verdicts
from core.charts import common
from core.columns import flags, floats, for_arrow, objects, texts

ONS_CREDIT = ("Source: Office for National Statistics licensed under the Open Government "
              "Licence v.3.0. Contains OS data © Crown copyright and database right 2026.")
#: The same credit in two lines, so it fits a phone-width chart's subtitle.
ONS_CREDIT_LINES = ["Boundaries: Office for National Statistics, Open Government Licence v.3.0.",
                    "Contains OS data © Crown copyright and database right 2026."]
#: Colour-blind-safe sequential scheme (perceptually uniform, readable in greyscale).
RATE_SCHEME = "viridis"
#: Outline dash per band, so bands differ in the outline as well as the marker shape.
BAND_DASH = {
    "better (99.8%)": [1, 0], "better (95%)": [6, 2], "similar": [1, 0],
    "worse (95%)": [2, 2], "worse (99.8%)": [1, 1], "no data": [4, 4],
    "not compared (rate is a range)": [8, 3],
}
#: The bands in two columns: in one row they ran off a phone-width map.
BAND_LEGEND = alt.Legend(orient="bottom", columns=2, labelLimit=0)
#: Fill of an ICB without a rate (no data or suppressed); its tooltip says "no data".
NO_DATA = charts.BAND_STYLE["no data"][0]
#: The TopoJSON object holding the ICBs (``geometry``).
_OBJECT = "icbs"
MAP_COLUMNS = ["area_code", "area", "region", "rate", "numerator", "denominator", "vs_england",
               "approximate", "note"]


@lru_cache(maxsize=2)
def shapes(boundaries: str) -> dict[str, Any]:
    """The ICB boundaries of one geography as a GeoJSON FeatureCollection (read once)."""
    if boundaries not in geography.BOUNDARIES:
        raise ValueError(f"boundaries must be one of {geography.BOUNDARIES}")
    path = geography.REFERENCE_DIR / f"icb_{boundaries}.geojson"
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=2)
def label_points(boundaries: str) -> pd.DataFrame:
    """One point inside each ICB (its largest part), where the band marker is drawn."""
    rows = []
    for f in shapes(boundaries)["features"]:
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        ring = max((p[0] for p in polys), key=lambda r: abs(_area(r)))
        lon, lat = _inside_point(ring)
        rows.append((f["properties"]["icb_code"], lon, lat))
    return pd.DataFrame(rows, columns=["area_code", "lon", "lat"])


def _area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)) / 2


def _inside_point(ring: list[list[float]]) -> tuple[float, float]:
    """The centroid's latitude, at the middle of the widest stretch of that line inside the
    ring: unlike the centroid itself, always inside, even for a crescent-shaped area."""
    a = _area(ring)
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0)
             for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)) / (6 * a)
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0)
             for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)) / (6 * a)
    xs = sorted(x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
                for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)
                if (y0 <= cy < y1) or (y1 <= cy < y0))
    spans = [(xs[i], xs[i + 1]) for i in range(0, len(xs) - 1, 2)]
    if not spans:
        return cx, cy
    lo, hi = max(spans, key=lambda s: s[1] - s[0])
    return (cx if lo <= cx <= hi else (lo + hi) / 2), cy


#: The per-view datasets: one row per ICB (what the shapes look up by code), and ``meta``
#: (the title on its first row; the colour legend's ticks and their labels).
VALUES = "map_values"
#: The layout's stand-in name for the boundaries, which go inline as GeoJSON text.
_GEOMETRY = "icb_boundaries"
#: What each shape looks up in ``VALUES`` (the tooltip, the description and the outline).
FIELDS = ["area", "region", "rate", "numerator", "denominator", "vs_england", "approximate",
          "note", "how", "described", "selected"]
#: The legend's ticks and labels, and the rate scale's ends, read from ``meta``.
_TICKS = "pluck(data('meta'), 'value')"
_LABEL = ("indexof(pluck(data('meta'), 'value'), datum.value) >= 0 ? "
          "data('meta')[indexof(pluck(data('meta'), 'value'), datum.value)].label : "
          "format(datum.value, '.0f') + '%'")
_DOMAIN = "[data('meta')[0].value, peek(data('meta')).value]"


@lru_cache(maxsize=2)
def geometry(boundaries: str) -> str:
    """The boundaries as TopoJSON text (object ``icbs``), for the spec to carry inline
    (Vega-Lite parses inline text by its format). Streamlit passes a string through as it
    is; a list of features it would serialise and parse again several times a rerun."""
    return topology.to_text(shapes(boundaries), _OBJECT)


def map_spec(
    table: pd.DataFrame, boundaries: str, *, title: str, colour_by: str = "rate",
    england: float | None = None, selected: str | None = None, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container", height: int = 520,
    frames: bool = True,
) -> dict[str, Any]:
    """Every ICB of ``boundaries`` coloured by its rate or its comparison band, as a Vega-Lite
    dict for ``st.vega_lite_chart`` and ``charts.to_image``.

    ``table`` has one row per ICB: ``area_code``, ``area``, ``region``, ``rate``,
    ``numerator``, ``denominator``, ``vs_england`` (a band of ``charts.BAND_STYLE``) and
    optionally ``approximate`` and ``note``. ICBs missing from it are drawn as "no data".
    A click selects an ICB through the point selection named ``icb`` (its field
    ``area_code``), which Streamlit's chart selection returns; ``selected`` is outlined.

    The layout is made once per set of options (``charts._layout``); a view adds its own
    rows (``VALUES``) and ``meta``, so a new view costs no chart building. ``frames``: the
    datasets as Arrow tables (for the app) or as records.
    """
    if colour_by not in ("rate", "band"):
        raise ValueError("colour_by must be 'rate' or 'band'")
    data = _values(table, boundaries, selected)
    have = data["rate"][~np.isnan(data["rate"])]
    if colour_by == "rate":
        ticks, labels = _rate_legend(have.tolist(), england, measure)
    else:
        ticks, labels = [0.0], [""]
    meta = pa.table({"title": ["\n".join(common._wrap(title, charts.TITLE_WRAP))]
                     + [None] * (len(ticks) - 1), "value": ticks, "label": labels})
    opts = {"boundaries": boundaries, "colour_by": colour_by, "measure": measure,
            "grey": colour_by == "rate" and len(have) < len(data["rate"]),
            "synthetic": bool(synthetic), "width": width, "height": height,
            # The range band joins the key only where an ICB has it (it is rare).
            "ranges": colour_by == "band" and bool(
                (data["vs_england"] == verdicts.RANGE_NOT_COMPARED).any()),
            "cautioned": bool((data["unusual"] != "").any())}
    # Text as large strings, as from a frame (Vega-Lite reads both alike).
    values = pa.table({c: pa.array(v, type=pa.large_string() if v.dtype == object else None,
                                   from_pandas=True) for c, v in data.items()})
    return common._view(_map_layout, opts, {VALUES: values, "meta": meta}, frames)


def _values(table: Mapping[str, Any], boundaries: str, selected: str | None
            ) -> dict[str, np.ndarray]:
    """One row per ICB of ``boundaries``, those without a row in ``table`` as "no data"
    (``area_code`` and then ``FIELDS``)."""
    codes, names, regions = _geography(boundaries)
    take = _positions(table, codes)
    rate = _numbers(table, "rate", take)
    band = _texts(table, "vs_england", take, "no data")
    band[np.isnan(rate)] = "no data"
    approximate = _texts(table, "approximate", take, False).astype(bool)
    shown = np.array(["no data" if np.isnan(v) else f"{v:.1f}%" for v in rate], dtype=object)
    return {
        "area_code": codes, "area": names, "region": regions, "rate": rate,
        "numerator": _numbers(table, "numerator", take),
        "denominator": _numbers(table, "denominator", take),
        "vs_england": band, "approximate": approximate,
        "note": _texts(table, "note", take, ""),
        "unusual": _texts(table, "unusual", take, ""),
        "how": np.where(approximate, "Approximate (see note)", "Exact").astype(object),
        # Each shape's label for screen readers (its aria-label): the ICB, its rate and band.
        "described": names + ", " + regions + ": " + shown + ", " + band,
        "selected": codes == selected,
    }


@lru_cache(maxsize=2)
def _geography(boundaries: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes, short names and region names of the ICBs of ``boundaries``, in map order."""
    icbs = geography.icbs(boundaries)
    return tuple(icbs[c].to_numpy(object) for c in ("icb_code", "short_name", "region_name"))


def _positions(table: Mapping[str, Any], codes: np.ndarray) -> np.ndarray:
    """Each ICB's row in ``table`` (-1 where it has none)."""
    where = {str(c): i for i, c in enumerate(texts(table["area_code"]))}
    return np.array([where.get(c, -1) for c in codes], dtype=int)


def _numbers(table: Mapping[str, Any], column: str, take: np.ndarray) -> np.ndarray:
    if column not in table:
        return np.full(len(take), np.nan)
    values = table[column]
    values = values if isinstance(values, np.ndarray) and values.dtype.kind == "f" else \
        pd.to_numeric(pd.Series(values), errors="coerce").to_numpy("float64", na_value=np.nan)
    return np.where(take >= 0, values[take], np.nan)


def _texts(table: Mapping[str, Any], column: str, take: np.ndarray, empty: object
           ) -> np.ndarray:
    if column not in table:
        return np.full(len(take), empty, dtype=object)
    values = objects(table[column])[take]
    missing = (take < 0) | pd.isna(values)
    values[missing] = empty
    return values


def _map_layout(*, boundaries: str, colour_by: str, measure: str, grey: bool,
                synthetic: bool, width: int | str, height: int, ranges: bool = False,
                cautioned: bool = False) -> dict[str, Any]:
    """The map for one set of options, every value read from the view's datasets, with the
    boundaries inline as text (``geometry``)."""
    label = model.MEASURES[measure]["label"]
    base = (alt.Chart(alt.NamedData(name=_GEOMETRY))
            .transform_calculate(area_code="datum.properties.icb_code")
            .transform_lookup(lookup="area_code",
                              from_=alt.LookupData(alt.NamedData(name=VALUES), "area_code",
                                                   FIELDS)))
    pick = alt.selection_point(name="icb", fields=["area_code"], on="click", clear="dblclick")
    calc, tooltip = charts._tips([
        ("area", "ICB", None), ("region", "Region", None), ("rate", f"{label} (%)", ".1f"),
        ("vs_england", "Compared with England", None),
        ("numerator", model.count_labels(measure)[0], ",.0f"),
        ("denominator", model.DENOMINATOR_LABEL, ",.0f"), ("how", "Figure", None),
        ("note", "Note", None),
    ])
    # The chosen ICB: a thick dark outline, drawn last so no neighbour covers it.
    chosen = {"order": alt.Order("z:Q"),
              "strokeWidth": alt.condition("datum.selected === true", alt.value(3.5),
                                           alt.value(0.6 if colour_by == "rate" else 1.2)),
              "description": alt.Description("described:N"),
              "opacity": alt.condition(pick, alt.value(1), alt.value(0.55))}
    base = base.transform_calculate(z="datum.selected === true ? 1 : 0", **calc)
    bands = [b for b in charts.BAND_STYLE if ranges or b != verdicts.RANGE_NOT_COMPARED]
    if colour_by == "rate":
        fill = alt.Color("rate:Q", title=f"{label} (%)",
                         scale=alt.Scale(scheme=RATE_SCHEME, domain=alt.ExprRef(_DOMAIN)),
                         legend=alt.Legend(orient="bottom", direction="vertical",
                                           values=alt.ExprRef(_TICKS), labelExpr=_LABEL,
                                           gradientLength=180, labelOverlap=False))
        layers = [base.mark_geoshape(invalid="show", aria=True).encode(
            color=fill, tooltip=tooltip, stroke=alt.condition(
                "datum.selected === true", alt.value("#000000"), alt.value("white")),
            **chosen).add_params(pick)]
    else:
        band_scale = alt.Scale(domain=bands, range=[charts.BAND_STYLE[b][0] for b in bands])
        shapes_layer = base.mark_geoshape(aria=True).encode(
            color=alt.Color("vs_england:N", title="Compared with England", scale=band_scale,
                            legend=BAND_LEGEND),
            stroke=alt.StrokeValue("#231f20"),
            # The chosen ICB's outline is solid, whatever its band's dash.
            strokeDash=alt.condition("datum.selected === true", alt.value([1, 0]),
                                     alt.StrokeDash("vs_england:N", legend=None, scale=alt.Scale(
                                         domain=bands, range=[BAND_DASH[b] for b in bands]))),
            tooltip=tooltip, **chosen).add_params(pick)
        points = label_points(boundaries)
        markers = (alt.Chart(alt.InlineData(values=points.to_dict("records")))
                   .transform_lookup(lookup="area_code", from_=alt.LookupData(
                       alt.NamedData(name=VALUES), "area_code", ["area", "vs_england"]))
                   .mark_point(filled=True, size=70, stroke="white", strokeWidth=1, opacity=1)
                   .encode(longitude=alt.Longitude("lon:Q"), latitude=alt.Latitude("lat:Q"),
                           shape=alt.Shape("vs_england:N", title="Compared with England",
                                           scale=alt.Scale(domain=bands, range=[
                                               charts.BAND_STYLE[b][1] for b in bands]),
                                           legend=BAND_LEGEND),
                           color=alt.ColorValue("#231f20"),
                           tooltip=[alt.Tooltip("area:N", title="ICB"),
                                    alt.Tooltip("vs_england:N", title="Band")]))
        layers = [shapes_layer, markers]
    if cautioned:  # a dagger beside each ICB whose figure is unusual (core.unusual), over
        # a white halo so it shows on the darkest fill
        daggers = (
            alt.Chart(alt.InlineData(values=label_points(boundaries).to_dict("records")))
            .transform_lookup(lookup="area_code", from_=alt.LookupData(
                alt.NamedData(name=VALUES), "area_code", ["unusual"]))
            .transform_filter("datum.unusual && datum.unusual !== ''")
            .encode(longitude=alt.Longitude("lon:Q"), latitude=alt.Latitude("lat:Q")))
        style = {"text": common.CAUTION_MARK, "dx": 9, "dy": -9, "fontSize": 15,
                 "fontWeight": "bold", "color": "#231f20"}
        layers += [daggers.mark_text(**style, stroke="#ffffff", strokeWidth=3),
                   daggers.mark_text(**style)]
    lines = (["Grey: no figure for this period (the tooltip and the table say why)."]
             if grey else []) + ([common.CAUTION_LINE] if cautioned else [])
    subtitle = [*lines, charts.source_line(synthetic), *ONS_CREDIT_LINES]
    spec = alt.layer(
        *layers, common._meta_layer(), width=width, height=height, autosize=charts.AUTOSIZE,
        title=charts._title(subtitle), padding=common.PADDING,
    ).project(type="mercator").configure_scale(
        invalid={"color": {"value": NO_DATA}}).configure_mark(
        # No raw-field labels (charts.CONFIG says why); each ICB's shape keeps its own
        # description in words ("described"), which a screen reader reads.
        aria=False).to_dict(validate=False)
    inline = {"values": geometry(boundaries), "format": {"type": "topojson", "feature": _OBJECT}}
    for layer in spec["layer"]:
        if layer.get("data") == {"name": _GEOMETRY}:
            layer["data"] = inline
    return spec


def _rate_legend(rates: list[float], england: float | None,
                 measure: str) -> tuple[list[float], list[str]]:
    """Legend ticks in order and their labels: the ends of the scale, England and the 50%
    target, each labelled; the first and last are the rate scale's ends.

    England and the target share one tick when their labels would run into each other: the
    target's, its label giving England's figure in brackets ("50% target (England 47.7%)"),
    so the tick does not read as England being at 50% (a helper's review).
    """
    marks: dict[float, str] = {}
    if measure == "recovery":
        marks[model.TARGET_PERCENT] = "50% target"
    if england is not None and pd.notna(england):
        near = [v for v in marks if abs(v - england) < 2.5]
        if near:
            marks[near[0]] = f"{marks[near[0]]} (England {england:.1f}%)"
        else:
            marks[round(float(england), 6)] = f"England {england:.1f}%"
    lo = min([*rates, *marks], default=0.0)
    hi = max([*rates, *marks], default=100.0)
    lo, hi = float(np.floor(lo)), float(np.ceil(hi))
    ticks = sorted({lo, hi, *marks})
    return ticks, [marks.get(t, f"{t:.0f}%") for t in ticks]


# ---------------------------------------------------------------------------------------------
# What the map page shows beside the map
# ---------------------------------------------------------------------------------------------


def map_rows(compare: Mapping[str, Any], at: np.ndarray | None = None) -> pd.DataFrame:
    """The compared ICBs (``ranking.compare_icbs``' columns, or the compare table) cut to
    what the map reads, at positions ``at`` (all, in order, by default): one row per ICB,
    ``note`` saying how an approximate figure was made."""
    return pd.DataFrame(map_columns(compare, at))


def map_columns(compare: Mapping[str, Any], at: np.ndarray | None = None
                ) -> dict[str, np.ndarray]:
    """``map_rows`` as arrays by name (what the map, its table and its text read)."""
    n = len(compare["area_code"])
    at = np.arange(n) if at is None else at

    def values(column: str, kind: str, empty: object) -> np.ndarray:
        if column not in compare:
            return np.full(len(at), empty, dtype=object if kind == "text" else kind)
        col = compare[column]
        if kind == "float64":
            return floats(col)[at]
        if kind == "bool":
            return flags(col)[at]
        out = objects(col)[at]  # a copy: ``at`` is an index array
        out[pd.isna(out)] = empty
        return out

    approximate = values("geo_approximate", "bool", False)
    sudden = values("unusual", "text", "")
    return {
        "area_code": np.array([str(c) for c in values("area_code", "text", "")], dtype=object),
        "area": np.array([charts.short_name(str(n)) for n in values("area_name", "text", "")],
                         dtype=object),
        "region": values("region", "text", None),
        "rate": values("rate", "float64", np.nan),
        "numerator": values("numerator", "float64", np.nan),
        "denominator": values("denominator", "float64", np.nan),
        "vs_england": np.array([str(v) for v in values("vs_england", "text", "no data")],
                               dtype=object),
        "approximate": approximate,
        "note": unusual.with_notes(np.where(approximate, values("geo_note", "text", ""), "")
                                   .astype(object), sudden),
        "unusual": sudden,
        "synthetic": values("synthetic", "bool", False),
    }



def map_table(rows: Mapping[str, Any], boundaries: str, measure: str = "recovery"
              ) -> pa.Table:
    """The table beside the map: every ICB of the geography (those without a figure say
    "no data"), by region and name, its band in words; as the Arrow table the page shows
    (counts whole, missing values empty)."""
    codes, names, regions = _geography(boundaries)
    take = _positions(rows, codes)
    rate = _numbers(rows, "rate", take)
    approximate = _texts(rows, "approximate", take, False).astype(bool)
    label = model.MEASURES[measure]["label"]

    def whole(values: np.ndarray) -> pa.Array:
        return pa.array(np.round(values), type=pa.int64(), from_pandas=True)

    return pa.table({
        "ICB": for_arrow(names), "Region": for_arrow(regions), "Code": for_arrow(codes),
        f"{label} (%)": pa.array(np.round(rate, 1), from_pandas=True),
        "Compared with England": for_arrow(_texts(rows, "vs_england", take, "no data")),
        model.count_labels(measure)[0]: whole(_numbers(rows, "numerator", take)),
        model.DENOMINATOR_LABEL: whole(_numbers(rows, "denominator", take)),
        "Figure": for_arrow(np.where(approximate,
                                     "approximate: " + _texts(rows, "note", take, ""),
                                     np.where(~np.isnan(rate), "exact", "")).astype(object)),
    })


def describe_map(rows: pd.DataFrame, boundaries: str, *, period: str, group_label: str,
                 measure: str = "recovery", england: float | None = None,
                 colour_by: str = "rate", selected: str | None = None) -> str:
    """The map's text alternative: what it shows and what a sighted reader takes from it."""
    codes, names, _ = _geography(boundaries)
    name_of = dict(zip(codes.tolist(), names.tolist(), strict=True))
    label = model.MEASURES[measure]["label"].lower()
    code = np.array([str(c) for c in texts(rows["area_code"])], dtype=object)
    rate = _numbers(rows, "rate", np.arange(len(code)))
    have = np.flatnonzero(~np.isnan(rate) & np.isin(code, codes))
    have = have[np.argsort(-rate[have], kind="stable")]  # highest first
    what = "its rate" if colour_by == "rate" else "how it compares with England"
    parts = [f"Map of the {len(codes)} ICBs of {geography.BOUNDARY_WORDS[boundaries]}, each "
             f"shaded by {what}: {label} for {group_label}, {period}."]
    if england is not None and pd.notna(england):
        parts.append(f"England {england:.1f}%.")
    if len(have):
        hi, lo = have[0], have[-1]
        parts.append(f"Highest {name_of[code[hi]]} {rate[hi]:.1f}%, lowest "
                     f"{name_of[code[lo]]} {rate[lo]:.1f}%.")
        region = objects(rows["region"])[have]
        by_region = {r: float(np.median(rate[have][region == r])) for r in sorted(set(region))}
        parts.append("Median by region: " + "; ".join(
            f"{r} {v:.1f}%" for r, v in by_region.items()) + ".")
        bands: dict[str, int] = {}
        for b in objects(rows["vs_england"])[have]:
            bands[b] = bands.get(b, 0) + 1
        parts.append("Compared with England: " + ", ".join(
            f"{n} {b}" for b, n in sorted(bands.items(), key=lambda kv: -kv[1])) + ".")
    missing = sorted(set(codes.tolist()) - set(code[have].tolist()))
    if missing:
        parts.append("No figure: " + ", ".join(name_of[c] for c in missing) + ".")
    if "approximate" in rows:
        approximate = flags(rows["approximate"])[have]
        if approximate.any():
            parts.append("Approximate (a boundary cut through an area they are summed from): "
                         + ", ".join(name_of[c] for c in code[have][approximate]) + ".")
    if selected in name_of:
        parts.append(f"{name_of[selected]} is outlined.")
    return " ".join(parts)


def picked_icb(selection: Any, boundaries: str) -> str | None:
    """The ICB a click on the map chose, from Streamlit's chart selection state (its ``icb``
    point selection: ``{"selection": {"icb": [{"area_code": ...}]}}``); None when the
    selection is empty (a double click clears it) or names no ICB of ``boundaries``."""
    try:
        points = selection["selection"]["icb"]
    except (KeyError, TypeError, IndexError):
        return None
    if isinstance(points, dict):  # some releases give the fields, not the points
        points = [points]
    codes = set(geography.icbs(boundaries)["icb_code"])
    for point in points or []:
        code = point.get("area_code") if isinstance(point, dict) else None
        if isinstance(code, list):
            code = code[0] if code else None
        if isinstance(code, str) and code in codes:
            return code
    return None
