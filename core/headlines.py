"""What a series' headline says: its recent trend, its change on a year ago, and the gap
between two groups, each as the figures and the sentence a page shows.

``core.trend_tests`` computes (Fingertips' recent-trend test, the change between two periods,
the weighted trend of a gap); this module picks the points a page's question is about and
puts the answers in words, with the figures rounded as published tables round them
(``core.verdicts.pct``), so that a reader can check a stated change against the shown rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import missing, rounding, trend_tests
from core.columns import floats, n_rows, objects, texts
from core.verdicts import pct

# --- Recent trend --------------------------------------------------------------------------


def trend_words(trend: trend_tests.Trend) -> str:
    """"↑ increasing", "→ no significant change", "could not be calculated"."""
    return f"{trend.arrow} {trend.verdict}".strip()


def _series(data: pd.DataFrame | dict, order: int) -> dict[str, np.ndarray]:
    """One series of a trend (a frame, or its arrays by name) as arrays (rate, numerator,
    denominator, period): only the columns read, not a filtered copy of the frame."""
    mine = np.asarray(data["series_order"]) == order
    out = {**{c: floats(data[c])[mine] for c in ("rate", "numerator", "denominator")},
           "period": objects(data["period"])[mine]}
    if "status" in data and "finished" in data:  # rates shown from a range: their midpoint
        out["denominator"] = rounding.midpoint_denominator(
            out["denominator"], floats(data["finished"])[mine],
            objects(data["status"])[mine] == rounding.STATUS_RANGE)
    return out


def _unusual_periods(data: pd.DataFrame | dict, order: int) -> set[str]:
    """The periods of one series whose figure is unusual (``core.unusual``)."""
    if "unusual" not in data:
        return set()
    mine = np.asarray(data["series_order"]) == order
    facts = objects(data["unusual"])[mine]
    return {str(p) for p, f in zip(objects(data["period"])[mine], facts, strict=True) if f}


def _series_tail(data: pd.DataFrame, order: int, points: int) -> tuple[np.ndarray, np.ndarray, list]:
    """The last ``points`` rows of one series of a trend frame (consecutive periods, gaps
    present as rows), ending at its last period with a rate."""
    rows = _series(data, order)
    have = np.flatnonzero(np.isfinite(rows["rate"]))
    if not len(have):
        return np.array([]), np.array([]), []
    tail = slice(max(0, have[-1] - points + 1), have[-1] + 1)
    return rows["numerator"][tail], rows["denominator"][tail], rows["period"][tail].tolist()


def series_trend(data: pd.DataFrame, order: int = 0,
                 points: int = trend_tests.TREND_POINTS) -> trend_tests.Trend:
    """Fingertips' recent trend of one series of a (quarterly, not rolling) trend frame: its
    last five consecutive periods up to its latest value. A gap among them (an unpublished
    quarter, a suppressed value) gives "could not be calculated", never a test across it."""
    num, den, _ = _series_tail(data, order, points)
    return trend_tests.recent_trend(num, den, points)


def area_trends(history: pd.DataFrame, measure: str, points: int = trend_tests.TREND_POINTS,
                period: str | None = None) -> dict[str, str]:
    """Area code -> recent trend in words, from every stored row of those areas (one
    population, one kind of period) up to the compared period.

    With ``period``, a series whose rows stop before it (an ICB the chosen boundaries redrew,
    with no figure since) has no recent trend: its last five points are not recent."""
    if history.empty:
        return {}
    found = trend_tests.series_trends(history, ["area_code"], measure, points)
    stale = (found["last_period"] != period).to_numpy() if period is not None else \
        np.zeros(len(found), dtype=bool)
    return {code: trend_tests.NOT_CALCULATED if old else f"{arrow} {verdict}".strip()
            for code, arrow, verdict, old in zip(found["area_code"], found["arrow"],
                                                 found["verdict"], stale, strict=True)}


def history_trends(history: dict[str, np.ndarray], period: str,
                points: int = trend_tests.TREND_POINTS) -> dict[str, str]:
    """``area_trends`` from ``Explorer.history_columns``' arrays (rows in store order):
    what a compare view adds to its table, with no frame between."""
    if not len(history["area_code"]):
        return {}
    by_time = np.argsort(history["start"], kind="stable")
    codes, areas = pd.factorize(history["area_code"][by_time])
    found = trend_tests.trends_of(
        codes, len(areas), history["kind"][by_time], history["quarter"][by_time],
        history["year"][by_time], history["numerator"][by_time],
        history["denominator"][by_time], points)
    labels = history["period"][by_time]
    return {code: trend_tests.NOT_CALCULATED if labels[last] != period
            else f"{t.arrow} {t.verdict}".strip()
            for code, t, last in zip(areas.tolist(), found["trend"], found["last"],
                                     strict=True)}


def lag_of(data: pd.DataFrame | dict) -> int:
    """Periods in a year for a trend frame: 4 for quarters ("2024/25 Q3"), 1 for years."""
    periods = texts(data["period"]) if "period" in data else []
    return 4 if any(" Q" in str(p) for p in periods) else 1


# --- Change on a year ago ------------------------------------------------------------------


def change(data: pd.DataFrame, order: int = 0, lag: int = 4) -> dict:
    """The change of one series between its latest value and ``lag`` periods before (a year
    ago: 4 quarters or 1 financial year), for ``st.metric``.

    Returns ``earlier`` (the earlier rate as shown), ``earlier_period``, ``delta`` (the
    difference of the two figures as shown, "+0.4 points"), ``delta_color`` ("normal" only
    when Newcombe's 95% interval excludes 0, else "off": a change chance explains is grey),
    ``verdict`` ("higher", "lower", "no significant change") and ``help`` (the interval in
    words). Empty when there is no latest value.
    """
    rows = _series(data, order)
    rate = rows["rate"]
    have = np.flatnonzero(np.isfinite(rate))
    if not len(have):
        return {}
    last = have[-1]
    period = rows["period"]
    if last < lag:
        return {"earlier": None, "earlier_period": None, "delta": None, "delta_color": "off",
                "verdict": "", "help": "No period a year earlier in the data."}
    before = last - lag
    if not np.isfinite(rate[before]):
        return {"earlier": None, "earlier_period": period[before], "delta": None,
                "delta_color": "off", "verdict": "",
                "help": f"No value for {period[before]}, so no change can be given."}
    num, den = rows["numerator"], rows["denominator"]
    ch = trend_tests.change_between_periods(num[last], den[last], num[before], den[before])
    if ch.verdict == "no data":  # a range (suppressed count): compare the shown figures only
        diff = trend_tests.round_half_up(rate[last], 1) - trend_tests.round_half_up(rate[before], 1)
        return {"earlier": pct(rate[before]), "earlier_period": period[before],
                "delta": f"{diff:+.1f} points", "delta_color": "off", "verdict": "not tested",
                "help": "One of the two rates is a range (a count was suppressed), so the "
                "change is not tested."}
    return {"earlier": pct(rate[before]), "earlier_period": period[before],
            "delta": f"{ch.difference:+.1f} points", "delta_color": "normal" if ch.significant
            else "off", "verdict": ch.verdict,
            "help": (f"{pct(rate[last])} in {period[last]} against {pct(rate[before])} in "
                     f"{period[before]}: {ch.verdict}. 95% interval for the change "
                     f"{ch.lower:+.1f} to {ch.upper:+.1f} points (Newcombe's hybrid score "
                     "method); coloured only when the interval excludes 0.")}


def headline_figures(shown: pd.DataFrame, quarterly: pd.DataFrame | None = None, order: int = 0
                     ) -> dict:
    """What the headline adds to ``descriptions.headline``: the latest value as published tables
    round it, the change on a year earlier (tested, neutral unless significant) and the recent
    trend in words with its arrow.

    ``shown`` is the trend as drawn (rolling sums with "rolling four quarters": two windows a
    year apart do not overlap, so Newcombe's independent-samples interval holds); the recent
    trend is tested on ``quarterly`` (the plain quarters, default ``shown``), because
    overlapping windows are not independent points.
    """
    rows = _series(shown, order)
    rate = rows["rate"]
    if not np.isfinite(rate).any():
        return {}
    lag = lag_of(shown)
    ch = change(shown, order, lag)
    trend = series_trend(shown if quarterly is None else quarterly, order)
    unit = "quarters" if lag == 4 else "years"
    last = np.flatnonzero(np.isfinite(rate))[-1]
    # The window the trend was tested on (the plain quarters' own, which may end elsewhere
    # than the rolling series shown): its first and last period name the label's span.
    window = _series_tail(shown if quarterly is None else quarterly, order,
                          trend_tests.TREND_POINTS)[2]
    span = (f"{window[0]} to {window[-1]}" if len(window) == trend_tests.TREND_POINTS
            else f"to {window[-1] if window else rows['period'][last]}")
    words = trend_words(trend)
    if trend.verdict != trend_tests.NOT_CALCULATED and len(window) > 1:
        # Its ends in figures: "decreasing" over five years can sit beside a rise in the
        # last one, and the figures say which (a reader would otherwise see a contradiction).
        tested = _series(shown if quarterly is None else quarterly, order)
        at = {p: i for i, p in enumerate(tested["period"].tolist())}
        ends = [tested["rate"][at[p]] for p in (window[0], window[-1])]
        if all(np.isfinite(ends)):
            words += f" ({pct(ends[0])} in {window[0]}, {pct(ends[1])} in {window[-1]})"
    flagged = _unusual_periods(shown, order) & set(window)
    if flagged:  # a trend through a figure not to be taken on trust says so (core.unusual)
        words += (f"; it includes {' and '.join(sorted(flagged))}, whose "
                  f"{'figure' if len(flagged) == 1 else 'figures'} changed sharply on a year "
                  "earlier (†): treat with care")
    return {
        "value": pct(rate[last]),
        "change": ch.get("earlier"), "earlier_period": ch.get("earlier_period"),
        "delta": ch.get("delta"), "delta_color": ch.get("delta_color", "off"),
        "change_verdict": ch.get("verdict", ""), "change_help": ch.get("help", ""),
        "trend": words,
        # The span in the label: a year-on-year rise beside a five-year fall must not read
        # as a contradiction.
        "trend_label": f"Trend over the {trend_tests.TREND_POINTS} {unit} {span}",
        "trend_help": (trend.describe() if trend.verdict != trend_tests.NOT_CALCULATED else
                       f"Recent trend over the last {trend_tests.TREND_POINTS} {unit} could "
                       f"not be calculated: {trend.reason}.") + " Fingertips' recent trend: "
        "the chi-squared test for trend over the last five points, at the 99.8% level.",
    }


# --- The gap between two groups ------------------------------------------------------------


def gap_trend(data: pd.DataFrame, points: int = trend_tests.TREND_POINTS) -> trend_tests.GapTrend:
    """Is the gap between series 0 and series 1 of a (quarterly, not rolling) trend frame
    widening? Weighted least squares over the last ``points`` periods up to the latest with
    both values (``trend_tests.gap_trend``)."""
    return gap_trend_of(_series(data, 0), _series(data, 1), points)


def gap_trend_of(a: dict[str, np.ndarray], b: dict[str, np.ndarray],
                 points: int = trend_tests.TREND_POINTS) -> trend_tests.GapTrend:
    """``gap_trend`` from the two series as arrays (``rate``, ``numerator``,
    ``denominator``, period by period: ``Explorer.series_counts``)."""
    if not len(a["rate"]) or not len(b["rate"]) or len(a["rate"]) != len(b["rate"]):
        return trend_tests.gap_trend([], [], [], [], points=points)
    both = np.flatnonzero(np.isfinite(a["rate"]) & np.isfinite(b["rate"]))
    if not len(both):
        return trend_tests.gap_trend([], [], [], [], points=points)
    end = both[-1] + 1
    cols = [s[c][:end] for s in (a, b) for c in ("numerator", "denominator")]
    return trend_tests.gap_trend(cols[0], cols[1], cols[2], cols[3], points=points)


def gap_trend_sentence(trend: trend_tests.GapTrend, group_a: str = "BAME",
                       group_b: str = "White British", unit: str = "quarters") -> str:
    if trend.verdict == trend_tests.NOT_CALCULATED:
        return ("Whether the gap is widening could not be calculated: "
                f"{trend.reason or 'not enough data'}.")
    arrow = {"widening": "↔", "narrowing": "→←"}.get(trend.verdict, "→")
    return (f"{arrow} Gap between {group_a} and {group_b} over the last "
            f"{trend_tests.TREND_POINTS} {unit}: {trend.verdict} "
            f"({trend.slope * 100:+.2f} points a period; weighted least-squares trend of the "
            f"gap, z = {trend.z:.1f}; a trend counts as real only where z is beyond ±3.09, the "
            "99.8% level).")




def points(value: float) -> str:
    """Percentage points with a true minus sign, as a headline shows them: "−4.2 points"."""
    return f"{trend_tests.round_half_up(float(value), 1):+.1f} points".replace("-", "\u2212")


def _signed(value: float) -> str:
    return f"{trend_tests.round_half_up(float(value), 1):.1f}".replace("-", "\u2212")


def gap_headline(gap: pd.DataFrame, period: str, trend: trend_tests.GapTrend | None = None,
                 unit: str = "quarters") -> dict:
    """The BAME − White British gap in ``period`` for the headline, in words.

    ``gap`` is ``Explorer.gap``'s frame (points, Newcombe's 95% interval, ``note`` saying why
    a period has none); ``trend`` whether the gap is widening (``gap_trend``). Returns
    ``label``, ``value`` ("−4.2 points" or "no data"), ``verdict`` (significant or not, and
    which way, or why there is no gap), ``interval``, ``trend`` (widening, narrowing, no
    significant change, could not be calculated) and ``help`` (the methods in a sentence).
    """
    n = n_rows(gap)
    a = str(objects(gap["group_a"])[0]) if n else "BAME"
    b = str(objects(gap["group_b"])[0]) if n else "White British"
    short_a = "BAME" if a.endswith("(BAME)") else a
    out = {"label": f"{short_a} − {b}, {period}", "value": "no data", "interval": "",
           "significant": None}
    # The period's row by position: filtering the frame would copy every column.
    hit = np.flatnonzero(objects(gap["period"]) == period) if n else []
    i = int(hit[0]) if len(hit) else None
    gaps = floats(gap["gap"]) if n else np.array([])
    value = float(gaps[i]) if i is not None else np.nan
    if not np.isfinite(value):
        note = objects(gap["note"])[i] if i is not None and "note" in gap else None
        why = str(note) if note is not None and not pd.isna(note) and note else missing.NO_DATA
        why = str(missing.explain([why.replace(a, short_a)])[0])
        out["verdict"] = f"No gap for {period}: {why}"
    else:
        low, high = float(floats(gap["gap_low"])[i]), float(floats(gap["gap_high"])[i])
        significant = high < 0 or low > 0
        way = "lower" if value < 0 else "higher"
        out.update(
            value=points(value), significant=significant,
            interval=f"95% interval {_signed(low)} to {_signed(high)} points",
            verdict=(f"Significant: the {short_a} rate is {way} than the {b} rate"
                     if significant else
                     f"Not significant: chance could explain the difference between {short_a} "
                     f"and {b}"))
    out["trend"] = trend_tests.NOT_CALCULATED if trend is None else trend.verdict
    out["trend_reason"] = (f" ({trend.reason})" if trend is not None and trend.reason
                           and trend.verdict == trend_tests.NOT_CALCULATED else "")
    have = objects(gap["period"])[~np.isnan(gaps)] if n else []
    to = f" to {have[-1]}" if len(have) else ""
    out["trend_when"] = f"Over the {trend_tests.TREND_POINTS} {unit}{to}"
    out["trend_words"] = f"{out['trend_when']}: {out['trend']}{out['trend_reason']}"
    out["help"] = (f"{short_a} rate minus {b} rate, in percentage points. The 95% interval is "
                   "Newcombe's method for the difference between two independent proportions; "
                   "significant when it excludes 0. Widening or narrowing: weighted "
                   "least-squares trend of the gap over the last "
                   f"{trend_tests.TREND_POINTS} {unit}, at the 99.8% level.")
    return out


__all__ = [
    "trend_words", "series_trend", "area_trends", "history_trends", "lag_of", "change", "headline_figures", "gap_trend", "gap_trend_of", "gap_trend_sentence", "points", "gap_headline",
]
