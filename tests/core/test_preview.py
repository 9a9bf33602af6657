"""The preview works on slices of the store but must say exactly what the full merge does."""

from __future__ import annotations

import datetime as dt

from core import preview, stats
from core.readers import read_file
from core.store import Store, merge_results
from tests.conftest import area_rows, quarterly_csv, small_quarter

TODAY = dt.date(2026, 11, 26)


def test_preview_agrees_with_the_full_merge():
    stored = Store().load()
    rows = small_quarter("2026-04-01", "2026-06-30")  # replaces part of 2026/27 Q1
    rows += area_rows("2026-07-01", "2026-09-30", level="England", code="ENG", name="England",
                      finished="170000", nac="9000", recovered="82000", reliable="77000",
                      pct="50.9")
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
