"""The comparison questions of an ``Explorer``: every area of a level in one period against
England and the 50% target (``compare_columns``, which ``core.ranking`` ranks), England's own
rate, and the rows a compare table's recent trend is tested on (``history``,
``history_columns``).

In chosen ICB boundaries an ICB with no figure for the period is still listed, with empty
counts and a note saying why (``_absent_icbs``), so a comparison names it rather than
silently leaving it out.

``Comparisons`` is a mixin of ``core.explore.Explorer`` and never imports it (no import
cycle). It reads what Explorer and ``core.catalogue.Catalogue`` provide: ``self.frame``,
``self.icbs``, ``self.period_types``, ``self.published``, ``self.boundaries`` and the
look-ups ``self._slices`` (row positions of each compare view) and ``self._arrays`` (the
columns as plain arrays). Its own look-ups (``_columns``, ``_history_keys``,
``_icb_names``) are made once per Explorer, like Explorer's.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from core import boundaries as icb_boundaries
from core import geography, model, stats
from core.columns import (
    NO_ROWS,
    PERIOD_KEYS,
    Coded,
    add_rates,
    join,
    rank_descending,
    take_columns,
    texts,
)
from core.names import pretty_name


class Comparisons:
    """Compare areas in one period, England's rate, and the history behind a recent trend."""

    @functools.cached_property
    def _columns(self) -> dict[str, object]:
        """Every stored column as the array rows are taken from (NumPy where the column is
        NumPy, text as ``Coded``, else its pandas array): a compare table takes its few dozen
        rows from these once, where ``frame.iloc`` costs milliseconds on every new view."""
        return {c: (s.to_numpy() if isinstance(s.dtype, np.dtype) else
                    Coded(s) if pd.api.types.is_string_dtype(s.dtype) else s.array)
                for c, s in self.frame.items()}

    @functools.cached_property
    def _history_keys(self) -> dict[str, np.ndarray]:
        """What a recent trend orders and groups rows by, as plain arrays: the area code,
        the rank of ``period_start`` (sorting by it sorts by date) and its year."""
        codes, distinct = pd.factorize(self.frame["area_code"])
        starts, firsts = pd.factorize(self.frame["period_start"])
        order = np.argsort(np.asarray(firsts, dtype=object), kind="stable") if len(firsts) \
            else NO_ROWS
        rank = np.empty(len(order), dtype=int)
        rank[order] = np.arange(len(order))
        years = np.array([d.year for d in firsts], dtype=int)
        kinds, types = pd.factorize(self.frame["period_type"])
        return {"area_code": np.append(distinct.to_numpy(object), None)[codes],
                "period_type": np.append(types.to_numpy(object), None)[kinds],
                "start": np.append(rank, -1)[starts], "year": np.append(years, -1)[starts]}

    def _rows(self, pos: np.ndarray) -> dict[str, object]:
        """Every stored column of the rows at ``pos``, in the store's order."""
        return take_columns(self._columns, pos)

    def compare_columns(self, period: str, group: str = "Total", measure: str = "recovery",
                        level: str = "ICB"
                        ) -> tuple[dict[str, object], pd.Index, np.ndarray, float | None]:
        """Every area at ``level`` in one period, compared with England (the two-level
        interval rule, 95% and 99.8%, as Fingertips does; the benchmark's own interval is
        ignored) and with the 50% target: every stored column, the rates, both verdicts and
        names as columns, their index, the positions that rank them (highest rate first) and
        England's rate (None without an England row). A view adds its own columns and
        chooses its rows (``core.ranking``)."""
        where = (period, group, model.POPULATIONS[group].breakdown)
        pos = self._slices.get((*where, level), NO_ROWS)
        columns = self._rows(pos)
        index = self.frame.index[pos]
        redrawn = np.zeros(len(pos), dtype=bool)
        if level == "ICB" and len(pos):
            extra = self._absent_icbs(columns["area_code"], pos[0])
            if extra is not None:
                columns = {c: join(v, extra[c]) for c, v in columns.items()}
                index = pd.RangeIndex(len(columns["area_code"]))
                redrawn = np.arange(len(index)) >= len(pos)
        # An ICB listed only because the chosen boundaries redrew it (``_absent_icbs``): said
        # once here, so every later step reads why it has no figure instead of inferring it.
        columns["redrawn"] = redrawn
        add_rates(columns, measure)
        eng_rate = self._england_rate(where, measure)
        benchmark = eng_rate / 100 if eng_rate is not None else np.nan
        columns["vs_england"] = np.asarray(stats.compare_two_levels(
            columns["numerator"], columns["denominator"], benchmark), dtype=object)
        columns["vs_target"] = np.asarray(stats.compare_with_target(
            columns["ci95_low"] / 100, columns["ci95_high"] / 100), dtype=object)
        for name, source in (("area", "area_name"), ("region", "parent_name")):
            columns[name] = np.array([pretty_name(n) for n in texts(columns[source])],
                                     dtype=object)
        return columns, index, rank_descending(columns["rate"]), eng_rate

    def _england_rate(self, where: tuple[str, str, str], measure: str) -> float | None:
        """England's rate in one (period, group, breakdown), from its counts alone (a view
        needs no other column of England's row), or None without an England row."""
        eng = self._slices.get((*where, "England"), NO_ROWS)[:1]
        if not len(eng):
            return None
        spec, arrays = model.MEASURES[measure], self._arrays
        counts = {c: arrays[c][eng] for c in {spec["numerator"], spec["published"],
                                              "finished", "not_at_caseness"}}
        return float(add_rates(counts, measure)["rate"][0])

    def history_columns(self, period: str, group: str, measure: str, level: str = "ICB"
                        ) -> dict[str, np.ndarray]:
        """``history``'s rows as the arrays a recent trend needs (area code, period order
        and year, period type and label, numerator and denominator), in store order."""
        pos = self._history_rows(period, group, level)
        arrays, keys = self._arrays, self._history_keys
        spec = model.MEASURES[measure]
        return {"area_code": keys["area_code"][pos], "start": keys["start"][pos],
                "year": keys["year"][pos], "quarter": arrays["quarter"][pos],
                "period": arrays["period"][pos],
                "numerator": arrays[spec["numerator"]][pos],
                "denominator": arrays["finished"][pos] - arrays["not_at_caseness"][pos],
                "kind": keys["period_type"][pos],
                "synthetic": np.asarray(arrays["synthetic"][pos], dtype=bool)}

    def history(self, period: str, group: str, level: str = "ICB") -> pd.DataFrame:
        """Every row of ``level`` areas for one population, in the periods of ``period``'s
        type up to and including it: what the compare table's recent trend is tested on.
        Taken from the row index rather than by masking the whole store on each new view."""
        return self.frame.iloc[self._history_rows(period, group, level)]

    def _history_rows(self, period: str, group: str, level: str) -> np.ndarray:
        """Row positions of ``history``, in store order (none for an unknown period)."""
        kind = next((k for k in self.period_types if period in self.published(k)), None)
        if kind is None:
            return NO_ROWS
        shown = self.published(kind)
        where = [self._slices.get((p, group, model.POPULATIONS[group].breakdown, level), NO_ROWS)
                 for p in shown[:shown.index(period) + 1]]
        return np.sort(np.concatenate(where))

    @functools.cached_property
    def _icb_names(self) -> dict[str, tuple[str, str, str]]:
        """Each ICB of this Explorer's boundaries: (name, region code, region name)."""
        ref = geography.icbs(self.boundaries)
        return {str(c): (str(n), str(rc), str(rn)) for c, n, rc, rn in zip(
            ref["icb_code"], ref["icb_name"], ref["region_code"], ref["region_name"],
            strict=True)}

    def _absent_icbs(self, present: object, first: int) -> dict[str, object] | None:
        """Every stored column of one row per ICB of the geography with no row among
        ``present`` (area codes): an ICB with no figure for the period (its area redrawn in
        April 2026 and its published rows not summable into it) is listed with empty counts,
        so a comparison names it rather than silently leaving it out. Its gap is explained
        where the value would be. None when every ICB is there (or in stored boundaries)."""
        if self.boundaries is None:
            return None
        have = set(texts(present))
        absent = [c for c in self.icbs if c not in have]
        if not absent:
            return None
        # The period's keys (period, dates, breakdown, group) from the period's first row,
        # with every column's own type; the area's names from the reference table; no counts.
        n = len(absent)
        name, region_code, region_name = zip(*(self._icb_names[c] for c in absent), strict=True)
        named = {"level": ["ICB"] * n, "area_code": absent, "area_name": name,
                 "parent_code": region_code, "parent_name": region_name, "source": [""] * n,
                 "geo_note": [icb_boundaries.gap_note(self.boundaries)] * n}
        out = {}
        for c, values in self._rows(np.full(n, first)).items():
            if c in PERIOD_KEYS:
                out[c] = values
            elif c in named:
                out[c] = (np.asarray(named[c], dtype=values.dtype)
                          if isinstance(values, np.ndarray) else
                          pd.array(named[c], dtype=values.dtype))
            elif isinstance(values, np.ndarray):  # flags False, text None, percentages NaN
                out[c] = (np.zeros(n, dtype=bool) if values.dtype == bool else
                          np.full(n, None, dtype=object) if values.dtype == object else
                          np.full(n, np.nan, dtype=values.dtype))
            else:  # counts: missing
                out[c] = pd.array([None] * n, dtype=values.dtype)
        return out
