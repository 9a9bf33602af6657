"""Why a value is missing, in one word for the data and in a sentence for a reader.

A blank on a chart or in a table must never be left unexplained: NHS England suppressed the
count, never published the quarter, has not published the period yet, or there is simply no
figure. ``missing_status`` gives each empty point of a series one of these reasons (its
``status``; ``gap_notes`` a gap's ``note`` from its two groups'); tables and tooltips show
the sentence.
"""

from __future__ import annotations

import numpy as np

from core import periods

NOT_PUBLISHED = "not published"  # 2020/21 Q2: NHS England never published it
SUPPRESSED = "suppressed"  # NHS England published * (a count under 5)
NOT_YET_PUBLISHED = "not yet published"  # after the series' latest published period
BEFORE_FIRST = "before this series began"  # before its first period (an ICB before July 2022)
NO_DATA = "no data"
NO_WINDOW = "no complete four quarters"  # rolling: a window missing a quarter
REDRAWN = "area redrawn"  # an ICB the chosen boundaries redrew, its rows not summable into it
#: Why a count or the published percentage is blank beside a rate (tables and tooltips).
COUNT_SUPPRESSED = "a count suppressed (rate from its range)"
NO_PUBLISHED_RATE = "no published percentage (rate from the counts)"
#: A gap's group whose rate is known only as a range (a count suppressed, the others given).
#: A gap whose group's rate is known only as a range: it has a value, from the range's
#: midpoint, with an interval covering both ends.
FROM_RANGE = "rate from a range"

#: Each reason in a sentence: what a reader needs to know about the blank.
MEANING = {
    NOT_PUBLISHED: "NHS England never published 2020/21 Q2 (COVID-19 pandemic)",
    SUPPRESSED: "NHS England published * instead of a count under 5",
    NOT_YET_PUBLISHED: "later than the latest period published for this series",
    BEFORE_FIRST: "earlier than the first period published for this series (ICBs and their "
                  "figures began in July 2022; a group may be published later still)",
    NO_DATA: "nothing published for this area and population in this period",
    NO_WINDOW: "the four quarters to this one are not all published",
    REDRAWN: "this ICB's area changed on 1 April 2026 and the rows published for this period "
             "cannot be summed into it exactly",
    FROM_RANGE: "NHS England published * instead of 'not at caseness' (0 to 4), so this "
                "group's rate is known only as a range: the gap uses its midpoint, with an "
                "interval widened to cover both ends of the range",
}


def explain(notes: object) -> np.ndarray:
    """Notes with each bare reason spelt out ("suppressed: NHS England published * instead of
    a count under 5"), a combined one ("BAME: suppressed") too; other notes as they are,
    missing ones as "" (never "None" or "nan")."""
    values = np.asarray(notes, dtype=object).ravel()
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v) in ("<NA>", "nan"):
            out[i] = ""
            continue
        out[i] = "; ".join(_explain_one(part) for part in str(v).split("; "))
        continue
    return out


def _explain_one(text: str) -> str:
    if text in MEANING:
        return f"{text}: {MEANING[text]}"
    group, _, reason = text.partition(": ")
    return f"{group}: {reason} ({MEANING[reason]})" if reason in MEANING else text


def missing_status(domain: list[str], no_rate: np.ndarray, suppressed: np.ndarray,
                   stored: np.ndarray, series: int, rolling: bool = False) -> np.ndarray:
    """Why each point of ``series`` blocks of ``domain`` (flattened, one block per series) has
    no value, "" where it has one: never published (2020/21 Q2), suppressed, not yet published
    (after the series' last stored period), before the series began (before its first: an
    ICB before July 2022 said "nothing published" where it did not exist; a helper's
    review), no complete window (rolling), or no data."""
    each = len(domain)
    period = np.tile(np.asarray(domain, dtype=object), series)
    unpublished = np.isin(period, list(periods.UNPUBLISHED_QUARTERS))
    position = np.tile(np.arange(each), series)
    has_row = np.asarray(stored, dtype=bool).reshape(series, each) if each else np.zeros(
        (series, 0), dtype=bool)
    last = np.array([np.flatnonzero(r)[-1] if r.any() else -1 for r in has_row])
    first = np.array([np.flatnonzero(r)[0] if r.any() else -1 for r in has_row])
    later = (position > np.repeat(last, each)) & np.repeat(last >= 0, each)
    earlier = (position < np.repeat(first, each)) & np.repeat(first >= 0, each)
    status = np.where(unpublished, NOT_PUBLISHED, np.where(
        ~no_rate, "", np.where(suppressed, SUPPRESSED, np.where(
            later, NOT_YET_PUBLISHED, np.where(earlier, BEFORE_FIRST,
                                               NO_WINDOW if rolling else NO_DATA)))))
    return status.astype(object)


def gap_notes(status_a: np.ndarray, status_b: np.ndarray, missing: np.ndarray,
              names: tuple[str, str]) -> np.ndarray:
    """Why a gap has no value, from its two groups' reasons: one reason when both share it
    ("not published"), else each group's ("BAME: suppressed"); "" where the gap has a value."""
    out = np.full(len(missing), "", dtype=object)
    for i in np.flatnonzero(missing):
        a, b = status_a[i], status_b[i]
        if a and b:
            out[i] = a if a == b else f"{names[0]}: {a}; {names[1]}: {b}"
        elif a or b:
            out[i] = f"{names[0]}: {a}" if a else f"{names[1]}: {b}"
        else:  # both rates present but no interval (a zero denominator)
            out[i] = NO_DATA
    return out
