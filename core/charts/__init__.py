"""Chart builders: pure functions from a prepared frame to a Vega-Lite spec.

Accessibility rules every builder follows: the Okabe–Ito colour-blind-safe palette; meaning
never carried by colour alone (line dash and point shape repeat the population group, point
shape repeats a comparison band, hollow points and a labelled span mark synthetic values, a ring
and a label mark the chosen area); a source line in the chart itself so an exported PNG or SVG
still says where the numbers came from and whether they are synthetic; no "null" in a tooltip
(a missing value says why); a "Counts" tooltip line says where a point's counts were summed by
the product (``derived``) rather than published.

How a chart is built: each chart's layout is laid out in Altair once per set of options (the
``opts`` of ``_layout``: measure, band on or off, width, ...) and kept as a Vega-Lite dict whose
marks read only named datasets. Everything that differs from one view to the next (points,
title, highlighted area, synthetic spans) is data in those datasets, and scales take their
domains from the data (``DomainUnionWith``, ``sort``, ``alt.Step``). A view is the kept dict's
top level with its own datasets as Arrow tables, the nested parts shared and read-only
(Streamlit copies the top level and changes only that, apart from a top-level colour channel,
which ``common._view`` copies): no Altair objects and no copying per view, so a new view
costs well under a millisecond where building Altair objects costs tens, and a browser that
already shows the chart only receives new data.
"""

from core.charts.common import (
    AUTOSIZE,
    BAND_STYLE,
    CONFIG,
    DASHES,
    DERIVED_TIP,
    NARROW,
    PALETTE,
    SHAPES,
    SOURCE,
    SUBTITLE_WRAP,
    SYNTHETIC_SOURCE,
    TABLE_COLUMNS,
    TITLE_WRAP,
    TREND_COLUMNS,
    TWO_LINES,
    _layout,
    _tips,
    _title,
    full_name,
    says_synthetic,
    short_name,
    source_line,
    to_image,
)
from core.charts.compare import compare_spec, funnel_spec
from core.charts.groups import groups_spec
from core.charts.time import TREND_HEIGHT, gap_spec, trend_spec

__all__ = [
    "AUTOSIZE", "BAND_STYLE", "CONFIG", "DASHES", "DERIVED_TIP", "NARROW", "PALETTE", "SHAPES", "SOURCE",
    "SUBTITLE_WRAP", "SYNTHETIC_SOURCE", "TABLE_COLUMNS", "TITLE_WRAP", "TREND_COLUMNS",
    "TREND_HEIGHT", "TWO_LINES", "_layout", "_tips", "_title", "compare_spec", "full_name",
    "funnel_spec", "gap_spec", "groups_spec", "says_synthetic", "short_name", "source_line",
    "to_image",
    "trend_spec",
]
