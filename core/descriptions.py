"""What a person reads in words beside each chart: the text alternatives (what a sighted
reader takes from the chart, for a screen reader or a quotation) and the headline's figures.

Kept apart from the display tables (``core.tables``) and from the questions themselves
(``core.explore``), so wording can change without touching either.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from core import missing, model, periods, stats, verdicts
from core.columns import floats, n_rows, objects
from core.tables import Columns


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
        # The target is for the recovery rate: another measure gets no verdict against it,
        # as its headline says ("not applicable"; a helper's review found the two disagree).
        verdict = (", " + stats.compare_with_target(p["ci95_low"][last] / 100,
                                                    p["ci95_high"][last] / 100)
                   if measure == "recovery" else "")
        sentences.append(
            f"{series}: {label} {fmt_pct(rate[last])} in {period[last]} "
            f"(95% confidence interval {fmt_pct(p['ci95_low'][last])} to "
            f"{fmt_pct(p['ci95_high'][last])}; "
            f"{_of(p['numerator'][last], p['denominator'][last])}){verdict}. "
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
    # 47.66% against 51.83% is a gap of 4.2 points, shown as 47.7% against 51.8%: say the
    # difference comes from the rates before rounding, or a reader's subtraction disagrees.
    shown = float(f"{last['rate_a']:.1f}") - float(f"{last['rate_b']:.1f}")
    unrounded = ("" if f"{shown:.1f}" == f"{last['gap']:.1f}"
                 else ", the difference taken before rounding")
    return (
        f"In {last['period']}, the {label} for {last['group_a']} in {area} was "
        f"{abs(last['gap']):.1f} percentage points {direction} than for {last['group_b']} "
        f"({fmt_pct(last['rate_a'])} against {fmt_pct(last['rate_b'])}{unrounded}; 95% "
        "interval for the "
        f"difference {_minus(last['gap_low'])} to {_minus(last['gap_high'])} points, "
        f"{last['significant']}). Across {len(have)} periods the gap was significant in "
        f"{significant}."
    )


def _minus(value: float) -> str:
    """One decimal place with a true minus sign, as the headline writes a gap."""
    return f"{value:.1f}".replace("-", "\u2212")


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
        text += (f" Against the 50% target: {meets} {'meets' if meets == 1 else 'meet'} it "
                 f"with confidence, {below} {'is' if below == 1 else 'are'} below it with "
                 "confidence" + (f", and for {unsure} the interval spans 50%" if unsure else "")
                 + ".")
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
