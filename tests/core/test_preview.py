"""The preview works on slices of the store but must say exactly what the full merge does."""

from __future__ import annotations

import datetime as dt

from core import preview, stats
from core.readers import read_file
from core.store import Store, merge_results
from tests.conftest import quarterly_csv, small_quarter

TODAY = dt.date(2026, 11, 26)


def test_preview_agrees_with_the_full_merge():
    stored = Store().load()
    rows = small_quarter("2026-04-01", "2026-06-30")  # replaces part of 2026/27 Q1
    rows += small_quarter("2026-07-01", "2026-09-30")  # and adds 2026/27 Q2
    result = read_file(quarterly_csv(rows), "q.csv", today=TODAY)
    pv = preview.preview(stored, [result])
    merged, report = merge_results(stored, [result])
    assert pv.report.lines() == report.lines()
    assert pv.report.periods_added == ["2026/27 Q2"]
    assert pv.report.periods_replaced == ["2026/27 Q1"]
    # every headline the preview lists has the rate the merged store gives
    for row in pv.changes.itertuples():
        m = merged[(merged["period"] == row.period) & (merged["area_code"] == row.area_code)
                   & (merged["breakdown"].isin(["Total", "BME Group"]))]
        rated = stats.add_rates(m)
        assert any(abs(r - row.rate_after) < 1e-9 for r in rated["rate"]), row
    assert set(pv.changes["level"]) == {"England", "ICB"}
    england = pv.england
    assert set(england["area_code"]) == {"ENG"} and "2026/27 Q2" in set(england["period"])


def test_removing_the_sample_warns_when_too_few_quarters_are_left():
    """The first real quarterly file with the sample removed leaves one quarter: the preview
    says the quarterly view will be too short to show a trend; with the sample kept, nothing."""
    stored = Store().load()
    rows = small_quarter("2026-07-01", "2026-09-30")
    result = read_file(quarterly_csv(rows), "q.csv", today=TODAY)
    short = preview.preview(stored, [result], remove_synthetic=True).short
    assert short is not None and "1 quarter (2026/27 Q2)" in short
    assert "Financial-year figures are not affected" in short
    assert preview.preview(stored, [result]).short is None
    # The same check on the published quarters an earlier real file left in the store.
    real = merge_results(stored, [result], remove_synthetic=True)[0]
    assert preview.short_series(real, real.iloc[0:0]) is not None
    many = stored[stored["period_type"] == "quarter"].assign(synthetic=False)
    assert preview.short_series(many, many.iloc[0:0]) is None
