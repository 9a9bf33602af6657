"""Statistics for proportions, as OHID Fingertips and ``PHEindicatormethods`` do them.

Every function is vectorised (scalars, numpy arrays or pandas Series in, the same shape out)
and returns NaN, never 0, where there is no denominator: "no data" must never read as 0%.
Rates are fractions here (0–1); the frame-level helpers at the end give percentages because
that is what people read.

Sources, in plain words: the Wilson score interval (Wilson 1927), the one- and two-level
comparisons and funnel limits of OHID Fingertips' technical guidance and the
``PHEindicatormethods`` R package, and Newcombe's hybrid score interval for a difference of
two proportions (Newcombe 1998, method 10) -- all in ``../shared/reference/methods.md``.
Beside this module:

- ``core.overdispersion``: Spiegelhalter's (2005) adjustment when areas differ by more than
  chance (phi, tau^2, adjusted funnel limits and five bands), and how many areas fall outside
  the limits by chance alone;
- ``core.trend_tests``: the chi-squared test for trend Fingertips uses for "recent trend",
  whether a gap between two groups is widening, and change on a year ago (Newcombe);
- ``core.rounding``: rates from counts rounded to 5 and suppressed under 5 (range, flags,
  reasons).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import model

Z95 = 1.959964
Z998 = 3.090232
Z_BY_LEVEL = {0.95: Z95, 0.998: Z998}
#: Denominators below this are flagged: the rate is shown but marked as unreliable.
SMALL_DENOMINATOR = 30


def _arr(x) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return np.atleast_1d(x)  # already numbers: skip pandas' conversion (never written to)
    if isinstance(x, (float, int, np.floating, np.integer)) and not isinstance(x, bool):
        return np.array([x], dtype=float)  # one number (a change between two periods)
    return np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(x)), errors="coerce"), dtype=float)


def _like(template, values: np.ndarray):
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index)
    if np.ndim(template) == 0:
        return float(values[0])
    return values


def proportion(numerator, denominator):
    """O/n; NaN where n is zero, negative or missing."""
    o, n = _arr(numerator), _arr(denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, o / n, np.nan)
    return _like(numerator, p)


def wilson_interval(numerator, denominator, confidence: float = 0.95):
    """Wilson score interval for O events out of n (Fingertips' ``phe_proportion``).

    Returns ``(lower, upper)`` as fractions. ``confidence`` is 0.95 or 0.998, the two levels
    the reference tools use; any other level is computed from the normal quantile.
    """
    z = _z(confidence)
    o, n = _arr(numerator), _arr(denominator)
    valid = (n > 0) & np.isfinite(o) & (o >= 0)
    o = np.where(valid, np.minimum(o, n), np.nan)
    n = np.where(valid, n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 1 - o / n
        root = z * np.sqrt(z**2 + 4 * o * q)
        lower = (2 * o + z**2 - root) / (2 * (n + z**2))
        upper = (2 * o + z**2 + root) / (2 * (n + z**2))
    # At O = 0 and O = n the limits are exactly 0 and 1; floating point can miss by 1e-16.
    lower = np.where(o == 0, 0.0, np.clip(lower, 0, 1))
    upper = np.where(o == n, 1.0, np.clip(upper, 0, 1))
    return _like(numerator, lower), _like(numerator, upper)


def _z(confidence: float) -> float:
    if confidence in Z_BY_LEVEL:
        return Z_BY_LEVEL[confidence]
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def compare_with_benchmark(lower, upper, benchmark, higher_is_better: bool = True):
    """One-level comparison: 'similar' if the benchmark lies in [lower, upper].

    The benchmark's own interval is ignored, as in Fingertips. Returns 'better', 'worse',
    'similar' or 'no data' (strings, so a table can show them as words, not colours).
    """
    lo, hi, b = _arr(lower), _arr(upper), _arr(benchmark) * np.ones_like(_arr(lower))
    above, below = lo > b, hi < b
    if not higher_is_better:
        above, below = below, above
    out = np.where(
        np.isnan(lo) | np.isnan(hi) | np.isnan(b),
        "no data",
        np.where(above, "better", np.where(below, "worse", "similar")),
    )
    return _like_obj(lower, out)


def compare_two_levels(numerator, denominator, benchmark, higher_is_better: bool = True):
    """Five bands from the 95% and 99.8% intervals, as Fingertips' two-level comparison."""
    l95, u95 = wilson_interval(numerator, denominator, 0.95)
    l998, u998 = wilson_interval(numerator, denominator, 0.998)
    c95 = np.asarray(compare_with_benchmark(l95, u95, benchmark, higher_is_better), dtype=object)
    c998 = np.asarray(compare_with_benchmark(l998, u998, benchmark, higher_is_better), dtype=object)
    c95, c998 = np.atleast_1d(c95), np.atleast_1d(c998)
    out = np.where(
        c998 == "better", "better (99.8%)",
        np.where(c998 == "worse", "worse (99.8%)",
                 np.where(c95 == "better", "better (95%)",
                          np.where(c95 == "worse", "worse (95%)", c95))),
    )
    return _like_obj(numerator, out)


def compare_with_target(lower, upper, target: float = model.TARGET_PERCENT / 100):
    """Against a goal such as the 50% target, by the interval rule."""
    lo, hi = _arr(lower), _arr(upper)
    out = np.where(
        np.isnan(lo) | np.isnan(hi),
        "no data",
        np.where(lo >= target, "meets the target", np.where(hi < target, "below the target",
                                                            "not distinguishable from the target")),
    )
    return _like_obj(lower, out)


def _like_obj(template, values: np.ndarray):
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index, dtype=object)
    if np.ndim(template) == 0:
        return str(values[0])
    return values


def funnel_limits(baseline: float, denominator, confidence: float = 0.95):
    """Control limits ``P0 ± z·sqrt(P0(1−P0)/N)``, clipped to [0, 1]."""
    z = _z(confidence)
    n = _arr(denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(n > 0, z * np.sqrt(baseline * (1 - baseline) / n), np.nan)
    lower = np.clip(baseline - half, 0, 1)
    upper = np.clip(baseline + half, 0, 1)
    return _like(denominator, lower), _like(denominator, upper)


def newcombe_difference(o1, n1, o2, n2, confidence: float = 0.95):
    """Difference p1 − p2 of two independent proportions with Newcombe's hybrid score interval.

    The right test for the gap between two disjoint groups (BME against White British):
    comparing each with England would answer a different question. Returns
    ``(difference, lower, upper)`` as fractions.
    """
    p1, p2 = proportion(o1, n1), proportion(o2, n2)
    l1, u1 = wilson_interval(o1, n1, confidence)
    l2, u2 = wilson_interval(o2, n2, confidence)
    d, lower, upper = difference_from_intervals(p1, l1, u1, p2, l2, u2)
    return _like(o1, d), _like(o1, lower), _like(o1, upper)


def difference_from_intervals(p1, l1, u1, p2, l2, u2):
    """Newcombe's combination of two proportions' intervals into one for ``p1 − p2`` (his
    method 10 with Wilson intervals; ``newcombe_difference``). Given wider intervals, such as
    a rate known only as a range whose interval covers both ends (``core.rounding``), it gives
    a difference whose interval is widened to match."""
    p1, l1, u1, p2, l2, u2 = (np.asarray(_arr(v), dtype=float) for v in (p1, l1, u1, p2, l2, u2))
    d = p1 - p2
    return (d, d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


# --------------------------------------------------------------------------------------------
# Frame-level helpers over the tidy model


def _numbers(column: pd.Series) -> np.ndarray:
    """A count column as floats, NaN where missing or not a number."""
    try:
        return column.to_numpy("float64", na_value=np.nan)
    except (TypeError, ValueError):
        return pd.to_numeric(column, errors="coerce").to_numpy("float64", na_value=np.nan)


def rate_columns(num: np.ndarray, den: np.ndarray) -> dict[str, np.ndarray]:
    """Numerator, denominator, rate and 95%/99.8% Wilson limits, as percentages.

    No rate and no interval where the numerator exceeds the denominator (rounded counts can
    give 15 recovered of 10): a rate above 100%, outside its own interval, is never shown.
    ``core.rounding.assess`` says why, with the range under rounding.
    """
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    usable = np.where(num > den, np.nan, num)
    new = {"numerator": num, "denominator": den, "rate": proportion(usable, den) * 100}
    for conf, suffix in ((0.95, "95"), (0.998, "998")):
        lo, hi = wilson_interval(usable, den, conf)
        new[f"ci{suffix}_low"] = lo * 100
        new[f"ci{suffix}_high"] = hi * 100
    return new


def add_rates(frame: pd.DataFrame, measure: str = "recovery") -> pd.DataFrame:
    """Add numerator, denominator, rate and 95%/99.8% intervals (percentages) for a measure.

    The denominator is those who could recover: finished a course of treatment minus not at
    caseness at the start.
    """
    spec = model.MEASURES[measure]
    num = _numbers(frame[spec["numerator"]])
    den = _numbers(frame["finished"]) - _numbers(frame["not_at_caseness"])
    new = rate_columns(num, den)
    new["published_rate"] = (frame[spec["published"]].to_numpy("float64", na_value=np.nan)
                             if spec["published"] in frame else np.nan)
    new["small_numbers"] = den < SMALL_DENOMINATOR
    # One concatenation, not a copy and ten insertions: this runs on every new view.
    added = pd.DataFrame(new, index=frame.index)
    again = [c for c in added.columns if c in frame.columns]
    return pd.concat([frame.drop(columns=again) if again else frame, added], axis=1)


def combine(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum counts within groups (areas, population groups or periods): rates are then computed
    from the sums, never by averaging rates.

    Never a partial sum: a count is null in the total if it is missing (suppressed or absent)
    in any part, because summing the parts that are there understates the total and, for a
    denominator, inflates the rate. As the three counts of the recovery rate (finished, not
    at caseness, recovered) only make sense together, all three are null when any is, and
    reliable recovery is null when its own count or the denominator is incomplete.
    ``missing_parts`` counts the parts with a missing count and ``note`` says why a total has
    no data, for the table note.
    """
    counts = list(model.COUNT_COLUMNS)
    missing = frame[counts].isna()
    keyed = frame[by].assign(**{f"_miss_{c}": missing[c] for c in counts},
                             _any=missing.any(axis=1))
    g = frame.groupby(by, dropna=False, sort=True)
    sums = g[counts].sum(min_count=1)
    gm = keyed.groupby(by, dropna=False, sort=True)
    miss = {c: gm[f"_miss_{c}"].any() for c in counts}
    rate_parts = miss[counts[0]] | miss[counts[1]] | miss[counts[2]]
    denominator_parts = miss[counts[0]] | miss[counts[1]]
    for c in counts[:3]:
        sums.loc[rate_parts, c] = pd.NA
    sums.loc[miss[counts[3]] | denominator_parts, counts[3]] = pd.NA
    incomplete = rate_parts | miss[counts[3]]
    sums["suppressed"] = g["suppressed"].any() | incomplete
    sums["parts"] = g.size()
    sums["missing_parts"] = gm["_any"].sum().astype(int)
    sums["note"] = [
        f"No data: {m} of {n} parts suppressed or missing; a partial sum would be wrong."
        if m else "" for m, n in zip(sums["missing_parts"], sums["parts"], strict=True)]
    return sums.reset_index()


def quarter_number(starts) -> np.ndarray:
    """Consecutive integers for consecutive quarters, from their start dates."""
    return np.array([d.year * 4 + (d.month - 1) // 3 for d in starts], dtype=int)


def window_sums(series: np.ndarray, quarter: np.ndarray, counts: dict[str, np.ndarray],
                suppressed: np.ndarray, window: int = 4
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Counts summed over each ``window`` consecutive quarters, for rows sorted by series and
    then quarter. A sum is NaN unless all ``window`` quarters are there with a count; a row is
    suppressed if any quarter in its (possibly shorter, at a series' start) window was.

    Rows are contiguous per series and in time order, so a window is a slice, and sums come
    from cumulative sums with no per-series loop.
    """
    n, w = len(quarter), window
    rows = np.arange(n)
    back = np.clip(rows - (w - 1), 0, None)
    # A window is complete when the quarter window-1 rows back is in the same series and
    # exactly window-1 quarters earlier.
    complete = (rows >= w - 1) & (series[back] == series) & (quarter - quarter[back] == w - 1)
    sums = {}
    for c, vals in counts.items():
        missing = np.isnan(vals)
        total = np.concatenate([[0.0], np.cumsum(np.where(missing, 0.0, vals))])
        gaps = np.concatenate([[0], np.cumsum(missing)])
        ok = complete & (gaps[rows + 1] - gaps[back] == 0)
        sums[c] = np.round(np.where(ok, total[rows + 1] - total[back], np.nan))
    first = np.r_[0, np.flatnonzero(np.diff(series)) + 1] if n else np.array([], dtype=int)
    start = np.maximum(back, np.repeat(first, np.diff(np.r_[first, n])))
    supp = np.concatenate([[0], np.cumsum(suppressed.astype(int))])
    return sums, (supp[rows + 1] - supp[start]) > 0


def rolling_quarters(frame: pd.DataFrame, window: int = 4, relabel: bool = True) -> pd.DataFrame:
    """Counts summed over each run of ``window`` consecutive quarters, for every series.

    A window that spans an unpublished or missing quarter (Q2 2020/21) has no value: summing
    three quarters and calling it a year would understate the volume and shift the rate.
    The result keeps the last quarter's ``period`` label, prefixed ``4 quarters to`` unless
    ``relabel`` is False (a chart over quarters keeps its x axis).
    """
    q = frame[frame["period_type"] == "quarter"].copy()
    counts = list(model.COUNT_COLUMNS)
    if q.empty:
        return q
    keys = ["level", "area_code", "breakdown", "group"]
    q["_i"] = quarter_number(q["period_start"])
    q = q.sort_values([*keys, "_i"]).reset_index(drop=True)
    out = q.copy()
    flags = [f for f in ("synthetic", "derived") if f in q]
    sums, suppressed = window_sums(
        q.groupby(keys, sort=False).ngroup().to_numpy(), q["_i"].to_numpy(),
        {c: q[c].to_numpy("float64", na_value=np.nan) for c in counts}
        | {f: q[f].to_numpy(dtype=float, na_value=0) for f in flags},
        q["suppressed"].to_numpy(dtype=bool, na_value=False), window)
    for c in counts:
        out[c] = model.whole_numbers(sums[c])
    # A window holding a synthetic or derived quarter is synthetic or derived (where the
    # window is incomplete it has no counts, and keeps its last quarter's flag).
    for f in flags:
        out[f] = np.where(np.isnan(sums[f]), q[f].to_numpy(dtype=bool), sums[f] > 0)
    out["suppressed"] = suppressed
    if relabel:
        out["period"] = f"{window} quarters to " + q["period"]
    out["published_recovery"] = np.nan
    out["published_reliable"] = np.nan
    return out.drop(columns="_i")
