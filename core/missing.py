"""Why a value is missing, in one word for the data and in a sentence for a reader.

A blank on a chart or in a table must never be left unexplained: NHS England suppressed the
count, never published the quarter, has not published the period yet, or there is simply no
figure. ``core.explore`` gives each empty point one of these reasons (its ``status`` and
``note``); tables and tooltips show the sentence.
"""

from __future__ import annotations

import numpy as np

NOT_PUBLISHED = "not published"  # 2020/21 Q2: NHS England never published it
SUPPRESSED = "suppressed"  # NHS England published * (a count under 5)
NOT_YET_PUBLISHED = "not yet published"  # after the series' latest published period
NO_DATA = "no data"
NO_WINDOW = "no complete four quarters"  # rolling: a window missing a quarter
REDRAWN = "area redrawn"  # an ICB the chosen boundaries redrew, its rows not summable into it

#: Each reason in a sentence: what a reader needs to know about the blank.
MEANING = {
    NOT_PUBLISHED: "NHS England never published 2020/21 Q2 (COVID-19 pandemic)",
    SUPPRESSED: "NHS England published * instead of a count under 5",
    NOT_YET_PUBLISHED: "later than the latest period published for this series",
    NO_DATA: "nothing published for this area and population in this period",
    NO_WINDOW: "the four quarters to this one are not all published",
    REDRAWN: "this ICB's area changed on 1 April 2026 and the rows published for this period "
             "cannot be summed into it exactly",
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
