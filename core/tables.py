"""What a person reads beside each chart as a table: the display tables, made from what
``core.explore`` answers (the same in words: ``core.descriptions``).

Kept apart from the questions themselves so that wording and layout can change (statistics
columns, provenance, period labels) without touching how the store is searched.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from core import missing, model, names, verdicts
from core.columns import flags, floats, for_arrow, n_rows, objects, take_columns

#: A frame, or its columns as arrays by name (what a view holds before it makes its frame).
Columns = pd.DataFrame | Mapping[str, object]


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
    # The answer first (the rate and its interval, beside the period), then whose it is,
    # NHS England's own figure, why a figure is blank and the counts: at 1400 px the rate
    # was behind a sideways scroll, and at 390 px behind the area's name (helpers' reviews).
    first = [k for k in figures if k.endswith("(%)") and not k.startswith("Published")]
    published = [k for k in figures if k.startswith("Published")]
    # With more than one line, each row's line by what tells it from the others, before the
    # rate: at 390 px two rows of one year could not be told apart without scrolling
    # sideways to the area and the population (review, 2026-11-28).
    legend = names.distinguishing_names(t) if n_rows(t) else []
    return _table({
        "Period": for_arrow(t["period"]),
        **({"Series": np.array(legend, dtype=object)} if len(set(legend)) > 1 else {}),
        **{k: figures[k] for k in first},
        "Population": for_arrow(t["group_label"]),
        "Area": for_arrow(t["area_name"]),
        **{k: figures[k] for k in published},
        WHY: _why(t if "Published (%)" in figures else
                  {c: t[c] for c in t if c != "published_rate"}, "rate"),
        **{k: v for k, v in figures.items() if k not in first and k not in published},
        **verdicts.rounding_columns(t),  # issue 11: range under rounding
        "Note": missing.explain(t["note"]),
        **_provenance(t),
        **_approximate(t, None),  # the note already says what moved
    })


#: The mark before the chosen area's name in the compare table (a symbol and the column's
#: name in words, not a colour).
HIGHLIGHTED = "▶ "
#: The name column's header when an ICB is marked: it says what the mark means.
HIGHLIGHTED_ICB = "ICB (▶ highlighted)"


def compare_table(table: pd.DataFrame, measure: str = "recovery",
                  highlight: str | None = None) -> pa.Table:
    """The compare-areas table in words (the comparison bands are words, not colours), in
    the order of ``table``; with ``highlight`` (an area code in the table) that row's name
    starts with ``HIGHLIGHTED`` and the column is headed ``HIGHLIGHTED_ICB``. The mark is in
    the name, not a column of its own: at 390 px a leading, mostly empty "Highlighted ICB"
    column cut every name and pushed the rate off the screen (review, 2026-11-28)."""
    icbs, name_header = table["area"], "ICB"
    codes = objects(table["area_code"]) if "area_code" in table else None
    if highlight is not None and codes is not None and (codes == highlight).any():
        icbs = objects(icbs).copy()
        chosen = codes == highlight
        icbs[chosen] = [HIGHLIGHTED + str(n) for n in icbs[chosen]]
        name_header = HIGHLIGHTED_ICB
    figures = _counts_and_rates(table, measure, *model.count_labels(measure))
    # The rate and its interval (ours, not NHS England's published percentage).
    rates = [k for k in figures if k.endswith("(%)") and not k.startswith("Published")]
    # The answer first (the rate, the verdicts), then where the ICB is and its counts: at
    # 1400 px the rate and the verdicts were behind a sideways scroll (review, 2026-11-28).
    return _table({
        name_header: for_arrow(icbs),
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


