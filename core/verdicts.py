"""What the statistics of issue 11 say, as the columns and sentences a page shows.

``core.overdispersion``, ``core.trend_tests`` and ``core.rounding`` compute; this module turns
their answers into display terms (a verdict column, an arrow, a neutral or coloured change, a
note) as arrays a view adds to its own columns, so that pages and the table builders only
place them. Nothing here changes how a rate is computed; it adds what a statistician would
insist a reader is told: whether areas differ by more than chance, whether a series is
moving, whether a change is more than chance, and how far rounding and suppression leave a
rate uncertain.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core import missing, model, overdispersion, rounding, trend_tests
from core.columns import flags, floats, n_rows, objects

#: The band of an area with no rate, or none to compare with.
NOT_COMPARED = "no data"
#: The band of a rate given only as a range (a count suppressed): drawn, not compared.
RANGE_NOT_COMPARED = "not compared (rate is a range)"


# --- Numbers as shown ----------------------------------------------------------------------


def pct(value: float | None, digits: int = 1) -> str:
    """A percentage rounded as published tables round (halves up), so that a change computed
    from the shown figures agrees with them; "no data" where there is none."""
    if value is None or pd.isna(value):
        return "no data"
    return f"{trend_tests.round_half_up(float(value), digits):.{digits}f}%"


def _text(values: np.ndarray) -> np.ndarray:
    """Object array of strings with no None/NaN left in it (tables and tooltips show text)."""
    out = np.asarray(values, dtype=object).copy()
    bad = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in out], dtype=bool)
    out[bad] = ""
    return out


# --- Rounding and suppression --------------------------------------------------------------


def range_text(low: np.ndarray, high: np.ndarray, status: np.ndarray) -> np.ndarray:
    """The rate's range under rounding in words ("48.2% to 51.3%"); "exact counts" where the
    counts are England's, empty where there is no rate."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    out = np.full(len(low), "", dtype=object)
    ok = np.isfinite(low) & np.isfinite(high)
    for i in np.flatnonzero(ok):
        out[i] = f"{pct(low[i])} to {pct(high[i])}"
    out[np.asarray(status, dtype=object) == rounding.STATUS_EXACT] = "exact counts"
    return out


#: The columns rounding replaces where a rate is a range or not reliable.
_RATES = ("rate", "ci95_low", "ci95_high", "ci998_low", "ci998_high")


def rounded_columns(columns: dict[str, np.ndarray], measure: str = "recovery", level=None,
                    parts: int = 1) -> dict[str, np.ndarray]:
    """What rounding and suppression do to each rate of ``columns`` (the counts as floats;
    ``level`` and ``note`` where there are, else ``level`` for every row; the rate columns as
    floats), as arrays a view adds to its own columns before it makes any frame: where a
    rate column is returned its values replace the view's.

    Sets ``rate_low``/``rate_high``, ``rate_range`` (words), ``status`` (rounding's: exact,
    rounded, approximate, range, not reliable, no data) and ``approximate``; ``note`` gets
    rounding's reason where it has one (a row's own note, such as "not published", is kept
    when rounding has nothing to say). Where "not at caseness" was suppressed but the other
    counts are there, the rate and both intervals become rounding's (a midpoint inside a
    range, with intervals that cover both ends) instead of nothing. ``parts`` is how many
    rounded counts were summed into each count (4 for rolling quarters), which widens the
    range. A rate column is only returned where rounding changes some of its values."""
    spec = model.MEASURES[measure]
    n = len(columns["finished"])
    lv = (np.asarray(columns["level"], dtype=object) if "level" in columns
          else np.full(n, level, object))
    args = (*(floats(columns[c]) for c in ("finished", "not_at_caseness", spec["numerator"])),
            lv)
    a95 = rounding.assess_columns(*args, confidence=0.95, parts=parts)
    status = a95["status"]
    ranged = status == rounding.STATUS_RANGE
    unreliable = status == rounding.STATUS_NOT_RELIABLE
    out: dict[str, np.ndarray] = {}
    if ranged.any():
        a998 = rounding.assess_columns(*args, confidence=0.998, notes=False, parts=parts)
        for col, src in (("rate", a95["rate"]), ("ci95_low", a95["ci_low"]),
                         ("ci95_high", a95["ci_high"]), ("ci998_low", a998["ci_low"]),
                         ("ci998_high", a998["ci_high"])):
            if col in columns:
                values = floats(columns[col]).copy()
                values[ranged] = src[ranged]
                out[col] = values
    if unreliable.any():
        for col in _RATES:
            if col in columns:
                values = floats(out.get(col, columns[col])).copy()
                values[unreliable] = np.nan
                out[col] = values
    own = _text(columns["note"]) if "note" in columns else np.full(n, "", object)
    says = a95["note"]
    # Rounding's reason wins, except "no data" where the row already says why (not published,
    # suppressed, no complete four quarters) and a plain "rounded" where it flags small numbers.
    keep_own = (own != "") & np.isin(status, [rounding.STATUS_NO_DATA, rounding.STATUS_ROUNDED])
    note = np.where(keep_own, own, np.where(says != "", says, own)).astype(object)
    if "geo_note" in columns:
        # Where rounding's reason replaced the row's own note, a boundary's note is kept too.
        geo = _text(columns["geo_note"])
        lost = (geo != "") & ~keep_own & (says != "")
        note[lost] = [f"{a} {b}" for a, b in zip(note[lost], geo[lost], strict=True)]
    out["note"] = _text(note)
    out["rate_low"] = a95["rate_low"]
    out["rate_high"] = a95["rate_high"]
    out["rate_range"] = range_text(out["rate_low"], out["rate_high"], status)
    out["status"] = status
    out["approximate"] = a95["approximate"]
    for band in ("vs_england", "vs_fingertips", "vs_adjusted"):
        if band in columns:
            said = np.asarray(columns[band], dtype=object)
            out[band] = np.where((status == rounding.STATUS_RANGE) & (said == NOT_COMPARED),
                                 RANGE_NOT_COMPARED, said).astype(object)
    return out


# --- Comparing many areas ------------------------------------------------------------------


def england_columns(numerator: np.ndarray, denominator: np.ndarray, england: float | None,
                    adjust: bool | None = None, higher_is_better: bool = True
                    ) -> tuple[dict[str, np.ndarray], overdispersion.Overdispersion, bool]:
    """Each area against England from the areas' numerators and denominators and England's
    rate (a percentage; None or NaN: none): ``vs_fingertips`` (Fingertips' two-level bands),
    ``vs_adjusted`` (allowing for overdispersion, Spiegelhalter 2005), ``vs_england`` (the one
    the charts use: adjusted when the areas differ by more than chance, unless ``adjust``
    says), the z-scores and adjusted limits; with the spread's estimate and whether it was
    allowed for."""
    bench = None if england is None or pd.isna(england) else float(england) / 100
    found, info = overdispersion.area_columns(numerator, denominator, bench, higher_is_better)
    used = bool(info.overdispersed if adjust is None else adjust)
    out = {"vs_fingertips": found["band"], "vs_adjusted": found["adjusted_band"]}
    if bench is None:
        out["vs_fingertips"] = out["vs_adjusted"] = np.full(len(numerator), NOT_COMPARED,
                                                            dtype=object)
    out["vs_england"] = out["vs_adjusted"] if used else out["vs_fingertips"]
    for col in ("z", "adjusted_z", "adjusted95_low", "adjusted95_high", "adjusted998_low",
                "adjusted998_high"):
        out[col] = found[col]
    return out, info, used


#: How Compare ICBs orders its rows (``ui.state.SORTS`` words them).
SORT_KEYS = ("rate", "name", "size")
#: The note of an area whose rate is missing because NHS England withheld a count.
SUPPRESSED_NOTE = "Suppressed: NHS England withheld a small count, so there is no rate."


#: What a name sort ignores at the start of a name (Arrow's ``\s``: ASCII whitespace).
_NHS = re.compile(r"^NHS[\t\n\f\r ]+")


def sort_order(names: np.ndarray | None, values: np.ndarray | None, sort: str = "rate"
               ) -> np.ndarray:
    """The order a reader chose for the compare table's rows: by ``names`` (``sort``
    "name") or by ``values`` (the rates, or the denominators for "size"), highest first,
    missing last; stable, so ties keep the ranking's order."""
    if sort not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
    if sort == "name":
        key = np.array([v if _missing(v) else _NHS.sub("", str(v)).casefold()
                        for v in np.asarray(names, dtype=object).tolist()], dtype=object)
        return np.argsort(key, kind="stable")
    values = np.asarray(values, dtype=float)
    return np.argsort(np.where(np.isnan(values), np.inf, -values), kind="stable")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def why_no_rate(table: pd.DataFrame) -> np.ndarray:
    """Why an area has no rate, in the word or two that fits where its point would be:
    "suppressed" (NHS England withheld a count), "not reliable" (the rounded counts cannot
    give a rate) or "no data"; empty where there is a rate."""
    n = n_rows(table)
    return missing_words(
        floats(table["rate"]) if "rate" in table else np.full(n, np.nan),
        flags(table["suppressed"]) if "suppressed" in table else np.zeros(n, bool),
        objects(table["status"]) if "status" in table else np.full(n, "", object),
        flags(table["redrawn"]) if "redrawn" in table else None)


def no_rate_words(table: pd.DataFrame) -> np.ndarray:
    """``why_no_rate``, read from the table's ``missing`` column where the ranking has
    already put it there (``ranking.explained``)."""
    return objects(table["missing"]) if "missing" in table else why_no_rate(table)


def missing_words(rate: np.ndarray, suppressed: np.ndarray, status: np.ndarray,
                  redrawn: np.ndarray | None = None) -> np.ndarray:
    """``why_no_rate`` from the columns as arrays (``redrawn``: the compare table's flag of
    ICBs listed only because the chosen boundaries redrew them; None: no such rows)."""
    words = np.where(status == rounding.STATUS_NOT_RELIABLE, "not reliable",
                     np.where(suppressed, "suppressed", "no data"))
    if redrawn is not None:
        words = np.where(np.asarray(redrawn, dtype=bool) & ~suppressed, REDRAWN, words)
    return np.where(np.isnan(rate), words, "").astype(object)


#: Why a redrawn ICB has no rate, in the words that fit where its point would be.
REDRAWN = missing.REDRAWN


#: The verdict columns of a compare table.
_VERDICTS = ("vs_england", "vs_adjusted", "vs_fingertips", "vs_target")


def missing_columns(why: np.ndarray, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What a compare table gains to say why a rate is missing, in order: ``missing``
    (``why``, from ``missing_words``), ``note`` (where a count was withheld, saying so
    instead of rounding's "missing or suppressed") and the verdicts (an area with no rate
    says why instead) where ``columns`` has them."""
    out = {"missing": why}
    if "note" in columns:
        note = _text(columns["note"])
        note[why == "suppressed"] = SUPPRESSED_NOTE
        redrawn = why == REDRAWN
        if redrawn.any():
            note[redrawn] = np.asarray(columns["geo_note"], dtype=object)[redrawn]
        out["note"] = note
    # With no rate there is nothing to compare: the verdicts say why ("suppressed"), a
    # redrawn area as "no data" first ("vs England: area redrawn" read as a comparison; a
    # helper's review).
    said = np.where(why == REDRAWN, f"no data ({REDRAWN})", why)
    for col in _VERDICTS:
        if col in columns:
            out[col] = np.where(why != "", said, _text(columns[col])).astype(object)
    return out


def outside_of(fingertips: np.ndarray, adjusted: np.ndarray, denominator: np.ndarray
               ) -> dict[str, int]:
    """How many areas lie outside the 99.8% limits (and the 95% ones: ``...95``), unadjusted
    and adjusted, from the bands: an area is outside the 99.8% limits exactly when its band is
    at 99.8%, outside the 95% limits when it is better or worse at either level."""
    def count(values: np.ndarray, text: str) -> int:
        return sum(1 for v in values.tolist() if not _missing(v) and text in str(v))
    return {"plain": count(fingertips, "99.8"), "adjusted": count(adjusted, "99.8"),
            "plain95": count(fingertips, "%"), "adjusted95": count(adjusted, "%"),
            "areas": int((~np.isnan(np.asarray(denominator, dtype=float))).sum())}


def dispersion_sentence(info: overdispersion.Overdispersion, used: bool,
                        counts: dict[str, int]) -> str:
    """What the page says about the spread between areas, phi included, and which rule the
    chart uses."""
    if info.areas < 2:
        return info.describe()
    phi = f"dispersion ratio phi = {info.phi:.1f}, where 1 means chance alone"
    plain, adj = counts["plain"], counts["adjusted"]
    if info.overdispersed and used:
        return (f"The {info.areas} areas differ by more than chance alone would explain ({phi}), "
                "so limits and bands are widened by Spiegelhalter's (2005) random-effects "
                f"adjustment: {adj} of {info.areas} lie outside the adjusted 99.8% limits "
                f"({counts['adjusted95']} outside 95%), against {plain} outside the "
                f"unadjusted 99.8% limits ({counts['plain95']} outside 95%). Both verdicts "
                "are in the table.")
    if info.overdispersed:
        return (f"Unadjusted limits and Fingertips-style bands, as you chose: the {info.areas} "
                f"areas differ by more than chance alone would explain ({phi}), so these "
                f"limits flag {plain} of them outside 99.8%, against {adj} once the spread "
                "between areas is allowed for.")
    return (f"The {info.areas} areas differ by no more than chance would explain ({phi}), so the "
            f"limits are not widened: {plain} lie outside the 99.8% limits.")


def chance_sentence(areas: int) -> str:
    """How many of the compared areas would fall outside 95% by chance alone."""
    if areas < 2:
        return ""
    e = overdispersion.expected_outside(areas, 0.95)
    return (f"Many comparisons: with {areas} areas, about {e['expected']:.1f} would fall "
            "outside the 95% limits by chance alone even if all had the same underlying rate "
            f"(a {e['at_least_one']:.0%} chance of at least one), so look first at the 99.8% "
            "limits.")


# --- Columns the display tables add --------------------------------------------------------


def rounding_columns(data: pd.DataFrame | dict, note: bool = False) -> dict[str, np.ndarray]:
    """A table's "Range under rounding" column (and its "Note" with ``note``), from a frame
    that has rounding's columns (``rounded_columns``); nothing for one that has not."""
    if "rate_range" not in data:
        return {}
    out = {"Range under rounding": _text(objects(data["rate_range"]))}
    if note:  # a missing value's bare reason ("suppressed") spelt out
        out["Note"] = missing.explain(objects(data["note"]))
    return out


def compare_columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """The compare table's extra columns: both comparisons with England, the recent trend,
    the range under rounding and the note."""
    out: dict[str, np.ndarray] = {}
    if "vs_adjusted" in table:
        out["Compared with England, allowing for overdispersion"] = _text(
            objects(table["vs_adjusted"]))
        out["Compared with England, unadjusted (Fingertips)"] = _text(
            objects(table["vs_fingertips"]))
    if "trend" in table:
        out["Recent trend"] = _text(objects(table["trend"]))
    return {**out, **rounding_columns(table, note=True)}


__all__ = [
    "pct", "range_text", "dispersion_sentence", "chance_sentence", "rounding_columns",
    "compare_columns", "why_no_rate", "rounded_columns", "england_columns",
    "sort_order", "missing_words", "missing_columns", "outside_of", "no_rate_words",
]
