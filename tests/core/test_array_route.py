"""The compare view's array kernels against their references: the ranking's order is pandas'
``sort_values`` order (ties and gaps included), and every series' recent trend is
``recent_trend`` on that series alone, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core import columns, trend_tests

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
