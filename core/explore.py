"""The questions the explorer asks of the store, answered by one ``Explorer`` per store.

Pages stay thin because everything they show is computed from here. What a store offers
(areas, series, periods) is ``core.catalogue``'s; each series over every quarter or financial
year (missing periods as explicit gaps) and the gap between two groups, ``core.series``'s;
the compare-areas table, ``core.comparing``'s. This module holds the store seen in one ICB
geography, the look-ups every question reads, and the rates by ethnic group. What a person
reads beside each (the table in words, the text alternative, the headline) is in
``core.tables``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from core import boundaries as icb_boundaries
from core import geography, missing, model, stats, verdicts
from core.catalogue import (  # noqa: F401  (re-exported)
    PERIOD_TYPES,
    Catalogue,
    SeriesKey,
    quarter_domain,
    year_domain,
)
from core.columns import NO_ROWS
from core.comparing import Comparisons

# The display tables (core.tables) and the words (core.descriptions); re-exported here so
# that callers written against explore keep working.
from core.descriptions import (  # noqa: F401
    describe_compare,
    describe_gap,
    describe_groups,
    describe_trend,
    fmt_pct,
    headline,
    sentence,
)
from core.names import area_label, pretty_name  # noqa: F401  (re-exported)
from core.series import Series
from core.tables import compare_table, gap_table, groups_table, trend_table  # noqa: F401

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


class Explorer(Catalogue, Comparisons, Series):
    """One store and the questions the pages ask of it.

    Every look-up (areas, row positions of each series, the columns as plain arrays) is made
    on first use and then kept: the app holds one Explorer per store, shared by every session,
    so a new view costs dictionary look-ups and a few dozen rows, never a scan of the store.
    Treat it and what it returns as read-only.

    ``in_boundaries`` gives the same store seen in one ICB geography (the 42 ICBs of July
    2022 or the 36 of April 2026), built once per geography and kept with this Explorer.

    The time-series questions (trend, gap) are ``core.series.Series``'s and the comparisons
    (compare, history) ``core.comparing.Comparisons``'s: mixins reading this class's
    look-ups (``_series``, ``_slices``, ``_arrays``).
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

    def prepare(self, between: Callable[[], object] | None = None,
                boundaries: Sequence[str] | None = None) -> None:
        """Make now what a visitor's first view of each ICB geography (``boundaries``; None:
        both) would otherwise wait for: the store seen in it (``in_boundaries``) and its
        look-ups.

        The server calls this for the default geography when it starts (``ui.startup``), and
        in the background for both once its first page is drawn, so the first switch of
        boundaries finds everything made (about 0.3 s of work on a two-core machine, paid
        once per store rather than by the first visitor who switches). ``between`` is called
        before each step (a geography, a look-up), so the caller can hold the work back while
        the app is busy."""
        for b in boundaries or geography.BOUNDARIES:
            if between is not None:
                between()
            ex = self.in_boundaries(b)
            for name in self._FIRST_VIEW:
                if between is not None:
                    between()
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

    # --- The ethnic groups of one area and period -------------------------------------------

    def _group_positions(self, level: str, area_code: str, period: str, detailed: bool
                         ) -> tuple[np.ndarray, list[str]]:
        """Row positions of an area's groups in one period, in the order shown, and their
        labels: Total; then the BAME/White British split (BAME, White British, then its Not
        stated); then the broad ethnic groups, each followed by its detailed ones (Not stated
        last). Within a classification the groups follow ``model.POPULATIONS`` (the order
        every other page offers them), then any other group by name. A label need not be
        unique: "Not stated/Not known/Invalid" is in two classifications, which the
        ``classification`` column tells apart. A few dozen rows: ordering them in Python is
        cheaper than pandas' multi-key sort."""
        where = self._area_rows.get((level, area_code, period), NO_ROWS)
        breakdown, group, parent = (
            [v if isinstance(v, str) else None for v in self._arrays[c][where].tolist()]
            for c in ("breakdown", "group", "group_parent"))
        block = {"Total": 0, "BME Group": 1, "Ethnic Group": 2}
        if detailed:
            block["Ethnic Group (detailed)"] = 2
        detail = [b == "Ethnic Group (detailed)" for b in breakdown]
        known = {code: i for i, code in enumerate(model.POPULATIONS)}

        def key(i: int) -> tuple:
            # A detailed group sorts under its broad group (its parent); one without a
            # parent after every broad group with its detailed ones.
            head = parent[i] if detail[i] else group[i]
            return (block[breakdown[i]], head == model.NOT_STATED, head is None,
                    known.get(head, len(known)), head or "", detail[i], group[i])

        picked = sorted((i for i, b in enumerate(breakdown) if b in block), key=key)
        labels = [(f"{parent[i]}: {group[i]}" if parent[i] else group[i]) if detail[i]
                  else model.group_label(group[i]) for i in picked]
        return where[np.asarray(picked, dtype=int)], labels

    def groups(self, level: str, area_code: str, period: str, measure: str = "recovery",
               detailed: bool = False) -> pd.DataFrame:
        """Rates for every broad ethnic group in one area and period: where a gap comes from.

        With ``detailed``, each broad group is followed by its detailed groups (``Asian or
        Asian British: Indian``), whose small numbers are flagged rather than hidden. Only the
        columns a chart and table need; ``group_rows`` adds every stored column.
        """
        return pd.DataFrame(self.groups_columns(level, area_code, period, measure, detailed))

    def groups_columns(self, level: str, area_code: str, period: str,
                       measure: str = "recovery", detailed: bool = False
                       ) -> dict[str, np.ndarray]:
        """``groups``' columns as arrays by name, each rate as the chart draws it.

        Rounding and suppression are applied here (``verdicts.rounded_columns``: the range
        under rounding, a rate from its range where "not at caseness" was suppressed, none
        where the rounded counts cannot give one), not by each caller: the chart, its table,
        its text and its CSV (``group_rows``) then hold the same figures by construction. The
        CSV once blanked a rate the chart drew from its range."""
        at, labels = self._group_positions(level, area_code, period, detailed)
        spec = model.MEASURES[measure]
        columns = {c: self._arrays[c][at] for c in (
            "breakdown", "group", "group_parent", *model.COUNT_COLUMNS, *model.PERCENT_COLUMNS,
            "suppressed", "synthetic", "derived")}
        den = columns["finished"] - columns["not_at_caseness"]
        rates = stats.rate_columns(columns[spec["numerator"]], den)
        no_rate = np.isnan(np.asarray(rates["rate"], dtype=float))
        out = {
            **columns,
            **rates,
            "note": np.where(no_rate, np.where(columns["suppressed"], missing.SUPPRESSED,
                                               missing.NO_DATA),
                             "").astype(object),
            "published_rate": columns[spec["published"]],
            "small_numbers": den < stats.SMALL_DENOMINATOR,
            "group_label": np.asarray(labels, dtype=object),
            "classification": np.asarray([model.CLASSIFICATIONS[b] for b in
                                          columns["breakdown"].tolist()], dtype=object),
        }
        if len(at):  # no rows gain no columns
            out.update(verdicts.rounded_columns(out, measure, level=level))
        return out

    #: The columns ``group_rows`` adds to the stored ones, as every export names them
    #: (``core.export.EXPORT_COLUMNS``): rounding's ``status`` is ``rate_status`` there.
    GROUP_EXPORT = ("classification", "numerator", "denominator", "rate", "ci95_low",
                    "ci95_high", "ci998_low", "ci998_high", "rate_low", "rate_high", "status",
                    "published_rate", "small_numbers", "note")

    def group_rows(self, level: str, area_code: str, period: str, measure: str = "recovery",
                   detailed: bool = False) -> pd.DataFrame:
        """The stored rows behind ``groups`` (every column, for the CSV download), in the
        chart's order, with exactly the chart's rates and intervals, the range under rounding
        (``rate_low``, ``rate_high``), rounding's ``rate_status`` and the table's ``note``
        (why a rate is a range: a count was suppressed; why there is none), the
        ``classification`` and the ``measure``."""
        at, _ = self._group_positions(level, area_code, period, detailed)
        shown = self.groups_columns(level, area_code, period, measure, detailed)
        added = {"rate_status" if c == "status" else c: shown[c] for c in self.GROUP_EXPORT
                 if c in shown}
        if "note" in added:  # a bare reason ("suppressed") spelt out, as the table's Note
            added["note"] = missing.explain(added["note"])
        rates = pd.DataFrame({**added, "measure": np.full(len(at), measure, dtype=object)})
        stored = self.frame.iloc[at].reset_index(drop=True)
        return pd.concat([stored.drop(columns=[c for c in rates if c in stored]), rates],
                         axis=1)
