"""What a person reads beside each chart: the display tables, the text alternatives and the
headline figures, made from what ``core.explore`` answers.

Kept apart from the questions themselves so that wording and layout can change (statistics
columns, provenance, period labels) without touching how the store is searched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from core import missing, model, periods, stats, verdicts
from core.columns import flags, floats, for_arrow, n_rows, objects, take_columns

#: A frame, or its columns as arrays by name (what a view holds before it makes its frame).
Columns = pd.DataFrame | Mapping[str, object]


def sentence(text: str) -> str:
    """First letter upper case and a full stop, leaving the rest as written."""
    text = text.strip()
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def fmt_pct(value: float, digits: int = 1) -> str:
    return "no data" if value is None or pd.isna(value) else f"{value:.{digits}f}%"


def _points(data: Columns) -> dict[str, np.ndarray]:
    """A trend's columns as arrays: describing a few series row by row in pandas costs more
    than everything else in a new view."""
    return {
        "series": objects(data["series"]), "period": objects(data["period"]),
        **{c: floats(data[c]) for c in ("rate", "ci95_low", "ci95_high", "numerator",
                                        "denominator", "series_order")},
    }


def _of(numerator: float, denominator: float) -> str:
    """"1,234 of 2,345"; where a count was suppressed the rate is a range from rounding
    (``verdicts.rounded_columns``) and there is no count to give."""
    if np.isnan(numerator) or np.isnan(denominator):
        return "a count was suppressed, so the rate is the middle of its possible range"
    return f"{int(numerator):,} of {int(denominator):,}"


def describe_trend(data: Columns, measure: str = "recovery", rolling: bool = False) -> str:
    """A text alternative for a trend chart: what a sighted reader would take from it."""
    if not n_rows(data):
        return "No data for this selection."
    label = model.MEASURES[measure]["label"].lower()
    sentences = ["Each point is the four quarters to that quarter, counts summed."] if rolling else []
    p = _points(data)
    rate, period = p["rate"], p["period"]
    for series in dict.fromkeys(p["series"].tolist()):
        have = np.flatnonzero((p["series"] == series) & ~np.isnan(rate))
        if not len(have):
            sentences.append(f"{series}: no published {label} in this period.")
            continue
        first, last = have[0], have[-1]
        hi, lo = have[np.argmax(rate[have])], have[np.argmin(rate[have])]
        verdict = stats.compare_with_target(p["ci95_low"][last] / 100, p["ci95_high"][last] / 100)
        sentences.append(
            f"{series}: {label} {fmt_pct(rate[last])} in {period[last]} "
            f"(95% confidence interval {fmt_pct(p['ci95_low'][last])} to "
            f"{fmt_pct(p['ci95_high'][last])}; "
            f"{_of(p['numerator'][last], p['denominator'][last])}), {verdict}"
            f"{'' if measure == 'recovery' else ' of 50% (the target applies to recovery)'}. "
            f"It was {fmt_pct(rate[first])} in {period[first]}; highest "
            f"{fmt_pct(rate[hi])} in {period[hi]}, lowest {fmt_pct(rate[lo])} in "
            f"{period[lo]}."
        )
    shown = set(period.tolist())
    missing = [q for q in periods.UNPUBLISHED_QUARTERS if q in shown]
    if missing:
        sentences.append(f"{', '.join(missing)} was never published and shows as a gap.")
    return " ".join(sentences)


def describe_gap(gap: Columns, area: str, measure: str = "recovery") -> str:
    if not n_rows(gap):
        return f"No periods with both groups' counts for {area}."
    values = floats(gap["gap"])
    have = np.flatnonzero(~np.isnan(values))
    if not len(have):
        return f"No periods with both groups' counts for {area}."
    last = {c: objects(gap[c])[have[-1]] for c in gap}
    direction = "lower" if last["gap"] < 0 else "higher"
    label = model.MEASURES[measure]["label"].lower()
    significant = int((objects(gap["significant"])[have] == "significant at 95%").sum())
    return (
        f"In {last['period']}, the {label} for {last['group_a']} in {area} was "
        f"{abs(last['gap']):.1f} percentage points {direction} than for {last['group_b']} "
        f"({fmt_pct(last['rate_a'])} against {fmt_pct(last['rate_b'])}; 95% interval for the "
        f"difference {_minus(last['gap_low'])} to {_minus(last['gap_high'])} points, "
        f"{last['significant']}). Across {len(have)} periods the gap was significant in "
        f"{significant}."
    )


def _minus(value: float) -> str:
    """One decimal place with a true minus sign, as the headline writes a gap."""
    return f"{value:.1f}".replace("-", "\u2212")


def _table(columns: dict[str, object]) -> pa.Table:
    """A display table as an Arrow table built straight from its columns (what the app sends
    to the browser; missing values as nulls): given a DataFrame, st.dataframe would convert it
    again on every rerun."""
    return pa.table({k: pa.array(v, from_pandas=True) for k, v in columns.items()})


def _whole(values: object) -> pd.arrays.IntegerArray:
    """Counts for display: whole numbers, missing left empty."""
    return model.whole_numbers(floats(values))


def _one_place(values: object) -> np.ndarray:
    return floats(values).round(1)


#: What the "Data" column of a table says of a row: where its numbers came from.
PUBLISHED, SYNTHETIC = "published", "synthetic sample"
#: What the "Counts" column says of a row the product summed (``derived``) and of the others.
DERIVED, AS_IN_FILE = "derived: sum of ethnic groups", "as in the file"


def _provenance(data: Columns, having: str = "rate") -> dict[str, object]:
    """A "Data" column (published or synthetic sample; empty where the row has no value)
    when the rows carry their own ``synthetic`` flag: a table says which numbers are real
    exactly where the chart draws hollow points."""
    if "synthetic" not in data:
        return {}
    flag = flags(data["synthetic"])
    has = ~np.isnan(floats(data[having]))
    return {"Data": np.where(has, np.where(flag, SYNTHETIC, PUBLISHED), "").astype(object),
            **_derivation(data)}


def _derivation(data: Columns) -> dict[str, object]:
    """A "Counts" column when the rows carry ``derived``: which counts NHS England did not
    publish but the product summed from the ethnic-group rows (BME and White British before
    2020-21, a broad group from its detailed groups). Said on every row, rate or not: a
    derived row with no rate is derived all the same."""
    if "derived" not in data:
        return {}
    flag = flags(data["derived"])
    counts = np.where(flag, DERIVED, AS_IN_FILE).astype(object)
    if "redrawn" in data:  # an ICB listed only to say it was redrawn has no counts
        counts[flags(data["redrawn"])] = ""
    return {"Counts": counts}


#: What the "Figure" column says of a point summed across a boundary cut (issue 10).
APPROXIMATE = "approximate"


def _approximate(data: Columns, note: str | None = "geo_note") -> dict[str, object]:
    """A "Figure" column (``approximate`` with what moved, or empty) when the rows come from
    an Explorer in chosen ICB boundaries and any of them is approximate: a table says which
    points are approximate exactly where the chart marks them."""
    if "geo_approximate" not in data:
        return {}
    flag = flags(data["geo_approximate"])
    if not flag.any():
        return {}
    why = (np.array(["" if pd.isna(w) else w for w in objects(data[note]).tolist()],
                    dtype=object) if note and note in data
           else np.full(n_rows(data), "", dtype=object))
    return {"Figure": np.where(flag, [f"{APPROXIMATE}: {w}" if w else APPROXIMATE
                                      for w in why], "").astype(object)}


def _counts_and_rates(data: Columns, measure: str, numerator: str, denominator: str
                      ) -> dict[str, object]:
    """The counts, our rate with its interval, and the published rate, as display columns."""
    label = model.MEASURES[measure]["label"]
    return {
        numerator: _whole(data["numerator"]),
        denominator: _whole(data["denominator"]),
        f"{label} (%)": _one_place(data["rate"]),
        "95% CI low (%)": _one_place(data["ci95_low"]),
        "95% CI high (%)": _one_place(data["ci95_high"]),
        "Published (%)": floats(data["published_rate"]),
    }


#: A table's column saying, in a word or two, why a figure of the row is blank: the value
#: itself (the Note spells it out), or a count or the published percentage beside a value
#: made without it. Next to the row's name, so it is seen without scrolling to the Note.
WHY = "Why a figure is blank"


def _why(data: Columns, value: str) -> np.ndarray:
    """Why a figure of each row is blank: without ``value``, its note's reason (or "no
    data"); with one, the count or published percentage it was made without; else ""."""
    empty = _isna(data[value])
    notes = (objects(data["note"]) if "note" in data
             else np.full(n_rows(data), "", dtype=object))
    out = np.array([(n if isinstance(n, str) and n else missing.NO_DATA) if e else ""
                    for e, n in zip(empty.tolist(), notes.tolist(), strict=True)], dtype=object)
    # A rate from rounding's range (a count suppressed): the counts are what is missing.
    no_count = np.zeros(n_rows(data), dtype=bool)
    for col in ("numerator", "denominator"):
        if col in data:
            no_count |= _isna(data[col])
    out[no_count & ~empty] = missing.COUNT_SUPPRESSED
    if "published_rate" in data:  # ours from the counts; the file gave no percentage
        unpublished = _isna(data["published_rate"]) & ~empty & ~no_count
        out[unpublished] = missing.NO_PUBLISHED_RATE
    return out


def _isna(values: object) -> np.ndarray:
    """Where a column (NumPy, pandas array or Series) has no value."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return np.isnan(values)
    return np.asarray(pd.isna(values), dtype=bool)


def _published_if_any(columns: dict[str, object]) -> dict[str, object]:
    """Without the "Published (%)" column when it holds nothing (NHS England publishes no
    rolling four-quarter rate): a column of blanks would only say "missing"."""
    published = columns.get("Published (%)")
    if published is not None and np.isnan(np.asarray(published, dtype=float)).all():
        return {k: v for k, v in columns.items() if k != "Published (%)"}
    return columns


def trend_table(trend_data: Columns, measure: str = "recovery", main: int = 0) -> pa.Table:
    """The trend as a person reads it: one row per series and quarter, gaps explained; the
    ``main``-th series (the headline's: BAME on an ICB view whose lines start with the whole
    population) first."""
    t = trend_data
    if main and n_rows(t):
        order = np.argsort(floats(t["series_order"]) != main, kind="stable")
        t = t.iloc[order] if isinstance(t, pd.DataFrame) else take_columns(dict(t), order)
    figures = _published_if_any(_counts_and_rates(
        t, measure, *model.count_labels(measure)))
    # The answer first (the rate, its interval, NHS England's own figure), then why a
    # figure is blank and the counts: at 1400 px the rate was behind a sideways scroll
    # (a helper's browser review), as on Compare ICBs before.
    first = [k for k in figures if k.endswith("(%)")]
    return _table({
        "Period": for_arrow(t["period"]),
        "Area": for_arrow(t["area_name"]),
        "Population": for_arrow(t["group_label"]),
        **{k: figures[k] for k in first},
        WHY: _why(t if "Published (%)" in figures else
                  {c: t[c] for c in t if c != "published_rate"}, "rate"),
        **{k: v for k, v in figures.items() if k not in first},
        **verdicts.rounding_columns(t),  # issue 11: range under rounding
        "Note": missing.explain(t["note"]),
        **_provenance(t),
        **_approximate(t, None),  # the note already says what moved
    })


def headline(trend_data: Columns, measure: str = "recovery", rolling: bool = False,
             main: int = 0, per_year: int = 4) -> dict:
    """Latest value of one series (the ``main``-th; the first by default), its change on a
    year earlier (``per_year`` periods back: 4 quarters, or 1 financial year), and the
    target verdict."""
    if not n_rows(trend_data):
        return {}
    p = _points(trend_data)
    first = np.flatnonzero(p["series_order"] == main)
    have = first[~np.isnan(p["rate"][first])]
    if not len(have):
        return {}
    last = have[-1]
    pos = int(np.flatnonzero(first == last)[0])
    earlier = first[pos - per_year] if pos >= per_year else None
    rate, low, high = p["rate"], p["ci95_low"], p["ci95_high"]
    change = delta = None
    if earlier is not None and not np.isnan(rate[earlier]):
        change = fmt_pct(rate[earlier])
        delta = f"{rate[last] - rate[earlier]:+.1f} points"
    verdict = stats.compare_with_target(low[last] / 100, high[last] / 100)
    return {
        "label": model.MEASURES[measure]["label"],
        "period": ("four quarters to " if rolling else "") + p["period"][last],
        "value": fmt_pct(rate[last]),
        "interval": f"95% confidence interval {fmt_pct(low[last])} to "
        f"{fmt_pct(high[last])}; {_of(p['numerator'][last], p['denominator'][last])}.",
        "change": change,
        "earlier_period": None if earlier is None else p["period"][earlier],
        "delta": delta,
        "verdict": verdict.capitalize() if measure == "recovery" else "Not applicable",
    }


#: The "Highlighted ICB" column's mark on the chosen area's row (an arrow and words, not a
#: colour).
HIGHLIGHTED = "▶ yes"


def compare_table(table: pd.DataFrame, measure: str = "recovery",
                  highlight: str | None = None) -> pa.Table:
    """The compare-areas table in words (the comparison bands are words, not colours), in
    the order of ``table``; with ``highlight`` (an area code in the table) a leading
    "Highlighted ICB" column marks that row."""
    marked = {}
    codes = objects(table["area_code"]) if "area_code" in table else None
    if highlight is not None and codes is not None and (codes == highlight).any():
        marked = {"Highlighted ICB": np.where(codes == highlight, HIGHLIGHTED, "").astype(object)}
    figures = _counts_and_rates(table, measure, *model.count_labels(measure))
    # The rate and its interval (ours, not NHS England's published percentage).
    rates = [k for k in figures if k.endswith("(%)") and not k.startswith("Published")]
    # The answer first (the rate, the verdicts), then where the ICB is and its counts: at
    # 1400 px the rate and the verdicts were behind a sideways scroll (review, 2026-11-28).
    return _table({
        **marked,
        "ICB": for_arrow(table["area"]),
        **{k: figures[k] for k in rates},
        "Compared with England": verdicts._text(objects(table["vs_england"])),
        "Against the 50% target": (verdicts._text(objects(table["vs_target"]))
                                   if measure == "recovery"
                                   else np.full(n_rows(table), "n/a", dtype=object)),
        "Region": for_arrow(table["region"]),
        **{k: v for k, v in figures.items() if k not in rates},
        **verdicts.compare_columns(table),  # issue 11: both verdicts, trend, rounding
        **_provenance(table),
        **_approximate(table),
    })


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


#: How the text alternative says the rows are ordered (keys of ``verdicts.SORT_KEYS``).
_ORDER_WORDS = {"rate": "Listed from the highest rate to the lowest.",
                "name": "Listed by name.",
                "size": "Listed by size, the largest number finishing treatment first."}


def describe_compare(table: pd.DataFrame, england: pd.Series | None, period: str,
                     group: str, measure: str = "recovery", *, highlight: str | None = None,
                     highlight_name: str | None = None, region: str | None = None,
                     total: int | None = None, sort: str | None = "rate",
                     adjusted: bool = False) -> str:
    """The text alternative of the ranking and the funnel plot: the spread, the bands, the
    chosen area (``highlight``, a code; ``highlight_name`` names it where it is not shown),
    the region shown (``region``, a name, of ``total`` ICBs in England), the order (none
    with ``sort`` None: the funnel plot) and which areas have no rate and why; ``adjusted``:
    the verdicts allow for overdispersion."""
    label = model.MEASURES[measure]["label"].lower()
    rate = floats(table["rate"])
    have = np.flatnonzero(~np.isnan(rate))
    where = f" in the {region} region" if region else ""
    if not len(have):
        return f"No ICB{where} has a {label} for {model.group_label(group)} in {period}."
    area = objects(table["area"])
    ranked = have[np.argsort(-rate[have], kind="stable")]
    best, worst = ranked[0], ranked[-1]
    counts = Counter(objects(table["vs_england"])[have].tolist()).most_common()
    eng = f" England: {fmt_pct(england['rate'])}." if england is not None else ""
    bands = ", ".join(f"{n} {band}" for band, n in counts)
    of = f" (of {total} in England)" if region and total else ""
    text = (
        f"{label.capitalize()} for {model.group_label(group)} in {period} across {len(have)} "
        f"ICBs{where}{of}.{eng} "
        f"Highest {area[best]} {fmt_pct(rate[best])}, lowest {area[worst]} "
        f"{fmt_pct(rate[worst])}. Compared with England at 95% and 99.8%"
        + (", with limits widened for the variation between ICBs beyond chance "
           "(overdispersion)" if adjusted else " by confidence intervals") + f": {bands}."
    )
    if region:
        text += (" Each ICB is compared with England, not with the region: the verdicts are "
                 "the same as on the all-England view.")
    if measure == "recovery":
        target = objects(table["vs_target"])[have]
        meets, below = int((target == "meets the target").sum()), int((target == "below the target").sum())
        unsure = len(have) - meets - below
        text += (f" Against the 50% target: {meets} meet it with confidence, {below} are "
                 f"below it with confidence" + (f", and for {unsure} the interval spans 50%"
                                                if unsure else "") + ".")
    if highlight:
        text += " " + _highlighted(table, highlight, highlight_name, rate, ranked, where, measure)
    missing = verdicts.no_rate_words(table)
    gone = np.flatnonzero(missing != "")
    if len(gone):
        listed = "; ".join(f"{area[i]} ({missing[i]})" for i in gone)
        text += (f" {len(gone)} ICB{'s have' if len(gone) > 1 else ' has'} no rate: "
                 f"{listed}.")
    # No order for the funnel plot (``sort`` None): it places ICBs by size and rate.
    return f"{text} {_ORDER_WORDS.get(sort, '')}".rstrip()


def _highlighted(table: pd.DataFrame, code: str, name: str | None, rate: np.ndarray,
           ranked: np.ndarray, where: str, measure: str) -> str:
    """The sentence about the chosen area, wherever it is in the table (or not in it)."""
    hit = np.flatnonzero(objects(table["area_code"]) == code)
    if not len(hit):
        named = f", {name}," if name else ""
        return f"The highlighted ICB{named} is not{where or ' shown'}."
    i = hit[0]
    who = f"The highlighted ICB, {objects(table['area'])[i]}"
    if np.isnan(rate[i]):
        return f"{who}: no rate ({verdicts.no_rate_words(table)[i]})."
    place = int(np.flatnonzero(ranked == i)[0]) + 1
    text = (f"{who}: {fmt_pct(rate[i])}, {_ordinal(place)} highest of {len(ranked)}; "
            f"compared with England: {objects(table['vs_england'])[i]}")
    if measure == "recovery":
        text += f"; against the 50% target: {objects(table['vs_target'])[i]}"
    return text + "."


def gap_table(gap: Columns) -> pa.Table:
    """The gap over time as a person reads it."""
    if not n_rows(gap):
        return _table({})
    return _table({
        "Period": objects(gap["period"]),
        WHY: _why(gap, "gap"),
        # One decimal place, as every other table and the headline show them (the CSV
        # keeps full precision).
        "BAME (%)": _one_place(gap["rate_a"]),
        "White British (%)": _one_place(gap["rate_b"]),
        "Difference (points)": _one_place(gap["gap"]),
        "95% CI low": _one_place(gap["gap_low"]),
        "95% CI high": _one_place(gap["gap_high"]),
        "Significance": objects(gap["significant"]),
        **({"Note": missing.explain(gap["note"])} if "note" in gap else {}),
        **_provenance(gap, "gap"),
        **_approximate(gap),
    })


def groups_table(groups: Columns, measure: str = "recovery") -> pa.Table:
    """Rates by ethnic group as a person reads them, in the chart's order, each row with the
    classification it belongs to (the chart's block: "Not stated" is in two)."""
    numerator, denominator = model.count_labels(measure)
    columns = {"classification": "Classification", "group_label": "Group",
               "numerator": numerator, "denominator": denominator, "rate": "Rate (%)",
               "ci95_low": "95% CI low", "ci95_high": "95% CI high",
               "published_rate": "Published (%)", "suppressed": "Suppressed counts",
               "small_numbers": "Fewer than 30 people"}
    out = {}
    for source, name in columns.items():
        values = groups[source]
        values = values if isinstance(values, np.ndarray) else values.to_numpy()
        out[name] = values.round(1) if values.dtype.kind == "f" else values
        if source == "group_label":
            out[WHY] = _why(groups, "rate")
    return _table({**out, **verdicts.rounding_columns(groups, note=True),  # issue 11
                   **_provenance(groups)})


def describe_groups(groups: Columns, area: str, period: str) -> str:
    """A text alternative for the rates-by-group chart: each classification's block named
    once with its groups after it, as the chart heads them."""
    if not n_rows(groups):
        return f"Rates by ethnic group in {area}, {period}: no data."
    notes = (missing.explain(objects(groups["note"])) if "note" in groups
             else [""] * n_rows(groups))
    labels, rates = objects(groups["group_label"]), floats(groups["rate"])
    shown = [f"{fmt_pct(r) if pd.notna(r) else n or 'no data'}"
             for r, n in zip(rates.tolist(), notes, strict=True)]
    parts = []
    for title, first, stop in model.classification_blocks(
            objects(groups["classification"]).tolist()):
        rows = [shown[i] if labels[i] == title else f"{labels[i]} {shown[i]}"
                for i in range(first, stop)]
        parts.append(f"{title}: {'; '.join(rows)}.")
    return f"Rates by ethnic group in {area}, {period}. " + " ".join(parts)
