"""What every chart shares: the palette and styles, titles and source lines, names, datasets
as Arrow tables, tooltips that never say "null", the layout kept once per set of options and
filled per view, and rendering to PNG or SVG."""

from __future__ import annotations

import functools
import json
import textwrap
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from altair.utils.schemapi import disable_debug_mode

from core import missing, model
from core.columns import for_arrow
from core.names import full_name, short_name  # noqa: F401  (charts name areas so)

# Altair checks every object against the Vega-Lite schema as it is made ("debug mode"), about
# a third of the time a layout takes to build. Each layout is built once per set of options
# and every one is checked whole against the schema, and rendered, by the tests
# (tests/core/test_charts.py), so the app builds them without the per-object checks.
disable_debug_mode()

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
#: A population's line dash and point shape, in the model's order (the one table of them).
DASHES = {code: list(p.dash) for code, p in model.POPULATIONS.items()}
SHAPES = {code: p.shape for code, p in model.POPULATIONS.items()}
#: Two triangles side by side (Vega draws an SVG path in a -1..1 box, scaled to the size): the
#: 99.8% bands, so that they differ from the 95% bands' single triangle by shape, not colour.
TWO_UP = "M-1.2,0.9L-0.6,-0.9L0,0.9Z M0,0.9L0.6,-0.9L1.2,0.9Z"
TWO_DOWN = "M-1.2,-0.9L-0.6,0.9L0,-0.9Z M0,-0.9L0.6,0.9L1.2,-0.9Z"
BAND_STYLE = {
    # band: (colour, shape); every band has its own shape, so the band reads without colour.
    "better (99.8%)": ("#0072B2", TWO_UP),
    "better (95%)": ("#56B4E9", "triangle-up"),
    "similar": ("#E69F00", "circle"),
    "worse (95%)": ("#CC79A7", "triangle-down"),
    "worse (99.8%)": ("#D55E00", TWO_DOWN),
    "no data": ("#999999", "square"),
    # A rate known only as a range (a count suppressed) is drawn, but has no denominator to
    # compare: it said "no data" beside a point and a bar (review, 2026-11-28).
    "not compared (rate is a range)": ("#737373", "diamond"),
}
#: The bands that are not a comparison: in a legend only when a shown area has one.
UNCOMPARED = ("no data", "not compared (rate is a range)")
#: Fit the page width but keep titles and legends inside the chart (no clipping).
AUTOSIZE = alt.AutoSizeParams(type="fit-x", contains="padding")
SOURCE = "Source: NHS England, NHS Talking Therapies quarterly data."
SYNTHETIC_SOURCE = "SYNTHETIC SAMPLE DATA for demonstration, not published statistics."
#: Characters per line of a title and a subtitle: they fit a 390 px phone, so nothing is cut.
TITLE_WRAP, SUBTITLE_WRAP = 44, 60
#: Legends stacked below the chart, not side by side (they would run off a phone's screen).
#: ``offset`` keeps the first legend's title clear of the x-axis title above it.
#: ``aria=False`` on marks: Vega-Lite's default label for each mark lists its encoded fields
#: unformatted ("Recovery rate (%): 53.3030884271; ci95_high: ...", an interval's lower
#: limit read out as the rate, "null" before an ICB existed; a helper's review). A screen
#: reader gets the chart's text alternative, and every figure is in its Table tab.
CONFIG = alt.Config(legend=alt.LegendConfig(offset=26, layout=alt.ExprRef(
    "{bottom: {direction: 'vertical', anchor: 'start', margin: 12}}")),
    mark=alt.MarkConfig(aria=False))
#: A long legend label ("Area, population") on two lines, broken after the area.
TWO_LINES = ("length(datum.label) > 36 && indexof(datum.label, ', ') > 0 ? "
             "[slice(datum.label, 0, indexof(datum.label, ', ') + 1), "
             "slice(datum.label, indexof(datum.label, ', ') + 2)] : datum.label")
#: Below this container width the compare chart's area names are cut (full name in tooltip).
NARROW = 600
#: True in the browser when the chart's container is narrower than ``NARROW`` (a phone).
NARROW_TEST = f"containerSize()[0] > 0 && containerSize()[0] < {NARROW}"
#: Room round every chart. Streamlit pads only the bottom of a chart, so a glyph drawn at an
#: edge (the descenders of the rotated y-axis title, the end of the last x-axis label) was cut.
PADDING = {"left": 6, "top": 4, "right": 8, "bottom": 20}
#: Pixels Vega keeps between two axis labels: a label that would come closer is dropped, so
#: labels never touch ("4,000" against "5,000" on a phone).
LABEL_SEPARATION = 8


def wrap_expr(chars: int, label: str = "datum.label") -> str:
    """A Vega expression that breaks ``label`` into lines of at most about ``chars``
    characters, at spaces, and after ': ' (the broad group before a detailed one), for an
    axis's ``labelExpr``: the lines are an array, which Vega draws one under another."""
    text = f"replace({label}, /: /g, ':\\n')"
    return f"split(trim(replace({text}, /(.{{1,{chars}}})(\\s+|$)/g, '$1\\n')), '\\n')"


def source_line(synthetic: bool) -> str:
    return SYNTHETIC_SOURCE if synthetic else SOURCE


def says_synthetic(spec: dict) -> bool:
    """Whether a chart's title says its figures are the synthetic sample: its text
    alternative must say so too (a screen reader, or a quoted description, gets no subtitle)."""
    return SYNTHETIC_SOURCE.split(" for ")[0] in json.dumps(spec.get("title", ""))


def _source(synthetic: str) -> list[str]:
    """The source line, and where rows are flagged synthetic, what marks them on the chart."""
    hollow = ["Hollow points: synthetic values."] if synthetic == "rows" else []
    return [source_line(bool(synthetic)), *hollow]


TREND_COLUMNS = [
    "period", "series", "series_order", "group", "group_label", "area_name", "numerator",
    "denominator", "rate", "ci95_low", "ci95_high", "published_rate", "note", "synthetic",
    "derived",
    "geo_approximate", "unusual",
]
#: Beside a figure that changed too sharply on a year earlier to take on trust
#: (``core.unusual``), in the chart itself: an exported image keeps the caution.
CAUTION_MARK = "†"
#: The subtitle line a chart with a ``CAUTION_MARK`` carries.
CAUTION_LINE = ("† The published figure changed sharply on a year earlier: treat with care "
                "(see its note).")
TABLE_COLUMNS = [
    "area", "region", "rate", "ci95_low", "ci95_high", "numerator", "denominator", "vs_england",
    "vs_target", "group_label", "note", "synthetic", "derived",
]


# --- Names ----------------------------------------------------------------------------------


# --- Building and filling -------------------------------------------------------------------


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _arrow(columns: dict[str, Any]) -> pa.Table:
    """A dataset as an Arrow table built straight from its columns (missing values and NaN
    as nulls): the app sends Arrow to the browser, so a DataFrame on the way is wasted work."""
    return pa.table({c: pa.array(v, from_pandas=True) for c, v in columns.items()})


def _slim(data: pd.DataFrame, columns: list[str], having: str | None = None,
          **extra: Any) -> pa.Table:
    """The columns a chart reads (and ``extra`` ones), keeping only the rows with a value in
    ``having``: a chart draws no point there (its table and text say why)."""
    table = _arrow({**{c: for_arrow(data[c]) for c in columns if c in data}, **extra})
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


#: A tooltip's note where a value has nothing to add (never "none" or "null").
NO_NOTE = "no caveats"
#: Why a value is missing: the row's note where it has one.
_REASON = "(isValid(datum.note) && datum.note != '' ? datum.note : 'no data')"
#: What a blank count or published percentage says on a point that has a rate, as the tables'
#: "Why a figure is blank" does (a missing count first): the row's note is about the rate (its
#: rounding, its approximation), not about why this field is blank.
_COUNTS = ("isValid(datum.numerator) && isFinite(datum.numerator) && "
           "isValid(datum.denominator) && isFinite(datum.denominator)")
_SUPPRESSED = json.dumps(missing.COUNT_SUPPRESSED)
WHEN_BLANK = {
    "published_rate": f"({_COUNTS} ? {json.dumps(missing.NO_PUBLISHED_RATE)} : {_SUPPRESSED})",
    "numerator": _SUPPRESSED,
    "denominator": _SUPPRESSED,
}
#: What a blank field describing how a point was made says (there was nothing to say).
BLANK_SAYS = {"geo_note": json.dumps("no boundary change")}


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
        fallback = f"'{NO_NOTE}'" if col == "note" else _REASON
        if col in WHEN_BLANK:
            has_rate = "isValid(datum.rate) && isFinite(datum.rate)"
            fallback = f"({has_rate}) ? {WHEN_BLANK[col]} : {_REASON}"
        elif col in BLANK_SAYS:
            fallback = BLANK_SAYS[col]
        calc[f"tip{i}"] = f"{ok} ? {shown} : {fallback}"
        tips.append(alt.Tooltip(f"tip{i}:N", title=title))
    return calc, tips


#: The tooltip line that says whether a point's counts were published or summed by the
#: product (the rows' ``derived`` flag; the same words as the tables' "Counts" column).
DERIVED_TIP = ("isValid(datum.derived) ? (datum.derived === true ? 'derived: sum of ethnic "
               "groups' : 'as in the file') : 'no data'")


def _with_derived(calc: dict[str, str], tips: list[alt.Tooltip]
                  ) -> tuple[dict[str, str], list[alt.Tooltip]]:
    """Tooltips plus a "Counts" line: derived (summed from the ethnic-group rows) or as in
    the file."""
    return {**calc, "tip_derived": DERIVED_TIP}, [*tips, alt.Tooltip("tip_derived:N",
                                                                     title="Counts")]


@functools.lru_cache(maxsize=256)
def _layout(build: Callable[..., alt.TopLevelMixin | dict], opts: tuple) -> tuple[dict, dict]:
    """The chart for one set of options, as a Vega-Lite dict, and its constant datasets.
    ``build`` returns an Altair chart, or the dict one gives (the map adds its boundaries).

    Every view of these options shares the dict's nested parts: treat a spec as read-only
    below its top level (Streamlit copies the top level and changes only that, apart from a
    top-level ``encoding.color``, which ``_view`` copies)."""
    built = build(**dict(opts))
    spec = built if isinstance(built, dict) else built.to_dict(validate=False)
    _no_default_tooltips(spec)
    constants = {k: pa.Table.from_pylist(v) for k, v in spec.pop("datasets", {}).items()}
    return spec, constants


def _no_default_tooltips(spec: dict) -> None:
    """Give every layer without a tooltip of its own none at all. Streamlit's chart theme
    turns tooltips on for every mark (``mark.tooltip``), so a band, an interval bar or a
    name label showed its raw fields under the point's titles: a confidence band's lower
    limit as "Recovery rate (%) 49.1878055741" (a helper's review)."""
    if "tooltip" in spec.get("encoding", {}):
        return  # its own, or a layer group's shared by its layers
    for layer in spec.get("layer", []):
        _no_default_tooltips(layer)
    if "mark" in spec:
        mark = spec["mark"] if isinstance(spec["mark"], dict) else {"type": spec["mark"]}
        # A mark's own setting beats the theme's; one the chart set itself is kept.
        spec["mark"] = {"tooltip": None, **mark}


def _view(build: Callable[..., alt.TopLevelMixin | dict], opts: dict, datasets: dict[str, pa.Table],
          frames: bool) -> dict:
    layout, constants = _layout(build, tuple(opts.items()))
    spec = dict(layout)
    if isinstance(spec.get("encoding"), dict):
        # Streamlit patches a null legend title in a top-level colour channel in place.
        spec["encoding"] = {k: dict(v) if isinstance(v, dict) else v
                            for k, v in spec["encoding"].items()}
    data = {**constants, **datasets}
    spec["datasets"] = data if frames else {k: t.to_pylist() for k, t in data.items()}
    return spec


def _points(base: alt.Chart) -> list[alt.Chart]:
    """Published points filled, synthetic ones hollow (same encodings)."""
    return [base.transform_filter("datum.synthetic !== true").mark_point(
                filled=True, size=60, opacity=1),
            base.transform_filter("datum.synthetic === true").mark_point(
                filled=False, size=60, opacity=1, strokeWidth=1.8)]


#: What the subtitle says of the ring drawn round an approximate point (issue 10).
APPROXIMATE_LINE = ("Open diamonds: approximate points (a boundary cut through an area they "
                    "are summed from; the tooltip and table say what moved).")


def _any(table: pa.Table, column: str) -> bool:
    return column in table.column_names and len(table) > 0 and bool(
        pc.any(pc.fill_null(table.column(column), False)).as_py())


def _approximate_ring(base: alt.Chart, y: str) -> alt.Chart:
    """An open diamond round each approximate point, so it is told apart without colour."""
    return base.transform_filter("datum.geo_approximate === true").mark_point(
        shape="diamond", size=260, filled=False, strokeWidth=1.6, opacity=1,
        color="#231f20").encode(y=y)


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
