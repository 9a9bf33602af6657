"""Is a rate changing? Recent trend, a widening gap, and change on a year ago.

Each answer is a verdict in words, from a stated test at a stated level, so that a fall from
50.9% to 50.7% is not shown as "getting worse" when chance explains it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from core import model, stats

#: Fingertips' recent-trend cut-off: the chi-squared (1 df) value for two-sided 99.8%.
CHI2_998 = 9.5495
TREND_POINTS = 5

INCREASING, DECREASING, NO_CHANGE, NOT_CALCULATED = (
    "increasing", "decreasing", "no significant change", "could not be calculated")
ARROWS = {INCREASING: "↑", DECREASING: "↓", NO_CHANGE: "→", NOT_CALCULATED: ""}


@dataclass(frozen=True)
class Trend:
    verdict: str
    chi2: float
    slope: float
    points: int
    reason: str = ""

    @property
    def arrow(self) -> str:
        return ARROWS[self.verdict]

    def describe(self) -> str:
        if self.verdict == NOT_CALCULATED:
            return f"Recent trend could not be calculated: {self.reason}"
        return (f"{self.arrow} {self.verdict.capitalize()} over the last {self.points} points "
                f"(chi-squared test for trend, {self.chi2:.1f}; significant above 9.55, the "
                "99.8% level Fingertips uses).")


def chi2_for_trend(numerator, denominator, scores=None) -> tuple[float, float]:
    """Cochran-Armitage chi-squared test for a linear trend in proportions.

    Source: Armitage P, Berry G, Matthews JNS. Statistical Methods in Medical Research (4th ed,
    2002), the chi-squared test for trend in proportions: the test OHID Fingertips uses for its "recent trend" (Fingertips
    technical guidance, "Recent trends"). With points scored ``x`` (1, 2, ... by default),
    ``O`` events of ``n`` at each, ``p = sum(O)/sum(n)``:

        T = sum(O*x) - p*sum(n*x)
        V = p*(1-p) * (sum(n*x^2) - (sum(n*x))^2 / sum(n))
        chi2 = T^2 / V                (1 degree of freedom)

    Returns ``(chi2, T)``; the sign of ``T`` is the direction. NaN if not computable.
    """
    o, n = stats._arr(numerator), stats._arr(denominator)
    x = np.arange(1, len(o) + 1, dtype=float) if scores is None else stats._arr(scores)
    if len(o) != len(n) or len(o) != len(x):
        raise ValueError("numerators, denominators and scores must have the same length")
    if len(o) < 2 or not (np.all(np.isfinite(o)) and np.all(np.isfinite(n))) or np.any(n <= 0):
        return float("nan"), float("nan")
    big_n = n.sum()
    p = o.sum() / big_n
    t = float((o * x).sum() - p * (n * x).sum())
    v = float(p * (1 - p) * ((n * x * x).sum() - (n * x).sum() ** 2 / big_n))
    if v <= 0:
        return (0.0 if t == 0 else float("nan")), t
    return t * t / v, t


def recent_trend(numerator, denominator, points: int = TREND_POINTS,
                 critical: float = CHI2_998) -> Trend:
    """Fingertips' "recent trend" over the last ``points`` (five) consecutive values of a
    series given oldest first: increasing, decreasing, or no significant change at the 99.8%
    level (chi-squared > 9.5495). "Could not be calculated" when there are fewer than five
    points or any of the last five has no count (a series with an unpublished point must not
    be tested across the gap).
    """
    o, n = stats._arr(numerator), stats._arr(denominator)
    if len(o) < points:
        return Trend(NOT_CALCULATED, float("nan"), float("nan"), len(o),
                     f"fewer than {points} points")
    o, n = o[-points:], n[-points:]
    if not (np.all(np.isfinite(o)) and np.all(np.isfinite(n)) and np.all(n > 0)):
        return Trend(NOT_CALCULATED, float("nan"), float("nan"), points,
                     f"one of the last {points} points has no data")
    if np.any(o > n):
        return Trend(NOT_CALCULATED, float("nan"), float("nan"), points,
                     "a point has more events than its denominator")
    chi2, t = chi2_for_trend(o, n)
    if not np.isfinite(chi2):
        return Trend(NOT_CALCULATED, chi2, t, points, "no variation to test")
    verdict = NO_CHANGE if chi2 <= critical else (INCREASING if t > 0 else DECREASING)
    return Trend(verdict, chi2, t, points)


# --------------------------------------------------------------------------------------------
# Is the gap between two groups widening?


@dataclass(frozen=True)
class GapTrend:
    verdict: str  # "widening", "narrowing", "no significant change", "could not be calculated"
    slope: float  # change in the gap (fraction) per period
    se: float
    z: float
    mean_gap: float
    reason: str = ""

    def describe(self) -> str:
        if self.verdict == NOT_CALCULATED:
            return f"Whether the gap is changing could not be calculated: {self.reason}"
        return (f"The gap is {self.verdict} ({self.slope * 100:+.2f} points a period, "
                f"weighted least-squares trend, z = {self.z:.1f}).")


def gap_trend(o1, n1, o2, n2, confidence: float = 0.998, points: int | None = TREND_POINTS
              ) -> GapTrend:
    """Is the gap ``p1 - p2`` between two disjoint groups (BME minus White British) widening?

    Method: weighted least squares of the gap on time, each period weighted by the inverse of
    the gap's variance ``p1(1-p1)/n1 + p2(1-p2)/n2`` (the two groups are independent samples),
    treating those variances as known, as in a fixed-effect inverse-variance meta-regression
    of the gap on time.
    The slope's standard error is ``1/sqrt(sum(w*(t - t_w)^2))`` and ``z = slope/se`` is
    compared with the normal cut-off for ``confidence`` (99.8%, as for the recent trend).
    Equivalent to testing the group x time interaction in a linear-probability model.

    "Widening" means the slope moves the gap further from zero in the direction of its
    weighted mean (a negative gap becoming more negative); "narrowing" the opposite. Uses the
    last ``points`` periods (all if None); any missing period -> could not be calculated.
    """
    arrays = [stats._arr(v) for v in (o1, n1, o2, n2)]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError("the four count series must have the same length")
    if points is not None:
        if len(arrays[0]) < points:
            return GapTrend(NOT_CALCULATED, *[float("nan")] * 4, f"fewer than {points} points")
        arrays = [a[-points:] for a in arrays]
    a1, b1, a2, b2 = arrays
    if not all(np.all(np.isfinite(a)) for a in arrays) or np.any(b1 <= 0) or np.any(b2 <= 0):
        return GapTrend(NOT_CALCULATED, *[float("nan")] * 4, "a period has no data")
    if len(a1) < 3:
        return GapTrend(NOT_CALCULATED, *[float("nan")] * 4, "fewer than 3 points")
    p1, p2 = a1 / b1, a2 / b2
    var = p1 * (1 - p1) / b1 + p2 * (1 - p2) / b2
    if np.any(var <= 0):
        return GapTrend(NOT_CALCULATED, *[float("nan")] * 4, "a rate of 0% or 100%")
    gap, w = p1 - p2, 1 / var
    t = np.arange(len(gap), dtype=float)
    tw, gw = (w * t).sum() / w.sum(), (w * gap).sum() / w.sum()
    sxx = (w * (t - tw) ** 2).sum()
    slope = float((w * (t - tw) * (gap - gw)).sum() / sxx)
    se = float(1 / np.sqrt(sxx))
    z = slope / se
    if abs(z) <= stats._z(confidence):
        verdict = NO_CHANGE
    else:
        verdict = "widening" if np.sign(slope) == np.sign(gw) else "narrowing"
    return GapTrend(verdict, slope, se, float(z), float(gw))


# --------------------------------------------------------------------------------------------
# Change on a year ago


@dataclass(frozen=True)
class Change:
    verdict: str  # "higher", "lower", "no significant change", "no data"
    difference: float  # shown difference, percentage points, from the rounded rates
    exact_difference: float  # percentage points, unrounded
    lower: float  # Newcombe interval, percentage points
    upper: float
    significant: bool

    def describe(self, now: str = "now", then: str = "a year earlier") -> str:
        if self.verdict == "no data":
            return "No change can be given: one of the two periods has no data."
        return (f"{self.difference:+.1f} points on {then} ({self.verdict}; 95% interval for "
                f"the change {self.lower:+.1f} to {self.upper:+.1f} points, Newcombe's method).")


def change_between_periods(o_now, n_now, o_then, n_then, confidence: float = 0.95,
                           decimals: int = 1) -> Change:
    """The change in a rate between two periods, with Newcombe's hybrid score interval for the
    difference of two independent proportions (Newcombe RG. Interval estimation for the
    difference between independent proportions. Statistics in Medicine 1998; 17: 873-890,
    method 10; ``methods.md``). The people who finished treatment in two different years are
    different people, so the periods are independent samples.

    Verdict "higher" or "lower" only when the interval excludes 0. The difference shown is the
    difference of the two rates *as displayed* (each rounded to ``decimals``), so 50.7% against
    50.9% reads "-0.2 points", never "-0.1"; the interval is from the exact counts.
    """
    d, lo, hi = stats.newcombe_difference(o_now, n_now, o_then, n_then, confidence)
    if not (np.isfinite(d) and np.isfinite(lo) and np.isfinite(hi)):
        nan = float("nan")
        return Change("no data", nan, nan, nan, nan, False)
    r_now = round_half_up(float(stats.proportion(o_now, n_now)) * 100, decimals)
    r_then = round_half_up(float(stats.proportion(o_then, n_then)) * 100, decimals)
    shown = round(r_now - r_then, decimals)
    significant = bool(lo > 0 or hi < 0)
    verdict = "higher" if lo > 0 else "lower" if hi < 0 else NO_CHANGE
    return Change(verdict, shown, float(d) * 100, float(lo) * 100, float(hi) * 100, significant)


def round_half_up(value: float, decimals: int = 1) -> float:
    """Round as a person (and NHS England's published tables) do: halves away from zero.
    Python's ``round`` rounds halves to even and floats hold 50.25 as 50.2499..., so this
    rounds the decimal text of the value. Away from a tie (and for values a float holds to
    better than a millionth of the last place kept) the nearest is the answer, and only near
    a tie is the text rounded; the sign of a value rounded to zero is kept, as the text's."""
    if not np.isfinite(value):
        return float("nan")
    scale = 10 ** decimals
    scaled = float(value) * scale
    low = math.floor(scaled)
    if abs(scaled) < 1e9 and abs(scaled - low - 0.5) > 1e-6:
        return math.copysign((low + (scaled - low > 0.5)) / scale, value)
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


def series_trends(frame: pd.DataFrame, by: list[str], measure: str = "recovery",
                  points: int = TREND_POINTS) -> pd.DataFrame:
    """``recent_trend`` for every series in a tidy frame (one series per ``by`` values), over
    its last ``points`` periods of one ``period_type``, oldest first.

    The last five must be consecutive periods (quarters or years) with counts: a series whose
    last five rows straddle an unpublished quarter, or miss a count, gets "could not be
    calculated" with the reason. Returns one row per series: ``by`` columns, ``verdict``,
    ``arrow``, ``chi2``, ``last_period`` and ``reason``.
    """
    spec = model.MEASURES[measure]
    f = frame.sort_values("period_start", kind="stable")
    starts = f["period_start"].to_numpy(object)
    groups = f.groupby(by, sort=True, dropna=False).indices
    codes = np.zeros(len(f), dtype=int)
    for i, pos in enumerate(groups.values()):
        codes[pos] = i
    found = trends_of(
        codes, len(groups),
        f["period_type"].to_numpy(object) if "period_type" in f
        else np.full(len(f), "quarter", dtype=object),
        stats.quarter_number(starts), np.array([d.year for d in starts], dtype=int),
        stats._numbers(f[spec["numerator"]]),
        stats._numbers(f["finished"]) - stats._numbers(f["not_at_caseness"]), points)
    labels = f["period"].to_numpy(object)
    rows = [{**dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
             "verdict": t.verdict, "arrow": t.arrow, "chi2": t.chi2,
             "last_period": labels[last] if last >= 0 else None, "reason": t.reason}
            for key, t, last in zip(groups, found["trend"], found["last"], strict=True)]
    return pd.DataFrame(rows, columns=[*by, "verdict", "arrow", "chi2", "last_period", "reason"])


def trends_of(codes: np.ndarray, groups: int, kinds: np.ndarray, quarter: np.ndarray,
              year: np.ndarray, numerator: np.ndarray, denominator: np.ndarray,
              points: int = TREND_POINTS) -> dict[str, list]:
    """``series_trends``' tests on arrays: rows in time order (oldest first), ``codes`` the
    series of each row (0 to ``groups`` - 1); ``kinds`` each row's period type, ``quarter``
    and ``year`` its consecutive quarter and year numbers. Returns, per series, ``trend`` (a
    ``Trend``) and ``last`` (its last row, -1 without one).

    The series whose last five are complete are tested together (the same arithmetic as
    ``chi2_for_trend``, a row per series); a series with a gap, too few points or another
    period type among them gets the reason ``recent_trend`` gives."""
    by_series = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=groups) if len(codes) else np.zeros(groups, int)
    ends = np.cumsum(counts)
    trends: list[Trend | None] = [None] * groups
    last = np.where(counts > 0, by_series[np.maximum(ends - 1, 0)] if len(codes) else -1, -1)
    full = np.flatnonzero(counts >= points)
    for g in np.flatnonzero(counts < points).tolist():
        tail = by_series[ends[g] - counts[g]:ends[g]]
        trends[g] = recent_trend(numerator[tail], denominator[tail], points)
    if len(full):
        tails = by_series[(ends[full] - points)[:, None] + np.arange(points)]
        kind = kinds[tails]
        same = (kind == kind[:, :1]).all(axis=1)
        step = np.where(kind[:, :1] == "quarter", quarter[tails], year[tails])
        consecutive = same & (np.diff(step, axis=1) == 1).all(axis=1)
        o, n = numerator[tails], denominator[tails]
        usable = np.isfinite(o).all(axis=1) & np.isfinite(n).all(axis=1) & (n > 0).all(axis=1)
        over = (o > n).any(axis=1)
        test = consecutive & usable & ~over
        chi2, t = _chi2_rows(o[test], n[test])
        tested = dict(zip(full[test].tolist(), zip(chi2.tolist(), t.tolist(), strict=True),
                          strict=True))
        nan = float("nan")
        for g, ok, fine, high in zip(full.tolist(), consecutive.tolist(), usable.tolist(),
                                     over.tolist(), strict=True):
            if not ok:
                trends[g] = Trend(NOT_CALCULATED, nan, nan, points,
                                  f"the last {points} periods are not consecutive (a period "
                                  "is missing or unpublished)")
            elif not fine:
                trends[g] = Trend(NOT_CALCULATED, nan, nan, points,
                                  f"one of the last {points} points has no data")
            elif high:
                trends[g] = Trend(NOT_CALCULATED, nan, nan, points,
                                  "a point has more events than its denominator")
            else:
                c, d = tested[g]
                if not np.isfinite(c):
                    trends[g] = Trend(NOT_CALCULATED, c, d, points, "no variation to test")
                else:
                    verdict = NO_CHANGE if c <= CHI2_998 else (INCREASING if d > 0
                                                                else DECREASING)
                    trends[g] = Trend(verdict, c, d, points)
    return {"trend": trends, "last": last.tolist()}


def _chi2_rows(o: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``chi2_for_trend`` for each row of ``o`` and ``n`` (complete counts, scores 1, 2,
    ...), with its arithmetic in the same order."""
    x = np.arange(1, o.shape[1] + 1, dtype=float)
    big_n = n.sum(axis=1)
    p = o.sum(axis=1) / big_n
    t = (o * x).sum(axis=1) - p * (n * x).sum(axis=1)
    v = p * (1 - p) * ((n * x * x).sum(axis=1) - (n * x).sum(axis=1) ** 2 / big_n)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.where(v <= 0, np.where(t == 0, 0.0, np.nan), t * t / v)
    return chi2, t
