"""Rates that respect NHS England's rounding and suppression.

Below England level NHS England rounds every count to the nearest 5 and publishes counts under 5
as ``*`` (NHS Talking Therapies annual reports and quarterly files, "Data quality and
disclosure control"; ``reference/nhs-talking-therapies-data.md``). A rate recomputed from the
rounded counts is therefore only approximately the real one, and the published percentage
(computed by NHS England from the true counts) can lie several points away for a small group.
This module says how far, and never shows a number the counts cannot support:

- **Range under rounding.** Each rounded count can be up to 2.5 away from the true count in
  either direction; counts are whole numbers, so a published ``c`` (10 or more) stands for
  ``c-2`` to ``c+2``, a published 5 for 5 to 7 (3 and 4 would have been suppressed) and a
  published 0 for 0. The rate's worst cases are the lowest numerator over the highest
  denominator and the reverse. A rate whose range reaches more than 1 point from the shown
  value is flagged *approximate*.
- **Suppressed "not at caseness".** It is 0 to 4, so with the other counts present the rate is
  a range, not nothing; its interval runs from the Wilson lower limit at the low end to the
  Wilson upper limit at the high end, so it covers both.
- **Recovered above the denominator.** Rounding can make recovered exceed finished minus not at
  caseness (15 / 10 / 10 gives 200%). Such a rate is *not reliable*: no rate and no interval
  are shown, the counts are, and the note says whether rounding can explain it.

England's counts are exact and are used as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import stats

#: Largest distance of a true count from its published rounded value (whole numbers).
ROUNDING_SLACK = 2
#: Largest suppressed count ("*" means 1 to 4; 0 is allowed for safety).
SUPPRESSED_MAX = 4
#: A rate whose range under rounding reaches more than this many points away is approximate.
APPROXIMATE_POINTS = 1.0

STATUS_EXACT, STATUS_ROUNDED = "exact", "rounded"
STATUS_APPROXIMATE, STATUS_RANGE = "approximate", "range"
STATUS_NOT_RELIABLE, STATUS_NO_DATA = "not reliable", "no data"


def midpoint_denominator(denominator, finished, ranged) -> np.ndarray:
    """The denominator behind a rate shown from a range ("not at caseness" suppressed): the
    midpoint of its range, as the rate is. Trend tests use it, so that they test the points a
    chart and table show rather than give up on them."""
    return np.where(np.asarray(ranged, dtype=bool),
                    np.asarray(finished, dtype=float) - SUPPRESSED_MAX / 2,
                    np.asarray(denominator, dtype=float))


def is_rounded_level(level) -> np.ndarray:
    """Whether counts at this level are rounded and suppressed: every level below England."""
    values = np.atleast_1d(np.asarray(level, dtype=object)).tolist()
    return np.array([not (isinstance(v, str) and v.strip().lower() in ("england", "eng"))
                     for v in values], dtype=bool)


def count_bounds(count, rounded, parts: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The true counts a published count can stand for, as ``(lowest, highest)``.

    ``parts`` is how many rounded counts were summed into ``count`` (4 for a rolling year of
    quarters): each can be 2 away, so a sum of rounded counts can be ``2*parts`` away (never
    below 0).

    Exact where ``rounded`` is False, or where the count is not a multiple of 5 (it was not
    rounded). NaN in, NaN out: whether a missing count was suppressed is the caller's
    decision.
    """
    c = stats._arr(count)
    r = np.broadcast_to(np.atleast_1d(np.asarray(rounded, dtype=bool)), c.shape)
    on_grid = r & np.isfinite(c) & (np.mod(c, 5) == 0)
    if parts > 1:
        slack = ROUNDING_SLACK * parts
        return (np.where(on_grid, np.maximum(c - slack, 0), c),
                np.where(on_grid, c + slack, c))
    lo = np.where(on_grid & (c >= 10), c - ROUNDING_SLACK, c)
    hi = np.where(on_grid & (c >= 10), c + ROUNDING_SLACK, np.where(on_grid & (c == 5), 7, c))
    return lo, hi


def assess(finished, not_at_caseness, numerator, level, confidence: float = 0.95,
           notes: bool = True, parts: int = 1) -> pd.DataFrame:
    """Everything a page or an export shows for a rate, from the published counts and level.

    Columns (percentages): ``rate`` (the value to display, never above 100, always inside its
    interval), ``rate_low``/``rate_high`` (range under rounding or suppression), ``ci_low``/
    ``ci_high`` (Wilson at ``confidence``; covering the whole range for a range),
    ``denominator``, ``status`` (exact: England's counts; rounded: within 1 point whatever the
    rounding; approximate; range; not reliable; no data),
    ``approximate``, ``not_reliable``, ``small_numbers`` and ``note`` (the reason in words;
    empty when ``notes`` is False, which saves the text for a second confidence level).
    ``parts``: how many rounded counts each count sums (``count_bounds``).
    """
    return pd.DataFrame(
        assess_columns(finished, not_at_caseness, numerator, level, confidence, notes, parts),
        index=numerator.index if isinstance(numerator, pd.Series) else None)


def assess_columns(finished, not_at_caseness, numerator, level, confidence: float = 0.95,
                   notes: bool = True, parts: int = 1) -> dict[str, np.ndarray]:
    """``assess``'s columns as arrays (what a view adds to its own table, with no frame
    between)."""
    f, nac, o = stats._arr(finished), stats._arr(not_at_caseness), stats._arr(numerator)
    size = max(len(f), len(nac), len(o))
    f, nac, o = (np.broadcast_to(a, size).astype(float) for a in (f, nac, o))
    rounded = np.broadcast_to(is_rounded_level(level), size)

    nac_suppressed = rounded & np.isnan(nac) & np.isfinite(f) & np.isfinite(o)
    f_lo, f_hi = count_bounds(f, rounded, parts)
    o_lo, o_hi = count_bounds(o, rounded, parts)
    n_lo, n_hi = count_bounds(nac, rounded, parts)
    n_lo = np.where(nac_suppressed, 0.0, n_lo)
    n_hi = np.where(nac_suppressed, float(SUPPRESSED_MAX), n_hi)
    n_mid = np.where(nac_suppressed, SUPPRESSED_MAX / 2, nac)

    den = f - n_mid
    den_lo, den_hi = f_lo - n_hi, f_hi - n_lo
    have = np.isfinite(f) & np.isfinite(o) & np.isfinite(n_mid)
    no_data = ~have | (den <= 0) & ~(o > den)
    over = have & ~no_data & (o > den)
    explained = over & (o_lo <= den_hi)
    ok = have & ~no_data & ~over

    with np.errstate(divide="ignore", invalid="ignore"):
        point = np.where(ok, o / den, np.nan)
        low = np.where(ok, o_lo / den_hi, np.nan)
        high = np.where(ok, np.where(den_lo > 0, np.minimum(1.0, o_hi / den_lo), 1.0), np.nan)
    low = np.minimum(low, point)
    high = np.maximum(high, point)

    ci_lo, ci_hi = (np.asarray(v, dtype=float) for v in stats.wilson_interval(o, den, confidence))
    # A range: lower limit at its low end (fewest recovered of most), upper at its high end.
    r_lo, _ = stats.wilson_interval(o_lo, den_hi, confidence)
    den_lo_pos = np.where(den_lo > 0, den_lo, np.nan)
    _, r_hi = stats.wilson_interval(np.minimum(o_hi, den_lo_pos), den_lo_pos, confidence)
    r_hi = np.where(np.isfinite(r_hi), r_hi, 1.0)
    ci_lo = np.where(nac_suppressed, np.minimum(np.asarray(r_lo, dtype=float), ci_lo), ci_lo)
    ci_hi = np.where(nac_suppressed, np.maximum(r_hi, ci_hi), ci_hi)
    ci_lo = np.where(ok, ci_lo, np.nan)
    ci_hi = np.where(ok, ci_hi, np.nan)

    reach = np.maximum(point - low, high - point) * 100
    approximate = ok & rounded & ((reach > APPROXIMATE_POINTS) | nac_suppressed)
    status = np.select(
        [~have | no_data, over, ok & nac_suppressed, approximate],
        [STATUS_NO_DATA, STATUS_NOT_RELIABLE, STATUS_RANGE, STATUS_APPROXIMATE],
        STATUS_EXACT).astype(object)
    status = np.where((status == STATUS_EXACT) & rounded, STATUS_ROUNDED, status)
    note = (_notes(status, f, nac, o, den, low * 100, high * 100, explained, rounded,
                   np.isfinite(f) & np.isfinite(o)) if notes else np.full(size, "", dtype=object))
    return {
        "rate": point * 100, "rate_low": low * 100, "rate_high": high * 100,
        "ci_low": ci_lo * 100, "ci_high": ci_hi * 100,
        "denominator": np.where(have, den, np.nan),
        "status": status, "approximate": approximate, "not_reliable": over,
        "small_numbers": ok & (den < stats.SMALL_DENOMINATOR), "note": note,
    }


def _text(template: str, v: np.ndarray, missing: str = "suppressed") -> np.ndarray:
    out = np.full(len(v), missing, dtype=object)
    ok = np.isfinite(v)
    if ok.any():
        out[ok] = np.char.mod(template, v[ok]).astype(object)
    return out


def _notes(status, f, nac, o, den, low, high, explained, rounded, others) -> np.ndarray:
    """The reason for each row's status, in words. Built column-wise, only for the rows that
    need each text: an export holds 10^5 rows."""
    out = np.full(len(status), "", dtype=object)
    m = status == STATUS_NOT_RELIABLE
    if m.any():
        why = np.where(explained[m], "rounding each count to the nearest 5 can explain this",
                       "more than rounding can explain")
        out[m] = ("Not reliable: the published counts (" + _text("%.0f", o[m])
                  + " recovered, " + _text("%.0f", f[m]) + " finished, "
                  + _text("%.0f", nac[m]) + " not at caseness) give more recovered than could "
                  "recover (" + _text("%.0f", den[m], "") + "); " + why + ".")
    # A range whose ends print alike ("between 49.0% and 49.0%") is said as one value.
    for key, start, middle, end, same in (
            (STATUS_RANGE, "'Not at caseness' was suppressed (0 to 4), so the rate lies "
             "between ", " and ", "; the interval covers both ends.",
             "'Not at caseness' was suppressed (0 to 4); the rate is {} (to one decimal "
             "place) whatever it was."),
            # Approximate: a reach over a point, so its ends never print alike.
            (STATUS_APPROXIMATE, "Approximate: counts are rounded to the nearest 5, so the "
             "rate could be anywhere from ", " to ", ".", None),
            (STATUS_ROUNDED, "Counts are rounded to the nearest 5 (rate between ", " and ",
             ").", "Counts are rounded to the nearest 5 (rate {} to one decimal place "
             "however they were rounded).")):
        m = status == key
        if m.any():
            lo, hi = _text("%.1f%%", low[m], ""), _text("%.1f%%", high[m], "")
            out[m] = start + lo + middle + hi + end
            if same is not None:
                alike = (lo == hi) & (lo != "")
                out[np.flatnonzero(m)[alike]] = [same.format(v) for v in lo[alike].tolist()]
    m = status == STATUS_NO_DATA
    out[m] = np.where(others[m],
                      "No data: nobody who finished treatment was a clinical case at the start.",
                      "No data: a count is missing or suppressed.")
    return out


def assess_frame(frame: pd.DataFrame, numerator: str = "recovered",
                 confidence: float = 0.95, notes: bool = True) -> pd.DataFrame:
    """``assess`` on the tidy model's columns (``finished``, ``not_at_caseness``, the
    numerator column and ``level``), index kept."""
    num = stats._numbers
    out = assess(num(frame["finished"]), num(frame["not_at_caseness"]), num(frame[numerator]),
                 frame["level"].to_numpy(dtype=object), confidence, notes)
    out.index = frame.index
    return out
