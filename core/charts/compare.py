"""Charts comparing areas in one period: areas ranked with their intervals, and areas against
funnel limits (the population groups of one area: ``core.charts.groups``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import model, verdicts
from core.charts import common
from core.columns import texts

# --- Areas in one period: ranked and funnel -------------------------------------------------


def _band_scales(has_england: bool, uncompared: tuple[str, ...] = ()
                 ) -> tuple[alt.Color, alt.Shape]:
    # A fixed key, as Fingertips shows it: a band keeps its colour and shape in every view.
    # A band that is not a comparison joins it when a drawn point has it (a rate known only
    # as a range, with no denominator to compare): outside the domain it would draw nothing.
    bands = [b for b in common.BAND_STYLE if b not in common.UNCOMPARED or b in uncompared] \
        if has_england else ["no data"]
    legend = alt.Legend(orient="bottom", title="Compared with England", labelLimit=0,
                        direction="vertical")
    return (alt.Color("vs_england:N", title="Compared with England", legend=legend,
                      scale=alt.Scale(domain=bands, range=[common.BAND_STYLE[b][0] for b in bands])),
            alt.Shape("vs_england:N", title="Compared with England", legend=legend,
                      scale=alt.Scale(domain=bands, range=[common.BAND_STYLE[b][1] for b in bands])))


def _area_tips(measure: str) -> tuple[dict[str, str], list[alt.Tooltip]]:
    label = model.MEASURES[measure]["label"]
    return common._tips([
        ("full", "Area", None), ("region", "Region", None), ("rate", f"{label} (%)", ".1f"),
        ("ci95_low", "95% CI low (%)", ".1f"), ("ci95_high", "95% CI high (%)", ".1f"),
        ("numerator", model.count_labels(measure)[0], ",.0f"),
        ("denominator", model.DENOMINATOR_LABEL, ",.0f"),
        ("vs_england", "Compared with England", None), ("vs_target", "Against the 50% target", None),
        ("note", "Note", None)])


CAUTION_MARK, CAUTION_LINE = " " + common.CAUTION_MARK, common.CAUTION_LINE


def _cautioned(areas: pa.Table) -> bool:
    return "label" in areas.column_names and any(
        str(v).endswith(CAUTION_MARK) for v in areas.column("label").to_pylist())


def _areas(table: pd.DataFrame, highlight: str | None, having: str | None = "rate"
           ) -> pa.Table:
    """The areas (only those with a rate unless ``having`` is None), in the table's order
    (``order``: the ranking follows the caller's sort): short name for the axis, full name for
    the tooltip, which one is the chosen area, and for an area with no rate why not
    (``missing``)."""
    names = texts(table["area_name" if "area_name" in table else "area"])
    codes = texts(table["area_code"]) if "area_code" in table else [None] * len(names)
    flagged = (np.asarray(table["unusual"], dtype=object) != "") if "unusual" in table \
        else np.zeros(len(names), dtype=bool)
    return common._slim(table, common.TABLE_COLUMNS, having,
                        label=[common.short_name(n) + (CAUTION_MARK if f else "")
                               for n, f in zip(names, flagged.tolist(), strict=True)],
                        full=[common.full_name(n) for n in names],
                        highlight=pa.array([highlight is not None and c == highlight
                                            for c in codes], pa.bool_()),
                        order=np.arange(len(names)),
                        missing=verdicts.no_rate_words(table))


#: Whether an axis label names the chosen area (the view's ``chosen`` dataset).
CHOSEN = "indata('chosen', 'label', datum.value)"


def _ring(y: alt.Y | str, x: alt.X | str) -> alt.Chart:
    """A large black ring round the chosen area's point (shape, not colour, marks it)."""
    return alt.Chart(common._named("chosen")).mark_point(
        shape="circle", size=420, filled=False, strokeWidth=2.5, color="#000000").encode(x=x, y=y)


#: What the ranked chart's bars and verdicts are, by whether the limits allow for overdispersion:
#: then an area's bar can miss England's rate and the area still be "similar", and the chart
#: must say so (its verdicts are not read off the bars, as Fingertips' are).
BARS = {False: "Bars: 95% confidence interval. Shape and colour: compared with England.",
        True: "Bars: 95% confidence interval. Shape and colour: compared with England, with "
              "limits widened for the variation between ICBs beyond chance (overdispersion), "
              "so a bar can miss England's rate and the ICB still be similar."}


def _compare_layout(*, has_england: bool, synthetic: str, measure: str,
                    width: int | str, uncompared: tuple[str, ...] = (),
                    adjusted: bool = False, cautioned: bool = False) -> alt.LayerChart:
    color, shape = _band_scales(has_england, uncompared)
    # Short names; on a phone cut at 120 px (the tooltip has the full name). The chosen area's
    # label is bold and marked with an arrow.
    # In the caller's order (by rate, name or size): one ``order`` for every layer.
    y = alt.Y("label:N", sort=alt.EncodingSortField("order", op="min", order="ascending"),
              title=None,
              axis=alt.Axis(
                  labelLimit=alt.ExprRef(
                      f"containerSize()[0] > 0 && containerSize()[0] < {common.NARROW} ? 120 : 0"),
                  labelExpr=f"{CHOSEN} ? '▶ ' + datum.label : datum.label",
                  labelFontWeight=alt.ConditionalAxisLabelFontWeight(
                      condition={"test": CHOSEN, "value": "bold"}, value="normal"),
                  labelColor=alt.ConditionalAxisColor(
                      condition={"test": CHOSEN, "value": "#000000"}, value="#425563")))
    label = model.MEASURES[measure]["label"]
    # Fitted to the data, not from zero: the points spread over the width even on a phone.
    x_scale = alt.Scale(zero=False, nice=False, padding=6)

    # About one tick per 80 px: a region's five ICBs span a few points, and Vega's default
    # ticked every 0.2 of one across a laptop (London, in review).
    ticks = alt.ExprRef("max(4, floor(width / 80))")

    def quiet(field: str) -> alt.X:  # on the shared scale, drawing no axis of its own
        return alt.X(f"{field}:Q", scale=x_scale, axis=None)

    calc, tooltip = _area_tips(measure)
    every = alt.Chart(common._named("areas"))
    base = every.transform_filter("isValid(datum.rate) && isFinite(datum.rate)")
    lines = ([[1, 0]] if has_england else []) + ([[4, 4]] if measure == "recovery" else [])
    published, synthetic_points = common._points(base.transform_calculate(**calc).encode(
        y=y, x=quiet("rate"), color=color, shape=shape, tooltip=tooltip))
    # The axis at the top too (once): a ranked list of 42 is taller than a phone's screen.
    points = [published.encode(x=alt.X("rate:Q", scale=x_scale,
                                       axis=alt.Axis(orient="top", title=None,
                                                     tickCount=ticks))),
              synthetic_points]
    layers = [
        common._meta_layer(),
        base.mark_rule(strokeWidth=1.5, color="#425563").encode(
            y=y, x=alt.X("ci95_low:Q", title=f"{label} (%)", scale=x_scale,
                         axis=alt.Axis(tickCount=ticks)), x2=alt.X2("ci95_high:Q")),
        *points,
        _ring(y, quiet("rate")),
        # An area with no rate keeps its row, saying why where its point would be.
        every.transform_filter("!isValid(datum.rate) || !isFinite(datum.rate)")
        .transform_calculate(**calc).mark_text(
            align="left", baseline="middle", dx=4, fontStyle="italic", color="#425563")
        .encode(y=y, x=alt.XValue(0), text=alt.Text("missing:N"), tooltip=tooltip),
    ]
    if lines:  # England and the target as lines named in a legend: no label to overlap
        layers.append(alt.Chart(common._named("references")).mark_rule(color="#231f20").encode(
            x=quiet("x"), strokeDash=alt.StrokeDash(
                "text:N", title="Lines", sort=alt.EncodingSortField("order"),
                scale=alt.Scale(range=lines),
                legend=alt.Legend(orient="bottom", labelLimit=0, direction="vertical"))))
    return alt.layer(
        *layers, width=width, autosize=common.AUTOSIZE, config=common.CONFIG, height=alt.Step(18),
        padding=common.PADDING,
        title=common._title([BARS[adjusted], *([CAUTION_LINE] if cautioned else []),
                             *common._source(synthetic)]),
        resolve=alt.Resolve(axis=alt.AxisResolveMap(x="independent"),
                            scale=alt.ScaleResolveMap(strokeDash="independent")),
    )


def _references(england: float | None, measure: str) -> pa.Table:
    refs = []
    if _has_england(england):
        refs.append((float(england), f"England {england:.1f}%", 0))
    if measure == "recovery":
        refs.append((model.TARGET_PERCENT, "50% target", 1))
    return common._arrow({"x": [r[0] for r in refs], "text": [r[1] for r in refs],
                   "order": [r[2] for r in refs]})


def _uncompared(drawn: pa.Table) -> tuple[str, ...]:
    """The bands of drawn points that have no comparison with England, in the key's order."""
    # In Python: a string comparison through Arrow's compute costs milliseconds per call.
    if "vs_england" not in drawn.column_names:
        return ()
    present = set(drawn.column("vs_england").to_pylist())
    return tuple(b for b in common.UNCOMPARED if b in present)


def _has_england(england: float | None) -> bool:
    return england is not None and bool(pd.notna(england))


def compare_spec(
    table: pd.DataFrame, england: float | None, *, title: str, synthetic: bool = False,
    measure: str = "recovery", width: int | str = "container", frames: bool = False,
    highlight: str | None = None, adjusted: bool = False,
) -> dict:
    """Every area's rate with its 95% interval, in the table's order (the caller sorts: by
    rate, name or size), marked against England and the target; an area with no rate keeps
    its row and says why. ``highlight`` is the area code to ring and label; ``adjusted``:
    the verdicts allow for overdispersion (the subtitle says so, see ``BARS``)."""
    areas = _areas(table, highlight, having=None)
    drawn = areas.filter(pc.is_valid(areas.column("rate"))) if "rate" in areas.column_names \
        else areas
    opts = {"has_england": _has_england(england), "synthetic": common._synthetic(drawn, synthetic),
            "measure": measure, "width": width, "uncompared": _uncompared(drawn),
            "adjusted": bool(adjusted), "cautioned": _cautioned(drawn)}
    return common._view(_compare_layout, opts, {
        "areas": areas, "chosen": areas.filter(areas.column("highlight")),
        "references": _references(england, measure), "meta": common._meta(title)}, frames)


#: Characters per line of the chosen area's name beside its ring: the 40% of a phone's plot
#: on the side with room holds about 16 bold characters.
FUNNEL_NAME_WRAP = 16
#: At most this many ICBs outside the 95% limits are named beside their points (those
#: furthest out for their size): five anonymous points outside the lines could only be told
#: apart by hovering, which a phone and a downloaded picture cannot do (a helper's review).
FUNNEL_NAMED = 6
#: The funnel's size axis (log) spanning more than about half a power of ten, on a plot
#: narrower than 700 px, labels only 1, 2 and 5 times a power of ten (1, 2, 3 and 5 from
#: 400 px); its other ticks stay, unlabelled. Vega's overlap check kept the first of
#: crowded labels, so a phone read "4,000 6,000 9,000 20,000", never 10,000 (review). A
#: narrower span (a region's ICBs) keeps Vega's evenly spaced labels.
LOG_LABELS = (
    "(log(domain('x')[1] / domain('x')[0]) < 1.2 || width >= 700"
    " || indexof(width < 400 ? [1, 2, 5] : [1, 2, 3, 5],"
    " round(datum.value / pow(10, floor(log(datum.value) / LN10 + 1e-9)) * 10) / 10) >= 0)"
    " ? datum.label : ''")


def _names(dataset: str, x: alt.X, y_title: str, dx: float, **style: object
           ) -> list[alt.Chart]:
    """A funnel's names from ``dataset``, on each side, each over its halo (``x`` and the
    y-axis title as the points', so the layers share one axis)."""
    side = f"({common.NARROW_TEST} ? datum.phone_side : datum.wide_side)"
    return [alt.Chart(common._named(dataset)).mark_text(
                align=align, dx=sign * dx, lineBreak="\n", **style, **halo)
            .encode(x=x, y=alt.Y("label_y:Q", title=y_title), text=alt.Text("lines:N"))
            .transform_filter(f"{side} === '{code}'")
            .transform_calculate(label_y=f"{common.NARROW_TEST} ? datum.phone_y : datum.wide_y")
            for code, align, sign in (("r", "left", 1), ("l", "right", -1))
            for halo in ({"stroke": "#ffffff", "strokeWidth": 3, "strokeJoin": "round",
                          "opacity": 0.9, "aria": False}, {})]


def _funnel_layout(*, has_england: bool, synthetic: str, measure: str,
                   width: int | str, uncompared: tuple[str, ...] = (),
                   cautioned: bool = False) -> alt.LayerChart:
    label = model.MEASURES[measure]["label"]
    color, shape = _band_scales(has_england, uncompared)
    # No "nice" rounding: on a log scale it stretches 1,000-20,000 to 100-100,000.
    x = alt.X("denominator:Q", title=model.DENOMINATOR_LABEL,
              scale=alt.Scale(type="log", nice=False),
              axis=alt.Axis(format=",.0f", labelOverlap="greedy", labelFlush=True,
                            labelSeparation=common.LABEL_SEPARATION, labelExpr=LOG_LABELS))
    calc, tooltip = _area_tips(measure)
    areas = alt.Chart(common._named("areas"))
    return alt.layer(
        common._meta_layer(),
        alt.Chart(common._named("limits")).mark_line(color="#425563", clip=True).encode(
            x=x, y=alt.Y("rate:Q", title=f"{label} (%)", scale=alt.Scale(zero=False)),
            detail=alt.Detail("limit:N"),
            strokeDash=alt.StrokeDash("kind:N", title="Lines", scale=alt.Scale(
                domain=["England", "95% limits", "99.8% limits"], range=[[1, 0], [6, 3], [2, 2]]),
                legend=alt.Legend(orient="bottom", labelLimit=0))),
        *common._points(areas.transform_calculate(**calc).encode(
            x=x, y=alt.Y("rate:Q"), color=color, shape=shape, tooltip=tooltip)),
        _ring("rate:Q", x),
        # Named beside its ring and the ICBs outside the 95% limits in small type, each on
        # the side ``_place_names`` found room on for the plot's width (``phone_side`` or
        # ``wide_side``: "r" right of the point, "l" left, "" not named), at ``label_y``
        # (its rate, moved inside the plot where a long name would cross its edge), over a
        # white halo so a name stays readable on a point or a limit line.
        *_names("chosen", x, f"{label} (%)", dx=14, fontWeight="bold", color="#000000"),
        *_names("outside", x, f"{label} (%)", dx=8, fontSize=10, color="#231f20"),
        width=width, autosize=common.AUTOSIZE, config=common.CONFIG, height=420,
        padding=common.PADDING,
        title=common._title(["Each point is an area; outside the dotted lines is unlikely by chance.",
                             *([CAUTION_LINE] if cautioned else []), *common._source(synthetic)]),
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
    lines = common._arrow({  # long form, one block of rows per limit line
        "denominator": np.tile(den[inside], len(kinds)),
        "limit": np.repeat(np.array(list(kinds), dtype=object), n),
        "rate": np.concatenate([limits[c].to_numpy("float64")[inside] if len(limits)
                                else np.array([]) for c in kinds]),
        "kind": np.repeat(np.array(list(kinds.values()), dtype=object), n),
    })
    has_england = "vs_england" in areas.column_names and any(
        v is not None and v not in common.UNCOMPARED
        for v in areas.column("vs_england").to_pylist())
    opts = {"has_england": has_england, "synthetic": common._synthetic(areas, synthetic),
            "measure": measure, "width": width,
            "uncompared": _uncompared(areas.filter(pc.is_valid(areas.column("denominator")))
                                   if "denominator" in areas.column_names else areas),
            "cautioned": _cautioned(areas)}
    def at(part: pa.Table) -> np.ndarray:  # where along the log axis, 0 to 1
        if not len(part) or not len(have):
            return np.zeros(len(part))
        span = np.log(have.max() * 1.2) - np.log(have.min() * 0.8)
        return (np.log(part.column("denominator").to_numpy(zero_copy_only=False)
                       .astype(float)) - np.log(have.min() * 0.8)) / (span or 1)

    chosen = areas.filter(areas.column("highlight"))
    outside = _outside(areas, limits)
    chosen, outside = _place_names(areas, limits, chosen, outside, at)
    return common._view(_funnel_layout, opts, {
        "limits": lines, "areas": areas, "chosen": chosen, "outside": outside,
        "meta": common._meta(title)}, frames)


#: The plots a funnel's names are placed for: a phone's, and the narrowest wider chart (names
#: that do not touch there are further apart on any wider plot); its height, and a line of
#: the names' 10 px type.
_PHONE_PLOT, _WIDE_PLOT = 280.0, 480.0
_FUNNEL_HEIGHT, _NAME_LINE, _NAME_CHAR = 420.0, 13.0, 6.0


#: The columns ``_place_names`` adds to the names it places.
_PLACED = (("lines", pa.string()), ("phone_side", pa.string()), ("wide_side", pa.string()),
           ("phone_y", pa.float64()), ("wide_y", pa.float64()))


def _outside(areas: pa.Table, limits: pd.DataFrame) -> pa.Table:
    """The areas outside the 95% limits that may be named (the chosen one is named
    already), furthest from England's rate for their size first."""
    if "vs_england" not in areas.column_names or not len(limits) or not len(areas):
        return areas.slice(0, 0)
    verdict = areas.column("vs_england").to_pylist()
    keep = np.array([isinstance(v, str) and v.endswith(("(95%)", "(99.8%)")) for v in verdict])
    keep &= ~np.asarray(areas.column("highlight").to_pylist(), dtype=bool)
    out = areas.filter(pa.array(keep))
    england = float(np.nanmedian(limits["baseline"].to_numpy("float64")))
    rate = out.column("rate").to_numpy(zero_copy_only=False).astype("float64")
    size = out.column("denominator").to_numpy(zero_copy_only=False).astype("float64")
    return out.take(np.argsort(-np.abs(rate - england) * np.sqrt(size), kind="stable"))


def _place_names(areas: pa.Table, limits: pd.DataFrame, chosen: pa.Table, outside: pa.Table,
                 at_of: Callable[[pa.Table], np.ndarray]) -> tuple[pa.Table, pa.Table]:
    """Where the chosen area's name and up to ``FUNNEL_NAMED`` of ``outside``'s go, on a
    phone's plot and on the narrowest wider one (names that fit there are further apart on
    any wider plot): each on the side of its point with room inside the plot and the fewest
    points under it, never on another name, moved up or down by up to its own height where
    that frees it. The chosen name is always placed; a name of ``outside`` with no place
    free of names is left out (one on top of another reads as neither). Every name stays
    inside the plot (``phone_y``, ``wide_y``: the rate its centre is drawn at): BaNES's four
    lines, at the bottom of 2021/22's funnel, ran over the axis title, and on a phone it was
    left out beside Birmingham's name (review)."""
    def empty(t: pa.Table) -> pa.Table:
        t = t.slice(0, 0)
        for name, kind in _PLACED:
            t = t.append_column(name, pa.array([], kind))
        return t

    if not len(areas) or "denominator" not in areas.column_names:
        return empty(chosen), empty(outside)
    rates = np.concatenate([areas.column("rate").to_numpy(zero_copy_only=False).astype(float),
                            limits[["low998", "high998"]].to_numpy("float64").ravel()
                            if len(limits) else np.array([])])
    low, high = np.nanmin(rates), np.nanmax(rates)
    per_px = ((high - low) or 1) / _FUNNEL_HEIGHT
    drawn = areas.filter(pc.is_valid(areas.column("denominator")))
    point_at = at_of(drawn)
    point_y = (high - drawn.column("rate").to_numpy(zero_copy_only=False).astype(float)) / per_px
    names = [(t, "\n".join(common._wrap(str(t.column("label")[i]), FUNNEL_NAME_WRAP)), i)
             for t in (chosen, outside) for i in range(len(t))]

    def y_of(rate: float, lines: str, shift: float = 0.0) -> float:
        """The name's centre, ``shift`` pixels down, in pixels from the top, inside the plot."""
        height = (lines.count("\n") + 1) * _NAME_LINE
        y = (high - rate) / per_px + shift
        return float(min(max(y, height / 2), _FUNNEL_HEIGHT - height / 2))

    def place(plot: float) -> tuple[list[str], list[float]]:
        placed: list[tuple[float, float, float, float]] = []
        points = [(x * plot - 5, y - 5, x * plot + 5, y + 5)
                  for x, y in zip(point_at, point_y, strict=True)]
        sides, ys = [], []
        for t, lines, i in names:
            is_chosen = t is chosen
            x = float(at_of(t.slice(i, 1))[0]) * plot
            rate = float(t.column("rate")[i].as_py())
            width = max(len(line) for line in lines.split("\n")) * _NAME_CHAR
            height = (lines.count("\n") + 1) * _NAME_LINE
            dx = 14 if is_chosen else 8
            best = None
            for side, shift in itertools.product(
                    ("r", "l") if x < 0.6 * plot else ("l", "r"),
                    (0.0,) if is_chosen else (0.0, height / 2, -height / 2, height, -height)):
                y = y_of(rate, lines, shift)
                x0 = x + dx if side == "r" else x - dx - width
                box = (x0, y - height / 2, x0 + width, y + height / 2)
                inside = box[0] >= 0 and box[2] <= plot
                free = all(box[2] + 2 < p[0] or p[2] + 2 < box[0] or box[3] + 2 < p[1]
                           or p[3] + 2 < box[1] for p in placed)
                covered = sum(not (box[2] < p[0] or p[2] < box[0] or box[3] < p[1]
                                   or p[3] < box[1]) for p in points)
                if (inside or is_chosen) and (free or is_chosen):
                    rank = (not inside, abs(shift), covered)
                    if best is None or rank < best[0]:
                        best = (rank, side, box, y)
            named = sum(s != "" for (tt, _, _), s in zip(names, sides, strict=False)
                        if tt is outside)
            if best is None or (not is_chosen and named >= FUNNEL_NAMED):
                sides.append("")
                ys.append(high - y_of(rate, lines) * per_px)
                continue
            placed.append(best[2])
            sides.append(best[1])
            ys.append(high - best[3] * per_px)
        return sides, ys

    (phone, phone_y), (wide, wide_y) = place(_PHONE_PLOT), place(_WIDE_PLOT)
    out = []
    for t in (chosen, outside):
        mine = [k for k, (tt, _, _) in enumerate(names) if tt is t]
        t = t.append_column("lines", pa.array([names[k][1] for k in mine], pa.string()))
        t = t.append_column("phone_side", pa.array([phone[k] for k in mine], pa.string()))
        t = t.append_column("wide_side", pa.array([wide[k] for k in mine], pa.string()))
        t = t.append_column("phone_y", pa.array([phone_y[k] for k in mine], pa.float64()))
        t = t.append_column("wide_y", pa.array([wide_y[k] for k in mine], pa.float64()))
        shown = pa.array([phone[k] != "" or wide[k] != "" for k in mine], pa.bool_())
        out.append(t if t is chosen or not len(t) else t.filter(shown))
    return out[0], out[1]
