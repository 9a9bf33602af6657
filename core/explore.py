"""The questions the explorer asks of the store, answered by one ``Explorer`` per store.

Pages stay thin because everything they show is computed here: which areas and series a
store offers (``core.catalogue``), their rates over every quarter or financial year (missing
periods included as explicit gaps), the compare-areas table, the gap between two groups, the rates by ethnic group. What a person
reads beside each (the table in words, the text alternative, the headline) is in
``core.tables``.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter

import numpy as np
import pandas as pd

from core import boundaries as icb_boundaries
from core import geography, missing, model, periods, stats
from core.catalogue import (  # noqa: F401  (re-exported)
    PERIOD_TYPES,
    Catalogue,
    SeriesKey,
    quarter_domain,
    year_domain,
)
from core.names import area_label, pretty_name  # noqa: F401  (re-exported)

# The display tables and text descriptions live in core.tables; re-exported here so that
# callers written against explore keep working.
from core.tables import (  # noqa: F401
    compare_table,
    describe_compare,
    describe_gap,
    describe_groups,
    describe_trend,
    fmt_pct,
    funnel,
    gap_table,
    groups_table,
    headline,
    sentence,
    trend_table,
)

SMALL_NUMBERS_NOTE = "fewer than 30 people: unreliable"
_NONE = np.array([], dtype=int)
#: What each breakdown is called where a group label needs it.
BREAKDOWN_NAMES = {"Total": "whole population", "BME Group": "BAME and White British split",
                   "Ethnic Group": "broad ethnic groups",
                   "Ethnic Group (detailed)": "detailed ethnic groups"}


def _breakdown(group: str) -> str:
    return model.POPULATIONS[group].breakdown


#: Levels an ICB series in chosen boundaries is built from (``core.boundaries``): in an
#: Explorer for one geography their rows are replaced by that geography's ICB rows.
ICB_SOURCE_LEVELS = ("ICB", "SubICB", "CCG", "STP")
_BOUNDARIES_LOCK = threading.Lock()


def frame_in_boundaries(frame: pd.DataFrame, boundaries: str) -> pd.DataFrame:
    """The store as every ICB view sees it in one geography: England and region rows as
    stored, and one ICB series per ICB of ``boundaries`` (``core.boundaries.icb_series``) in
    place of the stored ICB, sub-ICB, CCG and STP rows.

    Two columns are added: ``geo_approximate`` (a point summed from units a boundary cut
    through; "approximate" alone is rounding's word, ``core.rounding``) and ``geo_note`` (how the point was made and, for an approximate one, what moved).
    """
    geography._check(boundaries)
    return _with_icb_series(_kept_rows(frame), icb_boundaries.icb_series(frame, boundaries))


def _kept_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows every geography keeps as stored (England, regions, unknown ICB codes), with
    the two columns ``frame_in_boundaries`` adds: the same for both geographies."""
    known = {c for b in geography.BOUNDARIES for c in geography.icbs(b)["icb_code"]}
    # An ICB code no reference table knows (named in a warning at ingest) keeps its own rows,
    # under "Region unknown": never dropped, never summed into another ICB.
    unknown = (frame["level"] == "ICB") & ~frame["area_code"].isin(known)
    keep = frame[~frame["level"].isin(ICB_SOURCE_LEVELS) | unknown]
    keep = keep.assign(geo_approximate=False, geo_note="")
    if unknown.any():
        mine = (keep["level"] == "ICB").to_numpy()
        keep.loc[mine, "parent_name"] = keep.loc[mine, "parent_name"].fillna(
            geography.REGION_UNKNOWN)
        keep.loc[mine, "geo_note"] = "not in the reference tables of ICBs"
    return keep


def _with_icb_series(keep: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    series = series.rename(columns={"note": "geo_note", "approximate": "geo_approximate"})
    out = pd.concat([keep, series], ignore_index=True) if len(series) else keep.copy()
    out["geo_approximate"] = out["geo_approximate"].astype(bool)
    out["geo_note"] = out["geo_note"].fillna("").astype(object)
    return model.compact(out.reset_index(drop=True))


#: Why a period of a series has no value (``status``/``note`` of a trend or gap row).
NOT_PUBLISHED, SUPPRESSED, NOT_YET_PUBLISHED, NO_DATA, NO_WINDOW = (
    missing.NOT_PUBLISHED, missing.SUPPRESSED, missing.NOT_YET_PUBLISHED, missing.NO_DATA,
    missing.NO_WINDOW)


def missing_status(domain: list[str], no_rate: np.ndarray, suppressed: np.ndarray,
                   stored: np.ndarray, series: int, rolling: bool = False) -> np.ndarray:
    """Why each point of ``series`` blocks of ``domain`` (flattened, one block per series) has
    no value, "" where it has one: never published (2020/21 Q2), suppressed, not yet published
    (after the series' last stored period), no complete window (rolling), or no data."""
    each = len(domain)
    period = np.tile(np.asarray(domain, dtype=object), series)
    unpublished = np.isin(period, list(periods.UNPUBLISHED_QUARTERS))
    position = np.tile(np.arange(each), series)
    has_row = np.asarray(stored, dtype=bool).reshape(series, each) if each else np.zeros(
        (series, 0), dtype=bool)
    last = np.array([np.flatnonzero(r)[-1] if r.any() else -1 for r in has_row])
    later = (position > np.repeat(last, each)) & np.repeat(last >= 0, each)
    status = np.where(unpublished, NOT_PUBLISHED, np.where(
        ~no_rate, "", np.where(suppressed, SUPPRESSED, np.where(
            later, NOT_YET_PUBLISHED, NO_WINDOW if rolling else NO_DATA))))
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


class Explorer(Catalogue):
    """One store and the questions the pages ask of it.

    Every look-up (areas, row positions of each series, the columns as plain arrays) is made
    on first use and then kept: the app holds one Explorer per store, shared by every session,
    so a new view costs dictionary look-ups and a few dozen rows, never a scan of the store.
    Treat it and what it returns as read-only.

    ``in_boundaries`` gives the same store seen in one ICB geography (the 42 ICBs of July
    2022 or the 36 of April 2026), built once per geography and kept with this Explorer.
    """

    #: The ICB geography of this Explorer's ICB rows; None for a store as it was loaded.
    boundaries: str | None = None
    _source: Explorer | None = None

    # --- Boundaries -------------------------------------------------------------------------

    @functools.cached_property
    def default_boundaries(self) -> str:
        """The ICB geography a view uses when none was chosen: that of the latest period in
        the store (``geography.default_boundaries``), so a store holding April 2026 data
        opens on the 36 ICBs and one ending earlier on the 42. Periods holding only the
        synthetic sample do not count while the store holds published figures (as for
        ``default_period_type``): the bundled sample's invented 2026/27 quarter does not
        redraw the published 2024/25 figures into ICBs they were not published for."""
        if self._source is not None:
            return self._source.default_boundaries
        f = self.frame
        real = f[~f["synthetic"].to_numpy(dtype=bool, na_value=False)] if len(f) else f
        return geography.default_boundaries(real if len(real) else f)

    @functools.cached_property
    def _default_icb(self) -> str | None:
        icbs = self.icbs
        if self.boundaries is None or not icbs:
            return icbs[0] if icbs else None
        kind = self.default_period_type
        latest = self.latest_of(kind)
        rows = self.frame[(self.frame["level"] == "ICB") & (self.frame["period"] == latest)
                          & (self.frame["group"] == "Total")]
        have = set(rows.loc[rows["finished"].notna(), "area_code"].tolist())
        return next((c for c in icbs if c in have), icbs[0])

    @property
    def default_icb(self) -> str | None:
        """The ICB a view shows when none was chosen, however the page was opened: the first
        the picker offers; in chosen boundaries, the first with a figure for the latest
        period of the default period type (an ICB the boundaries redrew may have none)."""
        return self._default_icb

    def in_boundaries(self, boundaries: str | None = None) -> Explorer:
        """This store with its ICBs in ``boundaries`` (None: ``default_boundaries``).

        Every question (areas, the ICB picker, trends, compare, gaps) then answers in that
        geography. Made on first use per geography, then shared (read-only)."""
        b = boundaries or self.default_boundaries
        geography._check(b)
        if self._source is not None:
            return self if b == self.boundaries else self._source.in_boundaries(b)
        made = self.__dict__.setdefault("_by_boundaries", {})
        if b not in made:
            with _BOUNDARIES_LOCK:  # sessions share this Explorer: build each one once
                if b not in made:
                    # frame_in_boundaries, from what both geographies share (made once).
                    ex = Explorer(_with_icb_series(self._kept, self._unit_rows.series(b)))
                    ex.boundaries, ex._source = b, self
                    made[b] = ex
        return made[b]

    #: The look-ups a geography's first view reads (each made once per Explorer).
    _FIRST_VIEW = ("default_period_type", "labels", "icbs", "default_icb", "series_choices",
                   "regions", "_series", "_slices", "_area_rows", "_arrays", "_columns",
                   "_history_keys", "_icb_names")

    def prepare(self) -> None:
        """Make now what a visitor's first view of each ICB geography would otherwise wait
        for: the store seen in both geographies (``in_boundaries``) and each one's look-ups.

        The app calls this in the background once its first page is drawn, so the first
        switch of boundaries finds everything made (about 0.3 s of work on a two-core
        machine, paid once per store rather than by the first visitor who switches)."""
        for b in geography.BOUNDARIES:
            ex = self.in_boundaries(b)
            for name in self._FIRST_VIEW:
                getattr(ex, name)

    @functools.cached_property
    def _kept(self) -> pd.DataFrame:
        """The rows both geographies keep as stored (``_kept_rows``)."""
        return _kept_rows(self.frame)

    @functools.cached_property
    def _unit_rows(self) -> icb_boundaries.UnitRows:
        """This store's unit rows, encoded once for every geography it is seen in."""
        return icb_boundaries.UnitRows(self.frame)

    # --- Look-ups, each made once per store -------------------------------------------------

    @functools.cached_property
    def _series(self) -> dict[tuple[str, str, str, str, str], np.ndarray]:
        """Row positions of every series, by (period type, level, area, group, breakdown)."""
        return self.frame.groupby(["period_type", "level", "area_code", "group", "breakdown"],
                                  sort=False).indices

    @functools.cached_property
    def _slices(self) -> dict[tuple, np.ndarray]:
        """Row positions by (period, group, breakdown, level): one compare-areas view each."""
        return self.frame.groupby(["period", "group", "breakdown", "level"], sort=False).indices

    @functools.cached_property
    def _area_rows(self) -> dict[tuple, np.ndarray]:
        """Row positions by (level, area, period): one area's groups in one period."""
        return self.frame.groupby(["level", "area_code", "period"], sort=False).indices

    @functools.cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        """The columns the views read, as plain arrays (counts as floats, NaN where missing):
        picking a few dozen rows out of them costs microseconds, against about a millisecond
        through pandas."""
        frame = self.frame
        starts, distinct = pd.factorize(frame["period_start"])
        quarters = np.append(stats.quarter_number(distinct), -1) if len(distinct) else np.array([-1])

        def shared(column: str) -> np.ndarray:
            # Object arrays pointing at one string per distinct value, not one per row.
            codes, distinct = pd.factorize(frame[column])
            return np.append(distinct.to_numpy(object), None)[codes]

        return {
            "period": shared("period"), "breakdown": shared("breakdown"),
            "group": shared("group"), "group_parent": shared("group_parent"),
            **{c: frame[c].to_numpy("float64", na_value=np.nan)
               for c in (*model.COUNT_COLUMNS, *model.PERCENT_COLUMNS)},
            "suppressed": frame["suppressed"].to_numpy(dtype=bool, na_value=False),
            "synthetic": frame["synthetic"].to_numpy(dtype=bool, na_value=False),
            "derived": frame["derived"].to_numpy(dtype=bool, na_value=False),
            "quarter": quarters[starts],
            # In an Explorer for one ICB geography: points summed across a boundary cut.
            "approximate": (frame["geo_approximate"].to_numpy(dtype=bool, na_value=False)
                            if "geo_approximate" in frame
                            else np.zeros(len(frame), dtype=bool)),
            "geo_note": (frame["geo_note"].to_numpy(object) if "geo_note" in frame
                         else np.full(len(frame), "", dtype=object)),
        }

    def _series_positions(self, keys: list[SeriesKey], kind: str = "quarter"
                          ) -> list[np.ndarray]:
        return [self._series.get((kind, k.level, k.area_code, k.group, _breakdown(k.group)),
                                 _NONE) for k in keys]

    # --- The questions ----------------------------------------------------------------------

    def _grid(self, keys: list[SeriesKey], measure: str, domain: list[str], rolling: bool,
              kind: str = "quarter") -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        """Counts, rates and flags of each series over ``domain``, as arrays of len(keys) x
        len(domain) (one block of quarters per key); and each key's rows in the store.

        All series are done at once: one take, one rate computation, one scatter onto the
        grid (per series, pandas' fixed cost per call dominated).
        """
        found = self._series_positions(keys, kind)
        at = np.concatenate(found) if found else _NONE
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
        default), rate NaN where there is none.

        Missing quarters are present as rows with no rate so that a chart breaks its line there
        instead of drawing a bridge across, and a table shows them as "not published". With
        ``rolling`` each quarter carries the counts summed over the four quarters to it (no
        value where those four are not all published). ``kind`` ``year``: financial years
        (no rolling). Each point carries ``synthetic``, so a chart can mark those values.
        """
        rolling = rolling and kind == "quarter"
        domain = self.domain(kind) if domain is None else domain
        if not keys or not domain:
            return pd.DataFrame()
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
        status = missing_status(domain, no_rate, suppressed, grid["stored"], len(keys),
                                rolling)
        # One note per point, for the tooltip and the table alike.
        note = np.where(status != "", status, None).astype(object)
        note[small & ~no_rate] = SMALL_NUMBERS_NOTE
        # An approximate point (a boundary cut through a unit it is summed from) says what
        # moved, in the tooltip and the table alike.
        approximate = grid["approximate"] & ~no_rate
        if self.boundaries is not None:
            # An ICB the chosen boundaries redrew has no figure where the published rows
            # cannot be summed into it: say why rather than just "no data".
            changed = icb_boundaries.changed_icbs(self.boundaries)
            redrawn = np.repeat([k.level == "ICB" and k.area_code in changed for k in keys],
                                each)
            why = icb_boundaries.gap_note(self.boundaries)
            for i in np.flatnonzero(redrawn & np.isin(status, [NO_DATA, NOT_YET_PUBLISHED])):
                note[i] = why
        for i in np.flatnonzero(approximate):
            note[i] = grid["geo_note"][i] if note[i] is None else f"{note[i]}; {grid['geo_note'][i]}"
        return pd.DataFrame({
            **{c: pd.array(grid[c], dtype="Float64").astype("Int64") for c in model.COUNT_COLUMNS},
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
            "synthetic": grid["synthetic"], "derived": grid["derived"],
            "geo_approximate": approximate,
        })

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
        return [{c: grid[c][i * each:(i + 1) * each] for c in ("rate", "numerator",
                                                               "denominator")}
                for i in range(len(keys))]

    def series_rows(self, keys: list[SeriesKey], rolling: bool = False,
                    kind: str = "quarter") -> pd.DataFrame:
        """The stored rows of ``kind`` behind a set of series (for the tidy CSV download);
        with ``rolling`` (quarters only), the four-quarter sums, labelled ``4 quarters to``."""
        rolling = rolling and kind == "quarter"
        parts = [p for p in self._series_positions(keys, kind) if len(p)]
        rows = self.frame.iloc[np.concatenate(parts)] if parts else self.frame.iloc[0:0]
        return stats.rolling_quarters(rows) if rolling and len(rows) else rows

    @functools.cached_property
    def _columns(self) -> dict[str, object]:
        """Every stored column as the array rows are taken from (NumPy where the column is
        NumPy, else its pandas array): a compare table takes its few dozen rows from these
        once, where ``frame.iloc`` costs milliseconds on every new view."""
        return {c: (s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array)
                for c, s in self.frame.items()}

    @functools.cached_property
    def _history_keys(self) -> dict[str, np.ndarray]:
        """What a recent trend orders and groups rows by, as plain arrays: the area code,
        the rank of ``period_start`` (sorting by it sorts by date) and its year."""
        codes, distinct = pd.factorize(self.frame["area_code"])
        starts, firsts = pd.factorize(self.frame["period_start"])
        order = np.argsort(np.asarray(firsts, dtype=object), kind="stable") if len(firsts) \
            else _NONE
        rank = np.empty(len(order), dtype=int)
        rank[order] = np.arange(len(order))
        years = np.array([d.year for d in firsts], dtype=int)
        kinds, types = pd.factorize(self.frame["period_type"])
        return {"area_code": np.append(distinct.to_numpy(object), None)[codes],
                "period_type": np.append(types.to_numpy(object), None)[kinds],
                "start": np.append(rank, -1)[starts], "year": np.append(years, -1)[starts]}

    def _rows(self, pos: np.ndarray) -> dict[str, object]:
        """Every stored column of the rows at ``pos``, in the store's order."""
        return {c: v[pos] if isinstance(v, np.ndarray) else v.take(pos)
                for c, v in self._columns.items()}

    def compare_columns(self, period: str, group: str = "Total", measure: str = "recovery",
                        level: str = "ICB"
                        ) -> tuple[dict[str, object], pd.Index, np.ndarray, float | None]:
        """``compare``'s table as columns (every stored column, the rates, both verdicts,
        names), its index, the positions that rank it (highest rate first, as ``compare``
        sorts) and England's rate (None without an England row): what a view builds its
        frames from once, after adding its own columns and choosing its rows."""
        where = (period, group, _breakdown(group))
        pos = self._slices.get((*where, level), _NONE)
        columns = self._rows(pos)
        index = self.frame.index[pos]
        redrawn = np.zeros(len(pos), dtype=bool)
        if level == "ICB" and len(pos):
            extra = self._absent_icbs(columns["area_code"], pos[0])
            if extra is not None:
                columns = {c: _join(v, extra[c]) for c, v in columns.items()}
                index = pd.RangeIndex(len(columns["area_code"]))
                redrawn = np.arange(len(index)) >= len(pos)
        # An ICB listed only because the chosen boundaries redrew it (``_absent_icbs``): said
        # once here, so every later step reads why it has no figure instead of inferring it.
        columns["redrawn"] = redrawn
        _add_rates(columns, measure)
        eng_rate = self._england_rate(where, measure)
        benchmark = eng_rate / 100 if eng_rate is not None else np.nan
        columns["vs_england"] = np.asarray(stats.compare_two_levels(
            columns["numerator"], columns["denominator"], benchmark), dtype=object)
        columns["vs_target"] = np.asarray(stats.compare_with_target(
            columns["ci95_low"] / 100, columns["ci95_high"] / 100), dtype=object)
        for name, source in (("area", "area_name"), ("region", "parent_name")):
            # With no rows a float column, as pandas makes an empty list of names.
            columns[name] = (np.array([pretty_name(n) for n in _texts(columns[source])],
                                      dtype=object) if len(index) else np.array([], dtype=float))
        return columns, index, rank_descending(columns["rate"]), eng_rate

    def compare(self, period: str, group: str = "Total", measure: str = "recovery",
                level: str = "ICB") -> tuple[pd.DataFrame, pd.Series | None]:
        """Every area at ``level`` in one period, compared with England and the 50% target.

        Comparison with England uses the two-level interval rule (95% and 99.8%), as
        Fingertips does; the benchmark's own interval is ignored. Returns (table, England row).
        """
        columns, index, ranked, _ = self.compare_columns(period, group, measure, level)
        where = (period, group, _breakdown(group))
        row = self._england(where, measure)
        england = None if row is None else frame_of(
            row, self.frame.index[self._slices[(*where, "England")][:1]]).iloc[0]
        return frame_of(take_columns(columns, ranked), index[ranked]), england

    def _england_rate(self, where: tuple[str, str, str], measure: str) -> float | None:
        """England's rate in one (period, group, breakdown), from its counts alone (a view
        needs no other column of England's row), or None without an England row."""
        eng = self._slices.get((*where, "England"), _NONE)[:1]
        if not len(eng):
            return None
        spec, arrays = model.MEASURES[measure], self._arrays
        counts = {c: arrays[c][eng] for c in {spec["numerator"], spec["published"],
                                              "finished", "not_at_caseness"}}
        return float(_add_rates(counts, measure)["rate"][0])

    def _england(self, where: tuple[str, str, str], measure: str) -> dict[str, object] | None:
        """England's row of one (period, group, breakdown) with its rates, or None."""
        eng = self._slices.get((*where, "England"), _NONE)
        return None if not len(eng) else _add_rates(self._rows(eng[:1]), measure)

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
                "kind": keys["period_type"][pos]}

    def history(self, period: str, group: str, level: str = "ICB") -> pd.DataFrame:
        """Every row of ``level`` areas for one population, in the periods of ``period``'s
        type up to and including it: what the compare table's recent trend is tested on.
        Taken from the row index rather than by masking the whole store on each new view."""
        return self.frame.iloc[self._history_rows(period, group, level)]

    def _history_rows(self, period: str, group: str, level: str) -> np.ndarray:
        """Row positions of ``history``, in store order (none for an unknown period)."""
        kind = next((k for k in self.period_types if period in self.published(k)), None)
        if kind is None:
            return _NONE
        shown = self.published(kind)
        where = [self._slices.get((p, group, _breakdown(group), level), _NONE)
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
        have = set(_texts(present))
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
            if c in _PERIOD_KEYS:
                out[c] = values
            elif c in named:
                out[c] = (np.asarray(named[c], dtype=values.dtype)
                          if isinstance(values, np.ndarray) else
                          pd.array(named[c], dtype=values.dtype))
            elif isinstance(values, np.ndarray):  # flags False, percentages NaN
                out[c] = np.zeros(n, dtype=values.dtype) if values.dtype == bool else np.full(
                    n, np.nan, dtype=values.dtype)
            else:  # counts: missing
                out[c] = pd.array([None] * n, dtype=values.dtype)
        return out

    def gap(self, level: str, area_code: str, measure: str = "recovery",
            group_a: str = "BME", group_b: str = "White British",
            domain: list[str] | None = None, kind: str = "quarter") -> pd.DataFrame:
        """Gap between two disjoint groups in one area over time (Newcombe's interval,
        points); ``synthetic`` (``derived``) where either side is."""
        domain = self.domain(kind) if domain is None else domain
        if not domain:
            return pd.DataFrame()
        keys = [SeriesKey(level, area_code, group_a), SeriesKey(level, area_code, group_b)]
        grid, _ = self._grid(keys, measure, domain, False, kind)
        # One block of quarters per key, over the same quarters: a over b row by row.
        a, b = slice(0, len(domain)), slice(len(domain), None)
        num, den = grid["numerator"], grid["denominator"]
        d, lo, hi = (np.asarray(v) * 100
                     for v in stats.newcombe_difference(num[a], den[a], num[b], den[b]))
        significant = np.where(np.isnan(d), "no data", np.where(
            (hi < 0) | (lo > 0), "significant at 95%", "not significant"))
        status = missing_status(domain, np.isnan(grid["rate"]), grid["suppressed"],
                                grid["stored"], 2)
        names = (model.group_label(group_a), model.group_label(group_b))
        return pd.DataFrame({
            "period": np.asarray(domain, dtype=object),
            "rate_a": grid["rate"][a], "rate_b": grid["rate"][b],
            "gap": d, "gap_low": lo, "gap_high": hi, "significant": significant,
            "group_a": names[0], "group_b": names[1],
            "note": gap_notes(status[a], status[b], np.isnan(d), names),
            "synthetic": grid["synthetic"][a] | grid["synthetic"][b],
            "derived": grid["derived"][a] | grid["derived"][b],
            "geo_approximate": ((grid["approximate"][a] | grid["approximate"][b])
                            & ~np.isnan(d)),
            "geo_note": np.where(grid["approximate"][a], grid["geo_note"][a],
                                 grid["geo_note"][b]),
        })

    def _group_positions(self, level: str, area_code: str, period: str, detailed: bool
                         ) -> tuple[np.ndarray, list[str]]:
        """Row positions of an area's groups in one period, in the order shown, and their
        labels: Total, then BME and White British, then each broad group followed by its
        detailed ones. A few dozen rows: ordering them in Python is cheaper than pandas'
        multi-key sort."""
        where = self._area_rows.get((level, area_code, period), _NONE)
        breakdown, group, parent = (
            [v if isinstance(v, str) else None for v in self._arrays[c][where].tolist()]
            for c in ("breakdown", "group", "group_parent"))
        order = {"Total": 0, "BME Group": 1, "Ethnic Group": 2}
        if detailed:
            order["Ethnic Group (detailed)"] = 2
        detail = [b == "Ethnic Group (detailed)" for b in breakdown]

        def key(i: int) -> tuple:
            return (order[breakdown[i]], parent[i] is None, parent[i] or "", detail[i], group[i])

        picked = sorted((i for i, b in enumerate(breakdown) if b in order), key=key)
        labels = [(f"{parent[i]}: {group[i]}" if parent[i] else group[i]) if detail[i]
                  else model.group_label(group[i]) for i in picked]
        # One label per (breakdown, group): a label two breakdowns share ("Not stated/Not
        # known/Invalid" is in both BME Group and Ethnic Group) says which one it is.
        twice = {lb for lb, n in Counter(labels).items() if n > 1}
        labels = [f"{lb} ({BREAKDOWN_NAMES[breakdown[i]]})" if lb in twice else lb
                  for lb, i in zip(labels, picked, strict=True)]
        return where[np.asarray(picked, dtype=int)], labels

    def groups(self, level: str, area_code: str, period: str, measure: str = "recovery",
               detailed: bool = False) -> pd.DataFrame:
        """Rates for every broad ethnic group in one area and period: where a gap comes from.

        With ``detailed``, each broad group is followed by its detailed groups (``Asian or
        Asian British: Indian``), whose small numbers are flagged rather than hidden. Only the
        columns a chart and table need; ``group_rows`` adds every stored column.
        """
        at, labels = self._group_positions(level, area_code, period, detailed)
        spec = model.MEASURES[measure]
        columns = {c: self._arrays[c][at] for c in (
            "breakdown", "group", "group_parent", *model.COUNT_COLUMNS, *model.PERCENT_COLUMNS,
            "suppressed", "synthetic", "derived")}
        den = columns["finished"] - columns["not_at_caseness"]
        rates = stats.rate_columns(columns[spec["numerator"]], den)
        no_rate = np.isnan(np.asarray(rates["rate"], dtype=float))
        return pd.DataFrame({
            **columns,
            **rates,
            "note": np.where(no_rate, np.where(columns["suppressed"], SUPPRESSED, NO_DATA),
                             "").astype(object),
            "published_rate": columns[spec["published"]],
            "small_numbers": den < stats.SMALL_DENOMINATOR,
            "group_label": np.asarray(labels, dtype=object),
        })

    def group_rows(self, level: str, area_code: str, period: str, measure: str = "recovery",
                   detailed: bool = False) -> pd.DataFrame:
        """The stored rows behind ``groups`` (every column, for the CSV download), with the
        same rates."""
        at, _ = self._group_positions(level, area_code, period, detailed)
        rates = self.groups(level, area_code, period, measure, detailed)
        rates = rates[[c for c in rates.columns if c not in self.frame.columns
                       and c != "group_label"]]
        return pd.concat([self.frame.iloc[at].reset_index(drop=True), rates], axis=1)


def _floats(values: object) -> np.ndarray:
    """A column's values as floats, NaN where missing."""
    if isinstance(values, np.ndarray):
        return values if values.dtype.kind == "f" else values.astype("float64")
    return values.to_numpy("float64", na_value=np.nan)


def _texts(values: object) -> list:
    """A text column's values as a Python list (None/NaN kept as they are)."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _add_rates(columns: dict[str, object], measure: str) -> dict[str, object]:
    """``columns`` (an area's stored columns) with the rate, its intervals, the published
    rate and the small-numbers flag of ``measure``, added in place; returns them."""
    spec = model.MEASURES[measure]
    num = _floats(columns[spec["numerator"]])
    den = _floats(columns["finished"]) - _floats(columns["not_at_caseness"])
    columns.update(stats.rate_columns(num, den))
    columns["published_rate"] = _floats(columns[spec["published"]])
    columns["small_numbers"] = den < stats.SMALL_DENOMINATOR
    return columns


#: The columns that say which period and population a row is for.
_PERIOD_KEYS = ("period", "period_start", "period_end", "period_type", "breakdown", "group",
                "group_parent")


def _join(a: object, b: object) -> object:
    """Two pieces of one column, end to end, keeping the column's type."""
    if isinstance(a, np.ndarray):
        return np.concatenate([a, np.asarray(b, dtype=a.dtype)])
    return type(a)._concat_same_type([a, b])


def rank_descending(values: np.ndarray) -> np.ndarray:
    """The order ``sort_values(ascending=False, na_position="last")`` gives a float column
    (pandas' own steps, ties included), without building a frame to sort."""
    values = np.asarray(values, dtype=float)
    mask = np.isnan(values)
    idx = np.arange(len(values))
    non_nans, non_nan_idx = values[~mask][::-1], idx[~mask][::-1]
    indexer = non_nan_idx[non_nans.argsort(kind="quicksort")][::-1]
    return np.concatenate([indexer, np.flatnonzero(mask)])


def take_columns(columns: dict[str, object], at: np.ndarray) -> dict[str, object]:
    """Every column's values at positions ``at``."""
    return {c: v[at] if isinstance(v, np.ndarray) else v.take(at) for c, v in columns.items()}


def frame_of(columns: dict[str, object], index: pd.Index | None = None,
             objects: tuple[str, ...] = ("period_start", "period_end", "geo_note")
             ) -> pd.DataFrame:
    """One frame from finished columns, built once. The ``objects`` columns keep the object
    dtype they have in the store (dates; ``geo_note``); other text arrays become pandas'
    text dtype, as assigning them to a frame column would make them."""
    return pd.DataFrame({c: pd.Series(v, dtype=object, index=index, copy=False)
                         if c in objects and isinstance(v, np.ndarray) else v
                         for c, v in columns.items()}, index=index, copy=False)


# One-call forms for a frame that is asked one question (tests, the upload preview): the same
# route as the app's, through a fresh Explorer.

def trend(frame: pd.DataFrame, keys: list[SeriesKey], measure: str = "recovery",
          domain: list[str] | None = None, rolling: bool = False, kind: str = "quarter"
          ) -> pd.DataFrame:
    return Explorer(frame).trend(keys, measure, rolling, domain, kind)


def compare_areas(frame: pd.DataFrame, period: str, group: str = "Total",
                  measure: str = "recovery", level: str = "ICB"
                  ) -> tuple[pd.DataFrame, pd.Series | None]:
    return Explorer(frame).compare(period, group, measure, level)


def group_gap(frame: pd.DataFrame, level: str, area_code: str, measure: str = "recovery",
              group_a: str = "BME", group_b: str = "White British",
              domain: list[str] | None = None, kind: str = "quarter") -> pd.DataFrame:
    return Explorer(frame).gap(level, area_code, measure, group_a, group_b, domain, kind)


def broad_groups(frame: pd.DataFrame, level: str, area_code: str, period: str,
                 measure: str = "recovery", detailed: bool = False) -> pd.DataFrame:
    return Explorer(frame).groups(level, area_code, period, measure, detailed)
