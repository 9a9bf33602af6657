"""The time-series questions of an ``Explorer``: each series' rates over every period of a
type (missing periods present as explicit gaps, each with its reason), four-quarter rolling
sums, the stored rows behind a chart, and the gap between two groups over time.

``Series`` is a mixin of ``core.explore.Explorer`` and never imports it (no import cycle). It
reads what Explorer and ``core.catalogue.Catalogue`` provide: ``self.frame``,
``self.domain``, ``self.boundaries`` and the look-ups ``self._series`` (row positions of each
series) and ``self._arrays`` (the columns as plain arrays).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import boundaries as icb_boundaries
from core import missing, model, periods, rounding, stats, unusual
from core.catalogue import SeriesKey
from core.columns import NO_ROWS
from core.names import pretty_name

#: A point's note when its denominator is too small for the rate to be reliable.
SMALL_NUMBERS_NOTE = "fewer than 30 people: unreliable"


class Series:
    """Trends, the counts a trend test reads, the rows behind a chart, and group gaps."""

    def _series_positions(self, keys: list[SeriesKey], kind: str = "quarter"
                          ) -> list[np.ndarray]:
        return [self._series.get((kind, k.level, k.area_code, k.group,
                                  model.POPULATIONS[k.group].breakdown), NO_ROWS)
                for k in keys]

    def _grid(self, keys: list[SeriesKey], measure: str, domain: list[str], rolling: bool,
              kind: str = "quarter") -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        """Counts, rates and flags of each series over ``domain``, as arrays of len(keys) x
        len(domain) (one block of quarters per key); and each key's rows in the store.

        All series are done at once: one take, one rate computation, one scatter onto the
        grid (per series, pandas' fixed cost per call dominated).
        """
        found = self._series_positions(keys, kind)
        at = np.concatenate(found) if found else NO_ROWS
        rows = {k: v[at] for k, v in self._arrays.items()}
        order = np.repeat(np.arange(len(keys)), [len(f) for f in found])
        period, suppressed, synthetic = rows["period"], rows["suppressed"], rows["synthetic"]
        derived = rows["derived"]
        approximate, geo_note = rows["approximate"], rows["geo_note"]
        source = {c: rows[c] for c in (*model.COUNT_COLUMNS, *model.PERCENT_COLUMNS)}
        if rolling and len(at):
            quarter = rows["quarter"]
            by_time = np.lexsort((quarter, order))
            order, period, suppressed = order[by_time], period[by_time], suppressed[by_time]
            # A window holding any synthetic (derived, approximate) quarter is synthetic
            # (derived, approximate):
            # summed like a count.
            sums, suppressed = stats.window_sums(
                order, quarter[by_time], {c: source[c][by_time] for c in model.COUNT_COLUMNS}
                | {"synthetic": synthetic[by_time].astype(float),
                   "derived": derived[by_time].astype(float),
                   "approximate": approximate[by_time].astype(float)}, suppressed)
            synthetic = np.nan_to_num(sums.pop("synthetic")) > 0
            derived = np.nan_to_num(sums.pop("derived")) > 0
            approximate = np.nan_to_num(sums.pop("approximate")) > 0
            geo_note = np.where(approximate, "Approximate: the four quarters include a quarter "
                                "summed across a boundary change.", "").astype(object)
            source = {**sums, **{c: np.full(len(order), np.nan) for c in model.PERCENT_COLUMNS}}
        # From here on, the stored rows are scattered onto the grid of series x quarters.
        where = {p: i for i, p in enumerate(domain)}
        pos = np.array([where.get(p, -1) for p in period.tolist()], dtype=int)
        keep = pos >= 0
        target = order[keep] * len(domain) + pos[keep]
        n = len(keys) * len(domain)

        def grid(values: np.ndarray, fill: object = np.nan) -> np.ndarray:
            out = np.full(n, fill, dtype=values.dtype)
            out[target] = values[keep]  # a repeated (series, quarter) keeps its last row
            return out

        counts = {c: grid(source[c]) for c in model.COUNT_COLUMNS}
        return {
            **counts, **{c: grid(source[c]) for c in model.PERCENT_COLUMNS},
            **stats.rate_columns(counts[model.MEASURES[measure]["numerator"]],
                                 counts["finished"] - counts["not_at_caseness"]),
            "suppressed": grid(suppressed, False), "synthetic": grid(synthetic, False),
            "derived": grid(derived, False),
            "approximate": grid(approximate, False), "geo_note": grid(geo_note, ""),
            "stored": grid(np.ones(len(period), dtype=bool), False),
        }, found

    def trend(self, keys: list[SeriesKey], measure: str = "recovery", rolling: bool = False,
              domain: list[str] | None = None, kind: str = "quarter") -> pd.DataFrame:
        """One row per series and quarter over ``domain`` (every quarter of the store by
        default), rate NaN where there is none (``trend_columns`` as a frame).

        Missing quarters are present as rows with no rate so that a chart breaks its line there
        instead of drawing a bridge across, and a table shows them as "not published". With
        ``rolling`` each quarter carries the counts summed over the four quarters to it (no
        value where those four are not all published). ``kind`` ``year``: financial years
        (no rolling). Each point carries ``synthetic``, so a chart can mark those values.
        """
        columns = self.trend_columns(keys, measure, rolling, domain, kind)
        return trend_frame(columns) if columns else pd.DataFrame()

    @staticmethod
    def _sudden_changes(note: np.ndarray, num: np.ndarray, den: np.ndarray,
                        domain: list[str], n_series: int, synthetic: np.ndarray
                        ) -> np.ndarray:
        """How each point changed where its figure changed too sharply on the same period a
        year earlier in ``domain`` (``core.unusual``; never a ``synthetic`` one's), "" elsewhere;
        its caution is added to the point's note, in place."""
        each = len(domain)
        out = np.full(n_series * each, "", dtype=object)
        at = {label: j for j, label in enumerate(domain)}
        pairs = [(j, at[periods.year_before(label)]) for j, label in enumerate(domain)
                 if periods.year_before(label) in at]
        if not pairs:
            return out
        offsets = np.arange(n_series)[:, None] * each
        now = (offsets + np.array([j for j, _ in pairs])[None, :]).ravel()
        then = (offsets + np.array([k for _, k in pairs])[None, :]).ravel()
        real = ~np.asarray(synthetic, dtype=bool)
        flagged = unusual.is_unusual(num[then], den[then], num[now], den[now]) & real[now] \
            & real[then]
        for i, k in zip(now[flagged], then[flagged], strict=True):
            fact = unusual.describe(num[k], den[k], num[i], den[i], domain[k % each])
            out[i] = fact
        note[:] = unusual.with_notes(note, out, sep="; ")
        return out

    def trend_columns(self, keys: list[SeriesKey], measure: str = "recovery",
                      rolling: bool = False, domain: list[str] | None = None,
                      kind: str = "quarter") -> dict[str, np.ndarray]:
        """``trend``'s columns as arrays (counts as floats), empty without keys or periods:
        a view adds its own columns (``verdicts.rounded_columns``) before making the one
        frame, where adding them to a frame would copy it."""
        rolling = rolling and kind == "quarter"
        domain = self.domain(kind) if domain is None else domain
        if not keys or not domain:
            return {}
        grid, found = self._grid(keys, measure, domain, rolling, kind)
        suppressed = grid["suppressed"]
        area_name = self.frame["area_name"]
        names = [pretty_name(area_name.iat[rows[-1]]) if len(rows) else key.area_code
                 for key, rows in zip(keys, found, strict=True)]
        labels = [model.group_label(k.group) for k in keys]
        each = len(domain)
        period = np.tile(np.asarray(domain, dtype=object), len(keys))
        no_rate = np.isnan(grid["rate"])
        small = grid["denominator"] < stats.SMALL_DENOMINATOR
        status = missing.missing_status(domain, no_rate, suppressed, grid["stored"], len(keys),
                                rolling)
        # One note per point, for the tooltip and the table alike.
        note = np.where(status != "", status, None).astype(object)
        note[small & ~no_rate] = SMALL_NUMBERS_NOTE
        # An approximate point (a boundary cut through a unit it is summed from) says what
        # moved, in the tooltip and the table alike. A point whose rate will be a range
        # (its counts there but 'not at caseness' suppressed: ``verdicts.rounded_columns``)
        # is drawn too, so it is marked too.
        counted = (np.isfinite(grid[model.MEASURES[measure]["numerator"]])
                   & np.isfinite(grid["finished"]))
        approximate = grid["approximate"] & (~no_rate | counted)
        if self.boundaries is not None:
            # An ICB the chosen boundaries redrew has no figure where the published rows
            # cannot be summed into it: say why rather than just "no data".
            changed = icb_boundaries.changed_icbs(self.boundaries)
            redrawn = np.repeat([k.level == "ICB" and k.area_code in changed for k in keys],
                                each)
            why = icb_boundaries.gap_note(self.boundaries)
            unexplained = np.isin(status, [missing.NO_DATA, missing.NOT_YET_PUBLISHED])
            for i in np.flatnonzero(redrawn & unexplained):
                note[i] = why
        for i in np.flatnonzero(approximate):
            note[i] = grid["geo_note"][i] if note[i] is None else f"{note[i]}; {grid['geo_note'][i]}"
        sudden = self._sudden_changes(note, grid[model.MEASURES[measure]["numerator"]],
                                      grid["denominator"], domain, len(keys),
                                      grid["synthetic"])
        return {
            **{c: grid[c] for c in model.COUNT_COLUMNS},
            **{c: grid[c] for c in (*model.PERCENT_COLUMNS, "numerator", "denominator", "rate",
                                    "ci95_low", "ci95_high", "ci998_low", "ci998_high")},
            "published_rate": grid[model.MEASURES[measure]["published"]],
            "period": period,
            "series": np.repeat([f"{nm}, {lb}" for nm, lb in zip(names, labels, strict=True)],
                                each),
            "series_order": np.repeat(np.arange(len(keys)), each),
            "area_code": np.repeat([k.area_code for k in keys], each),
            "area_name": np.repeat(names, each),
            "level": np.repeat([k.level for k in keys], each),
            "group": np.repeat([k.group for k in keys], each),
            "group_label": np.repeat(labels, each),
            "suppressed": suppressed, "small_numbers": small, "status": status, "note": note,
            "unusual": sudden,
            "synthetic": grid["synthetic"], "derived": grid["derived"],
            "geo_approximate": approximate,
            "geo_note": np.where(approximate, grid["geo_note"], "").astype(object),
        }

    def series_counts(self, keys: list[SeriesKey], measure: str = "recovery",
                      kind: str = "quarter") -> list[dict[str, np.ndarray]]:
        """Each series' ``rate``, ``numerator`` and ``denominator`` over every period of
        ``kind``, as ``trend`` holds them: what a test on the series needs, without the
        trend's frame."""
        domain = self.domain(kind)
        if not keys or not domain:
            return [{c: np.array([]) for c in ("rate", "numerator", "denominator")}
                    for _ in keys]
        grid, _ = self._grid(keys, measure, domain, False, kind)
        each = len(domain)
        # A rate known only as a range: its midpoint, as the charts show it (core.rounding).
        assessed = rounding.assess_columns(
            grid["finished"], grid["not_at_caseness"],
            grid[model.MEASURES[measure]["numerator"]], np.repeat([k.level for k in keys], each))
        ranged = assessed["status"] == rounding.STATUS_RANGE
        shown = {"rate": np.where(ranged, assessed["rate"], grid["rate"]),
                 "numerator": grid["numerator"],
                 "denominator": rounding.midpoint_denominator(grid["denominator"],
                                                              grid["finished"], ranged)}
        return [{c: v[i * each:(i + 1) * each] for c, v in shown.items()}
                for i in range(len(keys))]

    def series_rows(self, keys: list[SeriesKey], rolling: bool = False,
                    kind: str = "quarter") -> pd.DataFrame:
        """The stored rows of ``kind`` behind a set of series (for the tidy CSV download);
        with ``rolling`` (quarters only), the four-quarter sums, labelled ``4 quarters to``."""
        rolling = rolling and kind == "quarter"
        parts = [p for p in self._series_positions(keys, kind) if len(p)]
        rows = self.frame.iloc[np.concatenate(parts)] if parts else self.frame.iloc[0:0]
        return stats.rolling_quarters(rows) if rolling and len(rows) else rows

    def gap(self, level: str, area_code: str, measure: str = "recovery",
            group_a: str = "BME", group_b: str = "White British",
            domain: list[str] | None = None, kind: str = "quarter") -> pd.DataFrame:
        """Gap between two disjoint groups in one area over time (Newcombe's interval,
        points); ``synthetic`` (``derived``) where either side is."""
        columns = self.gap_columns(level, area_code, measure, group_a, group_b, domain, kind)
        return pd.DataFrame(columns) if columns else pd.DataFrame()

    def gap_columns(self, level: str, area_code: str, measure: str = "recovery",
                    group_a: str = "BME", group_b: str = "White British",
                    domain: list[str] | None = None, kind: str = "quarter"
                    ) -> dict[str, np.ndarray]:
        """``gap``'s columns as arrays by name (empty without periods)."""
        domain = self.domain(kind) if domain is None else domain
        if not domain:
            return {}
        keys = [SeriesKey(level, area_code, group_a), SeriesKey(level, area_code, group_b)]
        grid, _ = self._grid(keys, measure, domain, False, kind)
        # One block of quarters per key, over the same quarters: a over b row by row.
        a, b = slice(0, len(domain)), slice(len(domain), None)
        rate, low, high = (np.array(grid[c], dtype=float)
                           for c in ("rate", "ci95_low", "ci95_high"))
        # A rate known only as a range ('not at caseness' suppressed): its midpoint and an
        # interval covering both ends, as Recovery over time shows it (core.rounding), so the
        # gap has a value there too, its interval widened by the range (review, 2026-11-28).
        assessed = rounding.assess_columns(
            grid["finished"], grid["not_at_caseness"],
            grid[model.MEASURES[measure]["numerator"]], level)
        ranged = assessed["status"] == rounding.STATUS_RANGE
        rate[ranged], low[ranged], high[ranged] = (assessed[c][ranged]
                                                   for c in ("rate", "ci_low", "ci_high"))
        d, lo, hi = (np.asarray(v) * 100 for v in stats.difference_from_intervals(
            rate[a] / 100, low[a] / 100, high[a] / 100,
            rate[b] / 100, low[b] / 100, high[b] / 100))
        significant = np.where(np.isnan(d), "no data", np.where(
            (hi < 0) | (lo > 0), "significant at 95%", "not significant"))
        status = missing.missing_status(domain, np.isnan(rate), grid["suppressed"],
                                        grid["stored"], 2)
        names = (model.group_label(group_a), model.group_label(group_b))
        note = missing.gap_notes(status[a], status[b], np.isnan(d), names)
        for i in np.flatnonzero(~np.isnan(d) & (ranged[a] | ranged[b])):
            note[i] = "; ".join(f"{name}: {missing.FROM_RANGE}"
                                for name, r in zip(names, (ranged[a][i], ranged[b][i]),
                                                   strict=True) if r)
        return {
            "period": np.asarray(domain, dtype=object),
            "rate_a": rate[a], "rate_b": rate[b],
            "gap": d, "gap_low": lo, "gap_high": hi, "significant": significant,
            "group_a": np.full(len(domain), names[0], dtype=object),
            "group_b": np.full(len(domain), names[1], dtype=object),
            "note": note,
            "synthetic": grid["synthetic"][a] | grid["synthetic"][b],
            "derived": grid["derived"][a] | grid["derived"][b],
            "geo_approximate": ((grid["approximate"][a] | grid["approximate"][b])
                            & ~np.isnan(d)),
            "geo_note": np.where(grid["approximate"][a], grid["geo_note"][a],
                                 grid["geo_note"][b]),
        }


def trend_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """``Series.trend_columns`` (and any columns a view added) as a frame, counts as whole
    numbers with missing values empty."""
    return pd.DataFrame({c: model.whole_numbers(v)
                         if c in model.COUNT_COLUMNS else v for c, v in columns.items()})
