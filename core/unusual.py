"""Published figures that changed too sharply on a year earlier to take on trust.

NHS England publishes what services submit. A submission can be partial, doubled or
miscoded, and the publication then carries it: Bath and North East Somerset, Swindon and
Wiltshire's 2021/22 recovery rate is published as 16.2%, from 49.8% a year before, with
three times as many people at caseness. Compare ICBs showed it as "worse (99.8%)" with no
word of caution (review, 2026-11-28). Fingertips flags such values with a data-quality
note; this module finds them from the counts, so every view of an area can say so.

An area's figure is unusual when, on the same period a year earlier (with at least
``MIN_PEOPLE`` at caseness in the larger of the two):

- the number at caseness (the rate's denominator) more than doubled or more than halved
  (``SIZE_FACTOR``); or
- the rate moved by at least ``RATE_POINTS`` points and the move is beyond chance at 99.8%
  (two-proportion z test).

On the 42 ICBs' whole-population annual figures of 2017/18 to 2024/25 they flag only
Coventry and Warwickshire (2020/21, when its count more than halved, and 2021/22, when it
came back) and Bath and North East Somerset, Swindon and Wiltshire (2021/22 and 2022/23).
Smaller groups and areas are flagged more often: a detailed ethnic group's count can really
double in a year, and the caution then says only that the change is large.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import model, names
from core.periods import year_before
from core.stats import Z998

#: How many times larger or smaller the number at caseness must be to be unusual.
SIZE_FACTOR = 2.0
#: Points the rate must move (and beyond chance at 99.8%) to be unusual.
RATE_POINTS = 15.0
#: People at caseness, in the larger year, below which nothing is flagged (small numbers
#: move a lot by chance, and their own notes say so).
MIN_PEOPLE = 100


def sudden_changes(history: dict[str, np.ndarray], period: str) -> dict[str, str]:
    """{area code: how its figure for ``period`` changed, in words (``describe``)} from
    ``Explorer.history_columns``' arrays (every period of ``period``'s type up to it); areas
    whose figure is not unusual are left out."""
    periods = np.asarray(history["period"], dtype=object)
    now = np.flatnonzero(periods == period)
    # The same period a year before, by its label: counting four published quarters back
    # would pass over the unpublished 2020/21 Q2 and compare with the wrong quarter.
    earlier = year_before(period)
    if not len(now) or not (periods == earlier).any():
        return {}
    codes = np.asarray(history["area_code"], dtype=object)
    num, den = (np.asarray(history[k], dtype=float) for k in ("numerator", "denominator"))
    if "synthetic" in history:  # the sample's jumps are the generator's (``is_unusual``)
        num = np.where(np.asarray(history["synthetic"], dtype=bool), np.nan, num)
    before = {c: i for c, i in zip(codes[periods == earlier].tolist(),
                                   np.flatnonzero(periods == earlier).tolist(), strict=True)}
    out = {}
    for i in now.tolist():
        j = before.get(codes[i])
        if j is not None:
            why = describe(num[j], den[j], num[i], den[i], earlier)
            if why:
                out[str(codes[i])] = why
    return out


def is_unusual(num0: object, den0: object, num1: object, den1: object) -> np.ndarray:
    """Whether each figure of ``num1`` of ``den1`` is unusual after ``num0`` of ``den0`` a
    year earlier (arrays or numbers alike; False where either is missing). Callers leave out
    the synthetic sample's figures: their jumps are the generator's, not a submission's."""
    num0, den0, num1, den1 = (np.asarray(v, dtype=float) for v in (num0, den0, num1, den1))
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (np.isfinite(num0) & np.isfinite(den0) & np.isfinite(num1) & np.isfinite(den1)
              & (np.minimum(den0, den1) > 0) & (np.maximum(den0, den1) >= MIN_PEOPLE))
        factor = den1 / den0
        resized = (factor > SIZE_FACTOR) | (factor < 1 / SIZE_FACTOR)
        p0, p1 = num0 / den0, num1 / den1
        se = np.sqrt(p0 * (1 - p0) / den0 + p1 * (1 - p1) / den1)
        moved = (np.abs(p1 - p0) * 100 >= RATE_POINTS) & (se > 0) & (np.abs(p1 - p0) / se > Z998)
    return ok & (resized | moved)


def describe(num0: float, den0: float, num1: float, den1: float, earlier: str) -> str:
    """How a figure of ``num1`` of ``den1`` changed from ``num0`` of ``den0`` in ``earlier``
    ("on 2020/21: 5,160 → 15,245 people at caseness (×3.0), rate 49.8% → 16.2%") when
    that is unusual; "" when it is not (or either is missing)."""
    if not is_unusual(num0, den0, num1, den1):
        return ""
    return (f"on {earlier}: {den0:,.0f} → {den1:,.0f} people at caseness (×{den1 / den0:.1f}), "
            f"rate {num0 / den0 * 100:.1f}% → {num1 / den1 * 100:.1f}%")


#: What to do about an unusual figure (said once, after the figures).
ADVICE = ("As NHS England published {it}: check the publication's data-quality notes before "
          "relying on {it}.")


def note(fact: str) -> str:
    """An unusual figure's note in a row (a tooltip, a table's Note column)."""
    return f"Unusual change {fact}. {ADVICE.format(it='it')}"


#: The heading of a comparison's cautions.
CAUTION = "Treat with care: published figures that changed sharply on a year earlier."


def cautions(table: pd.DataFrame | dict) -> list[tuple[str, str]]:
    """(area, how its figure changed) for each area of a comparison whose figure is unusual
    (``table``'s ``area`` and ``unusual``, as ``ranking.rank_icbs`` gives them)."""
    if "unusual" not in table:
        return []
    return [(str(name), str(fact)) for name, fact in zip(
        np.asarray(table["area"], dtype=object), np.asarray(table["unusual"], dtype=object),
        strict=True) if fact]


def trend_cautions(data: pd.DataFrame | dict) -> list[tuple[str, str]]:
    """``cautions`` of a trend's points (``Explorer.trend_columns``' ``unusual``): each
    named by its line, as the legend names it, and its period."""
    if "unusual" not in data or not len(data["unusual"]):
        return []
    facts = np.asarray(data["unusual"], dtype=object)
    flagged = np.flatnonzero(facts != "")
    if not len(flagged):
        return []
    lines, periods = names.legend_names(data), np.asarray(data["period"], dtype=object)
    return [(f"{lines[i]}, {periods[i]}", str(facts[i])) for i in flagged.tolist()]


def group_cautions(groups: dict, period: str) -> list[tuple[str, str]]:
    """``cautions`` of one area's groups in ``period`` (``group_changes`` in ``unusual``),
    each group once ("Not stated" is a row of two classifications)."""
    return list(dict.fromkeys(
        (f"{label}, {period}", str(fact)) for label, fact in zip(
            np.asarray(groups["group_label"], dtype=object).tolist(),
            np.asarray(groups["unusual"], dtype=object).tolist(), strict=True) if fact))


def caution(said: list[tuple[str, str]]) -> str:
    """``cautions`` (or ``trend_cautions``) in sentences, as a text alternative says them;
    "" when there are none."""
    if not said:
        return ""
    return " ".join([CAUTION, *(f"{name}, {fact}." for name, fact in said),
                     ADVICE.format(it="it" if len(said) == 1 else "them")])


#: What identifies one series in tidy rows (``core.export.to_long``'s).
_SERIES = ["measure", "period_type", "level", "area_code", "breakdown", "group"]


def tidy_column(rows: pd.DataFrame) -> np.ndarray:
    """``describe`` for each of tidy ``rows`` (``core.export.to_long``'s: one series per
    measure, period type, area and group, with ``period_start``, ``period``, ``numerator``
    and ``denominator``) against its own row for the period starting a year earlier, "" where
    that is not unusual or not there: the CSV carries the caution the views show."""
    out = np.full(len(rows), "", dtype=object)
    if not len(rows):
        return out
    keys = [c for c in _SERIES if c in rows]
    real = ~rows["synthetic"].fillna(False).astype(bool).to_numpy() if "synthetic" in rows \
        else np.ones(len(rows), dtype=bool)
    if not real.any():
        return out
    start = pd.to_datetime(rows["period_start"])
    now = rows[keys].assign(_start=start.to_numpy(), _i=np.arange(len(rows)))
    before = rows[keys].assign(_start=(start + pd.DateOffset(years=1)).to_numpy(),
                               _period=rows["period"].to_numpy(),
                               _num=rows["numerator"].astype(float).to_numpy(),
                               _den=rows["denominator"].astype(float).to_numpy())
    now, before = now[real], before[real]
    pairs = now.merge(before, on=[*keys, "_start"], how="inner")
    if not len(pairs):
        return out
    i = pairs["_i"].to_numpy()
    num, den = (rows[c].astype(float).to_numpy()[i] for c in ("numerator", "denominator"))
    flagged = is_unusual(pairs["_num"].to_numpy(), pairs["_den"].to_numpy(), num, den)
    for k in np.flatnonzero(flagged):
        out[i[k]] = describe(pairs["_num"].iat[k], pairs["_den"].iat[k], num[k], den[k],
                             str(pairs["_period"].iat[k]))
    return out


#: The rows a load is checked on: England, its regions and each ICB (STP before July 2022),
#: whole population and BAME.
LOAD_LEVELS, LOAD_GROUPS = ("England", "Region", "ICB", "STP"), ("Total", "BME")


def in_periods(frame: pd.DataFrame, periods: list[str]) -> list[tuple[str, str]]:
    """(area, population and period; how its figure changed) for each England, region or ICB
    (or STP) row of ``periods``, whole population or BAME, whose recovery figure is unusual against
    ``frame``'s row a year earlier: what a maintainer is told on loading a file, before
    anyone relies on it."""
    from core import export  # export names this module's column; no cycle at import time

    rows = frame[frame["level"].isin(LOAD_LEVELS) & frame["group"].isin(LOAD_GROUPS)]
    if rows.empty or not periods:
        return []
    long = export.to_long(rows, ["recovery"])
    hit = long[long["period"].isin(periods) & (long["unusual"] != "")]
    return [(f"{names.pretty_name(str(a))}, {model.group_label(g)}, {p}", str(u))
            for a, g, p, u in zip(hit["area_name"], hit["group"], hit["period"],
                                  hit["unusual"], strict=True)]


def group_changes(now: dict, before: dict | None, earlier: str) -> np.ndarray:
    """``describe`` for each group row of ``now`` (``Explorer.groups_columns``) against the
    same group in ``before`` (the same area's groups in ``earlier``, the period a year
    before; None: not published), "" where that is not unusual; never for the synthetic
    sample's figures."""
    n = len(now["group"])
    out = np.full(n, "", dtype=object)
    if before is None or not len(before["group"]):
        return out
    then = {(str(b), str(g)): i for i, (b, g) in enumerate(zip(
        before["breakdown"].tolist(), before["group"].tolist(), strict=True))}
    for i, (b, g) in enumerate(zip(now["breakdown"].tolist(), now["group"].tolist(),
                                   strict=True)):
        j = then.get((str(b), str(g)))
        if j is None or bool(now["synthetic"][i]) or bool(before["synthetic"][j]):
            continue
        out[i] = describe(float(before["numerator"][j]), float(before["denominator"][j]),
                          float(now["numerator"][i]), float(now["denominator"][i]), earlier)
    return out


def with_notes(notes: object, facts: object, sep: str = " ") -> np.ndarray:
    """Each row's note with its unusual figure's caution (``note``) after it, once: the one
    way a comparison, a trend, the map and the groups chart add it (a trend's notes are
    ``missing`` codes joined by "; ", which ``missing.explain`` spells out part by part)."""
    out = np.asarray(notes, dtype=object).copy()
    for i, fact in enumerate(np.asarray(facts, dtype=object).tolist()):
        if fact:
            said = note(str(fact))
            if said not in str(out[i] or ""):
                out[i] = f"{out[i]}{sep}{said}" if out[i] else said
    return out
