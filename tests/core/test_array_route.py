"""The compare view's array route (``core.ranking.rank_icbs``: ``Explorer.compare_columns``
and the verdict kernels, with no frame between) gives what the frame functions give: the same ranking, the
same recent trends bit for bit, and the same table as ``compare_areas`` → ``with_rounding`` →
``area_trends`` → ``explain_missing`` → ``sort_areas``, in both ICB geographies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import columns, explore, headlines, model, ranking, trend_tests, verdicts
from core.store import Store

RATES = st.lists(st.sampled_from([np.nan, 10.0, 20.0, 20.0, 35.5, 50.0, 61.25]), max_size=60)


@settings(max_examples=300, deadline=None)
@given(RATES)
def test_rank_descending_is_pandas_sort_values_order_ties_and_gaps_included(rates):
    values = np.array(rates, dtype=float)
    expected = pd.DataFrame({"rate": values}).sort_values(
        "rate", ascending=False, na_position="last").index.to_numpy()
    assert columns.rank_descending(values).tolist() == expected.tolist()


def _one_by_one(codes, groups, kinds, quarter, year, o, n, points):
    """The recent trend of each series as ``series_trends`` computed it, one series at a
    time (``recent_trend`` on its last ``points`` rows)."""
    out = []
    for g in range(groups):
        tail = np.flatnonzero(codes == g)[-points:]
        kind = set(kinds[tail].tolist())
        step = quarter[tail] if kind == {"quarter"} else year[tail]
        if len(tail) == points and (len(kind) != 1 or np.any(np.diff(step) != 1)):
            out.append(trend_tests.NOT_CALCULATED)
            continue
        t = trend_tests.recent_trend(o[tail], n[tail], points)
        out.append((t.verdict, t.reason, repr(t.chi2), repr(t.slope)))
    return out


SERIES = st.lists(st.tuples(
    st.integers(0, 5),  # series
    st.sampled_from(["quarter", "quarter", "quarter", "year"]),
    st.integers(0, 8),  # period number
    st.one_of(st.just(np.nan), st.integers(0, 4000)),  # numerator
    st.one_of(st.just(np.nan), st.integers(-2, 5000))), max_size=80)


@settings(max_examples=200, deadline=None)
@given(SERIES)
def test_trends_of_tests_every_series_as_recent_trend_does_bit_for_bit(rows):
    rows = sorted(rows, key=lambda r: r[2])  # oldest first, as the callers sort
    codes, groups = pd.factorize(np.array([r[0] for r in rows], dtype=int))
    kinds = np.array([r[1] for r in rows], dtype=object)
    step = np.array([r[2] for r in rows], dtype=int)
    o = np.array([r[3] for r in rows], dtype=float)
    n = np.array([r[4] for r in rows], dtype=float)
    found = trend_tests.trends_of(codes, len(groups), kinds, step, step, o, n, 5)
    got = [trend_tests.NOT_CALCULATED if "not consecutive" in t.reason
           else (t.verdict, t.reason, repr(t.chi2), repr(t.slope)) for t in found["trend"]]
    assert got == _one_by_one(codes, len(groups), kinds, step, step, o, n, 5)
    assert found["last"] == [int(np.flatnonzero(codes == g)[-1]) for g in range(len(groups))]


@pytest.fixture(scope="module")
def store() -> explore.Explorer:
    return explore.Explorer(model.compact(Store(model.DEFAULT_STORE).load()))


def _by_frames(ex: explore.Explorer, period: str, group: str, measure: str, sort: str,
               region: str | None) -> pd.DataFrame:
    """The compare table through the frame functions, one after another."""
    table, england = ex.compare(period, group, measure)
    table, _, _ = verdicts.compare_areas(table, england)
    table = verdicts.with_rounding(table, measure)
    trends = headlines.area_trends(ex.history(period, group), measure, period=period)
    table["trend"] = table["area_code"].map(trends).fillna("could not be calculated")
    return verdicts.sort_areas(verdicts.explain_missing(verdicts.in_region(table, region)),
                               sort)


@pytest.mark.parametrize("boundaries", ["2022", "2026"])
@pytest.mark.parametrize("kind, group, measure, sort, region", [
    ("year", "Total", "recovery", "rate", None),
    ("year", "BME", "reliable_recovery", "name", "Y56"),
    ("quarter", "Mixed", "recovery", "size", None),
    ("quarter", "White British", "reliable_recovery", "rate", "Y58"),
    ("year", "Asian or Asian British", "recovery", "name", "Y99"),  # not a region: all ICBs
])
def test_array_route_builds_the_frame_functions_table(store, boundaries, kind, group, measure,
                                                      sort, region):
    ex = store.in_boundaries(boundaries)
    for period in ex.published(kind)[-3:]:
        # A region the store does not hold shows every ICB, as the page does.
        known = region if region in ex.regions else None
        expected = _by_frames(ex, period, group, measure, sort, known)
        got = ranking.rank_icbs(ex, period, group, measure, region=region, sort=sort).table
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert len(got) and got["rate"].notna().any()
